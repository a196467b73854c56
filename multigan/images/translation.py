"""What pix2pix and CycleGAN share on top of the phase contract: `translate`, the LR schedule, the papers' scaling
of the adversarial terms, and the one-generator-forward-per-step rule.

One forward per step: the `G` phase runs first and keeps its inputs and (detached) fakes; the `D` phase, which
needs no new data, scores those same fakes — as Zhu et al.'s code (and PyTorch-GAN's pix2pix) order the updates,
so G is not run twice per step. The kept tensors live only within a step (`on_step` drops them), so
checkpoints, which are written between steps, never need them.
"""
from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import Tensor

from multigan.core.augmentation import AugmentConfig, Augmenter
from multigan.core.losses import get_loss
from multigan.core.phases import Batch, GANModel, Translator
from multigan.errors import UserError
from multigan.images.translation_nets import PatchDiscriminator, ResnetGenerator, UNetGenerator

GAN_LOSSES = ("nonsaturating", "lsgan")


class DirectionError(UserError, ValueError):
    """A translation direction the model does not have."""


class AdversarialTerms:
    """D minimises 1/2 [L(D(x), real) + L(D(G(x)), fake)] and G minimises L(D(G(x)), real), with L the binary cross
    entropy ("nonsaturating", pix2pix) or the squared error ("lsgan", CycleGAN): the papers' code, in which D's
    objective is halved (Isola et al. Sec. 3.3) and G's is not — the scale the L1/cycle weights were tuned against.
    Our registered lsgan pair already carries Mao et al.'s 1/2 on both sides, hence the factors below."""

    def __init__(self, name: str):
        if name not in GAN_LOSSES:
            raise UserError(f"model.loss must be one of {', '.join(GAN_LOSSES)} for translation models, got '{name}'")
        self.pair = get_loss(name)
        self.d_scale, self.g_scale = (1.0, 2.0) if name == "lsgan" else (0.5, 1.0)

    def discriminator(self, real: Tensor, fake: Tensor) -> Tensor:
        return self.d_scale * self.pair.discriminator(real, fake)

    def generator(self, fake: Tensor) -> Tensor:
        return self.g_scale * self.pair.generator(fake)


def build_generator(kind: str, channels: int, resolution: int, width: int, norm: str, dropout: bool) -> torch.nn.Module:
    """unet (levels = log2 of the resolution, e.g. 8 at 256 px) | resnet_9 | resnet_6."""
    if kind == "unet":
        levels = resolution.bit_length() - 1
        if resolution != 2**levels or levels < 5:
            raise UserError(f"model.generator: unet needs a power-of-two resolution >= 32, the data gives {resolution}")
        return UNetGenerator(channels, channels, levels, width, norm, dropout)
    if kind in ("resnet_9", "resnet_6"):
        if resolution % 4:
            raise UserError(f"model.generator: {kind} needs a resolution divisible by 4, the data gives {resolution}")
        return ResnetGenerator(channels, channels, int(kind[-1]), width, norm, dropout)
    raise UserError(f"model.generator must be unet, resnet_9 or resnet_6, got '{kind}'")


def build_discriminator(in_channels: int, resolution: int, width: int, layers: int, norm: str) -> torch.nn.Module:
    """A PatchGAN; its stride-2 layers need at least 4 * 2 ** layers pixels (32 px for the 70x70 one)."""
    smallest = 4 * 2**layers
    if layers < 1 or resolution < smallest:
        raise UserError(f"model.discriminator_layers {layers} needs images of at least {smallest} px and layers >= 1 "
                        f"(the data gives {resolution} px); lower it or raise data.resolution")
    return PatchDiscriminator(in_channels, width, layers, norm)


def linear_decay(optimizers: dict[str, torch.optim.Optimizer], total_steps: int, start_fraction: float) -> dict[str, Any]:
    """Constant LR for the first `start_fraction` of the steps, then linear to zero (the papers: 100 + 100 epochs)."""
    if not 0.0 <= start_fraction <= 1.0:
        raise UserError(f"model.lr_decay_start must be in [0, 1] (a fraction of the steps), got {start_fraction}")
    start = int(round(total_steps * start_fraction))
    span = max(total_steps - start, 1)

    def factor(step: int) -> float:
        return 1.0 - max(0, step - start) / span

    return {name: torch.optim.lr_scheduler.LambdaLR(opt, factor) for name, opt in optimizers.items()}


