"""WaveGAN (Donahue et al. 2019): WGAN-GP on raw waveforms, optionally class-conditional; networks in
wavegan_nets.py, the game (loss, penalty, critic steps) in core/game.py. Paper setting: d = 64, 16384 samples at
16 kHz, batch 64, 5 critic updates per generator update, lambda = 10, Adam(1e-4, betas (0.5, 0.9)), phase shuffle
n = 2."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn

from multigan.audio.wavegan_nets import WaveGANDiscriminator, WaveGANGenerator, strides_for
from multigan.core.game import AdversarialGame, GameConfig, ModelConfigError
from multigan.core.phases import DataInfo
from multigan.registry import MODELS


@dataclass
class WaveGANConfig(GameConfig):
    model_dim: int = 64  # d: channels of the generator's last hidden layer; x2 per layer inward (16d = 1024)
    kernel_size: int = 25
    phase_shuffle: int = 2  # n: D's activations shift by up to n samples per layer; 0 disables
    post_filter: int = 0  # length of G's learned post-processing filter (paper: 512); 0: none
    # the game's defaults changed to the paper's WGAN-GP (conditional: an embedding concatenated to z, D by projection)
    loss: str = "wasserstein"
    gp_weight: float = 10.0  # lambda of the gradient penalty (Gulrajani et al. 2017)
    d_steps: int = 5  # critic updates per generator update
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.9)

    ALIASES: ClassVar[dict[str, str]] = {"d": "model_dim", "nz": "latent_dim"}


@MODELS.register("wavegan")
class WaveGAN(AdversarialGame):
    Config = WaveGANConfig
    modality = "audio"
    data_key = "audio"  # (B, 1, T) in [-1, 1]

    def __init__(self, config: WaveGANConfig, info: DataInfo):
        if info.modality != "audio" or len(info.shape) != 2 or info.shape[0] != 1:
            raise ModelConfigError(f"wavegan trains on mono audio (1, T), got {info.modality} data {info.shape}")
        try:
            strides_for(info.shape[1])
        except ValueError as err:
            raise ModelConfigError(f"data.length: {err}") from None
        super().__init__(config, info)

    def build_networks(self, info: DataInfo, num_classes: int) -> tuple[nn.Module, nn.Module]:
        c, length = self.config, info.shape[1]
        generator = WaveGANGenerator(c.latent_dim, c.model_dim, length, c.kernel_size, num_classes, c.post_filter)
        discriminator = WaveGANDiscriminator(c.model_dim, length, c.kernel_size, c.phase_shuffle, num_classes,
                                             channels=self.packed_channels(1))  # PacGAN: m clips as m channels
        return generator, discriminator

    def draw_latent(self, n: int, generator: torch.Generator | None = None,
                    truncation: float | None = None) -> Tensor:
        # z ~ U(-1, 1) as in the paper; already bounded, so there is no truncation to apply
        return torch.rand(n, self.config.latent_dim, device=self.device, generator=generator) * 2 - 1  # (B, latent)
