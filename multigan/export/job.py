"""One export into a folder: batched generation with a progress bar, a resumable staging folder beside the target
that is renamed into place when complete, an optional confidence filter, and a provenance manifest.json.
Modality-agnostic: a modality says only how one batch becomes files (`write_batch`) and what closes the folder
(`finish_export`).

Determinism: batch b draws from its own generator seeded by (seed, b), and what it asks for (labels) depends only
on the counts still missing when it starts, saved after every batch. So an export resumed after batch k writes
the same files, byte for byte, as one that never stopped.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import Tensor
from tqdm import tqdm

from multigan.core.files import OutputExistsError, folder_name, index_width, move_into_place, write_json_atomic
from multigan.core.phases import Batch, DataInfo, GANModel
from multigan.core.sampling import batch_seed
from multigan.export.request import ExportError

STATE = ".export"  # inside the staging folder: state.json and the rows of each finished batch; removed at the end
MAX_GENERATED_FACTOR = 20  # with a confidence filter: give up after generating this many times the requested count


@dataclass(frozen=True)
class ConfidenceFilter:
    """Keeps a sample when `score(samples)` (N,), the probability a classifier gives each sample's own label, is at
    least `threshold`. `identity` (the classifier's weights digest ...) goes into the manifest and the settings."""

    threshold: float
    score: Callable[[Batch], Tensor]
    identity: dict[str, Any]


@dataclass(frozen=True)
class ExportPlan:
    """Everything that decides which files an export holds; `resume` continues only with an equal plan."""

    labels: list[int | None]  # the classes exported, in order; [None] for an unconditional model
    counts: list[int]  # examples wanted per class, aligned with `labels`
    seed: int
    batch_size: int
    format: str  # one of the modality's export_formats
    sampling: dict[str, float] = field(default_factory=dict)  # extra model.sample arguments: truncation, temperature
    ema: bool = False
    checkpoint_sha256: str = ""
    min_confidence: float | None = None
    classifier: dict[str, Any] | None = None

    def settings(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self)))  # the JSON form, as saved and compared


def batch_labels(labels: list[int | None], missing: list[int], size: int) -> list[int | None]:
    """Up to `size` labels, round robin over the classes still missing examples: 0 1 2 0 1 2 0 2 ..."""
    out: list[int | None] = []
    for round_ in range(max(missing, default=0)):
        for label, left in zip(labels, missing):
            if left > round_:
                out.append(label)
                if len(out) == size:
                    return out
    return out


def class_key(info: DataInfo, label: int | None) -> str:
    if label is None:
        return "all"
    return info.class_names[label] if label < len(info.class_names) else f"class_{label}"


