import gzip
from pathlib import Path

import numpy as np
import pytest


def write_idx(path: Path, array: np.ndarray, gzipped: bool | None = None) -> Path:
    """Our own IDX writer, independent of the reader under test: magic 00 00 <code> <ndim>, big-endian dims and
    values. Gzipped when the name ends in .gz (or when `gzipped` says so)."""
    codes = {np.dtype("u1"): 0x08, np.dtype("i1"): 0x09, np.dtype("i2"): 0x0B, np.dtype("i4"): 0x0C,
             np.dtype("f4"): 0x0D, np.dtype("f8"): 0x0E}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    gzipped = path.suffix == ".gz" if gzipped is None else gzipped
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, mtime=0) if gzipped else data)
    return path


@pytest.fixture
def idx_writer():
    return write_idx


def write_image(path: Path, array: np.ndarray, **save_options) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **save_options)
    return path


def random_rgb(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.fixture
def paired_folder(tmp_path):
    """side_by_side/{train,test}/<i>.jpg: A|B files whose left half is dark and right half bright (so A and B are
    told apart), 32 px per side; train 6 pairs, test 3."""
    rng = np.random.default_rng(0)
    root = tmp_path / "pairs"
    for split, count in (("train", 6), ("test", 3)):
        for i in range(count):
            pair = np.concatenate([rng.integers(0, 60, (32, 32, 3)), rng.integers(200, 256, (32, 32, 3))], axis=1)
            write_image(root / split / f"{i}.png", pair.astype(np.uint8))
    return root


@pytest.fixture
def unpaired_folder(tmp_path):
    """trainA (5 dark), trainB (7 bright), testA (3), testB (2): 40x40 RGB pngs."""
    rng = np.random.default_rng(1)
    root = tmp_path / "domains"
    for name, count, low in (("trainA", 5, 0), ("trainB", 7, 200), ("testA", 3, 0), ("testB", 2, 200)):
        for i in range(count):
            write_image(root / name / f"{i}.png", rng.integers(low, low + 56, (40, 40, 3)).astype(np.uint8))
    return root
