"""One training run for the distributed tests, launched by them as `torchrun ... ddp_worker.py CONFIG OUT [RESUME]`
(or plain `python` for the 1-process baseline). CONFIG is the run config as JSON.

It adds `dcgan_nan_samples_on_rank_1` (for the evaluation's error path) and `dcgan_sharded_noise`: DCGAN whose
training noise for a step is one global draw of (global batch, latent) that every rank slices its rows from
(seeded by step and call, not by the global RNG).
Real DCGAN ranks draw independent noise, which is right for training but makes a W-process run differ from the
1-process run by the noise alone; with this model the two must agree to float tolerance, which tests everything
else — data sharding, gradient averaging, synchronised BatchNorm, optimiser steps, checkpoints and resume.
"""
from __future__ import annotations

import json
import sys

import torch

from multigan import api
from multigan.core.distributed import rank, world_size
from multigan.images.dcgan import DCGAN
from multigan.recipe import from_dict
from multigan.registry import MODELS


class ShardedNoiseDCGAN(DCGAN):
    step = calls = 0

    def on_step(self, stage: str, step: int, total: int) -> None:
        self.step, self.calls = step, 0

    def _noise(self, n: int, generator: torch.Generator | None = None, truncation: float | None = None):
        if generator is not None:  # previews and evaluation: the model's own seeded draws
            return super()._noise(n, generator, truncation)
        draws = torch.Generator().manual_seed(1000 * self.step + self.calls)
        self.calls += 1
        z = torch.randn(n * world_size(), self.config.latent_dim, generator=draws)  # (global B, latent)
        return z[rank() * n : (rank() + 1) * n].to(self.device), None


class NaNSamplesOnRankOne(ShardedNoiseDCGAN):
    """Rank 1's evaluation samples are NaN: its feature extraction fails, and rank 0 must report it."""

    def sample(self, n: int, generator: torch.Generator | None = None, *args, **kwargs):
        samples = super().sample(n, generator, *args, **kwargs)
        return {k: v.fill_(float("nan")) for k, v in samples.items()} if rank() == 1 else samples


if "dcgan_sharded_noise" not in MODELS.names():
    MODELS.register("dcgan_sharded_noise")(ShardedNoiseDCGAN)
    MODELS.register("dcgan_nan_samples_on_rank_1")(NaNSamplesOnRankOne)

if __name__ == "__main__":
    torch.set_num_threads(1)
    config = from_dict(json.loads(sys.argv[1]))
    resume = len(sys.argv) > 3
    api.train(config, out=None if resume else sys.argv[2], resume=sys.argv[2] if resume else None, progress=False)
