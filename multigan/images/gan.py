"""The image side of the game in core/game.py, shared by DCGAN and the MLP vanilla GAN.

A subclass builds a generator `G(z, labels) -> (B, C, H, W)` in [-1, 1] and a discriminator `D(x, labels) -> (B,)`
logits; the game (loss family, label smoothing, spectral norm, WGAN-GP, R1, D steps) is the core's. Images sample
with the truncation trick on request (`multigan sample --truncation T`).
"""
from __future__ import annotations

from multigan.core.game import AdversarialGame, GameConfig, ModelConfigError

__all__ = ["ImageGAN", "GameConfig", "ModelConfigError"]


class ImageGAN(AdversarialGame):
    """Subclasses set `Config` (a `GameConfig` with their network sizes) and implement `build_networks`."""

    modality = "image"
    data_key = "image"  # (B, C, H, W) in [-1, 1]
    sampling_options = ("truncation",)
