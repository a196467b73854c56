"""The evaluator's sample sets: one stream (the published numbers' sets) or per-batch seeds, which any number of
ranks generate together (the 2-process run is tests/core/test_distributed.py); protocols say which."""
import pytest
import torch

from multigan.errors import UserError
from multigan.metrics.config import EvalConfig
from multigan.core.sampling import generate, generate_shard
from multigan.metrics.evaluate import Evaluator
from multigan.metrics.feature_metrics import frechet_score
from multigan.metrics.features import feature_session


class NoiseImages:
    """The part of a GANModel the evaluator uses: `device` and `sample(n, generator)`."""

    device = torch.device("cpu")

    def sample(self, n: int, generator: torch.Generator, shift: float = 0.0) -> dict[str, torch.Tensor]:
        return {"image": torch.tanh(torch.randn(n, 1, 16, 16, generator=generator) + shift)}  # (n, 1, 16, 16)

    def sample_protocol(self) -> dict[str, str]:
        return {"made_by": "noise"}  # a model's word on how its samples are made joins every protocol


def test_per_batch_shards_together_are_the_one_process_set():
    model = NoiseImages()
    whole = generate_shard(model, 40, 7, 16)  # batches of 16, 16, 8
    assert [index for index, _ in whole] == [0, 1, 2] and [len(b["image"]) for _, b in whole] == [16, 16, 8]
    shards = [generate_shard(model, 40, 7, 16, shard, 2) for shard in range(2)]  # two ranks
    assert [[index for index, _ in shard] for shard in shards] == [[0, 2], [1]]
    merged = dict(pair for shard in shards for pair in shard)
    for index, batch in whole:
        assert torch.equal(batch["image"], merged[index]["image"])
    assert not torch.equal(whole[0][1]["image"], generate_shard(model, 40, 8, 16)[0][1]["image"])  # seed matters
    shifted = generate_shard(model, 40, 7, 16, shift=3.0)[0][1]["image"]  # sampling options reach the model
    assert shifted.mean() > whole[0][1]["image"].mean()


def test_stream_is_one_generator_through_every_batch():
    generator = torch.Generator().manual_seed(7)
    expected = torch.tanh(torch.cat([torch.randn(16, 1, 16, 16, generator=generator),
                                     torch.randn(4, 1, 16, 16, generator=generator)]))
    assert torch.equal(generate(NoiseImages(), 20, 7, 16)["image"], expected)


def config(**overrides) -> EvalConfig:
    settings = dict(metrics=["fid"], n_samples=40, batch_size=16, classifier_epochs=1, classifier_embedding_dim=8,
                    real_floor=False)
    return EvalConfig(**{**settings, **overrides})


def test_protocol_names_the_sample_seeds(quadrant_context):
    stream = Evaluator(config(), quadrant_context)(NoiseImages())["fid"]  # auto on one process: one stream
    per_batch = Evaluator(config(sample_seeds="per_batch"), quadrant_context)(NoiseImages())["fid"]
    assert stream.protocol["sample_seeds"] == "stream" and per_batch.protocol["sample_seeds"] == "per_batch"
    assert stream.protocol["sample_seed"] == per_batch.protocol["sample_seed"] == 12345
    assert stream.protocol["made_by"] == per_batch.protocol["made_by"] == "noise"
    assert stream.value != per_batch.value  # two different sample sets of the same generator


def test_per_batch_features_equal_the_features_of_the_whole_set(quadrant_context, make_quadrant_context, tmp_path):
    # the evaluator extracts features batch by batch (on every rank under torchrun) and installs them in the
    # session; a fresh session extracting the concatenated set directly gives the same set and the same FID
    fid = Evaluator(config(sample_seeds="per_batch"), quadrant_context)(NoiseImages())["fid"].value
    samples = {"image": torch.cat([b["image"] for _, b in generate_shard(NoiseImages(), 40, 12345, 16)])}
    session = feature_session(config(), make_quadrant_context(tmp_path), "classifier")
    assert fid == frechet_score(session.generated(samples), session.reference())


def test_unknown_sample_seeds_is_one_clear_error(quadrant_context):
    with pytest.raises(UserError, match="eval.sample_seeds: expected one of auto, stream, per_batch, got 'each'"):
        Evaluator(config(sample_seeds="each"), quadrant_context)


def test_the_evaluator_shares_the_sessions_the_metrics_declare(quadrant_context):
    # fid, kid and fd_norm read generated images in the classifier's features: one session, built once per run
    evaluator = Evaluator(config(metrics=["fid", "kid", "fd_norm"], sample_seeds="per_batch"), quadrant_context)
    session = feature_session(evaluator.config, quadrant_context, "classifier")
    assert all(metric.feature_sessions() == (session,) for metric in evaluator.metrics.values())
    assert evaluator.sessions == {"classifier": session} == quadrant_context.shared.feature_sessions
