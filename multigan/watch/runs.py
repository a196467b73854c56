"""Which runs a watched folder holds, and the one gate every file the page reads goes through.

A run is a folder holding both config.yaml and metrics.jsonl (what `multigan train` writes first): the folder
given, or any folder below it down to MAX_DEPTH levels (`runs/<name>/`, a bench's `runs/<name>/`, a folder of
benches). The walk never enters a run (its samples/ and checkpoints/ hold no runs), a hidden folder or a
symbolic link, and a file is only read when its real path lies inside the watched folder (`inside`).
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from multigan.errors import UserError

RUN_FILES = ("config.yaml", "metrics.jsonl")
MAX_DEPTH = 4  # root/benches/<bench>/runs/<run>: deep enough for a folder of benches, shallow enough to poll


@dataclass(frozen=True)
class Run:
    id: str  # the folder relative to the watched root, "/"-separated; "." when the root is the run
    path: Path  # resolved


def inside(root: Path, path: Path) -> Path | None:
    """`path`'s real location when it is an existing regular file inside `root` (resolved), else None: `..`,
    absolute paths and symbolic links that lead out of the folder all end here."""
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, a link loop, a name the file system refuses
        return None
    if not resolved.is_relative_to(root) or not resolved.is_file():
        return None
    return resolved


def requested_file(root: Path, relative: str) -> Path | None:
    """The file a URL names relative to `root`, when `inside` it; absolute paths and NUL bytes are refused as they
    are (the page only ever asks for relative ones)."""
    if "\0" in relative or relative.startswith(("/", "\\")):
        return None
    return inside(root, root / relative)


def is_run(root: Path, folder: Path) -> bool:
    return all(inside(root, folder / name) is not None for name in RUN_FILES)


def find_runs(root: Path) -> list[Run]:
    """Every run folder at or below `root` (resolved), sorted by id."""
    found = []
    for folder, subfolders, _ in os.walk(root):  # never follows a link to a folder
        here = Path(folder)
        depth = len(here.relative_to(root).parts)
        if is_run(root, here):
            found.append(Run(here.relative_to(root).as_posix(), here))
            subfolders.clear()
            continue
        if depth >= MAX_DEPTH:
            subfolders.clear()
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
    return sorted(found, key=lambda run: run.id)


def watched_root(path: str | Path) -> tuple[Path, list[Run]]:
    """The resolved folder and its runs; a missing folder or one without a run is one line saying what it
    looked for."""
    folder = Path(path)
    if not folder.is_dir():
        raise UserError(f"{path}: no such folder; give a run folder (holding config.yaml and metrics.jsonl) "
                        "or a folder of runs such as runs/")
    root = folder.resolve()
    runs = find_runs(root)
    if not runs:
        raise UserError(f"{path}: no run found; looked for a folder holding config.yaml and metrics.jsonl in "
                        f"{path} and its subfolders (down to {MAX_DEPTH} levels)")
    return root, runs


class RunIndex:
    """The runs under `root`, rescanned at most every `rescan_seconds` however many pages ask (thread-safe)."""

    def __init__(self, root: Path, runs: list[Run] | None = None, rescan_seconds: float = 2.0):
        self.root, self.rescan_seconds = root, rescan_seconds
        self._runs = runs if runs is not None else find_runs(root)
        self._scanned = time.monotonic()
        self._lock = threading.Lock()

    def runs(self) -> list[Run]:
        with self._lock:
            if time.monotonic() - self._scanned >= self.rescan_seconds:
                self._runs, self._scanned = find_runs(self.root), time.monotonic()
            return self._runs

    def get(self, run_id: str | None) -> Run | None:
        """The run of that id, else None (ids come from the page: only a listed one opens anything)."""
        return next((run for run in self.runs() if run.id == run_id), None)

    def newest(self) -> Run | None:
        """The run whose metrics.jsonl changed last: the one a page without a choice shows (None: no run left)."""
        def changed(run: Run) -> float:
            try:
                return (run.path / "metrics.jsonl").stat().st_mtime
            except OSError:
                return 0.0

        return max(self.runs(), key=changed, default=None)
