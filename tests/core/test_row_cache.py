"""The row cache: built once and mapped after, serial and pooled decodes alike, damaged or stale caches rebuilt and
said, a full disk one line with nothing left behind, concurrent builders building once."""
import collections
import errno
import functools
import hashlib
import logging
import multiprocessing
import os
from pathlib import Path

import numpy as np
import pytest

from multigan.core import row_cache
from multigan.core.data import DataError
from multigan.core.row_cache import ROWS_FILE, RowRecipe, load_rows
from multigan.core.row_decode import CHUNK_FILES, RowResult


Usage = collections.namedtuple("Usage", "total used free")


def number_row(position: int, path: Path, width: int) -> RowResult:
    """A file holding an integer -> a row of `width` copies of it; 'bad' files have none."""
    raw = path.read_bytes()
    if raw.startswith(b"bad"):
        return RowResult(None, facts={"bad": "says bad"}, error=f"{path}: says bad")
    value = int(raw)
    return RowResult(np.full(width, value, dtype=np.int32) + np.arange(width, dtype=np.int32),
                     hashlib.sha256(raw).hexdigest(), {"value": value})


def recipe(skip_bad: bool = False, width: int = 5) -> RowRecipe:
    return RowRecipe("numbers", {"width": width}, (width,), "int32",
                     functools.partial(number_row, width=width), skip_bad)


def folder_of(tmp_path: Path, count: int, bad: tuple[int, ...] = ()) -> list[Path]:
    folder = tmp_path / "files"
    folder.mkdir(exist_ok=True)
    files = []
    for i in range(count):
        path = folder / f"{i:04d}.txt"
        path.write_text("bad" if i in bad else str(i * 7))
        files.append(path)
    return files


def expected(files: list[Path], width: int = 5) -> np.ndarray:
    return np.stack([number_row(i, p, width).row for i, p in enumerate(files) if not p.read_text().startswith("bad")])


def test_built_once_then_mapped_with_the_same_rows(tmp_path):
    files = folder_of(tmp_path, 20)
    first = load_rows(recipe(), files, files[0].parent, tmp_path / "cache", workers=1)
    second = load_rows(recipe(), files, files[0].parent, tmp_path / "cache", workers=1)
    assert first.built and not second.built
    assert isinstance(second.array, np.memmap)
    np.testing.assert_array_equal(first.array, expected(files))
    np.testing.assert_array_equal(second.array, expected(files))
    assert second.kept == list(range(20)) and second.facts[3] == {"value": 21}


def test_uncached_rows_equal_cached_ones(tmp_path):
    files = folder_of(tmp_path, 9)
    uncached = load_rows(recipe(), files, files[0].parent, None, workers=2)
    cached = load_rows(recipe(), files, files[0].parent, tmp_path / "cache", workers=2)
    assert uncached.path is None and not isinstance(uncached.array, np.memmap)
    np.testing.assert_array_equal(uncached.array, cached.array)


def test_process_pool_and_serial_decode_give_the_same_bytes(tmp_path):
    files = folder_of(tmp_path, 2 * CHUNK_FILES + 9, bad=(5, CHUNK_FILES + 3))  # three chunks: the pool runs
    serial = load_rows(recipe(skip_bad=True), files, files[0].parent, tmp_path / "serial", workers=1)
    pooled = load_rows(recipe(skip_bad=True), files, files[0].parent, tmp_path / "pooled", workers=2)
    assert pooled.built and (pooled.path / ROWS_FILE).read_bytes() == (serial.path / ROWS_FILE).read_bytes()
    assert pooled.kept == serial.kept and 5 not in pooled.kept and len(pooled.kept) == len(files) - 2
    np.testing.assert_array_equal(pooled.array, expected(files))
    assert pooled.facts[5] == {"bad": "says bad"}


def test_a_bad_file_stops_with_its_line_and_leaves_no_cache(tmp_path):
    files = folder_of(tmp_path, 10, bad=(4, 7))
    with pytest.raises(DataError, match=r"0004.txt: says bad"):
        load_rows(recipe(), files, files[0].parent, tmp_path / "cache", workers=1)
    leftovers = [p.name for p in (tmp_path / "cache").rglob("*") if p.is_file() and p.name != ".lock"]
    assert leftovers == []


