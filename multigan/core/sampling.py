"""Drawing a model's samples in batches, reproducibly: one random stream for the whole set (`generate`), or one seed
per batch (`generate_shard`, `batch_seed`) so that any split of the batches over processes or resumed exports gives
the same set. Evaluation, previews through the API and exports all sample through here."""
from __future__ import annotations

import numpy as np
import torch

from multigan.core.phases import Batch, GANModel


def batch_seed(seed: int, index: int) -> int:
    """A 63-bit seed for batch `index` of a set drawn with `seed`, hashed from (seed, index) so that the batches of
    neighbouring seeds give unrelated streams."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1, np.uint64)[0] >> np.uint64(1))


@torch.no_grad()
def generate(model: GANModel, n: int, seed: int, batch_size: int, **sampling: float) -> Batch:
    """`n` samples in batches from one random stream seeded by `seed`, concatenated on the CPU. `sampling`: the
    extra arguments the model lists in `sampling_options` (truncation, temperature)."""
    generator = torch.Generator(model.device).manual_seed(seed)
    parts: list[Batch] = []
    for start in range(0, n, batch_size):
        batch = model.sample(min(batch_size, n - start), generator, **sampling)
        parts.append({k: v.cpu() for k, v in batch.items()})
    return concat_batches(parts)


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


def concat_batches(parts: list[Batch]) -> Batch:
    """Batches with the same keys, concatenated along the first dimension."""
    return {key: torch.cat([p[key] for p in parts]) for key in parts[0]}
