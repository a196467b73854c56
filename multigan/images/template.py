"""The smallest complete model: copy this file to start a new one.

A model is a `GANModel` with a `Config` dataclass (its recipe section) registered by name. It builds its networks
from `info` (what the data looks like), returns its optimisers, lists the phases of one training step, and
computes each phase's loss. It never calls backward() or step(): the trainer does, with every network not in
`Phase.trains` frozen. Here: an MLP generator and discriminator on flattened images with the non-saturating loss.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from multigan.core.losses import get_loss
from multigan.core.phases import Batch, DataInfo, GANModel, Phase
from multigan.registry import MODELS


@dataclass
class TemplateConfig:  # every field needs a default: the recipe lists only what it changes
    latent_dim: int = 64
    hidden: int = 256
    loss: str = "nonsaturating"
    lr: float = 2e-4
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
        return {name: torch.optim.Adam(net.parameters(), lr=c.lr, betas=c.betas) for name, net in self.networks().items()}

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
