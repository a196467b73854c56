"""What a run reports: a tqdm bar with live losses and ETA, `metrics.jsonl`, and TensorBoard scalars.

Sample previews are written by the modality (PNG grids, WAVs, text) through `RunLogger.writer`.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm


class RunLogger:
    def __init__(self, run_dir: Path, total_steps: int, initial_step: int = 0, enabled: bool = True):
        self.enabled = enabled
        self.writer = SummaryWriter(str(run_dir / "tb")) if enabled else None
        self._jsonl = open(run_dir / "metrics.jsonl", "a", buffering=1) if enabled else None
        self.bar = tqdm(
            total=total_steps,
            initial=initial_step,
            disable=not enabled,
            dynamic_ncols=True,
            file=sys.stderr,
            mininterval=1.0,
            smoothing=0.05,
        )

    def log(self, step: int, values: dict[str, float], kind: str = "train", stage: str = "") -> None:
        """One JSON line and a TensorBoard scalar per value; the bar shows the train losses."""
        if not self.enabled:
            return
        record: dict[str, Any] = {"step": step, "kind": kind}
        if stage:
            record["stage"] = stage
        record.update({k: (v if math.isfinite(v) else str(v)) for k, v in values.items()})
        self._jsonl.write(json.dumps(record) + "\n")
        for key, value in values.items():
            self.writer.add_scalar(f"{kind}/{key}", value, step)
        if kind == "train":
            self.bar.set_postfix({k: f"{v:.3g}" for k, v in values.items()}, refresh=False)

    def advance(self, n: int = 1) -> None:
        self.bar.update(n)

    def set_stage(self, stage: str) -> None:
        self.bar.set_description(stage)

    def message(self, text: str) -> None:
        if self.enabled:
            tqdm.write(text, file=sys.stderr)

    def close(self) -> None:
        if not self.enabled:
            return
        self.bar.close()
        self._jsonl.close()
        self.writer.flush()
        self.writer.close()
