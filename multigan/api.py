"""The Python API behind the CLI: the run lifecycle (train, load, sample, translate, evaluate). The applications
(augment/, bench/) stand on it; it imports none of them (pyproject.toml's import-linter contract)."""
from __future__ import annotations

import dataclasses
import os
import re
import shutil
from pathlib import Path
from typing import Any

import torch

from multigan import __version__
from multigan.core import checkpoint as ckpt
from multigan.core.data import BatchLoader, cache_dir, resolve_data_root, training_subset
from multigan.core.distributed import (
    LaunchError, is_main_process, on_main, preserved_rng, process_group, rank, rank_seed, seed_everything,
    select_device, world_size,
)
from multigan.core.files import file_sha256, write_json_atomic, write_text_atomic
from multigan.core.phases import Batch, DataInfo, FitsData, FolderTranslatingModality, GANModel, Translator
from multigan.core.previews import PreviewWriter
from multigan.core.sampling import generate
from multigan.core.speed import check_amp, check_compile_mode, check_compiler, configure_threads, resolve_amp
from multigan.core.sync_batchnorm import convert_sync_batchnorm
from multigan.core.train_config import TrainConfig
from multigan.core.trainer import Trainer
from multigan.errors import UserError
from multigan.export import ConfidenceFilter, Export, ExportPlan, ExportRequest
from multigan.export.request import DEFAULT_COUNT, export_format, plan_counts, sampling_arguments
from multigan.metrics.base import EvalContext
from multigan.metrics.evaluate import Evaluator
from multigan.recipe import RunConfig, dump_yaml, from_dict
from multigan.registry import DATASETS, MODALITIES, MODELS


class RunFolderError(UserError):
    """The output folder exists, or a run folder is not one."""


def run_folder(config: RunConfig, out: str | Path | None, overwrite: bool) -> Path:
    run_dir = Path(out) if out else Path(config.out.root) / config.out.name
    if run_dir.exists() and any(run_dir.iterdir()):
        if not overwrite:
            raise RunFolderError(
                f"{run_dir} already exists; pass `resume` {run_dir} to continue it or `overwrite` to start over"
            )
        shutil.rmtree(run_dir)
    return run_dir


def build_model(config: RunConfig, info: DataInfo, device: torch.device) -> GANModel:
    model = MODELS.get(config.model_name)(config.model, info).to(device)
    if config.train.channels_last:
        model.to(memory_format=torch.channels_last)
    return model


def eval_context(config: RunConfig, info: DataInfo, data_root: Path, device: torch.device) -> EvalContext:
    return EvalContext(info, config.data_name, config.data, data_root, cache_dir(data_root), device)


