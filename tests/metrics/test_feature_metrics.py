"""The registered image metrics end to end on the tiny quadrant dataset with the domain classifier."""
import json

import pytest
import torch

from multigan.metrics.config import EvalConfig
from multigan.metrics.features import FeatureExtractor, subset_indices
from multigan.metrics.frechet import MetricError
from multigan.images.inception import InceptionWeightsError
from multigan.registry import METRICS

ALL = ["fid", "kid", "is", "prdc", "class_coverage"]
# quadrants: 400 images a split; 300 samples > 256 embedding dims, so FID's covariances are full rank
CONFIG = EvalConfig(metrics=ALL, n_samples=300, batch_size=64, classifier_epochs=10)


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("metrics-cache")  # the classifier trains once for the module


def build(names, config, context):
    return {name: METRICS.get(name)(config, context) for name in names}


def score(metrics, samples):
    results = {}
    for metric in metrics.values():
        results.update(metric.compute(samples))
    return results


def reference_images(context, config=CONFIG):
    dataset = context.dataset(config.reference_split)
    return dataset.gather(subset_indices(len(dataset), config.n_samples, config.seed))


def test_every_value_carries_its_protocol_and_floor(shared_cache, make_quadrant_context):
    context = make_quadrant_context(shared_cache)
    train = context.dataset("train")
    samples = {"image": train.gather(torch.arange(300))["image"].flip(-1)}  # mirrored real images
    results = score(build(ALL, CONFIG, context), samples)
    assert set(results) == {"fid", "kid", "is", "precision", "recall", "density", "coverage", "class_coverage",
                            "class_kl"}
    for name, value in results.items():
        protocol = value.protocol
        assert protocol["extractor"] == "classifier" and protocol["version"] == "cnn-1", name
        assert protocol["classifier_accuracy"] >= 0.95 and protocol["train_fingerprint"], name
        assert (protocol["n_generated"], protocol["n_reference"], protocol["n_real_vs_real"]) == (300, 300, 300)
        assert protocol["reference_split"] == "test" and protocol["floor_split"] == "train"
        assert protocol["resolution"] == [16, 16]
        assert isinstance(protocol["real_vs_real"], float), name
        json.dumps(value.to_json())  # eval.json and the JSONL log take it as it is
    assert results["kid"].protocol["kid_subset_size"] == 300 and results["kid"].protocol["kid_std"] >= 0
    assert results["fid"].value > results["fid"].protocol["real_vs_real"]  # mirrored quadrants change class


def test_scoring_the_reference_itself(shared_cache, make_quadrant_context):
    context = make_quadrant_context(shared_cache)
    results = score(build(["fid", "prdc", "class_coverage"], CONFIG, context), reference_images(context))
    assert results["fid"].value == pytest.approx(0.0, abs=1e-6)
    assert results["precision"].value == results["recall"].value == results["coverage"].value == 1.0
    assert results["class_coverage"].value == 1.0 and results["class_kl"].value == pytest.approx(0.0, abs=1e-12)


def test_generated_features_are_extracted_once_for_all_metrics(shared_cache, make_quadrant_context, monkeypatch):
    context = make_quadrant_context(shared_cache)
    metrics = build(ALL, CONFIG, context)
    samples = reference_images(context)
    score(metrics, samples)  # reference features and floors now cached
    batches = []
    original = FeatureExtractor.feature_set  # every extraction of a set ends here

    def counting(self, parts):
        batches.append(1)
        return original(self, parts)

    monkeypatch.setattr(FeatureExtractor, "feature_set", counting)
    score(metrics, {"image": samples["image"].clone()})
    assert len(batches) == 1  # one pass for five metrics; nothing re-extracted from the real data


