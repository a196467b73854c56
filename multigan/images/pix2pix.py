"""pix2pix (Isola et al. 2017): a conditional GAN for aligned pairs. G maps a source image to its target; a PatchGAN
D judges 70x70 patches of (source, image) pairs; G also pays lambda * L1 to the true target, which carries the
low frequencies while D sharpens the high ones.

    D: minimise 1/2 [BCE(D(x, y), 1) + BCE(D(x, G(x)), 0)]
    G: minimise BCE(D(x, G(x)), 1) + lambda * |y - G(x)|_1          lambda = 100

Batches are {"source": x, "target": y} from `paired_folder` (its `direction` picks which side is the source).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn

from multigan.core.phases import Batch, DataInfo, Phase, player_adams
from multigan.errors import UserError
from multigan.images.translation import (
    AdversarialTerms, TranslationConfig, TranslationModel, build_discriminator, build_generator,
)
from multigan.registry import MODELS


@dataclass
class Pix2PixConfig(TranslationConfig):
    l1_weight: float = 100.0  # lambda
    # the paper's choices among the translation defaults: U-Net-256 (8 levels at 256 px), batch norm at batch size
    # 1, the cross entropy, and decoder dropout as the generator's only noise (Isola et al. Sec. 3.1)
    generator: str = "unet"
    norm: str = "batch"
    dropout: bool = True
    loss: str = "nonsaturating"

    ALIASES: ClassVar[dict[str, str | tuple[str, ...]]] = {**TranslationConfig.ALIASES, "lambda_L1": "l1_weight"}


@MODELS.register("pix2pix")
class Pix2Pix(TranslationModel):
    Config = Pix2PixConfig
    input_keys = ("source",)

    def __init__(self, config: Pix2PixConfig, info: DataInfo):
        super().__init__(config, info)
        if info.extra.get("task") != "paired":
            raise UserError("pix2pix trains on aligned pairs: use data.name: paired_folder")
        channels, height, width = info.shape
        self.gan = AdversarialTerms(config.loss)
        self.generator = build_generator(config.generator, channels, height, config.generator_width, config.norm,
                                         config.dropout)
        # D sees the source and the (real or generated) target stacked on the channels: a conditional critic
        self.discriminator = build_discriminator(2 * channels, height, config.discriminator_width,
                                                 config.discriminator_layers, config.norm)

    @property
    def directions(self) -> tuple[str, ...]:
        return (self.info.extra.get("direction", "AtoB"),)

    def direction_name(self, direction: str) -> str:
        names = self.info.extra.get("domains", {})
        return f"{direction} ({names.get('source', 'source')} -> {names.get('target', 'target')})"

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator, **self.augment_networks()}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        return player_adams(self.generator, self.discriminator, c.lr_g, c.lr_d, c.betas)

    def phases(self, stage: str) -> list[Phase]:
        return [Phase("G", ("generator",), "generator"),
                Phase("D", ("discriminator",), "discriminator", uses_data=False)]  # G's batch and fakes

    def loss(self, phase: str, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        if phase == "G":
            return self._generator_loss(batch["source"], batch["target"])
        if phase == "D":
            return self._discriminator_loss(**self.kept())
        raise KeyError(f"pix2pix has no phase '{phase}'")

    def _generator_loss(self, source: Tensor, target: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        fake = self.generator(source)  # (B, C, H, W)
        gan = self.gan.generator(self.judge(self.discriminator, torch.cat([source, fake], dim=1)))  # D frozen
        l1 = (fake - target).abs().mean()
        self._kept = {"source": source, "target": target, "fake": fake.detach()}
        return gan + self.config.l1_weight * l1, {"g_gan": gan.detach(), "l1": l1.detach()}

    def _discriminator_loss(self, source: Tensor, target: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        # each pair stacked on the channels, so an augmentation transforms source and target alike
        d_real = self.judge(self.discriminator, torch.cat([source, target], dim=1))  # (B, 1, P, P) patch logits
        d_fake = self.judge(self.discriminator, torch.cat([source, fake], dim=1))
        loss = self.gan.discriminator(d_real, d_fake)
        scalars = {"d_real": d_real.mean().detach(), "d_fake": d_fake.mean().detach()}
        return loss, {**scalars, **self.augment_scalars(d_real)}

    def _translate(self, images: Tensor, direction: str) -> Tensor:
        return self.generator(images)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, condition: Tensor | Batch | None = None) -> Batch:
        """Translations of `condition["source"]` (first n), with the sources and, when given, the targets: the
        columns of a comparison grid. Deterministic in eval mode; `generator` is unused (dropout is off)."""
        inputs = {k: v[:n].to(self.device) for k, v in self.condition_batch(condition, "source").items()}
        out = {"source": inputs["source"], "image": self.generator(inputs["source"]).float().clamp(-1, 1)}
        if "target" in inputs:
            out["target"] = inputs["target"]
        return out
