"""Differentiable augmentation of what the discriminator sees: DiffAugment (Zhao et al. 2020) and adaptive
discriminator augmentation (ADA, Karras et al. 2020), an option of every adversarial model.

The same random transform family T is applied to real and generated batches in D's loss and to generated ones in
G's loss, so D never sees an unaugmented image and nothing of T leaks into G's samples; T is differentiable, so
G's gradients pass through it. Parameters are drawn per sample from the global (training) RNG on the device, which
checkpoints restore: resume stays bit-exact.

Policies are registered by the modality (images: colour, translation, cutout and ADA's `bgc` pipeline) as
`AugmentPolicy(modality, apply)` with `apply(x, p) -> x`: x (B, ...) on the device, p a 0-d tensor, the
probability with which each of the policy's transforms is applied to a sample (DiffAugment policies always apply:
they ignore p). ADA moves p with the discriminator's overfitting heuristic r_t = E[sign(D(x_real))]:

    every `interval` D updates:  p <- clamp(p + sign(r_t - target) * (batch * interval) / (kimg * 1000), 0, 1)

p, the running sum of sign(D(real)) and its count are buffers of `Augmenter`, a network of the model, so every
checkpoint carries them (stylegan2-ada-pytorch's resume starts p again at 0: its issue #81).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import Tensor, nn

from multigan.core.distributed import sum_over_ranks
from multigan.errors import UserError
from multigan.registry import AUGMENT_POLICIES


@dataclass(frozen=True)
class AugmentPolicy:
    modality: str  # the modality whose samples it transforms
    apply: Callable[[Tensor, Tensor], Tensor]  # (x (B, ...), p 0-d) -> x transformed, differentiably
    adaptive: bool = False  # True: each transform fires with probability p (ADA); False: always (DiffAugment)


@dataclass
class AdaConfig:
    enabled: bool = False
    target: float = 0.6  # r_t above this: D overfits, raise p; below: lower it
    interval: int = 4  # D updates between adjustments of p
    kimg: float = 500.0  # p can move from 0 to 1 within this many thousand real images
    pipeline: str = "bgc"  # the adaptive policy: blit (flips, 90-degree turns, integer shifts), geometric, colour
    initial_p: float = 0.0


@dataclass
class AugmentConfig:
    """`model.augment`: DiffAugment's fixed `policy` (comma-separated, e.g. "color,translation,cutout") and/or
    ADA's adaptive pipeline."""

    policy: str = ""
    ada: AdaConfig = field(default_factory=AdaConfig)


class AugmentConfigError(UserError, ValueError):
    """An augmentation setting that does not fit the model or its data."""


def resolve_policies(config: AugmentConfig, modality: str) -> list[AugmentPolicy]:
    """The named policies (the fixed ones first, then ADA's pipeline), each checked against the data's modality
    and against its place: DiffAugment's in `policy`, an adaptive one in `ada.pipeline`."""
    named = [(name.strip(), False) for name in config.policy.split(",") if name.strip()]
    if config.ada.enabled:
        named.append((config.ada.pipeline, True))
    policies = []
    for name, adaptive in named:
        policy = AUGMENT_POLICIES.get(name)  # an unknown name: the closest one and the list
        if policy.modality != modality:
            raise AugmentConfigError(f"model.augment: policy '{name}' transforms {policy.modality} samples, "
                                     f"this model trains on {modality} data")
        if policy.adaptive != adaptive:
            where = "model.augment.ada.pipeline" if policy.adaptive else "model.augment.policy"
            raise AugmentConfigError(f"model.augment: '{name}' belongs in {where}")
        policies.append(policy)
    return policies


class Augmenter(nn.Module):
    """The transforms D's inputs go through, and ADA's state. Identity when no policy is configured."""

    def __init__(self, config: AugmentConfig, modality: str):
        super().__init__()
        ada = config.ada
        if ada.enabled and not (0 < ada.target < 1 and ada.interval >= 1 and ada.kimg > 0
                                and 0 <= ada.initial_p <= 1):
            raise AugmentConfigError("model.augment.ada needs 0 < target < 1, interval >= 1, kimg > 0 and "
                                     f"0 <= initial_p <= 1; got {ada}")
        self.config = config
        self.policies = resolve_policies(config, modality)
        self.register_buffer("p", torch.tensor(float(ada.initial_p if ada.enabled else 0.0)))
        self.register_buffer("sign_sum", torch.tensor(0.0))  # sum of sign(D(real)) since the last adjustment
        self.register_buffer("sign_count", torch.tensor(0.0))  # how many real logits that sum holds
        self.register_buffer("images_seen", torch.tensor(0.0))  # real images since then (a patch D gives many logits)

    @property
    def active(self) -> bool:
        return bool(self.policies)

    @property
    def adaptive(self) -> bool:
        return self.config.ada.enabled

    def forward(self, x: Tensor) -> Tensor:
        for policy in self.policies:
            x = policy.apply(x, self.p)
        return x

    def observe(self, real_logits: Tensor, images: int | None = None) -> None:
        """Accumulate sign(D(real)) for ADA's heuristic, on the device (no host sync). `images`: the real examples
        behind the logits when they are not one per row (PacGAN's packs); default real_logits.shape[0]."""
        if self.adaptive:
            self.sign_sum += real_logits.detach().float().sign().sum()
            self.sign_count += real_logits.numel()
            self.images_seen += real_logits.shape[0] if images is None else images

    def adjust(self) -> None:
        """One ADA step of p from the signs seen since the last one (call every `interval` D updates)."""
        if not self.adaptive:
            return
        ada = self.config.ada
        # under torchrun every rank saw its own shard: the heuristic is over the global batch, so p stays one value
        sum_over_ranks([self.sign_sum, self.sign_count, self.images_seen])
        r_t = self.sign_sum / self.sign_count.clamp(min=1)
        # p moves by the images seen, batch * interval, over kimg thousand: 0 -> 1 in at least kimg * 1000 images
        step = torch.sign(r_t - ada.target) * self.images_seen / (ada.kimg * 1000)
        self.p.copy_((self.p + step).clamp(0, 1))
        for buffer in (self.sign_sum, self.sign_count, self.images_seen):
            buffer.zero_()

    def adjusts_at(self, step: int, d_steps: int) -> bool:
        """Whether ADA adjusts p before training step `step` of a stage with `d_steps` D updates per step: once
        every `interval` D updates, counted from the stage's start (so a resumed run adjusts where it would have)."""
        interval = self.config.ada.interval
        return self.adaptive and step > 0 and (step * d_steps) // interval > ((step - 1) * d_steps) // interval