def test_statistics_of_another_extractor_version_are_recomputed(shared_cache, make_quadrant_context, monkeypatch):
    from multigan.metrics.classifier import ClassifierExtractor

    samples = reference_images(make_quadrant_context(shared_cache))
    score(build(["fid"], CONFIG, make_quadrant_context(shared_cache)), samples)  # cached under version cnn-1
    passes = []
    original = FeatureExtractor.feature_set  # every extraction of a set ends here
    monkeypatch.setattr(FeatureExtractor, "feature_set", lambda self, parts: passes.append(1) or original(self, parts))
    score(build(["fid"], CONFIG, make_quadrant_context(shared_cache)), samples)
    assert len(passes) == 1  # same version: only the generated samples
    monkeypatch.setattr(ClassifierExtractor, "version", "cnn-1-changed")
    result = score(build(["fid"], CONFIG, make_quadrant_context(shared_cache)), samples)
    assert len(passes) == 1 + 3  # generated, reference and floor-split features all extracted anew
    assert result["fid"].protocol["version"] == "cnn-1-changed"


def test_value_does_not_depend_on_batch_size(shared_cache, make_quadrant_context):
    samples = {"image": torch.rand(300, 1, 16, 16) * 2 - 1}
    values = []
    for batch_size in (64, 37):
        config = EvalConfig(metrics=["fid", "kid"], n_samples=300, batch_size=batch_size, classifier_epochs=10)
        results = score(build(["fid", "kid"], config, make_quadrant_context(shared_cache)), samples)
        values.append((results["fid"].value, results["kid"].value))
    assert values[0] == pytest.approx(values[1], rel=1e-5)


def test_mode_collapse_shows_in_class_coverage(shared_cache, make_quadrant_context):
    context = make_quadrant_context(shared_cache)
    reference = reference_images(context)
    collapsed = {"image": reference["image"][reference["label"] == 0]}  # only class 0: 75 images
    results = score(build(["class_coverage"], CONFIG, context), collapsed)
    assert results["class_coverage"].value == 0.25
    assert results["class_kl"].value == pytest.approx(torch.log(torch.tensor(4.0)).item(), rel=0.05)


def test_fid_on_too_few_samples_says_so(shared_cache, make_quadrant_context):
    context = make_quadrant_context(shared_cache)
    samples = {"image": reference_images(context)["image"][:100]}
    with pytest.raises(MetricError, match="only 100 generated samples for 256-d features.*KID"):
        score(build(["fid"], CONFIG, context), samples)


@pytest.mark.parametrize("name", ["fid", "fd_norm"])
def test_a_frechet_metric_that_could_not_score_is_refused_when_built(name, shared_cache, make_quadrant_context):
    # built before training starts: a run must not train for an hour and then fail at its evaluation
    context = make_quadrant_context(shared_cache)
    config = EvalConfig(metrics=[name], n_samples=200, batch_size=64, classifier_epochs=10)
    with pytest.raises(MetricError, match=rf"eval.metrics: {name}: only 200 generated samples \(eval.n_samples\) "
                                          "for 256-d features.*KID"):
        METRICS.get(name)(config, context)


def test_nan_samples_are_a_clear_error(shared_cache, make_quadrant_context):
    context = make_quadrant_context(shared_cache)
    images = reference_images(context)["image"].clone()
    images[7, 0, 3, 3] = float("nan")
    with pytest.raises(MetricError, match="images: 1 NaN/inf"):
        score(build(["fid"], CONFIG, context), {"image": images})


def test_samples_of_another_shape_are_rejected(shared_cache, make_quadrant_context):
    context = make_quadrant_context(shared_cache)
    with pytest.raises(MetricError, match=r"shape \(1, 32, 32\) but the dataset's are \(1, 16, 16\)"):
        score(build(["fid"], CONFIG, context), {"image": torch.zeros(300, 1, 32, 32)})


def test_inception_without_weights_fails_at_build_time(tmp_path, make_quadrant_context, monkeypatch):
    monkeypatch.delenv("MULTIGAN_INCEPTION_WEIGHTS", raising=False)
    config = EvalConfig(metrics=["fid"], features="inception-fid")
    with pytest.raises(InceptionWeightsError, match="pt_inception-2015-12-05-6726825d.pth"):
        build(["fid"], config, make_quadrant_context(tmp_path))
