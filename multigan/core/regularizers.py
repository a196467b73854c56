"""Discriminator regularisers: WGAN-GP gradient penalty, R1, and spectral normalisation."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn


def gradient_penalty(
    critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, generator: torch.Generator | None = None,
    group: int = 1,
) -> Tensor:
    """WGAN-GP (Gulrajani et al. 2017): E[(||grad_x D(x_hat)||_2 - 1)^2] at x_hat = a x + (1 - a) G(z),
    a ~ U(0, 1) per example. `critic` maps a batch (B, ...) to scores (B,) or (B, 1), or under PacGAN (`group` m)
    to one score per pack of m consecutive examples (B/m,): a is then drawn per pack and the norm taken over the
    pack, which is the penalty of D on its packed input."""
    packs = real.shape[0] // group
    shape = (packs,) + (1,) * (real.dim() - 1)  # (B, 1, 1, 1) for images
    alpha = torch.rand(shape, device=real.device, dtype=real.dtype, generator=generator)
    if group > 1:
        alpha = alpha.repeat_interleave(group, dim=0)  # (B, 1, ...): one a for the m examples of a pack
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return ((grad.reshape(packs, -1).norm(2, dim=1) - 1.0) ** 2).mean()


def r1_penalty(real_logits: Tensor, real: Tensor, group: int = 1) -> Tensor:
    """R1 (Mescheder et al. 2018): E[||grad_x D(x)||^2] on real data; `real` must require grad and
    `real_logits` must come from it. Multiply by gamma / 2 in the loss. Under PacGAN (`group` m) the squared norm
    is per pack of m consecutive examples, D's input."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    return grad.pow(2).reshape(real.shape[0] // group, -1).sum(1).mean()


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018) on every conv, transposed conv, linear and embedding layer."""
    layers = (nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)
    for child in list(module.modules()):
        if isinstance(child, layers):
            nn.utils.parametrizations.spectral_norm(child)
    return module
