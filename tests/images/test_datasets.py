"""IDX datasets (Fashion-MNIST, MNIST): the real files load with the right counts, shapes, ranges and labels;
resizing and channels; every way of being missing or broken gives one clear line; checksums only warn."""
import dataclasses
import gzip
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision.transforms.v2 import functional as TF

from multigan.core.data import BatchLoader, DataError
from multigan.images.datasets import FashionMNISTDataset, MNISTDataset
from multigan.registry import DATASETS

FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def real_folder(data_root: Path, name: str) -> Path:
    folder = data_root / name
    if not all((folder / f"{stem}.gz").is_file() for stem in FILES):
        pytest.skip(f"{name} IDX files not found in {folder} (set MULTIGAN_DATA to a root holding {name}/)")
    return folder


@pytest.fixture
def no_system_dirs(monkeypatch, tmp_path):
    """Keep the tests from finding a system-wide copy in /usr/share/datasets."""
    source = dataclasses.replace(FashionMNISTDataset.source, system_dirs=(str(tmp_path / "usr-share-fashion"),))
    monkeypatch.setattr(FashionMNISTDataset, "source", source)
    return tmp_path / "usr-share-fashion"


def test_registered():
    assert DATASETS.get("fashion_mnist") is FashionMNISTDataset and DATASETS.get("mnist") is MNISTDataset
    assert FashionMNISTDataset.Config().resolution == 28


