import numpy as np
import pytest

from multigan.metrics.frechet import MetricError
from multigan.metrics.prdc import kth_neighbour_radii, precision_recall_density_coverage


def test_by_hand_on_a_line():
    # k = 1. Real points 0, 1, 2, 10: radii (distance to the nearest other real point) 1, 1, 1, 8.
    real = np.array([[0.0], [1.0], [2.0], [10.0]])
    # Fake points 0.5, 1.5, 30, 31: radii 1, 1, 1, 1.
    fake = np.array([[0.5], [1.5], [30.0], [31.0]])
    result = precision_recall_density_coverage(real, fake, k=1)
    # precision: 0.5 and 1.5 lie in real balls; 30 and 31 are 20+ from 10, whose radius is 8
    assert result["precision"] == pytest.approx(2 / 4)
    # density: 0.5 lies in the balls of 0 and 1, 1.5 in those of 1 and 2: (2 + 2 + 0 + 0) / (k * 4)
    assert result["density"] == pytest.approx(4 / 4)
    # recall: real 0, 1, 2 lie in the radius-1 balls of 0.5 / 1.5; real 10 is 8.5 from the nearest fake
    assert result["recall"] == pytest.approx(3 / 4)
    # coverage: real 0, 1, 2 have a fake point within their radius 1; 10's nearest fake is 8.5 > 8 away
    assert result["coverage"] == pytest.approx(3 / 4)


def test_equals_prdc_package():
    prdc = pytest.importorskip("prdc", reason="the prdc package is the reference (dev extra)")
    rng = np.random.default_rng(0)
    real = rng.standard_normal((300, 12))
    fake = rng.standard_normal((260, 12)) * 1.3 + 0.2
    expected = prdc.compute_prdc(real, fake, nearest_k=5)
    ours = precision_recall_density_coverage(real, fake, k=5, chunk=64)  # chunks exercise the streaming path
    for key in ("precision", "recall", "density", "coverage"):
        assert ours[key] == pytest.approx(float(expected[key]), rel=1e-12), key


def test_independent_of_chunk_size():
    rng = np.random.default_rng(1)
    real, fake = rng.standard_normal((150, 6)), rng.standard_normal((120, 6)) + 0.3
    assert precision_recall_density_coverage(real, fake, chunk=7) == precision_recall_density_coverage(real, fake)


def test_radii_skip_the_point_itself():
    import torch

    points = torch.tensor([[0.0], [1.0], [3.0]], dtype=torch.float64)
    assert kth_neighbour_radii(points, k=1, chunk=2).tolist() == [1.0, 1.0, 2.0]


def test_needs_more_than_k_samples():
    with pytest.raises(MetricError, match="more than 5 samples"):
        precision_recall_density_coverage(np.zeros((5, 3)), np.zeros((50, 3)))
