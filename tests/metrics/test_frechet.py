import numpy as np
import pytest
import torch
from pytorch_fid.fid_score import calculate_frechet_distance
from torch_fidelity.metric_fid import fid_statistics_to_metric

from multigan.metrics.frechet import MetricError, RunningStats, check_enough_samples, frechet_distance


def random_statistics(dim: int, n: int, seed: int, shift: float = 0.0, scale: float = 1.0):
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((dim, dim)) / np.sqrt(dim)  # correlated features, like real embeddings
    features = rng.standard_normal((n, dim)) @ mixing * scale + shift + rng.standard_normal(dim)
    return features.mean(axis=0), np.cov(features, rowvar=False)


@pytest.mark.filterwarnings("ignore:The `disp` argument is deprecated:DeprecationWarning")  # inside pytorch-fid
@pytest.mark.parametrize("dim", [8, 64, 256])
def test_equals_pytorch_fid_and_torch_fidelity(dim):
    mu1, sigma1 = random_statistics(dim, 4 * dim, seed=1)
    mu2, sigma2 = random_statistics(dim, 4 * dim, seed=2, shift=0.3, scale=1.4)
    ours = frechet_distance(mu1, sigma1, mu2, sigma2)
    pytorch_fid = calculate_frechet_distance(mu1, sigma1, mu2, sigma2)
    fidelity = fid_statistics_to_metric({"mu": mu1, "sigma": sigma1}, {"mu": mu2, "sigma": sigma2}, verbose=False)
    assert ours == pytest.approx(pytorch_fid, rel=1e-6)
    assert ours == pytest.approx(fidelity["frechet_inception_distance"], rel=1e-6)


def test_accepts_torch_tensors_and_is_symmetric():
    mu1, sigma1 = random_statistics(16, 100, seed=3)
    mu2, sigma2 = random_statistics(16, 100, seed=4, scale=0.5)
    numpy_value = frechet_distance(mu1, sigma1, mu2, sigma2)
    tensors = [torch.from_numpy(x).float() for x in (mu1, sigma1, mu2, sigma2)]
    assert frechet_distance(*tensors) == pytest.approx(numpy_value, rel=1e-5)
    assert frechet_distance(mu2, sigma2, mu1, sigma1) == pytest.approx(numpy_value, rel=1e-9)


def test_identical_statistics_give_zero():
    mu, sigma = random_statistics(64, 300, seed=5)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-9)


def test_singular_covariance_stays_finite_and_exact():
    # rank-2 covariances in 4-d: sqrtm needs pytorch-fid's eps retry here; the eigen route is exact
    basis = np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0]])
    sigma1 = basis.T @ np.diag([4.0, 1.0]) @ basis
    sigma2 = basis.T @ np.diag([1.0, 9.0]) @ basis
    mu = np.zeros(4)
    # commuting diagonal covariances: tr sqrt(S1 S2) = sum sqrt(d1 d2) = 2 + 3
    assert frechet_distance(mu, sigma1, mu, sigma2) == pytest.approx(4 + 1 + 1 + 9 - 2 * 5, abs=1e-9)


def test_nan_statistics_are_a_clear_error():
    mu, sigma = random_statistics(4, 20, seed=6)
    bad = mu.copy()
    bad[1] = np.nan
    with pytest.raises(MetricError, match="NaN"):
        frechet_distance(bad, sigma, mu, sigma)


def test_shape_mismatch_is_a_clear_error():
    mu, sigma = random_statistics(4, 20, seed=7)
    with pytest.raises(MetricError, match="covariances must be 4x4"):
        frechet_distance(mu, sigma, mu, sigma[:3, :3])


def test_streaming_equals_batch_statistics():
    rng = np.random.default_rng(8)
    features = rng.standard_normal((1000, 32)) * 3 + 1e4  # large mean: where naive sum-of-squares loses digits
    stats = RunningStats(32, block_rows=100)  # blocks of >= 100 rows: several merges
    for chunk in np.array_split(features, [7, 300, 301, 650]):  # uneven batches, one of size 1
        stats.update(torch.from_numpy(chunk))
    assert stats.count == 1000
    np.testing.assert_allclose(stats.mean, features.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats.covariance, np.cov(features, rowvar=False), rtol=1e-9, atol=1e-9)


def test_merging_shards_equals_one_pass():
    rng = np.random.default_rng(9)
    features = rng.standard_normal((500, 8))
    whole = RunningStats(8).update(features)
    merged = RunningStats(8, block_rows=50).update(features[:123]).merge(RunningStats(8).update(features[123:]))
    np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-12)
    np.testing.assert_allclose(merged.covariance, whole.covariance, rtol=1e-12)


def test_running_stats_distance_matches_function():
    rng = np.random.default_rng(10)
    a, b = rng.standard_normal((200, 6)), rng.standard_normal((300, 6)) + 0.5
    expected = frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert RunningStats(6).update(a).frechet_distance(RunningStats(6).update(b)) == pytest.approx(expected, rel=1e-10)


def test_too_few_samples_says_why_and_suggests_kid():
    stats = RunningStats(64).update(np.random.default_rng(11).standard_normal((50, 64)))
    with pytest.raises(MetricError, match=r"only 50 samples for 64-d features.*singular.*KID"):
        stats.frechet_distance(stats)
    check_enough_samples(65, 64)  # one more sample than dimensions is enough for a full-rank covariance


def test_nan_features_rejected_on_update():
    features = torch.zeros(4, 3)
    features[2, 1] = float("inf")
    with pytest.raises(MetricError, match="NaN/inf"):
        RunningStats(3).update(features)