@dataclass
class TranslationConfig:
    """What every translation model's Config has; pix2pix and CycleGAN change the defaults to their papers'."""

    generator: str = "unet"  # unet | resnet_9 | resnet_6
    generator_width: int = 64  # ngf: channels of the generator's first layer
    discriminator_width: int = 64  # ndf
    discriminator_layers: int = 3  # stride-2 layers of the PatchGAN: 3 gives 70x70 patches
    norm: str = "batch"  # batch | instance | none
    dropout: bool = False  # generator dropout
    loss: str = "nonsaturating"  # nonsaturating (cross entropy) | lsgan
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    lr_decay_start: float = 0.5  # constant LR for this fraction of the steps, then linear to 0 (paper: 100 + 100)
    augment: AugmentConfig = field(default_factory=AugmentConfig)  # what D sees (pix2pix: a pair, one transform)

    # the names of junyanz's options, accepted in recipes and --set; `lr` (both references' one rate) sets both
    ALIASES: ClassVar[dict[str, str | tuple[str, ...]]] = {
        "ngf": "generator_width", "ndf": "discriminator_width", "n_layers_D": "discriminator_layers",
        "lr": ("lr_g", "lr_d"),
    }


class TranslationModel(GANModel, Translator):
    """Base of the image-to-image models. Subclasses set `input_keys` and `directions` (what `translate` accepts)
    and implement `_translate`."""

    modality = "image"

    def __init__(self, config: TranslationConfig, info: Any):
        super().__init__(config, info)
        self._kept: dict[str, Tensor] = {}  # this step's G-phase inputs and fakes, read by the D phase
        self.augmenter = Augmenter(config.augment, self.modality)

    def direction_name(self, direction: str) -> str:
        """'BtoA (labels -> photo)': what a direction means for this run's data."""
        return direction

    def check_direction(self, direction: str | None, asked_by_user: bool = False) -> str:
        """The direction to translate in (default: the first). A user who names one for a one-way model is told
        that it has only one, even when it matches: that direction was fixed by the data at training time."""
        if direction is None:
            return self.directions[0]
        if len(self.directions) == 1 and (asked_by_user or direction != self.directions[0]):
            raise DirectionError(f"this {type(self).__name__} run translates one way only, "
                                 f"{self.direction_name(self.directions[0])}; drop --direction")
        if direction not in self.directions:
            raise DirectionError(f"unknown direction '{direction}'; valid: {', '.join(self.directions)}")
        return direction

    @torch.no_grad()
    def translate(self, images: Tensor, direction: str | None = None) -> Tensor:
        """(N, C, R, R) in [-1, 1] -> (N, C, R, R) in [-1, 1], in the model's current mode (eval for inference)."""
        return self._translate(images.to(self.device), self.check_direction(direction)).float().clamp(-1, 1)

    @abstractmethod
    def _translate(self, images: Tensor, direction: str) -> Tensor:
        """`translate` without its checks: images already on the device."""

    def on_step(self, stage: str, step: int, total: int) -> None:
        self._kept = {}
        if self.augmenter.adjusts_at(step, d_steps=1):
            self.augmenter.adjust()

    def judge(self, discriminator: torch.nn.Module, x: Tensor) -> Tensor:
        """`discriminator`'s patch logits for `x` as it sees it: through the augmentation when one is configured."""
        return discriminator(self.augmenter(x) if self.augmenter.active else x)

    def augment_networks(self) -> dict[str, torch.nn.Module]:
        """{"augment": the augmenter} when ADA's state must be checkpointed, else {} (for `networks()`)."""
        return {"augment": self.augmenter} if self.augmenter.active else {}

    def augment_scalars(self, real_logits: Tensor) -> dict[str, Tensor]:
        """ADA's statistics from D's logits of real inputs, and its p to log."""
        self.augmenter.observe(real_logits)
        return {"ada_p": self.augmenter.p.detach().clone()} if self.augmenter.adaptive else {}

    def kept(self) -> dict[str, Tensor]:
        if not self._kept:
            raise RuntimeError(f"{type(self).__name__}: the D phase scores the fakes of this step's G phase, "
                               "so G must come first in phases()")
        return self._kept

    def lr_schedulers(self, optimizers: dict[str, torch.optim.Optimizer], total_steps: int) -> dict[str, Any]:
        return linear_decay(optimizers, total_steps, self.config.lr_decay_start)

    @staticmethod
    def condition_batch(condition: Tensor | Batch | None, key: str) -> Batch:
        """`sample`'s condition as a Batch: a tensor is the `key` images."""
        if condition is None:
            raise ValueError(f"a translation model samples from inputs: pass condition={{'{key}': images}}")
        return {key: condition} if isinstance(condition, Tensor) else dict(condition)
