import math

import numpy as np
import pytest
import torch
from torch_fidelity.defaults import DEFAULTS
from torch_fidelity.metric_isc import isc_features_to_metric
from torch_fidelity.metric_kid import kid_features_to_metric

from multigan.metrics.frechet import MetricError
from multigan.metrics.inception_score import class_coverage, inception_score
from multigan.metrics.kid import KIDSettings, kernel_inception_distance, unbiased_mmd2


def torch_fidelity_kid(generated, reference, subsets, subset_size):
    options = {key: value for key, value in DEFAULTS.items() if key.startswith("kid_") or key == "rng_seed"}
    options.update(kid_subsets=subsets, kid_subset_size=subset_size, verbose=False)
    return kid_features_to_metric(generated, reference, **options)


def test_defaults_are_torch_fidelitys():
    ours = KIDSettings()
    assert (ours.subsets, ours.subset_size, ours.degree, ours.coef0, ours.seed) == (
        DEFAULTS["kid_subsets"], DEFAULTS["kid_subset_size"], DEFAULTS["kid_kernel_poly_degree"],
        DEFAULTS["kid_kernel_poly_coef0"], DEFAULTS["rng_seed"])
    assert ours.gamma is None and DEFAULTS["kid_kernel_poly_gamma"] is None  # both mean 1 / feature dimension
    assert DEFAULTS["isc_splits"] == 10


def test_kid_equals_torch_fidelity():
    generator = torch.Generator().manual_seed(0)
    generated = torch.randn(700, 32, generator=generator, dtype=torch.float64)
    reference = torch.randn(650, 32, generator=generator, dtype=torch.float64) * 1.2 + 0.1
    expected = torch_fidelity_kid(generated, reference, subsets=15, subset_size=300)
    mean, std = kernel_inception_distance(generated, reference, KIDSettings(subsets=15, subset_size=300))
    assert mean == pytest.approx(expected["kernel_inception_distance_mean"], rel=1e-9)
    assert std == pytest.approx(expected["kernel_inception_distance_std"], rel=1e-9)


def test_kid_on_float32_features_equals_torch_fidelity():
    # the extractors give float32; both compute float32 kernels then, summed in different orders
    generator = torch.Generator().manual_seed(3)
    generated = torch.rand(600, 64, generator=generator) * 2  # non-negative, like pooled CNN features
    reference = torch.rand(600, 64, generator=generator) * 2.2
    expected = torch_fidelity_kid(generated, reference, subsets=10, subset_size=400)
    mean, std = kernel_inception_distance(generated, reference, KIDSettings(subsets=10, subset_size=400))
    assert mean == pytest.approx(expected["kernel_inception_distance_mean"], rel=1e-4)
    assert std == pytest.approx(expected["kernel_inception_distance_std"], rel=1e-3)
    exact, _ = kernel_inception_distance(generated.double(), reference.double(), KIDSettings(subsets=10, subset_size=400))
    assert mean == pytest.approx(exact, rel=1e-4)


def test_kid_of_samples_from_one_distribution_is_near_zero():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((400, 16)), rng.standard_normal((400, 16))
    mean, std = kernel_inception_distance(a, b, KIDSettings(subsets=20, subset_size=200))
    assert abs(mean) < 3 * std / math.sqrt(20) + 1e-3  # unbiased: zero in expectation
    shifted, _ = kernel_inception_distance(a, b + 1.0, KIDSettings(subsets=20, subset_size=200))
    assert shifted > 10 * abs(mean)


def test_unbiased_mmd_by_hand():
    # m = 2: within terms skip the diagonal, cross term keeps all four entries
    k_xx = np.array([[9.0, 1.0], [1.0, 9.0]])
    k_yy = np.array([[9.0, 3.0], [3.0, 9.0]])
    k_xy = np.array([[2.0, 0.0], [0.0, 2.0]])
    assert unbiased_mmd2(k_xx, k_xy, k_yy) == pytest.approx((2 + 6) / 2 - 2 * 4 / 4)


def test_kid_subset_larger_than_samples_is_a_clear_error():
    with pytest.raises(MetricError, match="subset size 1000"):
        kernel_inception_distance(np.zeros((10, 4)), np.zeros((10, 4)))


def test_inception_score_equals_torch_fidelity():
    logits = torch.randn(1003, 17, generator=torch.Generator().manual_seed(2)) * 4  # N not divisible by splits
    expected = isc_features_to_metric(logits)
    mean, std = inception_score(logits)
    assert mean == pytest.approx(expected["inception_score_mean"], rel=1e-9)
    assert std == pytest.approx(expected["inception_score_std"], rel=1e-9)


def test_inception_score_bounds():
    confident_and_diverse = torch.eye(5).repeat(20, 1) * 100  # each sample sure of its class, all classes equal
    assert inception_score(confident_and_diverse, splits=2, shuffle=False)[0] == pytest.approx(5.0, rel=1e-6)
    undecided = torch.zeros(100, 5)
    assert inception_score(undecided)[0] == pytest.approx(1.0)


def test_inception_score_needs_a_sample_per_split():
    with pytest.raises(MetricError, match="at least 10 samples"):
        inception_score(torch.zeros(5, 3))


def test_class_coverage_by_hand():
    def one_hot(classes):
        return torch.nn.functional.one_hot(torch.tensor(classes), 4).float()

    reference = one_hot([0, 1, 2, 3] * 25)  # uniform over 4 classes
    generated = one_hot([0] * 60 + [1] * 38 + [2] * 2)  # class 2 only a stray 2% (< 0.1 * 25%), class 3 never
    result = class_coverage(generated, reference)
    assert result["classes_hit"] == 2 and result["class_coverage"] == 0.5
    shares = np.array([0.6, 0.38, 0.02])
    assert result["class_kl"] == pytest.approx(float((shares * np.log(shares / 0.25)).sum()))
    assert class_coverage(reference, reference) == {"classes_hit": 4, "class_coverage": 1.0, "class_kl": 0.0}
