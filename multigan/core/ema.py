"""Exponential moving average of a network's weights (Karras et al. 2018; Yazici et al. 2019)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import Tensor, nn


class EMA:
    """shadow <- decay * shadow + (1 - decay) * weight for floating parameters and buffers; other buffers (e.g.
    BatchNorm's step counter) are copied. `swapped(module)` puts the average into the module for sampling."""

    def __init__(self, module: nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.shadow: dict[str, Tensor] = {k: v.detach().clone() for k, v in module.state_dict().items()}

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        floats, shadows, others = [], [], []
        for name, value in module.state_dict().items():
            if value.is_floating_point():
                floats.append(value)
                shadows.append(self.shadow[name])
            else:
                others.append((name, value))
        torch._foreach_lerp_(shadows, floats, 1.0 - self.decay)  # shadow += (1 - decay) (value - shadow)
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
