"""Adversarial losses as functions of discriminator logits (pre-sigmoid scores).

Each loss is a pair (discriminator_loss, generator_loss), registered by name so recipes choose one with
`model.loss: hinge`. Every function returns a scalar mean over the batch. Conventions:
    real, fake: (B,) or (B, 1) logits of real and generated examples.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch.nn.functional as F
from torch import Tensor

from multigan.registry import Registry


@dataclass(frozen=True)
class AdversarialLoss:
    discriminator: Callable[..., Tensor]  # (real, fake, real_label=1.0) -> loss
    generator: Callable[..., Tensor]  # (fake, real=None) -> loss
    smoothable: bool  # whether one-sided label smoothing (real_label < 1) means anything for this loss


LOSSES: Registry[AdversarialLoss] = Registry("loss")


def _bce_real(real: Tensor, real_label: float) -> Tensor:
    # -[t log s(x) + (1 - t) log(1 - s(x))] = t softplus(-x) + (1 - t) softplus(x); t = 1 is the plain form
    return real_label * F.softplus(-real) + (1.0 - real_label) * F.softplus(real)


def bce_discriminator(real: Tensor, fake: Tensor, real_label: float = 1.0) -> Tensor:
    # D: maximise log D(x) + log(1 - D(G(z)))
    return _bce_real(real, real_label).mean() + F.softplus(fake).mean()


def nonsaturating_generator(fake: Tensor, real: Tensor | None = None) -> Tensor:
    # G: maximise log D(G(z))  (Goodfellow et al. 2014, sec. 3: stronger gradients early in training)
    return F.softplus(-fake).mean()


def minimax_generator(fake: Tensor, real: Tensor | None = None) -> Tensor:
    # G: minimise log(1 - D(G(z))) = -softplus(fake)
    return -F.softplus(fake).mean()


def hinge_discriminator(real: Tensor, fake: Tensor, real_label: float = 1.0) -> Tensor:
    # D: E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]  (Lim & Ye 2017; SN-GAN, BigGAN)
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def critic_generator(fake: Tensor, real: Tensor | None = None) -> Tensor:
    # G: maximise the critic's score of generated samples (hinge and Wasserstein G losses)
    return -fake.mean()


def wasserstein_discriminator(real: Tensor, fake: Tensor, real_label: float = 1.0) -> Tensor:
    # critic: maximise E[D(x)] - E[D(G(z))]  (Arjovsky et al. 2017; pair with a gradient penalty)
    return fake.mean() - real.mean()


def lsgan_discriminator(real: Tensor, fake: Tensor, real_label: float = 1.0) -> Tensor:
    # D: 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2] with a = 0, b = real_label  (Mao et al. 2017)
    return 0.5 * ((real - real_label) ** 2).mean() + 0.5 * (fake**2).mean()


def lsgan_generator(fake: Tensor, real: Tensor | None = None) -> Tensor:
    # G: 1/2 E[(D(G(z)) - c)^2] with c = 1
    return 0.5 * ((fake - 1.0) ** 2).mean()


def relativistic_discriminator(real: Tensor, fake: Tensor, real_label: float = 1.0) -> Tensor:
    # RSGAN (Jolicoeur-Martineau 2018; RelGAN): D: maximise log sigmoid(D(x) - D(G(z))), paired examples
    return _bce_real(real - fake, real_label).mean()


def relativistic_generator(fake: Tensor, real: Tensor | None = None) -> Tensor:
    # G: maximise log sigmoid(D(G(z)) - D(x)); needs the real logits of the same batch
    if real is None:
        raise ValueError("the relativistic generator loss needs the real logits")
    return F.softplus(-(fake - real)).mean()


LOSSES.register("nonsaturating")(AdversarialLoss(bce_discriminator, nonsaturating_generator, smoothable=True))
LOSSES.register("minimax")(AdversarialLoss(bce_discriminator, minimax_generator, smoothable=True))
LOSSES.register("hinge")(AdversarialLoss(hinge_discriminator, critic_generator, smoothable=False))
LOSSES.register("wasserstein")(AdversarialLoss(wasserstein_discriminator, critic_generator, smoothable=False))
LOSSES.register("lsgan")(AdversarialLoss(lsgan_discriminator, lsgan_generator, smoothable=True))
LOSSES.register("relativistic")(AdversarialLoss(relativistic_discriminator, relativistic_generator, smoothable=True))


def get_loss(name: str, real_label: float = 1.0) -> AdversarialLoss:
    """The named loss; one-sided label smoothing (real_label < 1) only where the loss has a target."""
    loss = LOSSES.get(name)
    if real_label != 1.0 and not loss.smoothable:
        raise ValueError(f"label smoothing (real_label={real_label}) has no meaning for the '{name}' loss")
    return loss
