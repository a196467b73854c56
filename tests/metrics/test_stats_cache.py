import numpy as np
import pytest

from multigan.metrics.stats_cache import StatsCache, key_digest

KEY = {"dataset": "quadrants", "fingerprint": "abc", "split": "test", "extractor": "classifier",
       "identity": '{"version":"cnn-1"}', "n": 100}


def counting(arrays):
    calls = []

    def compute():
        calls.append(1)
        return arrays

    return compute, calls


def test_round_trip_computes_once(tmp_path):
    cache = StatsCache(tmp_path)
    arrays = {"mean": np.arange(3.0), "features": np.ones((2, 3), np.float32)}
    compute, calls = counting(arrays)
    first = cache.get_or_compute("features", KEY, compute)
    second = StatsCache(tmp_path).get_or_compute("features", KEY, compute)
    assert len(calls) == 1
    for name in arrays:
        np.testing.assert_array_equal(second[name], arrays[name])
        assert second[name].dtype == first[name].dtype
    assert not list(cache.root.glob("*.tmp"))  # the atomic write left no temp file


def test_other_extractor_version_is_recomputed(tmp_path):
    cache = StatsCache(tmp_path)
    cache.get_or_compute("features", KEY, lambda: {"mean": np.zeros(2)})
    newer = {**KEY, "identity": '{"version":"cnn-2"}'}
    compute, calls = counting({"mean": np.ones(2)})
    assert cache.get_or_compute("features", newer, compute)["mean"].tolist() == [1.0, 1.0]
    assert len(calls) == 1


def test_entry_stored_under_another_key_is_never_reused(tmp_path):
    # a file at the right path whose stored key differs (a collision, a hand-copied file): recompute
    cache = StatsCache(tmp_path)
    other = {**KEY, "identity": '{"version":"cnn-0"}'}
    cache.store("features", other, {"mean": np.zeros(2)})
    cache.path_for("features", other).rename(cache.path_for("features", KEY))
    compute, calls = counting({"mean": np.ones(2)})
    assert cache.get_or_compute("features", KEY, compute)["mean"].tolist() == [1.0, 1.0]
    assert len(calls) == 1 and cache.load("features", KEY)["mean"].tolist() == [1.0, 1.0]


def test_corrupt_entry_is_recomputed(tmp_path):
    cache = StatsCache(tmp_path)
    path = cache.store("features", KEY, {"mean": np.zeros(2)})
    path.write_bytes(b"\x00garbage")
    assert cache.load("features", KEY) is None


def test_key_order_does_not_matter_and_kind_separates():
    assert key_digest(dict(reversed(list(KEY.items())))) == key_digest(KEY)


def test_values_round_trip(tmp_path):
    cache = StatsCache(tmp_path)
    values = cache.get_or_compute_values("floor", KEY, lambda: {"fid": 1.25, "kid_subset_size": 100})
    again = cache.get_or_compute_values("floor", KEY, lambda: pytest.fail("should come from the cache"))
    assert values == again == {"fid": 1.25, "kid_subset_size": 100.0}
    assert cache.path_for("floor", KEY) != cache.path_for("features", KEY)
