"""Run a recipe's metrics on a model: sample once, score with every metric, return values with protocols."""
from __future__ import annotations

import torch

from multigan.core.phases import Batch, GANModel
from multigan.metrics.base import EvalContext, MetricValue
from multigan.metrics.config import EvalConfig
from multigan.registry import METRICS


@torch.no_grad()
def generate(model: GANModel, n: int, seed: int, batch_size: int, **sampling: float) -> Batch:
    """`n` samples in batches, concatenated on the CPU; deterministic for a given seed. `sampling`: the extra
    arguments the model lists in `sampling_options` (truncation, temperature)."""
    generator = torch.Generator(model.device).manual_seed(seed)
    parts: list[Batch] = []
    for start in range(0, n, batch_size):
        batch = model.sample(min(batch_size, n - start), generator, **sampling)
        parts.append({k: v.cpu() for k, v in batch.items()})
    return {key: torch.cat([p[key] for p in parts]) for key in parts[0]}


class Evaluator:
    def __init__(self, config: EvalConfig, context: EvalContext):
        self.config = config
        self.context = context
        self.metrics = {name: METRICS.get(name)(config, context) for name in config.metrics}

    def __call__(self, model: GANModel, **sampling: float) -> dict[str, MetricValue]:
        """Every metric on one set of `eval.n_samples` samples; `sampling`: the model's sampling options
        (temperature, truncation), e.g. for a bench's quality/diversity sweep."""
        if not self.metrics:
            return {}
        self.context.evaluation += 1
        samples: Batch = {}
        if any(metric.needs_samples for metric in self.metrics.values()):
            samples = generate(model, self.config.n_samples, self.config.seed, self.config.batch_size, **sampling)
        results: dict[str, MetricValue] = {}
        for metric in self.metrics.values():
            results.update(metric.compute(samples, model))
        return results