class Export:
    """One export into `out`, staged in `.<out>.partial` beside it. Call `run()`; it returns the final folder."""

    def __init__(self, model: GANModel, modality: Any, plan: ExportPlan, out: Path, provenance: dict[str, Any],
                 confidence: ConfidenceFilter | None = None, max_generated: int | None = None,
                 progress: bool = True):
        self.model, self.modality, self.plan, self.out = model, modality, plan, Path(out)
        if self.out.resolve() in (Path.cwd(), *Path.cwd().parents):  # it gets renamed, and replaced by --overwrite
            raise ExportError(f"`out` {out}: name a folder of its own, not the current folder or one above it")
        self.provenance, self.confidence, self.progress = provenance, confidence, progress
        self.staging = self.out.with_name(f".{self.out.name}.partial")
        total = sum(plan.counts)
        self.max_generated = max_generated or (total * MAX_GENERATED_FACTOR if confidence else total)
        self.width = index_width(total)

    def run(self, resume: bool = False, overwrite: bool = False) -> Path:
        state = self._open(resume, overwrite)
        if state is None:
            return self.out  # --resume of an export that had already finished
        bar = tqdm(total=sum(self.plan.counts), initial=state["accepted"], unit="sample", disable=not self.progress,
                   dynamic_ncols=True, mininterval=1.0, desc="export")
        try:
            while any(state["missing"]):
                self._check_budget(state)
                kept = self._generate(state)
                bar.update(kept)
                if self.confidence:
                    bar.set_postfix(dropped=sum(state["dropped"]), refresh=False)
        except OSError as err:
            raise ExportError(f"writing the export failed ({err}); what is done is kept in {self.staging}: free "
                              "the space and rerun with `resume`") from err
        finally:
            bar.close()
        return self._finish(state)

    # --- staging ---------------------------------------------------------------------------------------------
    def _open(self, resume: bool, overwrite: bool) -> dict[str, Any] | None:
        """The state to continue from (a fresh one unless resuming), or None when `out` is already this export."""
        settings = self.plan.settings()
        state_file = self.staging / STATE / "state.json"
        saved = None if overwrite or not self.staging.exists() else _read_json(state_file)
        if saved is not None:
            if not resume:
                raise OutputExistsError(f"an interrupted export to {self.out} is in {self.staging}: pass `resume` "
                                        "to continue it or `overwrite` to start over")
            if saved["settings"] != settings:
                raise ExportError(f"`resume`: the interrupted export in {self.staging} used other settings "
                                  f"({_differences(saved['settings'], settings)}); rerun with those, or "
                                  "`overwrite` to start over")
            for stray in self.staging.rglob(".*.tmp"):  # a file a kill caught half-written (core.files.atomic_path)
                stray.unlink()
            return saved  # (an interrupted --overwrite replaces `out` when it completes, as it would have)
        if self.out.exists() and not (self.out.is_dir() and not any(self.out.iterdir())) and not overwrite:
            if not resume:
                raise OutputExistsError(f"{self.out} already exists; pass `overwrite` to replace it (or `resume` "
                                        "to continue an interrupted export of the same settings)")
            done = _read_json(self.out / "manifest.json")
            if done is None or done.get("settings") != settings:
                raise ExportError(f"`resume`: {self.out} is already a finished export of other settings (or not an "
                                  "export); choose another `out` or pass `overwrite`")
            return None
        shutil.rmtree(self.staging, ignore_errors=True)  # --overwrite, or a start killed before its first batch
        (self.staging / STATE).mkdir(parents=True)
        fresh = {"settings": settings, "batches": 0, "accepted": 0, "generated": 0,
                 "missing": list(self.plan.counts), "dropped": [0] * len(self.plan.counts)}
        write_json_atomic(state_file, fresh)
        return fresh

    def _generate(self, state: dict[str, Any]) -> int:
        """One batch: generate, filter, write, then record it (files first: a batch redone after a kill rewrites
        the same names with the same bytes)."""
        plan, index = self.plan, state["batches"]
        labels = batch_labels(plan.labels, state["missing"], plan.batch_size)
        generator = torch.Generator(self.model.device).manual_seed(batch_seed(plan.seed, index))
        condition = None if labels[0] is None else torch.tensor(labels, device=self.model.device)  # (B,)
        samples = {k: v.cpu() for k, v in self.model.sample(len(labels), generator, condition, **plan.sampling).items()}
        keep = torch.ones(len(labels), dtype=torch.bool)
        if self.confidence is not None:
            keep = self.confidence.score(samples).cpu() >= self.confidence.threshold  # (B,)
        for slot, label in enumerate(plan.labels):
            wanted = torch.tensor([lab == label for lab in labels])
            state["missing"][slot] -= int((wanted & keep).sum())
            state["dropped"][slot] += int((wanted & ~keep).sum())
        kept = {key: value[keep] for key, value in samples.items()}
        rows = self.modality.write_batch(kept, self.staging, self.model.info, state["accepted"], self.width,
                                         plan.format) if int(keep.sum()) else []
        write_json_atomic(self.staging / STATE / f"rows-{index:07d}.json", rows)
        state.update(batches=index + 1, accepted=state["accepted"] + len(rows),
                     generated=state["generated"] + len(labels))
        write_json_atomic(self.staging / STATE / "state.json", state)
        return len(rows)

    def _check_budget(self, state: dict[str, Any]) -> None:
        if state["generated"] < self.max_generated:
            return
        short = ", ".join(f"'{class_key(self.model.info, label)}' {want - left}/{want}"
                          for label, want, left in zip(self.plan.labels, self.plan.counts, state["missing"]) if left)
        raise ExportError(f"`min_confidence` {self.plan.min_confidence}: gave up after generating "
                          f"{state['generated']} samples (`max_generated`); still short: {short}. Lower "
                          "`min_confidence`, or rerun with `resume` and a larger `max_generated`")

    def _finish(self, state: dict[str, Any]) -> Path:
        rows: list[dict[str, Any]] = []
        for index in range(state["batches"]):
            rows += _read_json(self.staging / STATE / f"rows-{index:07d}.json")
        self.modality.finish_export(self.staging, rows, self.model.info, self.plan.format)
        info = self.model.info
        keys = [class_key(info, label) for label in self.plan.labels]
        manifest = {
            **self.provenance,
            "settings": state["settings"],
            "n": state["accepted"],
            "counts": dict(zip(keys, self.plan.counts)),
            "generated": state["generated"],
            "dropped": dict(zip(keys, state["dropped"])) if self.confidence else None,
            "class_names": list(info.class_names),
            "class_folders": {key: folder_name(key) for key in keys} if self.plan.labels[0] is not None else None,
        }
        shutil.rmtree(self.staging / STATE)
        write_json_atomic(self.staging / "manifest.json", manifest)
        move_into_place(self.staging, self.out)
        return self.out


def _read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _differences(saved: dict[str, Any], wanted: dict[str, Any]) -> str:
    keys = [key for key in wanted if saved.get(key) != wanted[key]]
    return "; ".join(f"{key} was {saved.get(key)}, now {wanted[key]}" for key in keys)