def train(config: RunConfig, data_root: str | Path | None = None, out: str | Path | None = None,
          resume: str | Path | None = None, overwrite: bool = False, progress: bool = True) -> Path:
    """Train `config` into a new run folder, or continue the run in `resume` from its latest checkpoint.
    Under torchrun every process calls this; they join one process group and rank 0 writes the run folder."""
    device = select_device(config.train.device)
    check_launch(config.train, device)
    if config.train.compile:
        check_compiler(device)
    with process_group(device):
        configure_threads(config.train.threads, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
        trainer = _trainer(config, data_root, out, resume, overwrite, progress, device)
        trainer.fit()
        return trainer.run_dir


def prepare_training(config: RunConfig, data_root: str | Path | None = None, out: str | Path | None = None,
                     resume: str | Path | None = None, overwrite: bool = False) -> Trainer:
    """The Trainer `train` would run (same run folder, weights, data order and RNG), not started: for an app that
    paces training itself (the interactive lab): `start()`, then `step()` or `run_phase(name)`, then `finish()`."""
    device = select_device(config.train.device)
    check_launch(config.train, device)
    if world_size() > 1:
        raise LaunchError("an app that steps a run itself trains in one process; launch it without torchrun")
    configure_threads(config.train.threads, 1)
    return _trainer(config, data_root, out, resume, overwrite, False, device)


def check_launch(train: TrainConfig, device: torch.device) -> None:
    """Settings that must fit the launch, checked on every rank before any process group exists or any file is
    written."""
    world, batch_size = world_size(), train.batch_size
    if batch_size < 1 or batch_size % world:
        raise LaunchError(f"train.batch_size is the global batch, split evenly across the {world} processes of "
                          f"this launch: {batch_size} does not divide by {world}; use a multiple of {world}")
    check_amp(train.amp, device)
    check_compile_mode(train.compile_mode)


def _trainer(config: RunConfig, data_root: str | Path | None, out: str | Path | None, resume: str | Path | None,
             overwrite: bool, progress: bool, device: torch.device) -> Trainer:
    amp = resolve_amp(config.train.amp, device)  # `auto` decided here, so config.yaml says what ran
    config = dataclasses.replace(config, train=dataclasses.replace(config.train, amp=amp))
    if resume:
        run_dir, checkpoint = Path(resume), ckpt.latest_checkpoint(Path(resume), set_aside=True)
        saved = ckpt.read_meta(checkpoint)["model"]
        if saved != config.model_name:
            raise ckpt.CheckpointError(
                f"{checkpoint}: checkpoint of model '{saved}', but the recipe trains '{config.model_name}'"
            )
    else:
        run_dir, checkpoint = on_main(lambda: run_folder(config, out, overwrite)), None
    seed_everything(config.train.seed)  # every rank builds the same initial weights
    root = resolve_data_root(data_root)
    dataset = DATASETS.get(config.data_name)(config.data, root, "train")
    model = build_model(config, dataset.info, device)
    if checkpoint is None and isinstance(model, FitsData):  # a new run: its train split's statistics
        model.fit_data(dataset)
    if world_size() > 1 and config.train.sync_batchnorm:
        convert_sync_batchnorm(model)
    model.check_batch_size(config.train.batch_size, world_size())  # before anything is written (PacGAN's packs)
    subset = training_subset(dataset, config.train.data_fraction)
    loader = BatchLoader(dataset, config.train.batch_size, config.train.seed, device, rank(), world_size(), subset)
    if rank() > 0:  # then each rank draws its own noise; rank 0 keeps the stream of a 1-process run
        seed_everything(rank_seed(config.train.seed, rank()))
    modality = MODALITIES.get(dataset.info.modality)
    if is_main_process():
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "samples").mkdir(exist_ok=True)
        write_text_atomic(run_dir / "config.yaml", dump_yaml(config))

    save_preview = PreviewWriter(modality, model, dataset, run_dir / "samples", config.train.preview_samples)
    evaluator = None
    if config.eval.metrics:  # on every rank: they share the generation, rank 0 scores (metrics/evaluate.py)
        with preserved_rng():  # loading or training feature networks must not move the training RNG
            evaluator = Evaluator(config.eval, eval_context(config, dataset.info, root, device))
    meta = {"model": config.model_name, "data": config.data_name, "config": config.to_dict(),
            "info": dataclasses.asdict(dataset.info), "multigan_version": __version__}
    trainer = Trainer(
        model, loader, config.train, run_dir, save_preview, meta, evaluator, config.eval.every, config.eval.best, progress
    )
    if checkpoint is not None:
        trainer.restore(checkpoint)
    return trainer


def resolve_checkpoint(run: str | Path, which: str = "latest") -> Path:
    """`which`: "latest" (the newest intact one), "best", "step-N" or a checkpoint folder name inside the run."""
    run_dir = Path(run)
    if (run_dir / ckpt.META_FILE).is_file():  # a checkpoint folder itself; named ones are checked, never replaced
        return ckpt.check_intact(run_dir)
    if not run_dir.is_dir():
        raise RunFolderError(f"{run_dir}: no such run folder")
    if which == "latest":
        return ckpt.latest_checkpoint(run_dir)
    step = re.fullmatch(r"step-(\d+)", which)
    folder = ckpt.step_folder(run_dir / "checkpoints", int(step.group(1))) if step else run_dir / "checkpoints" / which
    if not (folder / ckpt.META_FILE).is_file():
        found = sorted(p.name for p in (run_dir / "checkpoints").glob("*") if (p / ckpt.META_FILE).is_file())
        raise ckpt.CheckpointError(f"{folder}: no such checkpoint; {run_dir} has: {', '.join(found) or 'none'}")
    return ckpt.check_intact(folder)


