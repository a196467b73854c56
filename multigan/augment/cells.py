"""The grid of a study: one cell per (training set, seed), each finished cell one JSON file written atomically, so
an interrupted study resumes by skipping the cells whose file exists with the same settings.

    real       the real train split at label budget b: round(b x n_c) examples of each class c
    mixed      the same real rows (same b, same seed) + round(r x real rows of c) synthetic examples of class c
    synthetic  synthetic only (the Classification Accuracy Score, Ravuri & Vinyals 2019), split like the train split
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from multigan.augment.downstream import Examples, Part, draw, train_and_score
from multigan.augment.study import StudyConfig, StudyError
from multigan.core.data import Dataset
from multigan.core.files import write_json_atomic

log = logging.getLogger(__name__)

KINDS = ("real", "mixed", "synthetic")


@dataclass(frozen=True)
class Cell:
    kind: str  # one of KINDS
    seed: int
    budget: float | None = None  # real and mixed
    ratio: float | None = None  # mixed

    @property
    def name(self) -> str:
        """A file name: real-b0.01-s0, mixed-b0.01-r2-s0, synthetic-s0."""
        parts = [self.kind] + ([f"b{self.budget:g}"] if self.budget is not None else [])
        parts += [f"r{self.ratio:g}"] if self.ratio is not None else []
        return "-".join(parts + [f"s{self.seed}"])


def grid(study: StudyConfig) -> list[Cell]:
    """Budgets from small to large, real then each ratio, every seed; synthetic-only last."""
    cells = []
    for budget in sorted(study.budgets):
        for seed in range(study.seeds):
            cells.append(Cell("real", seed, budget))
            cells += [Cell("mixed", seed, budget, ratio) for ratio in study.synthetic.ratios]
    return cells + [Cell("synthetic", seed) for seed in range(study.seeds)]


def derived_seed(*parts: Any) -> int:
    """A 63-bit seed from the cell's identity: its subsets differ per seed, and are shared where they should be
    (a mixed cell's real rows are its real cell's)."""
    digest = hashlib.sha256(json.dumps(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def budget_counts(class_sizes: list[int], budget: float) -> list[int]:
    return [round(budget * size) for size in class_sizes]


def check_budgets(study: StudyConfig, class_sizes: list[int], class_names: list[str]) -> None:
    """Every budget must leave every class at least one real example."""
    for budget in study.budgets:
        for name, size, count in zip(class_names, class_sizes, budget_counts(class_sizes, budget)):
            if count < 1:
                raise StudyError(f"{study.source}: budgets: {budget:g} leaves class '{name}' with no examples "
                                 f"(round({budget:g} x {size} train examples) = 0); use budgets of at least "
                                 f"{0.5 / size:.2g} for this dataset")


def synthetic_counts(study: StudyConfig, cell: Cell, class_sizes: list[int]) -> list[int]:
    """Synthetic examples per class in `cell`."""
    if cell.kind == "real":
        return [0] * len(class_sizes)
    if cell.kind == "mixed":
        return [round(cell.ratio * count) for count in budget_counts(class_sizes, cell.budget)]
    size = study.synthetic.only_size or sum(class_sizes)  # the train split's size, split like its classes
    return [round(size * n / sum(class_sizes)) for n in class_sizes]


def pool_size(study: StudyConfig, class_sizes: list[int]) -> int:
    """Examples per class the one export must hold: the most any cell uses."""
    return max(max(synthetic_counts(study, cell, class_sizes)) for cell in grid(study) if cell.kind != "real")


@dataclass
class StudyData:
    """What every cell draws from: real rows by class, the synthetic pool by class, the real test split."""

    real: Dataset
    real_groups: list[torch.Tensor]
    pool: Dataset
    pool_groups: list[torch.Tensor]  # rows of each *real* label in the pool
    pool_label_map: torch.Tensor
    test: Dataset
    key: str  # digest of everything that decides a cell's result besides the cell itself


def training_set(study: StudyConfig, cell: Cell, data: StudyData) -> Examples:
    sizes = [len(group) for group in data.real_groups]
    parts = []
    if cell.kind != "synthetic":
        real_rows = draw(data.real_groups, budget_counts(sizes, cell.budget), derived_seed("real", cell.seed,
                                                                                          cell.budget))
        parts.append(Part(data.real, real_rows))
    if cell.kind != "real":
        rows = draw(data.pool_groups, synthetic_counts(study, cell, sizes),
                    derived_seed("synthetic", cell.seed, cell.budget, cell.ratio))
        parts.append(Part(data.pool, rows, data.pool_label_map))
    return Examples(parts, data.real.info)


def run_cell(study: StudyConfig, cell: Cell, data: StudyData, device: torch.device) -> dict[str, Any]:
    train = training_set(study, cell, data)
    start = time.perf_counter()
    score = train_and_score(train, data.test, study.classifier, derived_seed("init", cell.seed) % 2**31, device)
    n_real = sum(len(part.index) for part in train.parts if part.label_map is None)
    return {**asdict(cell), "cell": cell.name, "accuracy": score, "n_real": n_real, "n_synthetic": len(train) - n_real,
            "n_test": len(data.test), "steps": study.classifier.steps, "seconds": round(time.perf_counter() - start, 2),
            "key": data.key}


def load_cell(path: Path, key: str) -> dict[str, Any] | None:
    """A finished cell's record, or None when absent, unreadable or made with other settings (then redone)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("key") != key:
        log.info("%s was made with other settings: it is run again", path.name)
        return None
    return record


def run_grid(study: StudyConfig, data: StudyData, folder: Path, device: torch.device) -> list[dict[str, Any]]:
    """Every cell's record, running only those without a finished file in `folder`."""
    cells, records = grid(study), []
    for number, cell in enumerate(cells, 1):
        path = folder / f"{cell.name}.json"
        record = load_cell(path, data.key)
        if record is None:
            record = run_cell(study, cell, data, device)
            write_json_atomic(path, record)
            log.info("cell %d/%d %s: accuracy %.4f (%d real + %d synthetic, %.0f s)", number, len(cells), cell.name,
                     record["accuracy"], record["n_real"], record["n_synthetic"], record["seconds"])
        records.append(record)
    return records


def summarise(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per training set (kind, budget, ratio): accuracies over seeds, mean and sample std (ddof 1)."""
    rows: dict[tuple, dict[str, Any]] = {}
    for record in records:
        key = (record["kind"], record["budget"], record["ratio"])
        row = rows.setdefault(key, {"kind": key[0], "budget": key[1], "ratio": key[2], "n_real": record["n_real"],
                                    "n_synthetic": record["n_synthetic"], "seeds": [], "accuracies": []})
        row["seeds"].append(record["seed"])
        row["accuracies"].append(record["accuracy"])
    for row in rows.values():
        values = np.array(row["accuracies"])
        row["mean"] = float(values.mean())
        row["std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return list(rows.values())
