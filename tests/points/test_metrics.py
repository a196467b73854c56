"""Mode metrics on constructed samples (PacGAN's definitions), GAN Lab's grid divergences, and the registered
metrics' protocols and refusals."""
import math
from pathlib import Path

import pytest
import torch

from multigan.core.phases import DataInfo
from multigan.metrics.base import EvalContext
from multigan.metrics.config import EvalConfig
from multigan.metrics.frechet import MetricError
from multigan.points import metrics as pm
from multigan.registry import DATASETS, METRICS

from cli_support import one_error_line, run_cli

GRID = torch.cartesian_prod(torch.arange(-4.0, 5.0, 2.0), torch.arange(-4.0, 5.0, 2.0))  # (25, 2)
STD = 0.05
UNIFORM = torch.full((25,), 1 / 25)


def summary(points):
    counts, good = pm.mode_counts(points, GRID, STD)
    return pm.modes_covered(counts), float(good.double().mean()), pm.reverse_kl(counts, UNIFORM)


def test_all_samples_at_one_mode_cover_one_mode_and_the_kl_of_a_point_mass():
    covered, quality, kl = summary(GRID[7].repeat(100, 1) + 0.01)
    assert covered == 1 and quality == 1.0 and kl == pytest.approx(math.log(25))


def test_one_sample_exactly_at_each_mode_covers_all_at_full_quality_and_kl_0():
    assert summary(GRID.clone()) == (25, 1.0, 0.0)  # a perfect histogram: reverse KL 0


def test_points_far_from_every_mode_are_of_no_quality_and_cover_nothing():
    far = GRID + torch.tensor([1.0, 1.0])  # (x +- 1, y +- 1): sqrt(2) from the nearest mode, 28 sigma
    covered, quality, kl = summary(far)
    assert covered == 0 and quality == 0.0 and kl == pytest.approx(math.log(25))  # empty histogram: the stated max


def test_high_quality_is_within_3_sigma_and_only_good_samples_fill_the_histogram():
    near, outside = GRID[0] + torch.tensor([2.9 * STD, 0.0]), GRID[1] + torch.tensor([0.0, 3.1 * STD])
    counts, good = pm.mode_counts(torch.stack([near, outside]), GRID, STD)
    assert good.tolist() == [True, False] and counts[0] == 1 and counts.sum() == 1


def test_reverse_kl_is_kl_of_generated_over_real_with_0_log_0_as_0():
    counts = torch.tensor([3, 1, 0, 0])
    p = torch.tensor([0.75, 0.25])
    assert pm.reverse_kl(counts, torch.full((4,), 0.25)) == pytest.approx(float((p * (p / 0.25).log()).sum()))


def test_grid_divergences_are_0_for_equal_histograms_and_gan_labs_formula_otherwise():
    box = [-1.0, 1.0, -1.0, 1.0]
    points = torch.rand(500, 2) * 2 - 1
    same = pm.grid_density(points, box)
    assert float(same.sum()) == pytest.approx(1.0) and pm.grid_kl(same, same) == 0 and pm.grid_js(same, same) == 0
    one_cell = pm.grid_density(torch.full((10, 2), 0.99), box)  # the far edge falls in the last cell
    assert one_cell[-1] == 1.0
    e = pm.SMOOTHING
    expected = sum((p + e) * math.log2((p + e) / (q + e)) for p, q in zip(same.tolist(), one_cell.tolist()))
    assert pm.grid_kl(same, one_cell) == pytest.approx(expected)
    outside = pm.grid_density(torch.tensor([[5.0, 0.0], [0.0, 0.0]]), box)
    assert float(outside.sum()) == 0.5  # the point outside the box counts in no cell


def context(name: str, **config) -> EvalContext:
    cls = DATASETS.get(name)
    data = cls.Config(n_train=3000, n_test=2500, **config)
    return EvalContext(cls(data, Path("."), "train").info, name, data, Path("."), Path("."), torch.device("cpu"))


def test_registered_metrics_score_real_points_like_real_data_with_their_protocol():
    ctx = context("grid")
    real = ctx.dataset("test").gather(torch.arange(2500))
    results = {}
    for name in ("modes_covered", "high_quality", "reverse_kl", "grid_kl", "grid_js"):
        results.update(METRICS.get(name)(EvalConfig(n_samples=2500), ctx).compute(real, None))
    assert results["modes_covered"].value == 25 and results["high_quality"].value > 0.97
    assert results["reverse_kl"].value < 0.02 and results["grid_kl"].value == 0  # the reference split itself
    for name, value in results.items():
        assert value.protocol["n_generated"] == 2500 and "real_vs_real" in value.protocol, name
    assert results["modes_covered"].protocol["real_vs_real"] == 25 and results["grid_js"].protocol["units"] == \
        "bits (log2)"


def test_mode_metrics_refuse_data_without_known_modes_in_one_line():
    with pytest.raises(MetricError, match=r"^modes_covered: dataset 'moons' has no known modes \(ring and grid do\)"):
        METRICS.get("modes_covered")(EvalConfig(), context("moons"))
    METRICS.get("grid_js")(EvalConfig(), context("moons"))  # the grid divergences apply to any points
    images = EvalContext(DataInfo("image", (1, 28, 28)), "digits", None, Path("."), Path("."), torch.device("cpu"))
    with pytest.raises(MetricError, match=r"^grid_kl scores 2-D points, not image samples; leave it out of eval"):
        METRICS.get("grid_kl")(EvalConfig(), images)


def test_the_cli_says_in_one_line_that_mode_metrics_do_not_apply(tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", "toygan_ring", "--set", "data.name=moons", "data.n_train=200",
                           "data.n_test=50", "--out", tmp_path / "run", "--quiet")
    assert code == 1 and one_error_line(err) == (
        "multigan: error: modes_covered: dataset 'moons' has no known modes (ring and grid do); leave modes_covered "
        "out of eval.metrics (grid_kl and grid_js apply to any points)")
