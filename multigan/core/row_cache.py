"""Folder datasets decoded once into a file on disk and memory-mapped by every later run.

A folder dataset (images, side-by-side pairs, audio clips) turns each file into one fixed-shape row, e.g. a
(C, R, R) uint8 image at the training resolution. The first run decodes the files in a process pool whose workers
write their rows straight into the cache file, so its peak memory is a few decoded files, not the folder; later runs
(resumed ones and every torchrun rank included) map that file instead of decoding:

    <cache_dir>/rows/<kind>-<key>/rows.bin    the kept rows, (N, *row_shape) in C order, no header
                                  meta.json   key, shape, dtype, crc32 of rows.bin, the kept files' sha256 and facts

The key is a digest of the files' (relative path, size, mtime) listing and of the decode options (resolution,
channels, decoder version ...): a changed folder or option is another key, hence another cache, built anew. Files are
written under temporary names and renamed into place, meta.json last, so a cache exists whole or not at all; on
opening, its size and crc32 are checked (sampled blocks above FULL_CHECK_BYTES, everything with `verify`), and a
damaged one is rebuilt and said. A file lock makes concurrent builders (torchrun ranks, parallel bench runs) build
once: the first to take the lock builds, the others wait and then map it.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from multigan.core.data import DataError, cache_dir
from multigan.core.row_decode import RowResult, decode_into, physical_cores

log = logging.getLogger(__name__)

ROWS_FILE, META_FILE, LOCK_FILE = "rows.bin", "meta.json", ".lock"
FULL_CHECK_BYTES = 256 << 20  # above this, opening checks sampled blocks (`verify` every byte): ~0.3 s at most
SAMPLED_BLOCKS, BLOCK_BYTES = 64, 1 << 16


@dataclass
class FolderCacheOptions:
    """The data.* keys of every folder dataset that decodes its files into a row cache."""

    cache: bool = True  # decode once into $MULTIGAN_CACHE and map it later; false: decode into memory every run
    decode_workers: int = 0  # processes for the first decode; 0: the physical cores
    verify_data: bool = False  # hash every file's bytes against the cache (the key sees path, size and mtime only)

    def cache_fields(self) -> set[str]:
        return {"cache", "decode_workers", "verify_data"}

    def data_check(self) -> str:
        """How this run knows its files are the ones the rows came from: said in the metrics' protocols."""
        if not self.cache:
            return "decoded this run, every file's bytes hashed"
        if self.verify_data:
            return "row cache, every file's bytes hashed again this run (data.verify_data)"
        return "row cache keyed by each file's path, size and mtime; its bytes hashed when the cache was built"


@dataclass
class RowRecipe:
    """How one folder becomes rows: everything besides the files that shapes a row belongs in `options`."""

    kind: str  # names the cache in listings and messages: "image_folder", "paired_folder", "audio_folder" ...
    options: dict[str, Any]  # JSON-able: resolution, channels, skip_bad, decoder version ...
    row_shape: tuple[int, ...]  # e.g. (C, R, R)
    dtype: str  # numpy dtype name of a row
    decode: Callable[[int, Path], RowResult]  # (position in the list, file); picklable: a module-level function
    # or a functools.partial of one
    skip_bad: bool = False  # bad files are dropped and counted; else the first (in file order) stops the run


@dataclass
class Rows:
    """The decoded folder: `array` holds the kept files' rows in file order."""

    array: np.ndarray  # (N_kept, *row_shape): a private (copy-on-write) map of the cache, or in memory uncached
    kept: list[int]  # positions in the file list of the rows
    sha256: list[str]  # content hash of each kept file's bytes
    facts: list[dict]  # per file of the list (kept or not): what decoding did ("mode", "rate", "bad" ...)
    path: Path | None = None  # the cache folder; None when uncached
    built: bool = False  # decoded by this call (else mapped from an earlier one)
    notes: list[str] = field(default_factory=list)