def load_weights(model: GANModel, folder: Path, ema: bool | None = None) -> bool:
    """Load a checkpoint's weights into `model`: the EMA copy where there is one (ema None), always (True: an
    error when there is none) or never (False). Returns whether the EMA copy was loaded."""
    networks = ckpt.load_networks(folder)
    has_ema = any(name.startswith("ema:") for name in networks)
    if ema and not has_ema:
        raise ckpt.CheckpointError(f"{folder}: no EMA weights (the run trained with train.ema: 0); drop `ema`")
    use_ema = has_ema if ema is None else ema
    for name, net in model.networks().items():
        net.load_state_dict(networks.get(f"ema:{name}", networks[name]) if use_ema else networks[name])
    return use_ema


def load_run(run: str | Path, which: str = "latest", device: str = "auto",
             ema: bool | None = None) -> tuple[RunConfig, GANModel, Path]:
    """The run's config and its model with the checkpoint's weights (the EMA copy where there is one, unless
    `ema` says otherwise), in eval mode. Needs no data: the data info travels in the checkpoint."""
    folder = resolve_checkpoint(run, which)
    config, model, _ = load_checkpoint(folder, device, ema)
    return config, model, folder


def load_checkpoint(folder: Path, device: str = "auto", ema: bool | None = None) -> tuple[RunConfig, GANModel, bool]:
    """A checkpoint folder's config, its model in eval mode, and whether the EMA weights were loaded."""
    meta = ckpt.read_meta(folder)
    config = from_dict(meta["config"], source=str(folder / ckpt.META_FILE))
    info = DataInfo(**{**meta["info"], "shape": tuple(meta["info"]["shape"])})
    model = build_model(config, info, select_device(device))
    used_ema = load_weights(model, folder, ema)
    model.eval()
    return config, model, used_ema


def sample(run: str | Path, out: str | Path, request: ExportRequest = ExportRequest(),
           data_root: str | Path | None = None, progress: bool = False, *,
           confidence: ConfidenceFilter | None = None) -> Path:
    """Samples from a run as `request` asks: one preview file (`request.grid`) at `out`, or a labelled export into
    the folder `out` (multigan/export/: exact counts per class, resumable, optionally filtered by the domain
    classifier, with manifest.json). `confidence` replaces the domain classifier that `request.min_confidence`
    would build from the run's dataset under `data_root` (tests)."""
    request.check()
    folder = resolve_checkpoint(run, request.checkpoint)
    config, model, used_ema = load_checkpoint(folder, ema=request.ema)
    if isinstance(model, Translator):
        raise UserError(f"{run}: a {config.model_name} run translates images: translate `input` DIR (the images to "
                        "translate) into `out` DIR")
    modality = MODALITIES.get(model.info.modality)
    sampling = sampling_arguments(model, request)
    out = Path(out)
    if request.grid:
        samples = generate(model, request.n or DEFAULT_COUNT, request.seed, config.eval.batch_size, **sampling)
        return modality.save_samples(samples, out if out.suffix else out.with_suffix(modality.preview_suffix),
                                     model.info)
    filtered = request.min_confidence is not None or confidence is not None
    labels, counts = plan_counts(model, request, filtered)
    fmt = export_format(modality, request.format)
    if request.min_confidence is not None and confidence is None:
        confidence = confidence_filter(config, model, request.min_confidence, data_root)
    record = provenance(run, config, model, folder)
    plan = ExportPlan(labels, counts, request.seed, request.batch_size or config.eval.batch_size, fmt, sampling,
                      used_ema, record["checkpoint_sha256"], confidence and confidence.threshold,
                      confidence and confidence.identity)
    job = Export(model, modality, plan, out, record, confidence, request.max_generated, progress)
    return job.run(resume=request.resume, overwrite=request.overwrite)


