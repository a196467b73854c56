"""Exponential moving average of a network's weights (Karras et al. 2018; Yazici et al. 2019)."""
from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Iterator

import torch
from torch import Tensor, nn


class EMA:
    """shadow <- decay * shadow + (1 - decay) * weight for floating parameters and buffers; other buffers (e.g.
    BatchNorm's step counter) are copied. `swapped(module)` puts the average into the module for sampling."""

    def __init__(self, module: nn.Module, decay: float, start: int = 0, rampup: float = 0.0, batch: int = 1):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay, self.start, self.rampup, self.batch = decay, start, rampup, batch
        self.shadow: dict[str, Tensor] = {k: v.detach().clone() for k, v in module.state_dict().items()}

    def decay_at(self, step: int) -> float:
        """`decay`, or with `rampup` StyleGAN2-ADA's ramp-up: the average's half-life in images is at most `rampup`
        times the images seen before this step, so a short run's average is not its first weights."""
        ramped = self.rampup * step * self.batch  # images
        if not self.rampup or ramped >= self.batch / math.log2(1.0 / self.decay):  # past the configured half-life
            return self.decay
        return 0.5 ** (self.batch / max(ramped, 1e-8))

    def step(self, module: nn.Module, step: int) -> None:
        """After training step `step` (0-based): before train.ema_start the average just follows the weights."""
        if step < self.start:
            self.shadow = {k: v.detach().clone() for k, v in module.state_dict().items()}
        else:
            self.update(module, self.decay_at(step))

    @torch.no_grad()
    def update(self, module: nn.Module, decay: float | None = None) -> None:
        floats, shadows, others = [], [], []
        for name, value in module.state_dict().items():
            if value.is_floating_point():
                floats.append(value)
                shadows.append(self.shadow[name])
            else:
                others.append((name, value))
        weight = 1.0 - (self.decay if decay is None else decay)
        torch._foreach_lerp_(shadows, floats, weight)  # shadow += (1 - decay) (value - shadow)
        for name, value in others:
            self.shadow[name].copy_(value)

    @contextmanager
    def swapped(self, module: nn.Module) -> Iterator[nn.Module]:
        backup = {k: v.detach().clone() for k, v in module.state_dict().items()}
        module.load_state_dict(self.shadow)
        try:
            yield module
        finally:
            module.load_state_dict(backup)

    def state_dict(self) -> dict[str, Tensor]:
        return dict(self.shadow)

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        missing = set(self.shadow) ^ set(state)
        if missing:
            raise KeyError(f"EMA state does not match the network: {sorted(missing)[:5]}")
        for name, value in state.items():
            self.shadow[name].copy_(value)
