"""Writing files so a crash never leaves a half-written one, and hashing them."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from PIL import Image
from torch import Tensor

from multigan.errors import UserError


class OutputExistsError(UserError, FileExistsError):
    """An output folder already exists and is not empty; we never write into or over a user's folder."""


def _read_umask() -> int:
    mask = os.umask(0)  # the only way to read it; done once, at import, before any writer thread exists
    os.umask(mask)
    return mask


_UMASK = _read_umask()


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path`, renamed onto it when the block ends cleanly and removed if it raises."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get the usual permissions
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_folder(folder: Path) -> Iterator[Path]:
    """A temporary folder beside `folder`, renamed onto it when the block ends cleanly and removed if it raises, so
    `folder` appears whole or not at all. `folder` must be absent or empty (an empty one is replaced)."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        yield staging
        os.chmod(staging, 0o777 & ~_UMASK)  # mkdtemp makes 0700
        if folder.exists():
            folder.rmdir()
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, payload: Any) -> None:
    write_text_atomic(path, json.dumps(payload, indent=2, default=str))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_new_folder(folder: Path) -> None:
    """OutputExistsError unless `folder` is absent or an empty folder."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise OutputExistsError(f"output folder {folder} already exists and is not empty; choose a new one")


@contextmanager
def staged_folder(folder: Path) -> Iterator[Path]:
    """`atomic_folder` for a new output: OutputExistsError unless `folder` is absent or empty, so an export never
    writes into or over a user's folder; readers see the whole export or none of it."""
    check_new_folder(folder)
    with atomic_folder(folder) as staging:
        yield staging


def folder_name(label: str) -> str:
    """A class name as a folder name that is valid on every OS: 'T-shirt/top' -> 'T-shirt_top' (spaces stay)."""
    safe = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", label).strip(" .")
    return safe or "class"


def index_width(count: int) -> int:
    """Digits of the zero-padded example numbers of an export of `count` examples (at least 5: 00000.png)."""
    return max(5, len(str(max(count - 1, 0))))


def move_into_place(staging: Path, folder: Path) -> None:
    """Rename the finished `staging` folder onto `folder`. An existing `folder` (empty, or being overwritten) is
    moved aside first and deleted only once the new one is in place, so `folder` is never half of either."""
    staging, folder = Path(staging), Path(folder)
    os.chmod(staging, 0o777 & ~_UMASK)
    if not folder.exists():
        os.replace(staging, folder)
        return
    old = folder.with_name(f".{folder.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    os.replace(folder, old)
    os.replace(staging, folder)
    if old.is_dir():
        shutil.rmtree(old, ignore_errors=True)
    else:
        old.unlink(missing_ok=True)  # --overwrite of a file that stood where the folder goes


def write_png(image: Tensor, path: Path) -> None:
    """(C, H, W) uint8 with C = 1 or 3 -> PNG at `path`, atomically (previews, exported images, spectrograms)."""
    array = image.permute(1, 2, 0).numpy()  # (H, W, C)
    picture = Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else np.ascontiguousarray(array))
    with atomic_path(path) as temporary:
        picture.save(temporary, format="PNG")
