"""The procedural `digits` dataset: reproducible by seed, splits differ, classes balanced, options honoured, and
the digits look like handwriting (a classifier fit on them recognises real MNIST far above chance)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from multigan.core.data import DataError
from multigan.images.datasets import MNISTDataset
from multigan.images.glyphs import DigitsDataset, catmull_rom, random_affine, warp_grid
from multigan.registry import DATASETS


def build(split="train", **options):
    options = {"train_size": 500, "test_size": 200, **options}
    return DigitsDataset(DigitsDataset.Config(**options), root=None, split=split)


def test_registered_with_defaults():
    assert DATASETS.get("digits") is DigitsDataset
    config = DigitsDataset.Config()
    assert (config.train_size, config.test_size, config.resolution, config.channels) == (20000, 2000, 28, 1)


def test_deterministic_by_seed():
    a, b = build(), build()
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels) and a.fingerprint == b.fingerprint
    other_seed = build(seed=1)
    assert not torch.equal(a.images, other_seed.images) and a.fingerprint != other_seed.fingerprint


def test_splits_differ():
    train, test = build("train"), build("test")
    assert len(train) == 500 and len(test) == 200
    assert not torch.equal(train.images[:200], test.images) and train.fingerprint != test.fingerprint


def test_balanced_labels_and_range():
    dataset = build(train_size=1003)
    counts = torch.bincount(dataset.labels, minlength=10)
    assert counts.max() - counts.min() <= 1 and counts.sum() == 1003
    batch = dataset.gather(torch.arange(len(dataset)))
    assert batch["image"].shape == (1003, 1, 28, 28) and batch["label"].dtype == torch.int64
    assert batch["image"].min() == -1 and batch["image"].max() <= 1
    ink = (batch["image"] > 0).float().mean((1, 2, 3))  # fraction of bright pixels per digit
    assert ink.min() > 0.01 and ink.max() < 0.5  # every image shows a digit, none is a blob (MNIST: 0.02-0.4)
    assert dataset.info.class_names == [str(d) for d in range(10)] and dataset.info.num_classes == 10


@pytest.mark.parametrize("resolution,channels", [(32, 1), (64, 3)])
def test_resolution_and_channels(resolution, channels):
    dataset = build(train_size=100, resolution=resolution, channels=channels)
    batch = dataset.gather(torch.arange(8))
    assert batch["image"].shape == (8, channels, resolution, resolution)
    assert dataset.info.shape == (channels, resolution, resolution)


def test_bad_size():
    with pytest.raises(DataError, match=r"data\.test_size of 'digits' must be > 0, got 0"):
        build("test", test_size=0)


def test_affine_part_of_warp_matches_affine_grid():
    """The separable grid builder equals torch's affine_grid when the elastic part is off."""
    theta = random_affine(6, torch.Generator().manual_seed(3))
    ours = warp_grid(6, 20, torch.Generator().manual_seed(3), elastic=0.0)
    reference = F.affine_grid(theta, [6, 1, 20, 20], align_corners=False)
    torch.testing.assert_close(ours, reference, atol=1e-6, rtol=0)


def test_spline_passes_through_its_points():
    points = np.array([[0.0, 0.0], [1.0, 2.0], [3.0, 1.0], [4.0, 4.0]])
    curve = catmull_rom(points, samples_per_segment=5)
    for point in points:
        assert np.abs(curve - point).sum(1).min() < 1e-9


def class_means(dataset) -> torch.Tensor:
    batch = dataset.gather(torch.arange(len(dataset)))
    return torch.stack([batch["image"][batch["label"] == k].mean(0).flatten() for k in range(10)])  # (10, C*H*W)


def nearest_mean_accuracy(means: torch.Tensor, dataset) -> float:
    batch = dataset.gather(torch.arange(len(dataset)))
    predicted = torch.cdist(batch["image"].flatten(1), means).argmin(1)
    return (predicted == batch["label"]).float().mean().item()


def test_classes_are_distinct():
    assert nearest_mean_accuracy(class_means(build(train_size=2000)), build("test")) > 0.7  # chance: 0.1


def test_looks_like_real_handwriting(data_root):
    """Class means of our digits classify real MNIST test digits (measured: ~0.47; chance 0.1)."""
    if not (data_root / "mnist").is_dir():
        pytest.skip(f"MNIST not found in {data_root / 'mnist'}")
    mnist = MNISTDataset(MNISTDataset.Config(limit=2000), data_root, "test")
    assert nearest_mean_accuracy(class_means(build(train_size=5000)), mnist) > 0.35
