"""PGGAN (Karras et al. 2018): G and D grow from 4x4 to the data's resolution, one level at a time, each new level
faded in while alpha ramps linearly from 0 to 1; WGAN-GP with the drift term eps E[D(x)^2] (eps = 0.001).

The schedule is in images shown to D: level 0 trains for `images_per_phase`, then every further level fades in
over `images_per_phase` and trains stable for as many; past the last level training goes on at full size. Real
batches are average-pooled to the current resolution on the device (and faded between the two resolutions
while a level fades in, as the paper does); samples for previews and metrics are upsampled (nearest) to the data's
resolution. The level, alpha and the schedule are buffers of the `growth` network, so a checkpoint says how far
it grew, and resuming with another schedule is refused.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from multigan.core.distributed import world_size
from multigan.core.game import GameConfig, ModelConfigError
from multigan.core.phases import Batch, DataInfo
from multigan.images.gan import ImageGAN
from multigan.images.pggan_nets import ProgressiveDiscriminator, ProgressiveGenerator
from multigan.registry import MODELS


@dataclass
class PGGANConfig(GameConfig):
    latent_dim: int = 512
    channel_base: int = 8192  # feature maps at resolution r: min(channel_base / r, channel_max) (the paper: 512
    channel_max: int = 512  #   up to 32 px, halving above)
    images_per_phase: int = 600_000  # each fade-in and each stable phase (the official code: 600k; the paper 800k)
    mbstd_group: int = 4
    loss: str = "wasserstein"
    gp_weight: float = 10.0
    drift: float = 0.001  # eps: the paper's drift weight
    lr_g: float = 0.001
    lr_d: float = 0.001
    betas: tuple[float, float] = (0.0, 0.99)


class GrowthState(nn.Module):
    """How far the networks have grown (buffers, so checkpoints carry them) and the schedule they grew by."""

    def __init__(self, images_per_phase: int, levels: int):
        super().__init__()
        self.register_buffer("schedule", torch.tensor([images_per_phase, levels], dtype=torch.int64))
        self.register_buffer("level", torch.tensor(0, dtype=torch.int64))
        self.register_buffer("alpha", torch.tensor(1.0))
        self.expected = (images_per_phase, levels)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        saved = tuple(int(v) for v in state_dict[prefix + "schedule"])
        if saved != self.expected:
            raise ModelConfigError(
                f"this run grew with images_per_phase {saved[0]} over {saved[1]} levels; the recipe says "
                f"{self.expected[0]} over {self.expected[1]}: resume with the run's own schedule")
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def level_and_alpha(images: int, images_per_phase: int, levels: int) -> tuple[int, float]:
    """The level being trained after `images` real images, and its fade-in alpha (1: stable)."""
    phase = images // images_per_phase
    level = (phase + 1) // 2
    if level > levels:
        return levels, 1.0
    if phase % 2:  # an odd phase fades level (phase + 1) / 2 in
        return level, (images - phase * images_per_phase) / images_per_phase
    return level, 1.0


@MODELS.register("pggan")
class PGGAN(ImageGAN):
    Config = PGGANConfig

    def __init__(self, config: PGGANConfig, info: DataInfo):
        _, height, width = info.shape
        levels = int(math.log2(height / 4)) if height >= 4 else -1
        if height != width or levels < 0 or 4 * 2**levels != height:
            raise ModelConfigError(f"pggan grows square power-of-two images from 4 px, the data gives "
                                   f"{height}x{width} (set data.resolution)")
        if config.images_per_phase < 1:
            raise ModelConfigError(f"model.images_per_phase must be at least 1, got {config.images_per_phase}")
        self.levels = levels
        super().__init__(config, info)
        self.growth = GrowthState(config.images_per_phase, levels)
        self._set_growth(0, 1.0)
        # a checkpoint's growth reaches G and D too: a loaded run samples at the level it grew to, not at 4 px
        self.growth.register_load_state_dict_post_hook(
            lambda growth, _keys: self._set_growth(int(growth.level), float(growth.alpha)))

    def build_networks(self, info: DataInfo, num_classes: int) -> tuple[nn.Module, nn.Module]:
        c, channels = self.config, info.shape[0]
        generator = ProgressiveGenerator(c.latent_dim, self.levels, channels, c.channel_base, c.channel_max,
                                         num_classes)
        discriminator = ProgressiveDiscriminator(self.levels, self.packed_channels(channels), c.channel_base,
                                                 c.channel_max, num_classes, c.mbstd_group)
        return generator, discriminator

    def networks(self) -> dict[str, nn.Module]:
        return {**super().networks(), "growth": self.growth}

    def _set_growth(self, level: int, alpha: float) -> None:
        for network in (self.generator, self.discriminator):
            network.level, network.alpha = level, alpha
        self.growth.level.fill_(level)
        self.growth.alpha.fill_(alpha)

    def on_step(self, stage: str, step: int, total: int) -> None:
        super().on_step(stage, step, total)
        images = step * self.batch_size * world_size()  # global images shown to D before this step
        self._set_growth(*level_and_alpha(images, self.config.images_per_phase, self.levels))

    def resolution(self) -> int:
        return 4 * 2**self.generator.level

    def real_view(self, real: Tensor) -> Tensor:
        """Real batches (B, C, R, R) pooled to the current level's size, and while a level fades in, faded from
        the coarser one as the generator's output is."""
        size = self.resolution()
        if real.shape[-1] == size:
            return real
        real = F.adaptive_avg_pool2d(real, size)  # exact 2^k average pooling: sizes are powers of two
        if self.discriminator.alpha < 1.0:
            coarse = F.interpolate(F.avg_pool2d(real, 2), scale_factor=2, mode="nearest")
            real = torch.lerp(coarse, real, self.discriminator.alpha)
        return real

    def loss(self, phase: str, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        loss, scalars = super().loss(phase, batch)
        if phase == "D":  # logged: how far the networks have grown
            scalars = {**scalars, "level": self.growth.level.float(), "alpha": self.growth.alpha.clone()}
        return loss, scalars

    def sample_protocol(self) -> dict[str, Any]:
        """Metrics read a grown-so-far G: the level, its fade-in alpha and the size it draws before upsampling."""
        size = self.info.shape[-1]
        return {"growth_level": int(self.growth.level), "growth_levels": self.levels,
                "growth_alpha": round(float(self.growth.alpha), 4), "sampled_resolution": self.resolution(),
                "upsampled_to": [size, size] if self.resolution() != size else None}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, condition: Tensor | None = None,
               truncation: float | None = None) -> Batch:
        samples = super().sample(n, generator, condition, truncation=truncation)
        size = self.info.shape[-1]
        if samples["image"].shape[-1] != size:  # previews and metrics see the data's resolution
            samples["image"] = F.interpolate(samples["image"], size=(size, size), mode="nearest")
        return samples