def listing_key(files: list[Path], base: Path) -> str:
    """A digest of every file's (relative path, size, mtime): stat calls only, so it scales to millions of files."""
    digest = hashlib.sha256()
    for path in files:
        try:
            stat = path.stat()
        except OSError as err:
            raise DataError(f"cannot read {path} ({err.strerror or err})") from None
        digest.update(f"{path.relative_to(base)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def cache_folder(root: Path, recipe: RowRecipe, files: list[Path], base: Path) -> Path:
    key = {"kind": recipe.kind, "listing": listing_key(files, base), "options": recipe.options,
           "row_shape": list(recipe.row_shape), "dtype": recipe.dtype, "count": len(files)}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
    return root / "rows" / f"{recipe.kind}-{digest}"


def load_rows(recipe: RowRecipe, files: list[Path], base: Path, cache_root: Path | None, workers: int,
              verify: bool = False) -> Rows:
    """The rows of `files`: mapped from the cache under `cache_root` (built first when missing or damaged), or
    decoded into memory when `cache_root` is None."""
    if cache_root is None:
        array = np.empty((len(files), *recipe.row_shape), dtype=recipe.dtype)
        results = decode_into(recipe.decode, files, array, workers)
        return finish(recipe, files, results, array, None, built=True)
    folder = cache_folder(cache_root, recipe, files, base)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_FILE, "w") as lock:  # ranks and parallel runs: one builds, the others wait here
        fcntl.flock(lock, fcntl.LOCK_EX)
        problem = check_cache(folder, recipe, verify)
        if problem is None:
            rows = open_rows(folder, recipe)
            problem = changed_file(rows, files) if verify else None
            if problem is None:
                return rows
            del rows  # unmapped before the file is replaced
        if problem != "absent":
            log.warning("%s cache %s: %s; rebuilding it", recipe.kind, folder, problem)
        return build(folder, recipe, files, workers)


def build(folder: Path, recipe: RowRecipe, files: list[Path], workers: int) -> Rows:
    """Decode `files` into folder/rows.bin (temp name, then renamed), compact the kept rows, write meta.json."""
    row_bytes = int(np.prod(recipe.row_shape)) * np.dtype(recipe.dtype).itemsize
    need = row_bytes * len(files)
    free = shutil.disk_usage(folder).free
    if need > free:
        raise DataError(f"the {recipe.kind} cache needs {size_text(need)} in {folder.parent}, which has "
                        f"{size_text(free)} free; free space there or set MULTIGAN_CACHE to a larger disk")
    log.info("decoding %d files of %s into its cache %s (%s), %d worker(s): later runs map it",
             len(files), recipe.kind, folder, size_text(need), max(1, workers))
    tmp = folder / f".{ROWS_FILE}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as handle:
            if hasattr(os, "posix_fallocate"):  # a full disk fails here, not half-way (not on macOS: truncate)
                os.posix_fallocate(handle.fileno(), 0, max(1, need))
            else:
                handle.truncate(need)
        array = np.memmap(tmp, dtype=recipe.dtype, mode="r+", shape=(len(files), *recipe.row_shape))
        results = decode_into(recipe.decode, files, array, workers, tmp)
        rows = finish(recipe, files, results, array, folder, built=True)  # compacts in place; raises on bad files
        count = len(rows.kept)
        array.flush()
        del array, rows.array
        with open(tmp, "r+b") as handle:
            handle.truncate(count * row_bytes)
            os.fsync(handle.fileno())
        meta = {"kind": recipe.kind, "options": recipe.options, "row_shape": list(recipe.row_shape),
                "dtype": recipe.dtype, "count": count, "bytes": count * row_bytes, "crc32": crc32_of(tmp),
                "sampled_crc32": sampled_crc(tmp),
                "kept": rows.kept, "sha256": rows.sha256, "facts": rows.facts, "files": len(files)}
        (folder / META_FILE).unlink(missing_ok=True)  # meta.json last: without it the cache does not exist
        os.replace(tmp, folder / ROWS_FILE)
        write_meta(folder, meta)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise DataError(f"cannot write the {recipe.kind} cache in {folder} ({err.strerror or err}; it needs "
                        f"{size_text(need)}): free space there or set MULTIGAN_CACHE") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("%s cache ready: %d rows, %s at %s", recipe.kind, count, size_text(count * row_bytes), folder)
    rows = open_rows(folder, recipe)
    rows.built = True
    return rows