@pytest.mark.parametrize("split,size", [("train", 60000), ("test", 10000)])
def test_fashion_mnist_loads(data_root, caplog, split, size):
    real_folder(data_root, "fashion_mnist")
    with caplog.at_level(logging.INFO):
        dataset = FashionMNISTDataset(FashionMNISTDataset.Config(), data_root, split)
    assert not [r for r in caplog.records if r.name.startswith("multigan")]  # official files: nothing to say
    assert len(dataset) == size and dataset.images.shape == (size, 1, 28, 28)
    assert dataset.info.shape == (1, 28, 28) and dataset.info.num_classes == 10
    assert dataset.info.class_names[0] == "T-shirt/top" and dataset.info.class_names[9] == "Ankle boot"
    assert torch.equal(torch.bincount(dataset.labels), torch.full((10,), size // 10))  # balanced by design
    batch = dataset.gather(torch.arange(size - 64, size))
    assert batch["image"].dtype == torch.float32 and batch["image"].shape == (64, 1, 28, 28)
    assert batch["image"].min() == -1.0 and batch["image"].max() == 1.0
    assert batch["label"].dtype == torch.int64
    expected_first = [9, 0, 0, 3, 0] if split == "train" else [9, 2, 1, 1, 6]  # from the upstream files
    assert dataset.labels[:5].tolist() == expected_first


def test_mnist_loads(data_root):
    real_folder(data_root, "mnist")
    dataset = MNISTDataset(MNISTDataset.Config(limit=100), data_root, "test")
    assert len(dataset) == 100 and dataset.info.class_names == [str(d) for d in range(10)]
    assert dataset.labels[:5].tolist() == [7, 2, 1, 0, 4]


@pytest.mark.parametrize("resolution,channels", [(32, 1), (64, 3), (28, 3)])
def test_resize_and_channels(data_root, resolution, channels):
    real_folder(data_root, "fashion_mnist")
    config = FashionMNISTDataset.Config(resolution=resolution, channels=channels, limit=300)
    dataset = FashionMNISTDataset(config, data_root, "test")
    native = FashionMNISTDataset(FashionMNISTDataset.Config(limit=300), data_root, "test")
    assert len(dataset) == 300 and dataset.info.shape == (channels, resolution, resolution)
    batch = dataset.gather(torch.arange(10))
    assert batch["image"].shape == (10, channels, resolution, resolution)
    assert batch["image"].min() >= -1 and batch["image"].max() <= 1
    assert torch.equal(batch["image"], batch["image"][:, :1].expand_as(batch["image"]))  # grey repeated
    expected = TF.resize(native.images[:10], [resolution, resolution], antialias=True)
    assert torch.equal(dataset.images[:10], expected)


def test_fingerprint(data_root):
    real_folder(data_root, "fashion_mnist")
    def build(split="test", **options):
        return FashionMNISTDataset(FashionMNISTDataset.Config(limit=50, **options), data_root, split).fingerprint

    base = build()
    assert base == build() and len(base) == 64 and int(base, 16) >= 0
    assert len({base, build(resolution=32), build(channels=3), build(split="train")}) == 4


def test_missing_names_every_place(tmp_path, no_system_dirs):
    with pytest.raises(DataError) as caught:
        FashionMNISTDataset(FashionMNISTDataset.Config(), tmp_path / "root", "train")
    message = str(caught.value)
    assert "\n" not in message
    for place in (tmp_path / "root" / "fashion_mnist", tmp_path / "root" / "FashionMNIST/raw", no_system_dirs):
        assert str(place) in message
    assert "train-images-idx3-ubyte.gz" in message and "train-labels-idx1-ubyte.gz" in message
    assert "apt-get install dataset-fashion-mnist" in message


def test_missing_labels_named(tmp_path, idx_writer, no_system_dirs):
    idx_writer(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz", np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(DataError, match=r"has only one of them, t10k-labels-idx1-ubyte\[\.gz\] is missing"):
        MNISTDataset(MNISTDataset.Config(), tmp_path, "test")


def test_count_mismatch(tmp_path, idx_writer):
    idx_writer(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz", np.zeros((3, 28, 28), np.uint8))
    idx_writer(tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz", np.zeros(2, np.uint8))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz has 3 images but .* has 2 labels"):
        MNISTDataset(MNISTDataset.Config(), tmp_path, "test")


def test_corrupt_file_is_named(tmp_path, idx_writer):
    idx_writer(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz", np.zeros((3, 28, 28), np.uint8))
    path = idx_writer(tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz", np.zeros(3, np.uint8))
    path.write_bytes(path.read_bytes()[:-6])
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz is truncated"):
        MNISTDataset(MNISTDataset.Config(), tmp_path, "test")


def test_other_content_only_warns(tmp_path, idx_writer, caplog):
    images = np.random.default_rng(0).integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    idx_writer(tmp_path / "mnist" / "t10k-images-idx3-ubyte", images)  # un-gzipped files are accepted too
    idx_writer(tmp_path / "mnist" / "t10k-labels-idx1-ubyte", np.arange(20, dtype=np.uint8) % 10)
    with caplog.at_level(logging.WARNING):
        dataset = MNISTDataset(MNISTDataset.Config(), tmp_path, "test")
    assert len(dataset) == 20 and torch.equal(dataset.images[:, 0], torch.from_numpy(images))
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "t10k-images-idx3-ubyte differs from the official file" in warned


def test_recompressed_copy_at_system_location(data_root, tmp_path, no_system_dirs, caplog):
    """Debian's package re-gzips the official files: other bytes, same content. Found there, accepted quietly."""
    folder = real_folder(data_root, "fashion_mnist")
    no_system_dirs.mkdir()
    for stem in FILES:
        content = gzip.decompress((folder / f"{stem}.gz").read_bytes())
        (no_system_dirs / f"{stem}.gz").write_bytes(gzip.compress(content, compresslevel=1, mtime=0))
    with caplog.at_level(logging.INFO):
        copy = FashionMNISTDataset(FashionMNISTDataset.Config(), tmp_path / "empty-root", "test")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "re-compressed copy of the official file" in caplog.text
    original = FashionMNISTDataset(FashionMNISTDataset.Config(), data_root, "test")
    assert copy.fingerprint == original.fingerprint  # keyed by content, not by file bytes or place


def test_torchvision_layout(data_root, tmp_path):
    folder = real_folder(data_root, "mnist")
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for stem in FILES:
        shutil.copy(folder / f"{stem}.gz", raw)
    assert len(MNISTDataset(MNISTDataset.Config(), tmp_path, "test")) == 10000


@pytest.mark.parametrize("options,message", [
    ({"channels": 2}, r"data\.channels of 'mnist' must be 1 or 3, got 2"),
    ({"resolution": 0}, r"data\.resolution of 'mnist' must be an integer >= 4"),
    ({"limit": -1}, r"data\.limit of 'mnist' must be >= 0"),
])
def test_bad_options(tmp_path, options, message):
    with pytest.raises(DataError, match=message):
        MNISTDataset(MNISTDataset.Config(**options), tmp_path, "test")


def test_unknown_split(tmp_path):
    with pytest.raises(DataError, match=r"unknown split 'val' for dataset 'mnist'; valid: train, test"):
        MNISTDataset(MNISTDataset.Config(), tmp_path, "val")


def test_batch_loader_feeds_from_gather(tmp_path, idx_writer):
    idx_writer(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz", np.full((10, 28, 28), 255, np.uint8))
    idx_writer(tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz", np.arange(10, dtype=np.uint8))
    loader = BatchLoader(MNISTDataset(MNISTDataset.Config(channels=3), tmp_path, "test"), batch_size=4, seed=0)
    batch = loader.next_batch()
    assert batch["image"].shape == (4, 3, 28, 28) and bool((batch["image"] == 1).all())
    assert sorted(batch["label"].tolist()) == sorted(set(batch["label"].tolist()))
