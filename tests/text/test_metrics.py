from pathlib import Path

import pytest
import torch

from multigan.metrics.base import EvalContext
from multigan.metrics.bleu import bleu_scores, self_bleu, texygen_tokenize
from multigan.metrics.config import EvalConfig
from multigan.metrics.evaluate import Evaluator
from multigan.text.corpus import TextLines
from multigan.text.metrics import Bleu, NLLGen, NLLOracle, SelfBleu, TextMetricError
from multigan.text.oracle import OracleData, oracle_nll
from multigan.text.tokenizers import decode

from .test_seqgan import tiny_seqgan


def corpus_context(root: Path) -> EvalContext:
    config = TextLines.Config(train_file="text/train.txt", test_file="text/test.txt", max_len=12)
    info = TextLines(config, root, "train").info
    return EvalContext(info, "text_lines", config, root, root / "cache", torch.device("cpu"))


def test_bleu_scores_decoded_samples_against_the_whole_test_split(corpus_files):
    context = corpus_context(corpus_files[0].parents[1])
    train = context.dataset("train")
    samples = {"tokens": train.tokens[:5]}
    results = Bleu(EvalConfig(), context).compute(samples)
    hypotheses = [texygen_tokenize(line) for line in decode(samples["tokens"], context.info.extra)]
    references = [texygen_tokenize(line) for line in context.dataset("test").sentences]
    expected = bleu_scores(hypotheses, references)
    assert {k: v.value for k, v in results.items()} == {f"bleu{n}": expected[n] for n in (2, 3, 4, 5)}
    protocol = results["bleu3"].protocol
    assert protocol["references"] == 2 and protocol["hypotheses"] == 5 and "word_tokenize" in protocol["tokenizer"]
    assert results["bleu2"].higher_is_better


def test_self_bleu_uses_the_configured_sample_count(corpus_files):
    context = corpus_context(corpus_files[0].parents[1])
    tokens = context.dataset("train").tokens
    results = SelfBleu(EvalConfig(self_bleu_samples=7), context).compute({"tokens": tokens})
    sentences = [texygen_tokenize(line) for line in decode(tokens[:7], context.info.extra)]
    assert results["self_bleu4"].value == self_bleu(sentences)[4]
    assert results["self_bleu4"].protocol["samples"] == 7 and not results["self_bleu4"].higher_is_better


def test_nll_oracle_is_the_oracles_per_token_nll(oracle_file, tmp_path, monkeypatch):
    monkeypatch.setenv("MULTIGAN_CACHE", str(tmp_path / "cache"))
    config = OracleData.Config(params_file=str(oracle_file), n_samples=20, seq_len=5)
    data = OracleData(config, tmp_path, "train")
    context = EvalContext(data.info, "oracle", config, tmp_path, tmp_path / "cache", torch.device("cpu"))
    samples = {"tokens": torch.randint(0, 30, (9, 5))}
    result = NLLOracle(EvalConfig(), context).compute(samples)["nll_oracle"]
    assert result.value == pytest.approx(oracle_nll(data.oracle, samples["tokens"]))
    assert result.protocol["samples"] == 9 and not result.higher_is_better


def test_nll_oracle_refuses_other_data(corpus_files):
    with pytest.raises(TextMetricError, match="nll_oracle needs data.name: oracle"):
        NLLOracle(EvalConfig(), corpus_context(corpus_files[0].parents[1]))


def test_nll_gen_goes_through_the_evaluator_with_the_model(corpus_files):
    context = corpus_context(corpus_files[0].parents[1])
    model = tiny_seqgan()
    model = type(model)(model.config, context.info)  # vocabulary of the corpus
    evaluator = Evaluator(EvalConfig(metrics=["nll_gen", "bleu"], n_samples=6, batch_size=3), context)
    results = evaluator(model)
    assert results["nll_gen"].value == pytest.approx(model.token_nll(context.dataset("test").tokens))
    assert results["nll_gen"].protocol["sequences"] == 2 and "bleu5" in results
    with pytest.raises(TextMetricError, match="token_nll"):
        NLLGen(EvalConfig(), context).compute({}, None)
