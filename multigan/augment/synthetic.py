"""Where a study's synthetic data comes from: the GAN run (named, or trained from its recipe into <out>/gan and
resumed or skipped like any run), one labelled export of it through `api.sample` (the one export path: exact
counts per class, resumable, manifest.json), read back with the dataset loader of the export's layout.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from multigan import api
from multigan.augment.study import StudyConfig, StudyError
from multigan.core import checkpoint as ckpt
from multigan.core.data import Dataset
from multigan.core.phases import ClassConditional, DataInfo
from multigan.errors import UserError
from multigan.export import ExportRequest
from multigan.recipe import RunConfig, from_dict, load_recipe
from multigan.registry import DATASETS, MODELS

log = logging.getLogger(__name__)

# modality -> (dataset that reads its export layout, that dataset's settings for data shaped like `info`)
EXPORT_READERS: dict[str, tuple[str, Callable[[DataInfo], dict[str, Any]]]] = {
    "image": ("image_folder", lambda info: {"resolution": info.shape[-1], "channels": info.shape[0]}),
    "audio": ("audio_folder", lambda info: {"sample_rate": int(info.extra["sample_rate"]), "length": info.shape[-1]}),
}


@dataclass
class GanPlan:
    """The GAN side of a checked study: its resolved recipe, and its run folder (to train when `train`)."""

    config: RunConfig
    run_dir: Path
    train: bool  # trained (or resumed) by the study into <out>/gan


def gan_plan(study: StudyConfig, out: Path) -> GanPlan:
    """The GAN the study names, checked to exist and to be class-conditional; nothing is trained or written."""
    gan = study.gan
    try:
        if gan.run:
            folder = api.resolve_checkpoint(gan.run, gan.checkpoint)
            config = from_dict(ckpt.read_meta(folder)["config"], source=str(folder / ckpt.META_FILE))
            plan = GanPlan(config, Path(gan.run), train=False)
        else:
            plan = GanPlan(load_recipe(gan.recipe, gan.set), out / "gan", train=True)
    except UserError as err:
        key = "gan.run" if gan.run else "gan.recipe"
        raise StudyError(f"{study.source}: {key}: {err}") from None
    # known before anything is built: a ClassConditional model samples by class when its config's switch is on
    if not (issubclass(MODELS.get(plan.config.model_name), ClassConditional) and plan.config.model.conditional):
        raise StudyError(f"{study.source}: the GAN ({plan.config.model_name} from {gan.run or gan.recipe}) is not "
                         "class-conditional; a study needs labelled synthetic data (model.conditional: true)")
    return plan


def total_steps(config: RunConfig) -> int:
    return sum(stage.steps for stage in config.train.stage_list())


def finished_step(run_dir: Path) -> int:
    """The step of the run's latest checkpoint; 0 when it has none."""
    try:
        return int(ckpt.read_meta(ckpt.latest_checkpoint(run_dir)).get("global_step") or 0)
    except ckpt.CheckpointError:
        return 0


def ensure_trained(plan: GanPlan, data_root: str | Path | None, progress: bool) -> float:
    """Train the study's GAN, resume it, or skip it when its last checkpoint is at the final step. Seconds spent."""
    if not plan.train:
        return 0.0
    done, total = finished_step(plan.run_dir), total_steps(plan.config)
    if done >= total:
        saved = ckpt.read_meta(ckpt.latest_checkpoint(plan.run_dir))["config"]
        wanted = json.loads(json.dumps(plan.config.to_dict()))  # as the checkpoint stores it (tuples as lists)
        differ = sorted(s for s in wanted if s != "out" and saved.get(s) != wanted[s])
        if differ:
            raise StudyError(f"{plan.run_dir} holds a GAN trained with other {', '.join(differ)} settings than the "
                             f"study's recipe ({plan.config.source}); remove that folder or choose another `out`")
        log.info("GAN %s already trained (%d steps): skipped", plan.run_dir, done)
        return 0.0
    start = time.perf_counter()
    log.info("training the GAN (%s) into %s%s", plan.config.source, plan.run_dir,
             f", resuming at step {done}" if done else "")
    api.train(plan.config, data_root, out=None if done else plan.run_dir, resume=plan.run_dir if done else None,
              overwrite=not done, progress=progress)
    return time.perf_counter() - start


def export_pool(study: StudyConfig, plan: GanPlan, per_class: int, out: Path, data_root: str | Path | None,
                progress: bool) -> tuple[Path, float]:
    """`per_class` examples of every class, exported once into <out>/synthetic-<digest> (the digest covers the
    request, so a changed one gets a new folder; an interrupted export resumes). The folder and seconds spent."""
    options = study.synthetic
    asked = {"per_class": per_class, "seed": options.seed, "truncation": options.truncation, "ema": options.ema,
             "checkpoint": study.gan.checkpoint, "run": str(plan.run_dir), "batch_size": options.batch_size}
    folder = out / f"synthetic-{hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()[:10]}"
    if (folder / "manifest.json").is_file():
        return folder, 0.0
    start = time.perf_counter()
    log.info("exporting %d synthetic examples per class into %s", per_class, folder)
    request = ExportRequest(per_class=per_class, seed=options.seed, checkpoint=study.gan.checkpoint, ema=options.ema,
                            truncation=options.truncation, batch_size=options.batch_size or None, resume=True)
    api.sample(plan.run_dir, folder, request, data_root, progress)
    return folder, time.perf_counter() - start


def read_pool(folder: Path, info: DataInfo) -> tuple[Dataset, torch.Tensor, dict[str, Any]]:
    """The exported pool as a dataset, the map (C',) from its labels to the real split's, and its manifest."""
    if info.modality not in EXPORT_READERS:
        raise StudyError(f"no downstream classifier for {info.modality} data; studies run on "
                         f"{', '.join(EXPORT_READERS)} GANs")
    name, settings = EXPORT_READERS[info.modality]
    dataset_cls = DATASETS.get(name)
    dataset = dataset_cls(dataset_cls.Config(path=str(folder.resolve()), **settings(info)), folder, "train")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    real_label = {folder_name: info.class_names.index(key) for key, folder_name in manifest["class_folders"].items()}
    label_map = torch.tensor([real_label[name] for name in dataset.info.class_names], dtype=torch.int64)
    return dataset, label_map, manifest
