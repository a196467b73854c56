"""Where a run stands: its stages and total steps (config.yaml), the last logged step and stage, the recent
seconds per step and what they leave to go (metrics.jsonl), and whether lines still arrive."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from multigan.core.train_config import StageConfig, TrainConfig

RECENT = 5  # train lines whose sec_per_step make the estimate
SILENT_AFTER = 60.0  # seconds beyond three log intervals without a new line: the run is stopped, or evaluating


def read_config(path: Path) -> dict[str, Any]:
    """The run's resolved recipe as plain data ({} when unreadable: the page then shows no total)."""
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}
    return config if isinstance(config, dict) else {}


def _section(config: dict[str, Any], name: str) -> dict[str, Any]:
    section = config.get(name)
    return section if isinstance(section, dict) else {}


def _whole(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def stage_plan(config: dict[str, Any]) -> list[dict[str, Any]]:
    """[{"name", "steps"}] as the trainer runs them: train.stages, else one "adversarial" stage of train.steps."""
    train = _section(config, "train")
    stages = [stage for stage in train.get("stages") or [] if isinstance(stage, dict)]
    if not stages:
        return [{"name": StageConfig().name, "steps": _whole(train.get("steps"), TrainConfig().steps)}]
    default = StageConfig()
    return [{"name": str(stage.get("name", default.name)), "steps": _whole(stage.get("steps"), default.steps)}
            for stage in stages]


def run_summary(config: dict[str, Any]) -> dict[str, Any]:
    """What the run list and the page's header say about a run."""
    model, data = _section(config, "model"), _section(config, "data")
    stages = stage_plan(config)
    return {"model": str(model.get("name", "?")), "data": str(data.get("name", "?")), "stages": stages,
            "total_steps": sum(stage["steps"] for stage in stages),
            "log_every": _whole(_section(config, "train").get("log_every"), TrainConfig().log_every)}


@dataclass
class Progress:
    state: str  # starting (no train line yet) | training | silent (no line for a while) | finished
    step: int
    total_steps: int
    stage: str
    stage_number: int  # 1-based position of `stage` in the plan (0: not in it)
    stage_count: int
    sec_per_step: float | None  # mean of the recent lines' values
    eta_seconds: float | None  # steps left x sec_per_step; evaluations and checkpoints not counted
    silent_seconds: float  # since the last line reached metrics.jsonl

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def recent_speed(train_lines: list[dict[str, Any]]) -> float | None:
    """Mean seconds per step over the last RECENT train lines that carry a finite one."""
    values = [line["sec_per_step"] for line in train_lines[-RECENT:]
              if isinstance(line.get("sec_per_step"), (int, float)) and math.isfinite(line["sec_per_step"])]
    return sum(values) / len(values) if values else None


def progress(summary: dict[str, Any], train_lines: list[dict[str, Any]], silent_seconds: float) -> Progress:
    """The run's progress from its summary (run_summary), its recent train lines and the time since the last."""
    names = [stage["name"] for stage in summary["stages"]]
    total = summary["total_steps"]
    last = train_lines[-1] if train_lines else {}
    step, stage = _whole(last.get("step"), 0), str(last.get("stage", names[0] if names else ""))
    speed = recent_speed(train_lines)
    eta = max(total - step, 0) * speed if speed is not None else None
    interval = (speed or 0.0) * summary["log_every"]  # expected seconds between two lines
    if not train_lines:
        state = "starting"
    elif step >= total:
        state, eta = "finished", 0.0
    elif silent_seconds > 3 * interval + SILENT_AFTER:
        state = "silent"
    else:
        state = "training"
    number = names.index(stage) + 1 if stage in names else 0
    return Progress(state, step, total, stage, number, len(names), speed, eta, round(silent_seconds, 1))
