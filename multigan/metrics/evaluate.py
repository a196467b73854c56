"""Run a recipe's metrics on a model: sample once, score with every metric, return values with protocols.

Under torchrun every rank calls the evaluator: with per-batch seeds (`eval.sample_seeds`, the default there) rank r
generates batches r, r + N, r + 2N ... of the evaluation set and rank 0 gathers them in batch order, so the set is
the same for any number of processes. Rank 0 alone builds the metrics (feature extractors, reference statistics,
cached classifiers) and scores the gathered samples: those caches are written once, by one process.
"""
from __future__ import annotations

import numpy as np
import torch

from multigan.core.distributed import broadcast_object, distributed, gather_objects, is_main_process, rank, world_size
from multigan.core.phases import Batch, GANModel
from multigan.errors import UserError
from multigan.metrics.base import EvalContext, MetricValue
from multigan.metrics.config import EvalConfig
from multigan.registry import METRICS

SAMPLE_SEEDS = ("auto", "stream", "per_batch")


@torch.no_grad()
def generate(model: GANModel, n: int, seed: int, batch_size: int, **sampling: float) -> Batch:
    """`n` samples in batches from one random stream seeded by `seed`, concatenated on the CPU. `sampling`: the
    extra arguments the model lists in `sampling_options` (truncation, temperature)."""
    generator = torch.Generator(model.device).manual_seed(seed)
    parts: list[Batch] = []
    for start in range(0, n, batch_size):
        batch = model.sample(min(batch_size, n - start), generator, **sampling)
        parts.append({k: v.cpu() for k, v in batch.items()})
    return _concat(parts)


def batch_seed(seed: int, index: int) -> int:
    """Batch `index`'s own seed, hashed from (seed, index) so that the batches of nearby seeds do not coincide."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1, np.uint64)[0] >> np.uint64(1))


@torch.no_grad()
def generate_shard(model: GANModel, n: int, seed: int, batch_size: int, shard: int = 0, shards: int = 1,
                   **sampling: float) -> list[tuple[int, Batch]]:
    """Batches shard, shard + shards, ... of `n` samples, each drawn from its own `batch_seed(seed, index)`:
    (index, batch on the CPU) pairs. Shards 0..shards-1 together are the same set for any `shards`."""
    parts = []
    for index in range(shard, -(-n // batch_size), shards):
        generator = torch.Generator(model.device).manual_seed(batch_seed(seed, index))
        batch = model.sample(min(batch_size, n - index * batch_size), generator, **sampling)
        parts.append((index, {k: v.cpu() for k, v in batch.items()}))
    return parts


def generate_across_ranks(model: GANModel, n: int, seed: int, batch_size: int, **sampling: float) -> Batch | None:
    """Every rank generates its shard of the per-batch-seeded set; rank 0 gets all of it, in batch order (None
    elsewhere). On one process: the whole set."""
    shards = gather_objects(generate_shard(model, n, seed, batch_size, rank(), world_size(), **sampling))
    if shards is None:
        return None
    return _concat([batch for _, batch in sorted((pair for shard in shards for pair in shard), key=lambda p: p[0])])


def _concat(parts: list[Batch]) -> Batch:
    return {key: torch.cat([p[key] for p in parts]) for key in parts[0]}


def resolve_sample_seeds(value: str) -> str:
    """`eval.sample_seeds` as used: "auto" is one stream on one process (the published numbers' sample sets) and
    per-batch seeds under torchrun (generation shared by the ranks)."""
    if value not in SAMPLE_SEEDS:
        raise UserError(f"eval.sample_seeds: expected one of {', '.join(SAMPLE_SEEDS)}, got '{value}'")
    if value == "auto":
        return "per_batch" if distributed() else "stream"
    return value


class Evaluator:
    """Built on every rank of a launch (metrics on rank 0 only); `__call__` on every rank returns the results on
    rank 0 and {} elsewhere."""

    def __init__(self, config: EvalConfig, context: EvalContext):
        self.config = config
        self.context = context
        self.sample_seeds = resolve_sample_seeds(config.sample_seeds)
        self.metrics = {}
        if is_main_process():
            self.metrics = {name: METRICS.get(name)(config, context) for name in config.metrics}
        self.needs_samples = broadcast_object(any(metric.needs_samples for metric in self.metrics.values()))

    def __call__(self, model: GANModel, **sampling: float) -> dict[str, MetricValue]:
        """Every metric on one set of `eval.n_samples` samples; `sampling`: the model's sampling options
        (temperature, truncation), e.g. for a bench's quality/diversity sweep."""
        if not self.config.metrics:
            return {}
        self.context.evaluation += 1
        samples = self._samples(model, sampling) if self.needs_samples else {}
        if not is_main_process():
            return {}
        results: dict[str, MetricValue] = {}
        for metric in self.metrics.values():
            values = metric.compute(samples, model)
            if metric.needs_samples:
                for value in values.values():
                    value.protocol.update(sample_seed=self.config.seed, sample_seeds=self.sample_seeds)
            results.update(values)
        return results

    def _samples(self, model: GANModel, sampling: dict[str, float]) -> Batch | None:
        n, seed, batch_size = self.config.n_samples, self.config.seed, self.config.batch_size
        if self.sample_seeds == "per_batch":
            return generate_across_ranks(model, n, seed, batch_size, **sampling)
        return generate(model, n, seed, batch_size, **sampling) if is_main_process() else None
