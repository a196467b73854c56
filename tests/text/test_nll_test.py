"""nll_test (Caccia et al. 2020's diversity axis on the oracle): the model's NLL of held-out oracle samples at the
temperature its own samples are drawn with."""
import pytest
import torch

from multigan.metrics.base import EvalContext
from multigan.metrics.config import EvalConfig
from multigan.metrics.evaluate import Evaluator
from multigan.text.base import TextModelError
from multigan.text.generators import GeneratorConfig
from multigan.text.metrics import NLLOracle, NLLTest, TextMetricError
from multigan.text.oracle import OracleData, oracle_nll
from multigan.text.seqgan import SeqGAN, SeqGANDiscriminatorConfig

from .test_metrics import corpus_context


def oracle_context(oracle_file, tmp_path, monkeypatch) -> EvalContext:
    monkeypatch.setenv("MULTIGAN_CACHE", str(tmp_path / "cache"))
    config = OracleData.Config(params_file=str(oracle_file), n_samples=400, seq_len=5)
    info = OracleData(config, tmp_path, "train").info
    return EvalContext(info, "oracle", config, tmp_path, tmp_path / "cache", torch.device("cpu"))


def oracle_as_model(context: EvalContext) -> SeqGAN:
    """A text GAN whose generator is the oracle itself (an LSTM generator of the oracle's sizes and weights)."""
    oracle = context.dataset("train").oracle
    config = SeqGAN.Config(generator=GeneratorConfig(embed_dim=6, hidden_dim=5),
                           discriminator=SeqGANDiscriminatorConfig(embed_dim=4, filter_sizes=[1, 2], num_filters=[2, 2]))
    model = SeqGAN(config, context.info)
    model.generator.load_state_dict(oracle.state_dict())
    return model


def test_nll_test_of_the_oracle_equals_nll_oracle_of_its_own_samples(oracle_file, tmp_path, monkeypatch):
    context = oracle_context(oracle_file, tmp_path, monkeypatch)
    model = oracle_as_model(context)
    held_out = context.dataset("test").tokens  # the oracle's own samples (seed + 1), the same sequences both ways
    config = EvalConfig(n_samples=len(held_out))
    nll_test = NLLTest(config, context).compute({}, model)["nll_test"]
    nll_oracle = NLLOracle(config, context).compute({"tokens": held_out})["nll_oracle"]
    assert nll_test.value == pytest.approx(nll_oracle.value, rel=1e-6)  # float32 vs float64 sums only
    assert nll_test.protocol["sequences"] == 400 and nll_test.protocol["temperature"] == 1.0


def test_nll_test_of_the_oracle_matches_nll_oracle_of_fresh_samples(oracle_file, tmp_path, monkeypatch):
    """Through the evaluator: the oracle's fresh samples and its held-out split are two draws of one distribution."""
    context = oracle_context(oracle_file, tmp_path, monkeypatch)
    model = oracle_as_model(context)
    results = Evaluator(EvalConfig(metrics=["nll_oracle", "nll_test"], n_samples=400, batch_size=200), context)(model)
    assert results["nll_test"].value == pytest.approx(results["nll_oracle"].value, rel=0.05)


def test_nll_test_scores_at_the_samples_temperature(oracle_file, tmp_path, monkeypatch):
    context = oracle_context(oracle_file, tmp_path, monkeypatch)
    model = oracle_as_model(context)
    evaluator = Evaluator(EvalConfig(metrics=["nll_test"], n_samples=100, batch_size=100), context)
    held_out = context.dataset("test").tokens[:100]
    values = {}
    for temperature in (0.5, 1.0, 2.0):
        result = evaluator(model, temperature=temperature)["nll_test"]
        assert result.protocol["temperature"] == temperature and result.protocol["sequences"] == 100
        assert result.value == pytest.approx(model.token_nll(held_out, temperature=temperature))
        values[temperature] = result.value
    # the oracle is the data's own distribution: any temperature off 1 scores its held-out samples worse
    assert values[1.0] < values[0.5] and values[1.0] < values[2.0]
    assert values[1.0] == pytest.approx(oracle_nll(context.dataset("train").oracle, held_out), rel=1e-6)


def test_nll_test_refuses_other_data_and_temperatures_at_or_below_zero(oracle_file, tmp_path, monkeypatch,
                                                                      corpus_files):
    with pytest.raises(TextMetricError, match="nll_test needs data.name: oracle"):
        NLLTest(EvalConfig(), corpus_context(corpus_files[0].parents[1]))
    model = oracle_as_model(oracle_context(oracle_file, tmp_path, monkeypatch))
    for temperature in (0.0, -1.0):
        with pytest.raises(TextModelError, match="temperature must be > 0"):
            model.sample(4, torch.Generator().manual_seed(0), temperature=temperature)
        with pytest.raises(TextModelError, match="temperature must be > 0"):
            model.token_nll(torch.zeros(2, 5, dtype=torch.long), temperature=temperature)


def test_a_temperature_sweep_on_the_oracle_draws_nll_oracle_against_nll_test(oracle_file, tmp_path, monkeypatch):
    from multigan.bench.sweeps import run_sweep

    context = oracle_context(oracle_file, tmp_path, monkeypatch)
    model = oracle_as_model(context)
    config = EvalConfig(metrics=["nll_oracle", "nll_test", "bleu"], n_samples=200, batch_size=100)
    sweep = run_sweep(model, "temperature", [0.5, 1.0, 2.0], config, context)
    assert (sweep.quality, sweep.diversity, sweep.quality_higher_is_better) == ("nll_oracle", "nll_test", False)
    oracle = [point.metrics["nll_oracle"] for point in sweep.points]
    assert oracle == sorted(oracle)  # colder samples are likelier under the oracle
    assert "temperature" not in sweep.protocol["nll_test"] and sweep.protocol["nll_test"]["sequences"] == 200
