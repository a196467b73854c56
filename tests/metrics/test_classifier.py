from pathlib import Path

import pytest
import torch

import multigan.metrics.classifier as classifier
from multigan.metrics.classifier import ClassifierExtractor, DomainClassifier, ClassifierConfig
from multigan.metrics.config import EvalConfig
from multigan.metrics.frechet import MetricError

FAST = EvalConfig(classifier_epochs=10, n_samples=300)  # quadrants: 400 images, 3 steps an epoch


def counting_trainer(monkeypatch) -> list[int]:
    calls = []
    train = classifier.train_classifier

    def wrapped(*args, **kwargs):
        calls.append(1)
        return train(*args, **kwargs)

    monkeypatch.setattr(classifier, "train_classifier", wrapped)
    return calls


def test_trains_once_then_loads_from_cache(tmp_path, monkeypatch, make_quadrant_context):
    calls = counting_trainer(monkeypatch)
    first = ClassifierExtractor.from_context(FAST, make_quadrant_context(tmp_path))
    assert first.held_out_accuracy >= 0.95  # quadrants are easy: a check that training works at all
    second = ClassifierExtractor.from_context(FAST, make_quadrant_context(tmp_path))
    assert len(calls) == 1
    assert second.weights_sha256 == first.weights_sha256
    assert second.held_out_accuracy == first.held_out_accuracy
    assert second.identity()["classifier_accuracy"] == round(first.held_out_accuracy, 4)


def test_other_data_or_settings_retrain(tmp_path, monkeypatch, make_quadrant_context):
    calls = counting_trainer(monkeypatch)
    ClassifierExtractor.from_context(FAST, make_quadrant_context(tmp_path))
    ClassifierExtractor.from_context(FAST, make_quadrant_context(tmp_path, fingerprint_salt="-edited"))
    ClassifierExtractor.from_context(EvalConfig(classifier_epochs=11), make_quadrant_context(tmp_path))
    assert len(calls) == 3
    assert len(list((Path(tmp_path) / "classifiers").glob("*.safetensors"))) == 3


def test_unreadable_cached_classifier_is_retrained(tmp_path, monkeypatch, make_quadrant_context):
    calls = counting_trainer(monkeypatch)
    ClassifierExtractor.from_context(FAST, make_quadrant_context(tmp_path))
    (cached,) = (Path(tmp_path) / "classifiers").glob("*.safetensors")
    cached.write_bytes(b"\x00 not safetensors")
    assert ClassifierExtractor.from_context(FAST, make_quadrant_context(tmp_path)).held_out_accuracy >= 0.95
    assert len(calls) == 2


def test_training_leaves_the_global_rng_alone(tmp_path, make_quadrant_context):
    before = torch.random.get_rng_state()
    ClassifierExtractor.from_context(FAST, make_quadrant_context(tmp_path))
    assert torch.equal(torch.random.get_rng_state(), before)


def test_unlabelled_dataset_is_a_clear_error(tmp_path, make_quadrant_context):
    context = make_quadrant_context(tmp_path)
    context.info.num_classes = 0
    with pytest.raises(MetricError, match="needs a labelled dataset.*inception-fid"):
        ClassifierExtractor.from_context(FAST, context)


def test_stages_follow_resolution():
    def stride_two_convs(size):
        model = DomainClassifier((3, size, size), 10, ClassifierConfig())
        return sum(isinstance(m, torch.nn.Conv2d) for m in model.modules())

    assert [stride_two_convs(s) for s in (16, 28, 32, 64)] == [2, 3, 3, 4]  # down to <= 4 px


@pytest.mark.slow
def test_fashion_mnist_accuracy(data_root, tmp_path):
    from multigan.metrics.base import EvalContext
    from multigan.registry import DATASETS

    if not (data_root / "fashion_mnist").is_dir():
        pytest.skip(f"fashion_mnist not found under {data_root}")
    dataset = DATASETS.get("fashion_mnist")
    config = dataset.Config()
    context = EvalContext(info=dataset(config, data_root, "test").info, data_name="fashion_mnist",
                          data_config=config, data_root=data_root, cache_dir=tmp_path, device=torch.device("cpu"))
    extractor = ClassifierExtractor.from_context(EvalConfig(), context)  # default: 3 epochs
    assert extractor.held_out_accuracy >= 0.89
