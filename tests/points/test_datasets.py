"""The procedural 2-D datasets: the ring has 8 distinct means at angles 2 pi k / 8 and the grid 25 at (-4..4)^2, each
point's label is its mode, a seed gives the same points, and train and test differ."""
import math
from pathlib import Path

import pytest
import torch

from multigan.core.data import DataError
from multigan.registry import DATASETS

ROOT = Path(".")  # procedural: no files are read


def build(name: str, split: str = "train", **config):
    cls = DATASETS.get(name)
    return cls(cls.Config(**{"n_train": 2000, "n_test": 500, **config}), ROOT, split)


def test_the_ring_has_8_distinct_means_on_the_unit_circle_at_2_pi_k_over_8():
    means = torch.tensor(build("ring").info.extra["modes"], dtype=torch.float64)  # (8, 2)
    assert means.shape == (8, 2) and len({tuple(m) for m in means.round(decimals=6).tolist()}) == 8
    angles = torch.tensor([2 * math.pi * k / 8 for k in range(8)], dtype=torch.float64)
    expected = torch.stack([angles.cos(), angles.sin()], dim=1)
    assert torch.allclose(means, expected, atol=1e-6)  # k = 0..7: no end point counted twice (linspace's mistake)
    assert torch.cdist(means, means).add(torch.eye(8) * 9).min() > 0.7  # neighbours sqrt(2 - sqrt 2) = 0.765 apart


def test_the_grid_has_25_distinct_means_at_minus_4_to_4_in_steps_of_2():
    dataset = build("grid")
    means = {tuple(m) for m in torch.tensor(dataset.info.extra["modes"]).tolist()}
    assert means == {(float(x), float(y)) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    assert dataset.info.extra["mode_std"] == 0.05 and dataset.info.num_classes == 25


@pytest.mark.parametrize("name, std", [("ring", 0.01), ("grid", 0.05)])
def test_every_point_lies_near_the_mode_its_label_names(name, std):
    dataset = build(name)
    means = torch.tensor(dataset.info.extra["modes"])
    batch = dataset.gather(torch.arange(len(dataset)))
    distance = (batch["points"] - means[batch["label"]]).norm(dim=1)
    assert distance.max() < 6 * std and abs(float(distance.square().mean()) - 2 * std**2) < 0.2 * 2 * std**2
    assert set(batch["label"].unique().tolist()) == set(range(len(means)))  # every mode drawn


@pytest.mark.parametrize("name", ["ring", "grid", "spiral", "moons"])
def test_a_seed_gives_the_same_points_and_the_splits_differ(name):
    a, b = build(name), build(name)
    assert torch.equal(a.points, b.points) and a.fingerprint == b.fingerprint
    assert a.points.shape == (2000, 2) and a.points.dtype == torch.float32
    test = build(name, "test")
    assert len(test) == 500 and not torch.equal(test.points[:500], a.points[:500])
    assert not torch.equal(build(name, seed=1).points, a.points)
    x0, x1, y0, y1 = a.info.extra["bounds"]
    assert a.points[:, 0].min() == x0 and a.points[:, 1].max() == y1 and a.info.modality == "points"


def test_a_bad_size_names_the_key():
    with pytest.raises(DataError, match=r"data.n_train of 'moons' must be a whole number >= 1, got 0"):
        build("moons", n_train=0)
