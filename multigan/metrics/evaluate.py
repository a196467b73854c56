"""Run a recipe's metrics on a model: sample once, score with every metric, return values with protocols.

Under torchrun every rank calls the evaluator: with per-batch seeds (`eval.sample_seeds`, the default there) rank r
generates batches r, r + N, r + 2N ... of the evaluation set and extracts their features (FID, KID, IS, PRDC,
FAD, fd_norm read those); rank 0 gathers samples and features in batch order, so set and features are the same for
any number of processes, and scores them. Rank 0 alone builds the metrics (reference statistics, cached
classifiers): those caches are written once, by one process.
"""
from __future__ import annotations

from multigan.core.distributed import (
    broadcast_module, broadcast_object, distributed, gather_objects, is_main_process, rank, world_size,
)
from multigan.core.phases import Batch, GANModel
from multigan.core.sampling import concat_batches, generate, generate_shard
from multigan.errors import UserError
from multigan.metrics.base import EvalContext, MetricValue
from multigan.metrics.config import EvalConfig
from multigan.metrics.features import FeatureSession, feature_session
from multigan.metrics.frechet import MetricError
from multigan.registry import METRICS

SAMPLE_SEEDS = ("auto", "stream", "per_batch")


def resolve_sample_seeds(value: str) -> str:
    """`eval.sample_seeds` as used: "auto" is one stream on one process (the published numbers' sample sets) and
    per-batch seeds under torchrun (generation shared by the ranks)."""
    if value not in SAMPLE_SEEDS:
        raise UserError(f"eval.sample_seeds: expected one of {', '.join(SAMPLE_SEEDS)}, got '{value}'")
    if value == "auto":
        return "per_batch" if distributed() else "stream"
    return value


class Evaluator:
    """Built on every rank of a launch; `__call__` on every rank returns the results on rank 0 and {} elsewhere.

    Rank 0 builds the metrics (reference statistics, cached classifiers); the other ranks build only the feature
    extractors those metrics read generated samples with, after rank 0, and take rank 0's weights for them, so
    that every rank's features are the ones rank 0 would compute."""

    def __init__(self, config: EvalConfig, context: EvalContext):
        self.config = config
        self.context = context
        self.sample_seeds = resolve_sample_seeds(config.sample_seeds)
        self.metrics = {}
        if is_main_process():
            self.metrics = {name: METRICS.get(name)(config, context) for name in config.metrics}
        self.needs_samples = broadcast_object(any(metric.needs_samples for metric in self.metrics.values()))
        self.sessions = self._shared_sessions() if self.sample_seeds == "per_batch" else {}

    def _shared_sessions(self) -> dict[str, FeatureSession]:
        """The feature sessions that score generated samples, on every rank (rank 0's: the metrics')."""
        names = broadcast_object(sorted({session.name for metric in self.metrics.values() if metric.needs_samples
                                         for session in metric.feature_sessions()}))
        sessions = {name: feature_session(self.config, self.context, name) for name in names}
        for session in sessions.values():
            if session.extractor.model is not None:
                broadcast_module(session.extractor.model)  # a rank whose cache differs still computes rank 0's
        return sessions

    def __call__(self, model: GANModel, **sampling: float) -> dict[str, MetricValue]:
        """Every metric on one set of `eval.n_samples` samples; `sampling`: the model's sampling options
        (temperature, truncation), e.g. for a bench's quality/diversity sweep."""
        if not self.config.metrics:
            return {}
        self.context.evaluation += 1
        self.context.sampling = dict(sampling)
        samples = self._samples(model, sampling) if self.needs_samples else {}
        if not is_main_process():
            return {}
        results: dict[str, MetricValue] = {}
        made = model.sample_protocol()
        for metric in self.metrics.values():
            values = metric.compute(samples, model)
            if metric.needs_samples:
                for value in values.values():
                    value.protocol.update(sample_seed=self.config.seed, sample_seeds=self.sample_seeds, **made)
            results.update(values)
        return results

    def _samples(self, model: GANModel, sampling: dict[str, float]) -> Batch | None:
        n, seed, batch_size = self.config.n_samples, self.config.seed, self.config.batch_size
        if self.sample_seeds == "stream":
            return generate(model, n, seed, batch_size, **sampling) if is_main_process() else None
        # per batch: each rank generates its batches and extracts their features; rank 0 gathers both
        shard = generate_shard(model, n, seed, batch_size, rank(), world_size(), **sampling)
        try:
            features = {name: [session.generated_parts([batch]) for _, batch in shard]
                        for name, session in self.sessions.items()}
        except MetricError as error:  # sent to rank 0, which reports it; no rank is left waiting at the gather
            features = error
        gathered = gather_objects((shard, features))
        if gathered is None:
            return None
        errors = [f for _, f in gathered if isinstance(f, MetricError)]
        if errors:
            raise errors[0]
        # (batch index, batch, {session: its (features, logits) parts}) of every rank, in batch order
        entries = sorted(((index, batch, {name: parts[k] for name, parts in rank_features.items()})
                          for rank_shard, rank_features in gathered for k, (index, batch) in enumerate(rank_shard)),
                         key=lambda entry: entry[0])
        samples = concat_batches([batch for _, batch, _ in entries])
        for name, session in self.sessions.items():
            session.use_generated(samples, [part for _, _, parts in entries for part in parts[name]])
        return samples