def provenance(run: str | Path, config: RunConfig, model: GANModel, folder: Path) -> dict[str, Any]:
    """Where an export's samples come from: the run, its recipe, the checkpoint's digest and step, versions."""
    meta = ckpt.read_meta(folder)
    record = {"model": config.model_name, "data": config.data_name, "run": str(run), "checkpoint": str(folder),
              "checkpoint_sha256": file_sha256(folder / ckpt.NETWORKS_FILE), "step": meta.get("global_step"),
              "recipe": meta["config"], "multigan_version": __version__, "torch_version": torch.__version__}
    if "sample_rate" in model.info.extra:
        record["sample_rate"] = model.info.extra["sample_rate"]  # what every exported WAV declares
    return record


def confidence_filter(config: RunConfig, model: GANModel, threshold: float,
                      data_root: str | Path | None) -> ConfidenceFilter:
    """The run's domain classifier (trained on its dataset's labels, cached; the one the metrics use) as a filter
    that keeps samples it gives their requested class with probability >= `threshold`."""
    from multigan.metrics.classifier import ClassifierExtractor

    root = resolve_data_root(data_root)
    with preserved_rng():
        extractor = ClassifierExtractor.from_context(config.eval, eval_context(config, model.info, root, model.device))

    def score(samples: Batch) -> torch.Tensor:
        prepared = extractor.input.prepare(samples[extractor.input.key].to(extractor.device))
        _, logits = extractor.features_and_logits(prepared)  # (N, classes)
        labels = samples["label"].to(logits.device)
        return torch.softmax(logits.float(), dim=1).gather(1, labels[:, None])[:, 0]  # (N,) p(requested class)

    return ConfidenceFilter(threshold, score, extractor.identity())


def translate(run: str | Path, input_dir: str | Path, out: str | Path, direction: str | None = None,
              which: str = "latest") -> dict[str, Any]:
    """Translate every image in `input_dir` with a translation run (pix2pix, CycleGAN) into `out`."""
    config, model, folder = load_run(run, which)
    modality = MODALITIES.get(model.info.modality)
    if not (isinstance(model, Translator) and isinstance(modality, FolderTranslatingModality)):
        raise UserError(f"{run}: a {config.model_name} run generates rather than translates; `input` is for "
                        "translation runs (pix2pix, cyclegan)")
    manifest = {"model": config.model_name, "data": config.data_name, "checkpoint": str(folder),
                "checkpoint_sha256": file_sha256(folder / ckpt.NETWORKS_FILE),
                "step": ckpt.read_meta(folder).get("global_step")}
    return modality.translate_folder(model, Path(input_dir), Path(out), direction, manifest)


def evaluate(run: str | Path, overrides: dict[str, Any] | None = None, data_root: str | Path | None = None,
             which: str = "latest", out: str | Path | None = None) -> dict[str, Any]:
    """Score a run's checkpoint with its recipe's `eval:` metrics (fields replaced by `overrides`); writes
    eval.json (values with their protocols) into the run folder, or to `out`."""
    config, model, folder = load_run(run, which)
    eval_config = dataclasses.replace(config.eval, **(overrides or {}))
    if not eval_config.metrics:
        raise UserError(f"{run}: no metrics to compute; pass `metrics` (e.g. fid,kid,is for images)")
    root = resolve_data_root(data_root)
    evaluator = Evaluator(eval_config, eval_context(config, model.info, root, model.device))
    results = evaluator(model)
    record = {
        "step": ckpt.read_meta(folder).get("global_step"),
        "checkpoint": str(folder),
        "checkpoint_sha256": file_sha256(folder / ckpt.NETWORKS_FILE),
        "metrics": {name: value.to_json() for name, value in results.items()},
    }
    target = Path(out) if out else Path(run) / "eval.json"
    if not target.parent.is_dir():
        target = folder / "eval.json"  # `run` was a checkpoint folder given directly
    write_json_atomic(target, record)
    record["path"] = str(target)
    return record

