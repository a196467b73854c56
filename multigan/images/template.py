"""The smallest complete model: copy this file to start a new one.

A model is a `GANModel` with a `Config` dataclass (its recipe section) registered by name. It builds its networks
from `info` (what the data looks like), returns its optimisers, lists the phases of one training step, and
computes each phase's loss. It never calls backward() or step(): the trainer does, with every network not in
`Phase.trains` frozen. Here: an MLP generator and discriminator on flattened images with the non-saturating loss.

Most new two-player models need less: subclass `multigan.core.game.AdversarialGame` (as images/dcgan.py and
audio/wavegan.py do), name the data field and build the two networks; the loss families, penalties, D steps and
class conditioning come with it. What a model may offer beyond the contract (class-conditional sampling,
translation, token NLL) it declares by inheriting the capability's base class from core/phases.py.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from multigan.core.losses import get_loss
from multigan.core.phases import Batch, DataInfo, GANModel, Phase, player_adams
from multigan.registry import MODELS


@dataclass
class TemplateConfig:  # every field needs a default: the recipe lists only what it changes
    latent_dim: int = 64
    hidden: int = 256
    loss: str = "nonsaturating"
    lr_g: float = 2e-4  # every model names its learning rates lr_g / lr_d
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)


@MODELS.register("template")
class TemplateGAN(GANModel):
    Config = TemplateConfig
    modality = "image"

    def __init__(self, config: TemplateConfig, info: DataInfo):
        super().__init__(config, info)
        self.shape = tuple(info.shape)  # (C, H, W)
        pixels = math.prod(self.shape)
        self.adversarial = get_loss(config.loss)
        self.generator = nn.Sequential(
            nn.Linear(config.latent_dim, config.hidden), nn.ReLU(), nn.Linear(config.hidden, pixels), nn.Tanh()
        )
        self.discriminator = nn.Sequential(
            nn.Linear(pixels, config.hidden), nn.LeakyReLU(0.2), nn.Linear(config.hidden, 1)
        )

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        return player_adams(self.generator, self.discriminator, c.lr_g, c.lr_d, c.betas)

    def phases(self, stage: str) -> list[Phase]:
        # one D update on a real batch, then one G update that needs no data
        return [Phase("D", ("discriminator",), "discriminator"), Phase("G", ("generator",), "generator", uses_data=False)]

    def _generate(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        z = torch.randn(n, self.config.latent_dim, device=self.device, generator=generator)  # (B, latent)
        return self.generator(z).view(n, *self.shape)  # (B, C, H, W) in [-1, 1]

    def _score(self, images: Tensor) -> Tensor:
        return self.discriminator(images.flatten(1)).squeeze(1)  # (B,) logits

    def loss(self, phase: str, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        if phase == "D":  # D: maximise log D(x) + log(1 - D(G(z)))
            real = batch["image"]
            d_real, d_fake = self._score(real), self._score(self._generate(real.shape[0]))
            return self.adversarial.discriminator(d_real, d_fake), {"d_real": d_real.mean().detach()}
        if phase == "G":  # G: maximise log D(G(z))
            return self.adversarial.generator(self._score(self._generate(self.batch_size))), {}
        raise KeyError(f"template has no phase '{phase}'")

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, condition: Tensor | None = None) -> Batch:
        return {"image": self._generate(n, generator).clamp(-1, 1)}
