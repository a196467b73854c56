"""What the speed scripts here share: the device's name, a host sync, the trainer's step without files, timing of
several loops interleaved in one process, the FLOPs of one step, and a function run on W gloo processes.

Interleaving (loop A's block, loop B's block, ..., repeated; the median block per loop) is what makes a ratio
between loops trustworthy on a shared machine: a slow spell hits every loop's blocks alike.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Protocol

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from multigan.core.data import BatchLoader
from multigan.core.logging import RunLogger
from multigan.core.phases import GANModel
from multigan.core.speed import device_description as device_name  # noqa: F401  (the scripts import it here)
from multigan.core.train_config import StageConfig, TrainConfig
from multigan.core.trainer import Trainer


class Loop(Protocol):
    def steps(self, n: int) -> None: ...


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class TrainerLoop:
    """The trainer's step as `fit()` runs it, without files: phases, updates, the log-time host sync. `switches` are
    TrainConfig fields (amp, channels_last, compile, fused_adam ...)."""

    def __init__(self, model: GANModel, data, batch_size: int, device: torch.device, stage: str = "adversarial",
                 rank: int = 0, world: int = 1, **switches):
        if switches.get("channels_last"):
            model.to(memory_format=torch.channels_last)  # what api.build_model does for the recipe switch
        config = TrainConfig(batch_size=batch_size, log_every=50, sample_every=0, checkpoint_every=0, steps=10**9,
                             **switches)
        loader = BatchLoader(data, batch_size, seed=0, device=device, rank=rank, world=world)
        self.trainer = Trainer(model, loader, config, Path("."), lambda *a: None, {}, progress=False)
        self.trainer.logger = RunLogger(Path("."), 0, progress=False, write=False)  # what fit() sets; writes nothing
        self.stage, self.phases = StageConfig(stage, 10**9), model.phases(stage)
        torch.backends.cudnn.benchmark = False  # process-wide: the plain loops run with torch's defaults

    def steps(self, n: int) -> None:
        torch.backends.cudnn.benchmark = self.trainer.config.cudnn_benchmark  # what a training process has
        for _ in range(n):
            self.trainer._train_step(self.stage, self.phases)
            if self.trainer.global_step % self.trainer.config.log_every == 0:  # the loop's log-time host sync
                self.trainer.scalars.means()
        torch.backends.cudnn.benchmark = False


def interleaved_seconds(loops: dict[str, Loop], steps: int, blocks: int, warmup: int,
                        device: torch.device) -> dict[str, float]:
    """Median seconds per step of each loop over `blocks` interleaved blocks of `steps` steps, after `warmup`
    untimed steps each (allocator, cuDNN autotuning, oneDNN primitive caches, compilation). A loop that fails in
    its warm-up is reported in one line and left out (e.g. a compiler bug in one switch combination)."""
    for name, loop in list(loops.items()):
        try:
            loop.steps(warmup)
        except Exception as err:  # noqa: BLE001  (a benchmark reports and goes on)
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            print(f"  {name}: failed in warm-up, left out: {type(err).__name__}: {first[:300]}")
            del loops[name]
    sync(device)
    timings: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(blocks):
        for name, loop in loops.items():
            start = time.perf_counter()
            loop.steps(steps)
            sync(device)
            timings[name].append((time.perf_counter() - start) / steps)
    return {name: statistics.median(v) for name, v in timings.items()}


class _FlopCount(TorchDispatchMode):
    """Sums torch's registered FLOP formulas (matrix products, convolutions, attention; forward and backward) over
    every op dispatched inside. FlopCounterMode itself tracks modules with backward hooks, which autograd.grad
    (WGAN-GP's penalty) refuses; counting at the dispatcher needs no hooks."""

    def __init__(self):
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.total += formula(*args, **kwargs, out_val=out)  # the registry's wrapper reads the shapes
        return out


def step_flops(loop: Loop) -> float:
    """Floating-point operations of one step, counted at the dispatcher: the numerator of MFU."""
    counter = _FlopCount()
    with counter:
        loop.steps(1)
    return float(counter.total)


def reference_files(repository: Path, paths: list[str], work: Path) -> None:
    """`paths` (files or folders) of another project, from a checkout or a bare git mirror, copied under `work` in
    the same layout: its files are never in this repository."""
    work.mkdir(parents=True, exist_ok=True)
    if (repository / "HEAD").is_file() and (repository / "objects").is_dir():  # a bare mirror: no work tree
        archive = subprocess.run(["git", f"--git-dir={repository}", "archive", "HEAD", *paths], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(work)], input=archive, check=True)
        return
    for path in paths:
        target = work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if (repository / path).is_dir():
            shutil.copytree(repository / path, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(repository / path, target)


def line_intervals(command: list[str], cwd: Path, threads: int, pattern: bytes, count: int) -> list[float]:
    """Seconds between consecutive progress lines (matching `pattern`) of another project's unmodified training
    script, read as they are printed; the script is stopped after `count` intervals."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "PYTHONUNBUFFERED": "1"}  # their progress lines must arrive when printed
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    marker, stamps, buffer = re.compile(pattern), [], b""
    try:
        while len(stamps) < count + 1:
            chunk = process.stdout.read1(4096)
            if not chunk:
                raise RuntimeError(f"{' '.join(command[:2])} stopped after {len(stamps)} iterations")
            buffer += chunk
            found = list(marker.finditer(buffer))
            stamps += [time.perf_counter()] * len(found)
            buffer = buffer[found[-1].end():] if found else buffer
    finally:
        process.kill()
        process.wait()
    return [b - a for a, b in zip(stamps, stamps[1:])]


def recipe_step_seconds(recipe: str, overrides: list[str], data_root: Path, threads: int, iterations: int,
                        warmup: int) -> list[float]:
    """Seconds of each of multigan's training steps for a recipe (+ overrides) on its real data, on the CPU, the
    trainer's step as `fit()` runs it, no files written: the "ours" side of a side-by-side."""
    from multigan import api
    from multigan.recipe import load_recipe

    torch.set_num_threads(threads)
    config = load_recipe(recipe, [*overrides, "eval.metrics=[]"])
    dataset = api.DATASETS.get(config.data_name)(config.data, data_root, "train")
    model = api.build_model(config, dataset.info, torch.device("cpu"))
    loader = BatchLoader(dataset, config.train.batch_size, 0)
    with tempfile.TemporaryDirectory() as scratch:
        trainer = Trainer(model, loader, config.train, Path(scratch), lambda *a: None, {}, progress=False)
        trainer.logger = RunLogger(Path(scratch), 0, progress=False, write=False)
        stage, phases = trainer.stages[0], model.phases(trainer.stages[0].name)
        times = []
        for _ in range(warmup + iterations):
            start = time.perf_counter()
            trainer._train_step(stage, phases)
            times.append(time.perf_counter() - start)
    return times[warmup:]


def on_gloo(world: int, fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(rank, world, *args)` in `world` spawned CPU processes joined by gloo on a free localhost port, one
    intra-op thread each; rank 0's return value. `fn` must be importable (a module-level function)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    queue = mp.get_context("spawn").SimpleQueue()
    mp.spawn(_gloo_worker, args=(world, port, fn, args, queue), nprocs=world)
    return queue.get()


def _gloo_worker(rank: int, world: int, port: int, fn: Callable[..., Any], args: tuple, out) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        result = fn(rank, world, *args)
        dist.barrier()
        if rank == 0:
            out.put(result)
    finally:
        dist.destroy_process_group()
