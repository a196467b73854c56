"""WaveGAN (Donahue et al. 2019): WGAN-GP on raw waveforms, optionally class-conditional; networks in
wavegan_nets.py. Paper setting: d = 64, 16384 samples at 16 kHz, batch 64, 5 critic updates per generator update,
lambda = 10, Adam(1e-4, betas (0.5, 0.9)), phase shuffle n = 2."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn

from multigan.audio.wavegan_nets import WaveGANDiscriminator, WaveGANGenerator, strides_for
from multigan.core.losses import get_loss
from multigan.core.phases import Batch, ClassConditional, DataInfo, GANModel, Phase, player_adams
from multigan.core.regularizers import gradient_penalty
from multigan.errors import UserError
from multigan.registry import MODELS


class WaveGANConfigError(UserError, ValueError):
    """A model section that does not fit the audio data."""


@dataclass
class WaveGANConfig:
    latent_dim: int = 100
    model_dim: int = 64  # d: channels of the generator's last hidden layer; x2 per layer inward (16d = 1024)
    kernel_size: int = 25
    phase_shuffle: int = 2  # n: D's activations shift by up to n samples per layer; 0 disables
    post_filter: int = 0  # length of G's learned post-processing filter (paper: 512); 0: none
    conditional: bool = False  # labels into G (embedding concatenated to z) and D (projection)
    loss: str = "wasserstein"  # any registered loss; WGAN-GP is wasserstein + gp_weight 10
    gp_weight: float = 10.0  # lambda of the gradient penalty (Gulrajani et al. 2017)
    d_steps: int = 5  # critic updates per generator update
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.9)

    ALIASES: ClassVar[dict[str, str]] = {"d": "model_dim", "nz": "latent_dim"}


@MODELS.register("wavegan")
class WaveGAN(GANModel, ClassConditional):
    Config = WaveGANConfig
    modality = "audio"

    def __init__(self, config: WaveGANConfig, info: DataInfo):
        super().__init__(config, info)
        if info.modality != "audio" or len(info.shape) != 2 or info.shape[0] != 1:
            raise WaveGANConfigError(f"wavegan trains on mono audio (1, T), got {info.modality} data {info.shape}")
        length = info.shape[1]
        try:
            strides_for(length)
        except ValueError as err:
            raise WaveGANConfigError(f"data.length: {err}") from None
        if config.conditional and info.num_classes < 2:
            raise WaveGANConfigError("model.conditional is true but the dataset has no class labels")
        self.adversarial = get_loss(config.loss)
        self.num_classes = info.num_classes if config.conditional else 0
        c = config
        self.generator = WaveGANGenerator(c.latent_dim, c.model_dim, length, c.kernel_size, self.num_classes,
                                          c.post_filter)
        self.discriminator = WaveGANDiscriminator(c.model_dim, length, c.kernel_size, c.phase_shuffle,
                                                  self.num_classes)

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        return player_adams(self.generator, self.discriminator, c.lr_g, c.lr_d, c.betas)

    def phases(self, stage: str) -> list[Phase]:
        return [
            Phase("D", ("discriminator",), "discriminator", repeat=self.config.d_steps),
            Phase("G", ("generator",), "generator", uses_data=False),
        ]

    def _noise(self, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor | None]:
        # z ~ U(-1, 1) as in the paper
        z = torch.rand(n, self.config.latent_dim, device=self.device, generator=generator) * 2 - 1  # (B, latent)
        labels = None
        if self.num_classes:
            labels = torch.randint(self.num_classes, (n,), device=self.device, generator=generator)  # (B,)
        return z, labels

    def loss(self, phase: str, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        if phase == "D":
            return self._critic_loss(batch)
        if phase == "G":
            z, labels = self._noise(self.batch_size)
            # G: minimise -D(G(z))
            return self.adversarial.generator(self.discriminator(self.generator(z, labels), labels)), {}
        raise KeyError(f"wavegan has no phase '{phase}'")

    def _critic_loss(self, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        real = batch["audio"]  # (B, 1, T) in [-1, 1]
        labels = batch.get("label") if self.num_classes else None  # fakes get the real batch's labels
        z, _ = self._noise(real.shape[0])
        fake = self.generator(z, labels)  # G is frozen in this phase: no graph through it
        d_real, d_fake = self.discriminator(real, labels), self.discriminator(fake, labels)
        # D: minimise D(G(z)) - D(x) + lambda (|grad D(x_hat)| - 1)^2
        loss = self.adversarial.discriminator(d_real, d_fake)
        scalars = {"d_real": d_real.mean().detach(), "d_fake": d_fake.mean().detach()}
        if self.config.gp_weight > 0:
            gp = gradient_penalty(lambda x: self.discriminator(x, labels), real, fake)
            loss = loss + self.config.gp_weight * gp
            scalars["gradient_penalty"] = gp.detach()
        return loss, scalars

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, condition: Tensor | None = None) -> Batch:
        z, labels = self._noise(n, generator)
        if self.num_classes:
            labels = condition if condition is not None else torch.arange(n, device=self.device) % self.num_classes
        audio = self.generator(z, labels).float().clamp(-1, 1)  # (N, 1, T); the post filter may overshoot
        return {"audio": audio, "label": labels} if labels is not None else {"audio": audio}
