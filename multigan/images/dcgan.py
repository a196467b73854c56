"""DCGAN (Radford et al. 2016), optionally class-conditional, with the loss and regularisers chosen by the recipe."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn

from multigan.core.losses import get_loss
from multigan.core.phases import Batch, DataInfo, GANModel, Phase
from multigan.core.regularizers import apply_spectral_norm, gradient_penalty, r1_penalty
from multigan.errors import UserError
from multigan.images.blocks import Discriminator, Generator
from multigan.registry import MODELS


class ModelConfigError(UserError, ValueError):
    """A model section whose values do not fit together or do not fit the data."""


@dataclass
class DCGANConfig:
    latent_dim: int = 100
    generator_width: int = 64  # channels of the generator's last hidden layer (ngf); doubles per layer inward
    discriminator_width: int = 64  # channels of the discriminator's first layer (ndf)
    conditional: bool = False  # labels into G (embedding concatenated to z) and D (see `condition`)
    condition: str = "projection"  # how D sees the label: projection | concat
    loss: str = "nonsaturating"  # nonsaturating | minimax | hinge | wasserstein | lsgan | relativistic
    real_label: float = 1.0  # < 1: one-sided label smoothing (Salimans et al. 2016 use 0.9)
    discriminator_norm: str = "batch"  # batch | instance | layer | none
    spectral_norm: bool = False  # spectral normalisation on every D layer (Miyato et al. 2018)
    gp_weight: float = 0.0  # WGAN-GP lambda (10 in Gulrajani et al. 2017); needs a per-example D norm
    r1_gamma: float = 0.0  # R1 penalty weight gamma (Mescheder et al. 2018)
    d_steps: int = 1  # discriminator updates per generator update
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)  # beta1 = 0.5 stabilises GAN training (paper, sec. 4)

    # the names pytorch/examples' dcgan uses, accepted in recipes and --set
    ALIASES: ClassVar[dict[str, str]] = {"ngf": "generator_width", "ndf": "discriminator_width", "nz": "latent_dim"}


@MODELS.register("dcgan")
class DCGAN(GANModel):
    Config = DCGANConfig
    modality = "image"
    sampling_options = ("truncation",)

    def __init__(self, config: DCGANConfig, info: DataInfo):
        super().__init__(config, info)
        channels, height, width = info.shape
        if height != width:
            raise ModelConfigError(f"dcgan needs square images, the data gives {height}x{width}")
        if config.conditional and info.num_classes < 2:
            raise ModelConfigError("model.conditional is true but the dataset has no class labels")
        if config.gp_weight > 0 and config.discriminator_norm == "batch":
            raise ModelConfigError(
                "model.gp_weight > 0 needs model.discriminator_norm: layer, instance or none "
                "(BatchNorm mixes examples, which breaks the per-example gradient penalty)"
            )
        self.adversarial = get_loss(config.loss, config.real_label)
        classes = info.num_classes if config.conditional else 0
        self.num_classes = classes
        self.generator = Generator(config.latent_dim, config.generator_width, channels, height, classes)
        self.discriminator = Discriminator(
            config.discriminator_width, channels, height, classes, config.discriminator_norm, config.condition
        )
        if config.spectral_norm:
            apply_spectral_norm(self.discriminator)

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        return {
            "generator": torch.optim.Adam(self.generator.parameters(), lr=c.lr_g, betas=c.betas),
            "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=c.lr_d, betas=c.betas),
        }

    def phases(self, stage: str) -> list[Phase]:
        relativistic = self.config.loss == "relativistic"  # its G loss compares with real logits
        return [
            Phase("D", ("discriminator",), "discriminator", repeat=self.config.d_steps),
            Phase("G", ("generator",), "generator", uses_data=relativistic),
        ]

    def _noise(self, n: int, generator: torch.Generator | None = None,
               truncation: float | None = None) -> tuple[Tensor, Tensor | None]:
        device = self.device
        z = torch.randn(n, self.config.latent_dim, device=device, generator=generator)  # (B, latent)
        if truncation is not None:
            # truncation trick (Brock et al. 2019): redraw every |z_i| > T until all lie in [-T, T]
            outside = z.abs() > truncation
            while outside.any():
                z[outside] = torch.randn(int(outside.sum()), device=device, generator=generator)
                outside = z.abs() > truncation
        labels = None
        if self.num_classes:
            labels = torch.randint(self.num_classes, (n,), device=device, generator=generator)  # (B,)
        return z, labels

    def loss(self, phase: str, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        if phase == "D":
            return self._discriminator_loss(batch)
        if phase == "G":
            return self._generator_loss(batch)
        raise KeyError(f"dcgan has no phase '{phase}'")

    def _discriminator_loss(self, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        real = batch["image"]  # (B, C, H, W) in [-1, 1]
        labels = batch.get("label") if self.num_classes else None  # fakes get the real batch's labels
        z, _ = self._noise(real.shape[0])
        fake = self.generator(z, labels)  # G is frozen in this phase: no graph is built through it
        if self.config.r1_gamma > 0:
            real = real.detach().requires_grad_(True)
        d_real, d_fake = self.discriminator(real, labels), self.discriminator(fake, labels)
        loss = self.adversarial.discriminator(d_real, d_fake, self.config.real_label)
        scalars = {"d_real": d_real.mean().detach(), "d_fake": d_fake.mean().detach()}
        if self.config.gp_weight > 0:
            gp = gradient_penalty(lambda x: self.discriminator(x, labels), real, fake)
            loss = loss + self.config.gp_weight * gp
            scalars["gradient_penalty"] = gp.detach()
        if self.config.r1_gamma > 0:
            r1 = r1_penalty(d_real, real)
            loss = loss + 0.5 * self.config.r1_gamma * r1
            scalars["r1"] = r1.detach()
        return loss, scalars

    def _generator_loss(self, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        n = batch["image"].shape[0] if "image" in batch else self.batch_size
        z, labels = self._noise(n)
        if "label" in batch and self.num_classes:
            labels = batch["label"]
        d_fake = self.discriminator(self.generator(z, labels), labels)
        d_real = self.discriminator(batch["image"], labels) if "image" in batch else None
        return self.adversarial.generator(d_fake, d_real), {}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, condition: Tensor | None = None,
               truncation: float | None = None) -> Batch:
        z, labels = self._noise(n, generator, truncation)
        if self.num_classes:
            # class-ordered rows make preview grids readable: 0 1 2 ... 9 0 1 ...
            labels = condition if condition is not None else torch.arange(n, device=self.device) % self.num_classes
        images = self.generator(z, labels).float().clamp(-1, 1)
        return {"image": images, "label": labels} if labels is not None else {"image": images}
