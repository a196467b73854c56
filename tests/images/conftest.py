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
