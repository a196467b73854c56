"""CycleGAN (Zhu et al. 2017): two generators G_ab: A -> B and G_ba: B -> A learnt from unpaired domains. Each
domain has a least-squares PatchGAN critic; translating there and back must return the input (cycle loss), and a
generator given an image of its own output domain should leave it alone (identity loss, which keeps colours).

    G (both):  LS(D_b(G_ab(a)), 1) + LS(D_a(G_ba(b)), 1)
               + lambda (|G_ba(G_ab(a)) - a|_1 + |G_ab(G_ba(b)) - b|_1)
               + identity * lambda (|G_ab(b) - b|_1 + |G_ba(a) - a|_1)          lambda = 10, identity = 0.5
    D (both):  1/2 [LS(D(real), 1) + LS(D(pool(fake)), 0)] per domain; the pools hold 50 past fakes each

Phases: `G` trains both generators with one Adam, then `D` both critics with another, on the fakes of that G phase
(drawn through the pools, whose contents are checkpointed buffers). Batches are {"a", "b"} from `unpaired_folder`.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn

from multigan.core.phases import Batch, DataInfo, Phase
from multigan.errors import UserError
from multigan.images.image_pool import ImagePool
from multigan.images.translation import (
    AdversarialTerms, TranslationConfig, TranslationModel, build_discriminator, build_generator,
)
from multigan.registry import MODELS


@dataclass
class CycleGANConfig(TranslationConfig):
    cycle_weight: float = 10.0  # lambda, for both A -> B -> A and B -> A -> B
    identity_weight: float = 0.5  # times lambda; 0 disables the identity loss (and its two generator passes)
    pool_size: int = 50  # past fakes per domain shown to the critics; 0: only the current batch
    # the paper's choices among the translation defaults: ResNet-9 (256 px; resnet_6 at 128 px), instance norm,
    # least squares (Mao et al. 2017), no residual-block dropout
    generator: str = "resnet_9"
    norm: str = "instance"
    dropout: bool = False
    loss: str = "lsgan"

    ALIASES: ClassVar[dict[str, str | tuple[str, ...]]] = {
        **TranslationConfig.ALIASES, "lambda_cycle": "cycle_weight", "lambda_identity": "identity_weight",
    }


@MODELS.register("cyclegan")
class CycleGAN(TranslationModel):
    Config = CycleGANConfig
    input_keys = ("a", "b")
    ema_network = None  # two generators; no EMA copy

    def __init__(self, config: CycleGANConfig, info: DataInfo):
        super().__init__(config, info)
        if info.extra.get("task") != "unpaired":
            raise UserError("cyclegan trains on two unpaired domains: use data.name: unpaired_folder")
        channels, height, _ = info.shape
        self.gan = AdversarialTerms(config.loss)
        make_generator = lambda: build_generator(config.generator, channels, height, config.generator_width,  # noqa: E731
                                                 config.norm, config.dropout)
        self.gen_ab, self.gen_ba = make_generator(), make_generator()
        make_discriminator = lambda: build_discriminator(channels, height, config.discriminator_width,  # noqa: E731
                                                         config.discriminator_layers, config.norm)
        self.disc_a, self.disc_b = make_discriminator(), make_discriminator()
        self.pool_a = ImagePool(config.pool_size, tuple(info.shape))  # fakes of domain A, for disc_a
        self.pool_b = ImagePool(config.pool_size, tuple(info.shape))

    @property
    def directions(self) -> tuple[str, ...]:
        return ("AtoB", "BtoA")

    def direction_name(self, direction: str) -> str:
        names = self.info.extra.get("domains", {"a": "A", "b": "B"})
        first, second = (names["a"], names["b"]) if direction == "AtoB" else (names["b"], names["a"])
        return f"{direction} ({first} -> {second})"

    def networks(self) -> dict[str, nn.Module]:
        return {"gen_ab": self.gen_ab, "gen_ba": self.gen_ba, "disc_a": self.disc_a, "disc_b": self.disc_b,
                "pool_a": self.pool_a, "pool_b": self.pool_b, **self.augment_networks()}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        generators = itertools.chain(self.gen_ab.parameters(), self.gen_ba.parameters())
        discriminators = itertools.chain(self.disc_a.parameters(), self.disc_b.parameters())
        return {"generators": torch.optim.Adam(generators, lr=c.lr_g, betas=c.betas),
                "discriminators": torch.optim.Adam(discriminators, lr=c.lr_d, betas=c.betas)}

    def phases(self, stage: str) -> list[Phase]:
        return [Phase("G", ("gen_ab", "gen_ba"), "generators"),
                Phase("D", ("disc_a", "disc_b"), "discriminators", uses_data=False)]  # G's fakes, through the pools

    def loss(self, phase: str, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        if phase == "G":
            return self._generator_loss(batch["a"], batch["b"])
        if phase == "D":
            return self._discriminator_loss(**self.kept())
        raise KeyError(f"cyclegan has no phase '{phase}'")

    def _generator_loss(self, a: Tensor, b: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        c = self.config
        fake_b, fake_a = self.gen_ab(a), self.gen_ba(b)  # (B, C, H, W) each
        gan = (self.gan.generator(self.judge(self.disc_b, fake_b))
               + self.gan.generator(self.judge(self.disc_a, fake_a)))
        cycle = (self.gen_ba(fake_b) - a).abs().mean() + (self.gen_ab(fake_a) - b).abs().mean()
        loss = gan + c.cycle_weight * cycle
        scalars = {"g_gan": gan.detach(), "cycle": cycle.detach()}
        if c.identity_weight > 0:
            identity = (self.gen_ab(b) - b).abs().mean() + (self.gen_ba(a) - a).abs().mean()
            loss = loss + c.identity_weight * c.cycle_weight * identity
            scalars["identity"] = identity.detach()
        self._kept = {"a": a, "b": b, "fake_a": fake_a.detach(), "fake_b": fake_b.detach()}
        return loss, scalars

    def _discriminator_loss(self, a: Tensor, b: Tensor, fake_a: Tensor, fake_b: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        real_b, real_a = self.judge(self.disc_b, b), self.judge(self.disc_a, a)  # (B, 1, P, P) patch logits
        loss_b = self.gan.discriminator(real_b, self.judge(self.disc_b, self.pool_b(fake_b)))
        loss_a = self.gan.discriminator(real_a, self.judge(self.disc_a, self.pool_a(fake_a)))
        scalars = self.augment_scalars(torch.cat([real_a, real_b]))
        return loss_a + loss_b, {"d_a": loss_a.detach(), "d_b": loss_b.detach(), **scalars}

    def _translate(self, images: Tensor, direction: str) -> Tensor:
        return (self.gen_ab if direction == "AtoB" else self.gen_ba)(images)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, condition: Tensor | Batch | None = None) -> Batch:
        """Comparison rows from `condition` ({"a"} and/or {"b"}, first n of each): a | G_ab(a) | G_ba(G_ab(a)), then
        b | G_ba(b) | G_ab(G_ba(b)). `generator` is unused: the translation is deterministic."""
        inputs = self.condition_batch(condition, "a")
        rows: dict[str, list[Tensor]] = {"source": [], "image": [], "reconstruction": []}
        for key, forward, backward in (("a", self.gen_ab, self.gen_ba), ("b", self.gen_ba, self.gen_ab)):
            if key in inputs:
                real = inputs[key][:n].to(self.device)
                fake = forward(real).float().clamp(-1, 1)
                rows["source"].append(real)
                rows["image"].append(fake)
                rows["reconstruction"].append(backward(fake).float().clamp(-1, 1))
        if not rows["source"]:
            raise ValueError("cyclegan samples from inputs: pass condition={'a': images} and/or {'b': images}")
        return {key: torch.cat(parts) for key, parts in rows.items()}