def finish(recipe: RowRecipe, files: list[Path], results: list[RowResult], array: np.ndarray,
           folder: Path | None, built: bool) -> Rows:
    """Stop at the first bad file (unless skip_bad), then move the kept rows together at the front of `array`."""
    kept = [i for i, result in enumerate(results) if result.kept]
    for result in results:
        if result.error and not recipe.skip_bad:
            raise DataError(result.error)
    for row, position in enumerate(kept):
        if row != position:
            array[row] = array[position]
    return Rows(array[: len(kept)], kept, [results[i].sha256 for i in kept], [r.facts for r in results], folder,
                built)


def size_text(count: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


def write_meta(folder: Path, meta: dict) -> None:
    tmp = folder / f".{META_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(meta))
    os.replace(tmp, folder / META_FILE)


def read_meta(folder: Path) -> dict | None:
    try:
        return json.loads((folder / META_FILE).read_text())
    except (OSError, ValueError):
        return None


def check_cache(folder: Path, recipe: RowRecipe, verify: bool) -> str | None:
    """None when folder holds a whole cache for `recipe`; else what is wrong ("absent" when never built)."""
    meta = read_meta(folder)
    rows = folder / ROWS_FILE
    if meta is None:
        return "absent" if not (folder / META_FILE).exists() else "its meta.json is unreadable"
    if meta.get("row_shape") != list(recipe.row_shape) or meta.get("dtype") != recipe.dtype:
        return "it was built for another row shape"
    size = rows.stat().st_size if rows.exists() else -1
    if size != meta.get("bytes"):
        return f"{ROWS_FILE} is {max(size, 0)} bytes, its meta.json says {meta.get('bytes')} (truncated?)"
    full = verify or size <= FULL_CHECK_BYTES
    if (crc32_of(rows) if full else sampled_crc(rows)) != meta.get("crc32" if full else "sampled_crc32"):
        return f"{ROWS_FILE} does not match its checksum (damaged on disk)"
    return None


def sampled_crc(path: Path) -> int:
    """crc32 over SAMPLED_BLOCKS blocks spread over the file: a cheap check for caches too large to read at start."""
    size = path.stat().st_size
    crc = 0
    with open(path, "rb") as handle:
        for i in range(SAMPLED_BLOCKS):
            handle.seek(i * max(0, size - BLOCK_BYTES) // max(1, SAMPLED_BLOCKS - 1))
            crc = zlib.crc32(handle.read(BLOCK_BYTES), crc)
    return crc


def crc32_of(path: Path, chunk: int = 64 << 20) -> int:
    crc = 0
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            crc = zlib.crc32(block, crc)
    return crc


def open_rows(folder: Path, recipe: RowRecipe) -> Rows:
    meta = read_meta(folder)
    assert meta is not None
    shape = (meta["count"], *recipe.row_shape)
    # mode "c": a private map, writable without touching the file, so torch.from_numpy takes it without a warning
    array = np.memmap(folder / ROWS_FILE, dtype=recipe.dtype, mode="c", shape=shape) if meta["count"] else \
        np.empty(shape, dtype=recipe.dtype)
    return Rows(array, meta["kept"], meta["sha256"], meta["facts"], folder, built=False)


def changed_file(rows: Rows, files: list[Path]) -> str | None:
    """--verify-data: every kept file's bytes hashed again against what the cache was built from (a file rewritten
    with its size and modification time kept is invisible to the listing key)."""
    for position, expected in zip(rows.kept, rows.sha256):
        if hashlib.sha256(files[position].read_bytes()).hexdigest() != expected:
            return f"{files[position]} changed since the cache was built (its content, not its size or time)"
    return None


def folder_rows(recipe: RowRecipe, files: list[Path], base: Path, options: FolderCacheOptions) -> Rows:
    """`load_rows` as a folder dataset's data.* keys ask: cached under cache_dir() unless data.cache is false."""
    if options.decode_workers < 0:
        raise DataError(f"data.decode_workers of '{recipe.kind}' must be >= 0 (0: the physical cores), "
                        f"got {options.decode_workers}")
    return load_rows(recipe, files, base, cache_dir() if options.cache else None,
                     options.decode_workers or physical_cores(), options.verify_data)
