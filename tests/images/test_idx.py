"""IDX reader: round trip with an independent writer, agreement with torchvision's reader, and one clear DataError
per kind of broken file."""
import gzip

import numpy as np
import pytest
import torch
from torchvision.datasets.mnist import read_sn3_pascalvincent_tensor

from multigan.core.data import DataError
from multigan.images.idx import read_idx


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
@pytest.mark.parametrize("name", ["x-idx3-ubyte", "x-idx3-ubyte.gz"])
def test_round_trip(tmp_path, idx_writer, dtype, name):
    rng = np.random.default_rng(0)
    array = (rng.normal(size=(5, 3, 4)) * 100).astype(dtype)
    path = idx_writer(tmp_path / name, array)
    loaded = read_idx(path)
    assert loaded.dtype == np.dtype(dtype) and loaded.shape == (5, 3, 4)
    np.testing.assert_array_equal(loaded, array)


def test_agrees_with_torchvision_reader(tmp_path, idx_writer):
    array = np.random.default_rng(1).integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    path = idx_writer(tmp_path / "images-idx3-ubyte", array)  # torchvision reads only un-gzipped files
    expected = read_sn3_pascalvincent_tensor(str(path))
    assert torch.equal(torch.from_numpy(read_idx(path)), expected)


def test_gzip_detected_by_content_not_name(tmp_path, idx_writer):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    path = idx_writer(tmp_path / "labels-idx2-ubyte", array, gzipped=True)
    np.testing.assert_array_equal(read_idx(path), array)


def test_real_file_agrees_with_torchvision(data_root, tmp_path):
    source = data_root / "mnist" / "t10k-labels-idx1-ubyte.gz"
    if not source.is_file():
        pytest.skip(f"{source} not found")
    plain = tmp_path / "t10k-labels-idx1-ubyte"
    plain.write_bytes(gzip.decompress(source.read_bytes()))
    ours = read_idx(source)
    assert ours.shape == (10000,)
    assert torch.equal(torch.from_numpy(ours), read_sn3_pascalvincent_tensor(str(plain)))


def idx_bytes(tmp_path, idx_writer, array=None) -> bytes:
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4) if array is None else array
    return idx_writer(tmp_path / "ok-idx3-ubyte", array).read_bytes()


def test_truncated_gzip(tmp_path, idx_writer):
    data = gzip.compress(idx_bytes(tmp_path, idx_writer))
    path = tmp_path / "cut-idx3-ubyte.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"cut-idx3-ubyte\.gz is truncated: the gzip stream ends early"):
        read_idx(path)


def test_bad_gzip_crc(tmp_path, idx_writer):
    data = bytearray(gzip.compress(idx_bytes(tmp_path, idx_writer)))
    data[-8] ^= 0xFF  # the CRC32 trailer
    path = tmp_path / "crc-idx3-ubyte.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"crc-idx3-ubyte\.gz is corrupt: CRC check failed"):
        read_idx(path)


def test_short_payload(tmp_path, idx_writer):
    path = tmp_path / "short-idx3-ubyte"
    path.write_bytes(idx_bytes(tmp_path, idx_writer)[:-5])
    with pytest.raises(DataError, match=r"short-idx3-ubyte is truncated: payload is 19 bytes but the header's "
                                        r"dims \(2, 3, 4\) of uint8 need 24"):
        read_idx(path)


def test_trailing_bytes(tmp_path, idx_writer):
    path = tmp_path / "long-idx3-ubyte"
    path.write_bytes(idx_bytes(tmp_path, idx_writer) + b"\0\0")
    with pytest.raises(DataError, match=r"long-idx3-ubyte is corrupt \(trailing bytes\): payload is 26 bytes"):
        read_idx(path)


def test_wrong_magic(tmp_path, idx_writer):
    path = tmp_path / "magic-idx3-ubyte"
    path.write_bytes(b"\x12\x34" + idx_bytes(tmp_path, idx_writer)[2:])
    with pytest.raises(DataError, match=r"magic-idx3-ubyte is not an IDX file: magic number 12340803"):
        read_idx(path)


def test_unknown_dtype_code(tmp_path, idx_writer):
    data = bytearray(idx_bytes(tmp_path, idx_writer))
    data[2] = 0x0A
    path = tmp_path / "dtype-idx3-ubyte"
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"dtype-idx3-ubyte has unknown IDX dtype code 0x0a"):
        read_idx(path)


def test_header_cut_short(tmp_path, idx_writer):
    path = tmp_path / "header-idx3-ubyte"
    path.write_bytes(idx_bytes(tmp_path, idx_writer)[:9])
    with pytest.raises(DataError, match=r"header-idx3-ubyte is truncated: 9 bytes, shorter than its 16-byte header"):
        read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"cannot read .*absent-idx3-ubyte"):
        read_idx(tmp_path / "absent-idx3-ubyte")
