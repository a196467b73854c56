"""SpecGAN (Donahue et al. 2019): a GAN on normalised log-magnitude spectrograms, inverted to waveforms with
Griffin-Lim; the paper's companion to WaveGAN, on the same game (WGAN-GP, 5 critic updates) and the same audio
metrics, which score the inverted waveforms. Networks and front end: specgan_nets.py.

Real batches arrive as waveforms (B, 1, T) and are encoded to (B, 1, 128, 128) for D; G makes spectrograms, and
`sample` inverts them, so previews, exports (`multigan sample` writes WAVs) and metrics all hear waveforms. The
per-bin statistics are fit on the train split when a run starts (`FitsData`) and kept in checkpoints.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn

from multigan.audio.specgan_nets import SpecGANDiscriminator, SpecGANGenerator, SpectrogramCodec
from multigan.core.game import AdversarialGame, GameConfig, ModelConfigError
from multigan.core.phases import Batch, DataInfo, Dataset, FitsData
from multigan.registry import MODELS


@dataclass
class SpecGANConfig(GameConfig):
    model_dim: int = 64  # d: channels of G's last hidden layer, x2 per layer inward (16d = 1024 at 4x4)
    griffin_lim_iters: int = 16  # the paper's inversion
    # the game's defaults changed to the paper's WGAN-GP, as WaveGAN's
    loss: str = "wasserstein"
    gp_weight: float = 10.0
    d_steps: int = 5
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.9)

    ALIASES: ClassVar[dict[str, str]] = {"d": "model_dim", "nz": "latent_dim"}


@MODELS.register("specgan")
class SpecGAN(AdversarialGame, FitsData):
    Config = SpecGANConfig
    modality = "audio"
    data_key = "audio"  # waveforms (B, 1, T); D sees their spectrograms

    def __init__(self, config: SpecGANConfig, info: DataInfo):
        if info.modality != "audio" or len(info.shape) != 2 or info.shape[0] != 1:
            raise ModelConfigError(f"specgan trains on mono audio (1, T), got {info.modality} data {info.shape}")
        try:
            codec = SpectrogramCodec(info.shape[1], config.griffin_lim_iters)
        except ValueError as err:
            raise ModelConfigError(f"data.length: {err}") from None
        super().__init__(config, info)
        self.codec = codec

    def build_networks(self, info: DataInfo, num_classes: int) -> tuple[nn.Module, nn.Module]:
        c = self.config
        discriminator = SpecGANDiscriminator(c.model_dim, num_classes, channels=self.packed_channels(1))  # PacGAN
        return SpecGANGenerator(c.latent_dim, c.model_dim, num_classes), discriminator

    def networks(self) -> dict[str, nn.Module]:
        return {**super().networks(), "spectrogram": self.codec}  # the train-set statistics

    def fit_data(self, dataset: Dataset) -> None:
        audio = dataset.gather(torch.arange(len(dataset)))[self.data_key]  # (N, 1, T) on the CPU
        self.codec.fit(audio)

    def real_view(self, real: Tensor) -> Tensor:
        return self.codec.encode(real)  # (B, 1, 128, 128) in [-1, 1]

    def draw_latent(self, n: int, generator: torch.Generator | None = None,
                    truncation: float | None = None) -> Tensor:
        # z ~ U(-1, 1), as WaveGAN and SpecGAN in the paper
        return torch.rand(n, self.config.latent_dim, device=self.device, generator=generator) * 2 - 1

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, condition: Tensor | None = None, **sampling: float) -> Batch:
        samples = super().sample(n, generator, condition)  # spectrograms (N, 1, 128, 128) under the data key
        samples[self.data_key] = self.codec.decode(samples[self.data_key])  # (N, 1, T)
        return samples
