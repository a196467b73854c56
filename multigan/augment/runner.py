"""`multigan augment-eval STUDY`: check everything, train (or find) the GAN, export its synthetic pool once, run
the grid of cells (skipping finished ones), write the report. A study interrupted anywhere resumes on rerun: the
GAN from its last checkpoint, the export from its last batch, the grid from its last finished cell.

    <out>/gan/                   the GAN run (when the study trains it from its recipe)
    <out>/synthetic-<digest>/    the exported pool: <class>/<index>.png|wav + manifest.json
    <out>/cells/<cell>.json      one finished cell each
    <out>/stages.json            seconds spent training the GAN and exporting (kept across resumes)
    <out>/results.{json,md}, plot.png
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

from multigan.augment import cells as grid_cells
from multigan.augment.downstream import labels_of, rows_by_class
from multigan.augment.report import write_report
from multigan.augment.study import StudyConfig, StudyError
from multigan.augment.synthetic import EXPORT_READERS, GanPlan, ensure_trained, export_pool, gan_plan, read_pool
from multigan.core.data import Dataset, resolve_data_root
from multigan.core.distributed import select_device
from multigan.core.files import write_json_atomic
from multigan.core.speed import device_description
from multigan.registry import CLASSIFIER_NETWORKS, DATASETS

log = logging.getLogger(__name__)


def default_out(study: StudyConfig) -> Path:
    return Path("runs") / "augment" / study.name


def load_real(study: StudyConfig, plan: GanPlan, data_root: str | Path | None, split: str) -> Dataset:
    """A split of the GAN recipe's own dataset (its `data:` section)."""
    dataset = DATASETS.get(plan.config.data_name)(plan.config.data, resolve_data_root(data_root), split)
    if dataset.info.modality not in EXPORT_READERS or dataset.info.modality not in CLASSIFIER_NETWORKS:
        raise StudyError(f"{study.source}: no downstream classifier for {dataset.info.modality} data; studies run "
                         f"on {', '.join(EXPORT_READERS)} GANs")
    return dataset


def check_study(study: StudyConfig, out: Path, data_root: str | Path | None) -> tuple[GanPlan, Dataset]:
    """Everything that can be wrong, before anything is trained or written: the GAN source, the modality, and
    that every budget leaves each class an example. Returns the GAN plan and the real train split."""
    plan = gan_plan(study, out)
    real = load_real(study, plan, data_root, "train")
    sizes = [len(group) for group in rows_by_class(labels_of(real), real.info.num_classes)]
    grid_cells.check_budgets(study, sizes, real.info.class_names or [str(c) for c in range(len(sizes))])
    try:
        select_device(study.device)
    except ValueError as err:
        raise StudyError(f"{study.source}: device: {err}") from None
    return plan, real


def stage_seconds(out: Path, **spent: float) -> dict[str, float]:
    """Seconds per stage, accumulated across the invocations that actually ran it."""
    path = out / "stages.json"
    saved = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"gan": 0.0, "export": 0.0}
    for stage, seconds in spent.items():
        saved[stage] = round(saved.get(stage, 0.0) + seconds, 2)
    write_json_atomic(path, saved)
    return saved


def study_key(study: StudyConfig, manifest: dict[str, Any], real: Dataset) -> str:
    """What decides every cell's result besides the cell itself: the downstream settings, the synthetic pool (its
    export settings and checkpoint digest) and the real data's fingerprint."""
    parts = {"classifier": dataclasses.asdict(study.classifier), "synthetic": manifest["settings"],
             "only_size": study.synthetic.only_size, "real": real.fingerprint,
             "network": CLASSIFIER_NETWORKS.get(real.info.modality).arch_version}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def run_study(study: StudyConfig, out: str | Path | None = None, data_root: str | Path | None = None,
              progress: bool = True) -> dict[str, Any]:
    """Run (or resume) `study`; returns the summary written to <out>/results.json, with the report paths."""
    out = Path(out) if out else default_out(study)
    plan, real = check_study(study, out, data_root)
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    gan_seconds = ensure_trained(plan, data_root, progress)
    real_groups = rows_by_class(labels_of(real), real.info.num_classes)
    per_class = grid_cells.pool_size(study, [len(group) for group in real_groups])
    folder, export_seconds = export_pool(study, plan, per_class, out, data_root, progress)
    seconds = stage_seconds(out, gan=gan_seconds, export=export_seconds)
    pool, label_map, manifest = read_pool(folder, real.info)
    data = grid_cells.StudyData(real, real_groups, pool,
                                rows_by_class(label_map[labels_of(pool)], real.info.num_classes), label_map,
                                load_real(study, plan, data_root, "test"), study_key(study, manifest, real))
    records = grid_cells.run_grid(study, data, out / "cells", select_device(study.device))
    checkpoint = Path(manifest["checkpoint"])
    cell_seconds = sum(record["seconds"] for record in records)
    summary = {
        "study": study.name, "source": study.source, "n_test": len(data.test), "steps": study.classifier.steps,
        "budgets": sorted(study.budgets), "ratios": list(study.synthetic.ratios), "seeds": study.seeds,
        "gan": {"run": str(plan.run_dir), "checkpoint": str(checkpoint), "step": manifest["step"],
                "checkpoint_sha256": manifest["checkpoint_sha256"], "model": manifest["model"],
                "data": manifest["data"]},
        "synthetic": {"folder": str(folder), "per_class": per_class, "settings": manifest["settings"]},
        "device": device_description(select_device(study.device)),
        "seconds": {"gan": seconds["gan"], "export": seconds["export"], "cells": round(cell_seconds, 1),
                    "total": round(seconds["gan"] + seconds["export"] + cell_seconds, 1),
                    "this_invocation": round(time.perf_counter() - started, 1)},
        "rows": grid_cells.summarise(records), "cells": records, "config": dataclasses.asdict(study),
    }
    summary["paths"] = {name: str(path) for name, path in write_report(summary, out).items()}
    log.info("study %s: %d cells; report in %s", study.name, len(records), out)
    return summary
