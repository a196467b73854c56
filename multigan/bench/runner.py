"""Run a planned suite into an output folder: skip runs already complete there, train the rest one at a time (each
in its own process, see worker.py), record crashes and go on, print one progress line per run.

    DIR/suite.json               the suite's name and every run's digest: the folder belongs to one suite
    DIR/runs/<run>-s<seed>/      an `api.train` run folder, plus bench_run.json (complete or failed) when done
"""
from __future__ import annotations

import json
import multiprocessing
import shutil
import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TextIO

from multigan.bench.plan import PlannedRun
from multigan.bench.records import RECORD, RunRecord, RunRequest
from multigan.bench.suite import Suite, SuiteError
from multigan.core import checkpoint as ckpt
from multigan.core.files import write_json_atomic
from multigan.errors import UserError

SUITE_FILE = "suite.json"
RUNS = "runs"


class BenchFolderError(UserError):
    """The output folder holds something other than this suite's runs."""


def read_record(run_dir: Path) -> RunRecord | None:
    path = run_dir / RECORD
    return RunRecord.from_json(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else None


def check_folder(out: Path, suite: Suite, planned: list[PlannedRun]) -> None:
    """BenchFolderError unless `out` is new, empty, or this suite's folder whose finished runs used today's
    settings (a changed run would mix old and new numbers in one table: all such runs are listed at once)."""
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return
    marker = out / SUITE_FILE
    if not marker.is_file():
        raise BenchFolderError(f"{out} is not empty and holds no {SUITE_FILE}: not a bench folder; give a new --out")
    saved = json.loads(marker.read_text(encoding="utf-8"))
    if saved.get("suite") != suite.name:
        raise BenchFolderError(f"{out} holds the runs of suite '{saved.get('suite')}', not '{suite.name}'; give "
                               "another --out")
    stale = []
    for run in planned:
        record = read_record(out / RUNS / run.run_id)
        if record and record.done and record.digest != run.digest():
            stale.append(f"{RUNS}/{run.run_id} finished with other settings than the suite now gives")
    if stale:
        raise SuiteError(f"{out}", stale + ["delete those run folders to train them again, or give another --out"])


def write_marker(out: Path, suite: Suite, planned: list[PlannedRun]) -> None:
    write_json_atomic(out / SUITE_FILE, {"suite": suite.name, "source": suite.source,
                                         "runs": {run.run_id: run.digest() for run in planned}})


def is_complete(run: PlannedRun, run_dir: Path) -> bool:
    record = read_record(run_dir)
    return record is not None and record.done and record.digest == run.digest()


def request_for(run: PlannedRun, run_dir: Path, data_root: str | None, inline: bool) -> RunRequest:
    """What the worker needs. An interrupted run (checkpoints, no record) resumes from its last checkpoint; a failed
    or empty one starts over."""
    record = read_record(run_dir)
    resume = record is None and bool(ckpt.list_checkpoints(run_dir / "checkpoints")) if run_dir.is_dir() else False
    if not resume and run_dir.exists():
        shutil.rmtree(run_dir)
    memory = ("peak resident memory of the bench process (inline runs share it)" if inline
              else "peak resident memory of the run's own process (CUDA: peak allocated)")
    return RunRequest(run.run_id, run.config_dict(), str(run_dir), data_root, resume, run.digest(), run.sweep, memory)


def execute_in_process(request: RunRequest) -> None:
    from multigan.bench.worker import run_and_record

    run_and_record(request)


def execute_isolated(request: RunRequest) -> None:
    """The run in a child of the fork server (torch imported once there); a child that dies without writing its
    record (killed, segfault) gets a failed record here."""
    from multigan.bench.worker import child_main

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["multigan.bench.worker"])
    process = context.Process(target=child_main, args=(request,), name=f"bench-{request.run_id}")
    process.start()
    try:
        process.join()
    except BaseException:  # Ctrl-C, or SIGTERM (see `terminating_cleanly`): the run must not train on, orphaned
        process.terminate()
        process.join()
        raise
    run_dir = Path(request.run_dir)
    if process.exitcode not in (0, 1) or not (run_dir / RECORD).is_file():
        run_dir.mkdir(parents=True, exist_ok=True)
        died = RunRecord("failed", f"the run's process ended with exit code {process.exitcode}",
                         run_id=request.run_id, digest=request.digest)
        write_json_atomic(run_dir / RECORD, died.to_json())


@contextmanager
def terminating_cleanly() -> Iterator[None]:
    """SIGTERM ends the bench as Ctrl-C does (the running run's process is stopped; rerunning resumes), instead of
    killing this process alone and leaving the run training on."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class Progress:
    """One line per run on `stream`: which run, how far through the suite, elapsed and ETA. The ETA adds, for each
    run left, the mean time of the runs of its suite entry trained so far (else of all runs trained so far)."""

    def __init__(self, planned: list[PlannedRun], stream: TextIO = sys.stderr):
        self.planned, self.stream, self.start = planned, stream, time.perf_counter()
        self.durations: dict[str, list[float]] = {}  # suite run name -> seconds per trained seed

    def record(self, run: PlannedRun, seconds: float) -> None:
        self.durations.setdefault(run.spec.name, []).append(seconds)

    def eta(self, done: int) -> str:
        every = [d for times in self.durations.values() for d in times]
        if not every:
            return "?"
        left = [self.durations.get(run.spec.name, every) for run in self.planned[done:]]
        return duration(sum(sum(times) / len(times) for times in left))

    def line(self, index: int, run: PlannedRun, what: str) -> None:
        elapsed = duration(time.perf_counter() - self.start)
        print(f"bench [{index}/{len(self.planned)}] {run.run_id}: {what} (elapsed {elapsed}, ETA {self.eta(index)})",
              file=self.stream, flush=True)


def run_suite(suite: Suite, planned: list[PlannedRun], out: Path, data_root: str | None = None,
              inline: bool = False, stream: TextIO = sys.stderr) -> dict[str, str]:
    """Train every planned run not yet complete in `out`; returns run_id -> "done" | "failed" | "skipped"."""
    out = Path(out)
    check_folder(out, suite, planned)
    (out / RUNS).mkdir(parents=True, exist_ok=True)
    write_marker(out, suite, planned)
    execute: Callable[[RunRequest], None] = execute_in_process if inline else execute_isolated
    with terminating_cleanly():
        return run_planned(planned, out, data_root, inline, execute, Progress(planned, stream))


def run_planned(planned: list[PlannedRun], out: Path, data_root: str | None, inline: bool,
                execute: Callable[[RunRequest], None], progress: Progress) -> dict[str, str]:
    outcome = {}
    for index, run in enumerate(planned, start=1):
        run_dir = out / RUNS / run.run_id
        if is_complete(run, run_dir):
            outcome[run.run_id] = "skipped"
            progress.line(index, run, "already complete, skipped")
            continue
        request = request_for(run, run_dir, data_root, inline)
        steps = run.config.train.steps
        progress.line(index - 1, run, f"{'resuming' if request.resume else 'training'} {steps} steps ...")
        started = time.perf_counter()
        execute(request)
        seconds = time.perf_counter() - started
        progress.record(run, seconds)
        record = read_record(run_dir) or RunRecord("failed", "no record written")
        outcome[run.run_id] = record.status
        what = f"done in {duration(seconds)}" if record.done else f"FAILED ({record.error}; details in {run_dir})"
        progress.line(index, run, what)
    return outcome
