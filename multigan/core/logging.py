"""What a run reports: a tqdm bar with live losses and ETA, `metrics.jsonl`, and TensorBoard scalars.

Sample previews are written by the modality (PNG grids, WAVs, text) through `RunLogger.writer`.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from multigan.errors import UserError


class RunLogger:
    """`progress` shows the bar and messages on the terminal; `write` keeps the files (off only in benchmarks)."""

    def __init__(
        self, run_dir: Path, total_steps: int, initial_step: int = 0, progress: bool = True, write: bool = True
    ):
        self.progress = progress
        self.writer = SummaryWriter(str(run_dir / "tb")) if write else None
        self._jsonl = open(run_dir / "metrics.jsonl", "a", buffering=1) if write else None
        self.bar = tqdm(
            total=total_steps,
            initial=initial_step,
            disable=not progress,
            dynamic_ncols=True,
            file=sys.stderr,
            mininterval=1.0,
            smoothing=0.05,
        )

    def log(self, step: int, values: dict[str, float], kind: str = "train", stage: str = "") -> None:
        """One JSON line and a TensorBoard scalar per value; the bar shows the train losses."""
        if kind == "train":
            self.bar.set_postfix({k: f"{v:.3g}" for k, v in values.items()}, refresh=False)
        if self._jsonl is None:
            return
        record: dict[str, Any] = {"step": step, "kind": kind}
        if stage:
            record["stage"] = stage
        record.update({k: (v if math.isfinite(v) else str(v)) for k, v in values.items()})
        self._jsonl.write(json.dumps(record) + "\n")
        for key, value in values.items():
            self.writer.add_scalar(f"{kind}/{key}", value, step)

    def advance(self, n: int = 1) -> None:
        self.bar.update(n)

    def set_stage(self, stage: str) -> None:
        self.bar.set_description(stage)

    def message(self, text: str) -> None:
        if self.progress:
            tqdm.write(text, file=sys.stderr)

    def close(self) -> None:
        self.bar.close()
        if self._jsonl is None:
            return
        self._jsonl.close()
        self.writer.flush()
        self.writer.close()


class DeviceScalars:
    """Running sums of each phase's loss and logged scalars, kept on the device as one (K,) tensor per phase:
    a step costs two small kernels per phase and no host sync; `means` syncs once, at the log cadence.

    NaN/inf anywhere in a phase's losses stays NaN/inf in its sum, so checking the sums finds it."""

    def __init__(self) -> None:
        self.sums: dict[str, Tensor] = {}  # phase -> (K,) sums; entry 0 is the loss
        self.keys: dict[str, tuple[str, ...]] = {}
        self.counts: dict[str, int] = {}
        self.settled: dict[str, tuple[float, int]] = {}  # key -> (sum, count) folded to the host

    def add(self, phase: str, loss: Tensor, scalars: dict[str, Tensor]) -> None:
        keys = (f"loss_{phase}", *scalars)
        values = torch.stack([loss.detach().float(), *(v.detach().float().reshape(()) for v in scalars.values())])
        if phase in self.sums and self.keys[phase] != keys:  # the phase logs other scalars now: settle the old
            self._settle(phase)
        if phase in self.sums:
            self.sums[phase] += values
            self.counts[phase] += 1
        else:
            self.sums[phase], self.keys[phase], self.counts[phase] = values, keys, 1

    def _settle(self, phase: str) -> None:
        for key, total in zip(self.keys.pop(phase), self.sums.pop(phase).tolist()):
            old_sum, old_count = self.settled.get(key, (0.0, 0))
            self.settled[key] = (old_sum + total, old_count + self.counts[phase])
        del self.counts[phase]

    def nonfinite_phases(self) -> list[str]:
        return [phase for phase, sums in self.sums.items() if not bool(torch.isfinite(sums[0]))] + [
            key.removeprefix("loss_") for key, (total, _) in self.settled.items()
            if key.startswith("loss_") and not math.isfinite(total)
        ]

    def means(self) -> dict[str, float]:
        for phase in list(self.sums):
            self._settle(phase)
        means = {key: total / count for key, (total, count) in self.settled.items()}
        self.settled = {}
        return means

    def __bool__(self) -> bool:
        return bool(self.sums or self.settled)


class NonFiniteLossError(UserError, RuntimeError):
    """A loss became NaN or inf; the run stopped and its last good checkpoint is kept."""

    same_on_every_rank = True  # under torchrun every rank stops at the same check; rank 0 reports it

    @classmethod
    def at(cls, phase: str, checked_step: int, step: int, last_checkpoint: Path | None) -> NonFiniteLossError:
        """The error for `phase`'s loss, found non-finite at `step` (finite up to `checked_step`)."""
        where = f"last good checkpoint: {last_checkpoint}" if last_checkpoint else "no checkpoint was written before it"
        steps = f"step {step}" if step - checked_step <= 1 else f"between steps {checked_step + 1} and {step}"
        return cls(f"the loss of phase '{phase}' became NaN/inf at {steps}; training stopped ({where}); "
                   "lower the learning rates or set train.grad_clip")
