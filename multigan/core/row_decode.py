"""Decoding a folder's files into the rows of one array: threads in this process, or a pool of processes whose
workers write their rows straight into the cache file (`row_cache.py`), so no decoded row travels back.

Either way each file is decoded by the same function, so the bytes do not depend on the number of workers.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

CHUNK_FILES = 64  # files per task of the process pool: large enough to amortise a task, small enough to balance


@dataclass
class RowResult:
    """What decoding one file gave: its row, or why it has none."""

    row: np.ndarray | None  # the row, shaped and typed as the array's rows; None: the file is dropped
    sha256: str = ""  # of the file's bytes: content fingerprints of datasets
    facts: dict = field(default_factory=dict)  # what was done to it (source mode, sample rate ...), JSON-able
    error: str | None = None  # one line naming the file, when it cannot be decoded

    @property
    def kept(self) -> bool:
        return self.row is not None


def physical_cores() -> int:
    """Cores, not hardware threads: (physical id, core id) pairs of /proc/cpuinfo, within this process's CPUs."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return available
    pairs, package = set(), ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "physical id":
            package = value.strip()
        elif key.strip() == "core id":
            pairs.add((package, value.strip()))
    return max(1, min(available, len(pairs) or available))


def decode_into(decode: Callable[[int, Path], RowResult], files: list[Path], array: np.ndarray, workers: int,
                backing: Path | None = None) -> list[RowResult]:
    """Decode every file into array[i] (its row) and return the results without their rows. With `backing` (the
    file `array` maps) and more than one worker, a process pool does the work; else threads of this process."""
    workers = max(1, workers)
    if backing is None or workers == 1 or len(files) <= CHUNK_FILES:
        return decode_here(decode, files, array, workers)
    chunks = [list(range(start, min(start + CHUNK_FILES, len(files)))) for start in range(0, len(files), CHUNK_FILES)]
    with ProcessPoolExecutor(workers, mp_context=pool_context(), initializer=one_thread) as pool:
        tasks = [pool.submit(decode_chunk, decode, [files[i] for i in chunk], chunk, backing, array.dtype.str,
                             array.shape) for chunk in chunks]
        return [result for task in tasks for result in task.result()]


def decode_here(decode: Callable[[int, Path], RowResult], files: list[Path], array: np.ndarray,
                workers: int) -> list[RowResult]:
    def one(index: int) -> RowResult:
        return store(decode(index, files[index]), array, index)

    with ThreadPoolExecutor(workers) as pool:  # PIL and soundfile release the GIL while decoding
        return list(pool.map(one, range(len(files))))


def store(result: RowResult, array: np.ndarray, index: int) -> RowResult:
    if result.row is not None:
        array[index] = result.row
        result = replace(result, row=np.empty(0, dtype=array.dtype))  # kept, without holding the pixels
    return result


def pool_context() -> multiprocessing.context.BaseContext:
    """fork where there is one, as torch's DataLoader workers do (one thread each, so torch's forked thread pool is
    never used): spawn would re-run a user's script without a `__main__` guard in every worker."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def one_thread() -> None:
    torch.set_num_threads(1)  # the pool's processes are the parallelism


def decode_chunk(decode: Callable[[int, Path], RowResult], files: list[Path], indices: list[int], backing: Path,
                 dtype: str, shape: tuple[int, ...]) -> list[RowResult]:
    """In a worker: decode `files` into rows `indices` of the mapped file."""
    array = np.memmap(backing, dtype=np.dtype(dtype), mode="r+", shape=shape)
    # no flush: the parent reads the rows through the same page cache and syncs the file once when it is whole
    return [store(decode(index, path), array, index) for path, index in zip(files, indices)]
