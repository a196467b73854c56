"""One bench run, start to finish, in its own process: train through `api.train`, then measure sampling speed and
peak memory, run its quality/diversity sweep, and write `bench_run.json` into the run folder — last, atomically,
so the file's presence means the run is complete. Any failure writes a `failed` record with the error instead.

The runner starts each run from a fork server that has imported this module (and torch) once, so a run costs no
import time, its peak memory is its own, and a crash (even a segfault) ends only that run.
"""
from __future__ import annotations

import dataclasses
import json
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import torch

from multigan import __version__, api
from multigan.bench.records import (RECORD, TRANSLATIONS_TIMED, Curve, RunCost, RunRecord, RunRequest,
                                    SamplePreview)
from multigan.bench.stability import cost, peak_memory_bytes
from multigan.bench.sweeps import run_sweep
from multigan.core import checkpoint as ckpt
from multigan.core.data import resolve_data_root
from multigan.core.distributed import preserved_rng, select_device
from multigan.core.files import write_json_atomic, write_text_atomic
from multigan.core.phases import Translator
from multigan.core.speed import device_description
from multigan.errors import UserError
from multigan.core.sampling import generate
from multigan.metrics.base import MetricValue
from multigan.metrics.evaluate import Evaluator
from multigan.recipe import from_dict
from multigan.registry import DATASETS, load_plugins

load_plugins()  # once, in the fork server: each run's process starts with every plug-in imported

TRACEBACK = "bench_error.txt"
GALLERY_LINES = 12  # text samples kept in the record for the report's gallery


def software_versions() -> dict[str, str]:
    import matplotlib
    import numpy

    return {"multigan": __version__, "torch": torch.__version__, "numpy": numpy.__version__,
            "matplotlib": matplotlib.__version__, "python": platform.python_version()}


def read_curves(run_dir: Path) -> dict[str, Curve]:
    """metric -> [(step, value), ...] from metrics.jsonl's eval lines; a step logged twice (a resumed run) keeps
    its last value."""
    curves: dict[str, dict[int, float]] = {}
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return {}
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("kind") != "eval":
            continue
        for key, value in record.items():
            if key not in ("step", "kind", "stage"):
                curves.setdefault(key, {})[int(record["step"])] = float(value)
    return {key: [(step, points[step]) for step in sorted(points)] for key, points in curves.items()}


def gallery(run_dir: Path, modality: str) -> SamplePreview | None:
    """The run's last preview: an image grid or spectrogram grid (path), or the first generated sentences."""
    previews = sorted((run_dir / "samples").glob("step-*"))
    previews = [p for p in previews if p.suffix in (".png", ".txt")]
    if not previews:
        return None
    last = previews[-1]
    if last.suffix == ".txt":
        return SamplePreview("text", last.name, last.read_text(encoding="utf-8").splitlines()[:GALLERY_LINES])
    return SamplePreview("spectrograms" if modality == "audio" else "images", last.name)


def sampling_speed(model: Any, n: int, batch_size: int, seed: int) -> tuple[float, int]:
    """(samples per second, samples timed) of `generate` (n samples, batches of `batch_size`), synchronised on CUDA.
    A translation model (pix2pix, CycleGAN) samples from inputs, not noise: it is timed translating
    min(n, TRANSLATIONS_TIMED) inputs."""
    translator = isinstance(model, Translator)
    n = min(n, TRANSLATIONS_TIMED) if translator else n
    start = time.perf_counter()
    with preserved_rng():
        if translator:
            translate_random_inputs(model, n, seed, batch_size)
        else:
            generate(model, n, seed, batch_size)
    if model.device.type == "cuda":
        torch.cuda.synchronize(model.device)
    return n / (time.perf_counter() - start), n


@torch.no_grad()
def translate_random_inputs(model: Translator, n: int, seed: int, batch_size: int) -> None:
    """n translations in the default direction of uniform inputs of the data's shape, in batches of `batch_size`:
    a conv translator's cost does not depend on what its pixels show, so no test images need to be read."""
    generator = torch.Generator(model.device).manual_seed(seed)
    for start in range(0, n, batch_size):
        shape = (min(batch_size, n - start), *model.info.shape)  # (B, C, H, W)
        model.translate(torch.rand(shape, generator=generator, device=model.device) * 2 - 1)


def warm_caches(config: Any, data_root: str | None) -> None:
    """Build the run's metrics once before the clock starts, so one-time work shared by all seeds (training the
    domain classifier, real-data features, all cached on disk) is not billed to whichever seed runs first."""
    if not config.eval.metrics:
        return
    root = resolve_data_root(data_root)
    info = DATASETS.get(config.data_name)(config.data, root, "train").info
    with preserved_rng():
        Evaluator(config.eval, api.eval_context(config, info, root, select_device(config.train.device)))


def execute(request: RunRequest) -> RunRecord:
    """Train and measure one run; returns its record."""
    run_dir = Path(request.run_dir)
    config = from_dict(request.config, source=f"bench run {request.run_id}")
    warm_caches(config, request.data_root)
    start = time.perf_counter()
    api.train(config, request.data_root, out=run_dir, resume=run_dir if request.resume else None,
              overwrite=not request.resume, progress=False)
    wall = time.perf_counter() - start
    config, model, folder = api.load_run(run_dir, device=config.train.device)
    evaluation = json.loads((run_dir / "eval.json").read_text(encoding="utf-8")) if config.eval.metrics else {}
    speed, n = sampling_speed(model, config.eval.n_samples, config.eval.batch_size, config.eval.seed)
    # samples/s of generating after training (the wall time is training's): not n / wall
    measured = dataclasses.replace(cost(wall, None, peak_memory_bytes(model.device), device_description(model.device)),
                                   samples_per_s=speed)
    sweep = None
    if request.sweep:
        option, values = request.sweep
        context = api.eval_context(config, model.info, resolve_data_root(request.data_root), model.device)
        with preserved_rng():
            sweep = run_sweep(model, option, values, config.eval, context)
    return RunRecord(
        "done", step=ckpt.read_meta(folder).get("global_step"),
        metrics={name: MetricValue(**value) for name, value in evaluation.get("metrics", {}).items()},
        curves=read_curves(run_dir),
        cost=RunCost(**dataclasses.asdict(measured), n_timed=n, resumed=request.resume,
                     peak_memory=request.memory_protocol),
        sweep=sweep, gallery=gallery(run_dir, model.info.modality), versions=software_versions())


def failure(err: BaseException) -> RunRecord:
    message = str(err).splitlines()[0] if str(err) else type(err).__name__
    kind = "error" if isinstance(err, UserError) else type(err).__name__
    return RunRecord("failed", error=f"{kind}: {message}")


def run_and_record(request: RunRequest) -> bool:
    """`execute`, then its record (or the failure) into the run folder; True when the run completed."""
    run_dir = Path(request.run_dir)
    try:
        record = execute(request)
    except Exception as err:  # a crashed run is recorded; the bench goes on with the others
        run_dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(run_dir / TRACEBACK, traceback.format_exc())
        record = failure(err)
    record.run_id, record.digest = request.run_id, request.digest
    write_json_atomic(run_dir / RECORD, record.to_json())
    return record.done


def child_main(request: RunRequest) -> None:
    """Entry point in the child process: exit status 0 when the run completed, 1 when it failed."""
    sys.exit(0 if run_and_record(request) else 1)