@pytest.mark.parametrize("damage", ["truncate", "flip", "meta"])
def test_a_damaged_cache_is_rebuilt_and_said(tmp_path, caplog, damage):
    files = folder_of(tmp_path, 12)
    built = load_rows(recipe(), files, files[0].parent, tmp_path / "cache", workers=1)
    rows = built.path / ROWS_FILE
    del built
    data = bytearray(rows.read_bytes())
    if damage == "truncate":
        rows.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        data[17] ^= 0xFF
        rows.write_bytes(data)
    else:
        (rows.parent / "meta.json").write_text("{not json")
    with caplog.at_level(logging.WARNING):
        again = load_rows(recipe(), files, files[0].parent, tmp_path / "cache", workers=1)
    said = {"truncate": "truncated", "flip": "does not match its checksum", "meta": "meta.json is unreadable"}[damage]
    assert again.built and any(said in r.getMessage() and "rebuilding" in r.getMessage() for r in caplog.records)
    np.testing.assert_array_equal(again.array, expected(files))


def test_sampled_check_catches_truncation_of_a_large_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(row_cache, "FULL_CHECK_BYTES", 0)  # every cache counts as large: sampled blocks only
    files = folder_of(tmp_path, 30)
    path = load_rows(recipe(), files, files[0].parent, tmp_path / "cache", workers=1).path
    assert row_cache.check_cache(path, recipe(), verify=False) is None
    with open(path / ROWS_FILE, "r+b") as handle:
        handle.seek(0)
        handle.write(b"\xff" * 64)  # the first sampled block
    assert "checksum" in row_cache.check_cache(path, recipe(), verify=False)


def test_a_changed_folder_is_another_cache(tmp_path):
    files = folder_of(tmp_path, 6)
    first = load_rows(recipe(), files, files[0].parent, tmp_path / "cache", workers=1)
    files[2].write_text("123456")  # new size and mtime: a new listing key
    second = load_rows(recipe(), files, files[0].parent, tmp_path / "cache", workers=1)
    assert second.built and second.path != first.path
    assert second.array[2, 0] == 123456


def test_verify_data_sees_a_file_rewritten_with_its_size_and_mtime(tmp_path, caplog):
    files = folder_of(tmp_path, 6)
    load_rows(recipe(), files, files[0].parent, tmp_path / "cache", workers=1)
    stat = files[3].stat()
    files[3].write_text("99")  # was "21": same size
    os.utime(files[3], ns=(stat.st_atime_ns, stat.st_mtime_ns))
    stale = load_rows(recipe(), files, files[0].parent, tmp_path / "cache", workers=1)
    assert not stale.built and stale.array[3, 0] == 21  # invisible to the listing key: why --verify-data exists
    del stale
    with caplog.at_level(logging.WARNING):
        fresh = load_rows(recipe(), files, files[0].parent, tmp_path / "cache", workers=1, verify=True)
    assert fresh.built and fresh.array[3, 0] == 99
    assert any("0003.txt changed since the cache was built" in r.getMessage() for r in caplog.records)


def test_not_enough_space_is_one_line_before_writing(tmp_path, monkeypatch):
    files = folder_of(tmp_path, 6)
    monkeypatch.setattr(row_cache.shutil, "disk_usage", lambda path: Usage(100, 90, 10))
    with pytest.raises(DataError, match=r"the numbers cache needs 120 B in .*cache/rows, which has 10 B free; free "):
        load_rows(recipe(), files, files[0].parent, tmp_path / "cache", workers=1)


def test_disk_full_while_writing_removes_the_partial_file(tmp_path, monkeypatch):
    files = folder_of(tmp_path, 6)

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(row_cache.os, "posix_fallocate", full)
    with pytest.raises(DataError, match=r"cannot write the numbers cache in .* \(No space left on device; it needs"):
        load_rows(recipe(), files, files[0].parent, tmp_path / "cache", workers=1)
    assert [p.name for p in (tmp_path / "cache").rglob("*") if p.is_file() and p.name != ".lock"] == []


def build_on_rank(rank: int, store: str, cache: str, files: list[str], results) -> None:
    """Rank `rank` of a 2-process gloo group loads the rows, as a torchrun rank building its dataset does."""
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    paths = [Path(f) for f in files]
    rows = load_rows(recipe(), paths, paths[0].parent, Path(cache), workers=1)
    dist.barrier()
    results.put((rows.built, rows.array.tobytes()))
    dist.destroy_process_group()


def test_two_gloo_ranks_share_one_cache_built_once(tmp_path):
    files = folder_of(tmp_path, 40)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=build_on_rank, args=(rank, str(tmp_path / "store"), str(tmp_path / "cache"),
                                                           [str(f) for f in files], results)) for rank in range(2)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(built for built, _ in outcomes) == [False, True]
    assert outcomes[0][1] == outcomes[1][1] == expected(files).tobytes()
