"""Reader for the IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS").

An IDX file is a 4-byte magic number `00 00 <dtype code> <ndim>`, then `ndim` big-endian uint32 sizes, then the
payload: prod(sizes) big-endian values, row-major. Files may be gzipped. Every way a file can be broken (bad gzip
stream, wrong magic, unknown dtype, payload shorter or longer than its header says) is a `DataError` naming the file.
"""
from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from multigan.core.data import DataError

# dtype code -> big-endian numpy dtype
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"


def read_raw(path: Path) -> bytes:
    """The bytes of `path` as stored (maybe gzipped)."""
    try:
        return path.read_bytes()
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror}") from err


def decompress_idx(raw: bytes, path: str | Path) -> bytes:
    """The IDX bytes inside `raw`: gunzipped when it is a gzip stream (recognised by its magic, not the name)."""
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError as err:  # the stream stops before its end marker
        message = f"{path} is truncated: the gzip stream ends early ({len(raw)} bytes); download it again"
        raise DataError(message) from err
    except (gzip.BadGzipFile, zlib.error) as err:  # bad CRC, bad length trailer, corrupt deflate data
        raise DataError(f"{path} is corrupt: {err}; download it again") from err


def parse_idx(data: bytes, name: str | Path = "<bytes>") -> np.ndarray:
    """Decode IDX bytes into a native-endian array of the header's shape. `name` is only for error messages."""
    if len(data) < 4:
        raise DataError(f"{name} is not an IDX file: {len(data)} bytes, shorter than the 4-byte magic number")
    zero, dtype_code, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    if zero != 0:
        raise DataError(f"{name} is not an IDX file: magic number {data[:4].hex()} does not start with 0000")
    if dtype_code not in IDX_DTYPES:
        known = ", ".join(f"0x{code:02x}" for code in IDX_DTYPES)
        raise DataError(f"{name} has unknown IDX dtype code 0x{dtype_code:02x} (expected one of {known})")
    if ndim == 0:
        raise DataError(f"{name} is not a valid IDX file: the header declares 0 dimensions")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DataError(f"{name} is truncated: {len(data)} bytes, shorter than its {header_len}-byte header")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = IDX_DTYPES[dtype_code]
    expected = math.prod(shape) * dtype.itemsize
    payload = len(data) - header_len
    if payload != expected:
        problem = "truncated" if payload < expected else "corrupt (trailing bytes)"
        raise DataError(
            f"{name} is {problem}: payload is {payload} bytes but the header's dims {shape} of {dtype.name} "
            f"need {expected}; download it again"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable, native-endian copy


def read_idx(path: Path) -> np.ndarray:
    return parse_idx(decompress_idx(read_raw(path), path), path)
