"""Stability and cost helpers: spread over seeds, the collapse rule, sample diversity."""
import math

import pytest
import torch

from multigan.bench.stability import (
    Cost,
    Spread,
    cost,
    detect_collapse,
    diversity_collapsed,
    diversity_ratio,
    format_spread,
    mean_pairwise_distance,
    peak_memory_bytes,
    seed_spread,
)


def test_seed_spread_is_mean_and_sample_std_and_counts_failed_seeds():
    spread = seed_spread([1.0, 2.0, 3.0, None, float("nan")])
    assert spread == Spread(n=3, n_failed=2, mean=2.0, std=1.0, min=1.0, max=3.0)
    assert format_spread(spread) == "2 ± 1 (n=3, 2 failed)"
    assert seed_spread([0.5]).std == 0.0
    nothing = seed_spread([None])
    assert nothing.mean is None and nothing.n_failed == 1 and format_spread(nothing) == "—"


def test_a_curve_that_gives_back_most_of_its_gain_has_collapsed():
    fid = [(0, 300.0), (100, 120.0), (200, 40.0), (300, 200.0)]  # best 40 at 200, then back to 200
    result = detect_collapse(fid, higher_is_better=False)
    assert result.collapsed and result.best_step == 200 and result.best == 40.0
    assert result.regression_share == pytest.approx(160 / 260)
    assert "after step 200" in result.reason


def test_small_late_regressions_and_flat_curves_are_not_collapse():
    bleu = [(0, 0.1), (10, 0.5), (20, 0.45)]  # lost 0.05 of a 0.4 gain
    result = detect_collapse(bleu, higher_is_better=True)
    assert not result.collapsed and result.regression_share == pytest.approx(0.125)
    assert detect_collapse([(0, 0.3), (10, 0.5)], True).reason == "stable"
    flat = detect_collapse([(0, 9.0), (5, 9.5), (10, 9.2)], higher_is_better=False)  # never better than at start
    assert not flat.collapsed and flat.reason == "no progress"
    assert detect_collapse([], True).reason == "no evaluations"


def test_a_diverged_final_value_is_a_collapse():
    result = detect_collapse([(0, 30.0), (10, 20.0), (20, float("nan"))], higher_is_better=False)
    assert result.collapsed and result.best == 20.0 and result.reason.startswith("diverged")
    assert math.isnan(result.final)


def test_diversity_ratio_separates_varied_from_collapsed_samples():
    generator = torch.Generator().manual_seed(0)
    real = torch.randn(500, 8, generator=generator)
    varied = torch.randn(500, 8, generator=generator)
    collapsed = real[:1] + 0.01 * torch.randn(500, 8, generator=generator)  # one mode, tiny jitter
    assert diversity_ratio(varied, real) == pytest.approx(1.0, abs=0.05)
    assert diversity_ratio(collapsed, real) == pytest.approx(0.01, rel=0.1)  # the jitter's scale
    assert diversity_collapsed(diversity_ratio(collapsed, real)) and not diversity_collapsed(1.0)
    assert mean_pairwise_distance(torch.tensor([[0.0, 0.0], [3.0, 4.0]])) == 5.0
    with pytest.raises(ValueError, match="N >= 2"):
        mean_pairwise_distance(torch.zeros(1, 3))


def test_cost_record():
    record = cost(4.0, n_samples=1000, peak_memory_bytes=3 * 2**20, device="cpu")
    assert record == Cost(wall_s=4.0, samples_per_s=250.0, peak_memory_mib=3.0, device="cpu")
    assert cost(1.0).samples_per_s is None
    assert peak_memory_bytes("cpu") > 0


def test_a_wobble_within_the_tolerance_is_not_a_collapse():
    at_the_floor = [(300, 0.001), (600, -0.021), (900, 0.003), (1200, 0.011)]  # fd_norm noise around 0
    assert detect_collapse(at_the_floor, higher_is_better=False).collapsed  # the bare share rule says yes
    verdict = detect_collapse(at_the_floor, higher_is_better=False, tolerance=0.05)
    assert not verdict.collapsed and "within the tolerance" in verdict.reason
    assert detect_collapse([(1, 0.9), (2, 0.2), (3, 0.8)], False, tolerance=0.05).collapsed
