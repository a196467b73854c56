"""One optimiser update of one phase, the same on 1 or N processes: (loss-scaled) backward, the gradients' mean
over ranks, unscale, clip, step. No host sync (except GradScaler's inf check with a non-fused optimiser)."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from multigan.core.distributed import average_gradients, check_same_gradients
from multigan.core.phases import Phase
from multigan.core.speed import grad_scalers


class Updater:
    def __init__(self, networks: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer], amp: str,
                 grad_clip: float, device: torch.device):
        self.networks, self.optimizers, self.grad_clip = networks, optimizers, grad_clip
        self.scalers = grad_scalers(amp, device, list(optimizers))  # fp16 only
        self._params: dict[str, list[Tensor]] = {}  # phase name -> the parameters it trains
        self._checked: set[str] = set()

    def params(self, phase: Phase) -> list[Tensor]:
        if phase.name not in self._params:
            self._params[phase.name] = [p for name in phase.trains for p in self.networks[name].parameters()]
        return self._params[phase.name]

    def step(self, phase: Phase, loss: Tensor) -> dict[str, Tensor]:
        """Backward of `loss` and the phase's optimiser step; returns extra scalars to log (the grad norm)."""
        optimizer = self.optimizers[phase.optimizer]
        scaler = self.scalers.get(phase.optimizer)
        (scaler.scale(loss) if scaler is not None else loss).backward()
        params = self.params(phase)
        if phase.name not in self._checked:  # one host sync per phase, at its first update
            check_same_gradients(params, phase.name)
            self._checked.add(phase.name)
        average_gradients(params)  # before unscaling: every rank then sees the same inf/NaN and skips alike
        scalars = {}
        if self.grad_clip > 0:
            if scaler is not None:
                scaler.unscale_(optimizer)
            scalars[f"grad_norm_{phase.name}"] = nn.utils.clip_grad_norm_(params, self.grad_clip)
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        return scalars

    def state_dict(self) -> dict[str, dict]:
        return {name: scaler.state_dict() for name, scaler in self.scalers.items()}

    def load_state_dict(self, state: dict[str, dict]) -> None:
        for name, scaler in self.scalers.items():
            if name in state:
                scaler.load_state_dict(state[name])
