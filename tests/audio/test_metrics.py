"""Audio metrics end to end: the log-mel classifier (trained and cached by the one classifier trainer), its IS,
FAD-classifier and class coverage with floors, and FAD through our VGGish with a random weights file."""
import dataclasses

import pytest
import torch

from multigan.audio import vggish
from multigan.core.files import file_sha256
from multigan.metrics.config import EvalConfig
from multigan.metrics.features import subset_indices
from multigan.metrics.frechet import MetricError
from multigan.metrics.inception_score import inception_score
from multigan.registry import METRICS

CONFIG = EvalConfig(n_samples=90, batch_size=45, classifier_epochs=60)  # 90 clips: one step an epoch


def score(names, samples, context, config=CONFIG):
    results = {}
    for name in names:
        results.update(METRICS.get(name)(config, context).compute(samples, None))
    return results


def real(context, split, n=90):
    dataset = context.dataset(split)
    return dataset.gather(subset_indices(len(dataset), n, 0))


def test_inception_score_of_one_class_is_one_and_of_a_confident_spread_is_the_class_count():
    one_class = torch.zeros(100, 10)
    one_class[:, 3] = 30.0
    assert inception_score(one_class)[0] == pytest.approx(1.0, abs=1e-6)
    spread = torch.full((100, 10), -30.0)
    spread[torch.arange(100), torch.arange(100) % 10] = 30.0
    assert inception_score(spread, shuffle=False)[0] == pytest.approx(10.0, rel=1e-6)


def test_classifier_is_coverage_and_fad_with_their_floors(tone_context):
    test = real(tone_context, "test")
    results = score(["is", "class_coverage", "fad_classifier"], {"audio": test["audio"]}, tone_context)
    protocol = results["fad_classifier"].protocol
    assert protocol["extractor"] == "classifier" and protocol["version"] == "logmel-cnn-1"
    assert protocol["classifier_accuracy"] >= 0.95 and protocol["quantized"] == "PCM16"
    assert protocol["data_length"] == 4096 and protocol["n_real_vs_real"] == 90
    assert 2.3 < results["is"].value <= 3.0  # confident and balanced: near the class count (10 splits of 9 clips)
    assert results["class_coverage"].value == 1.0
    assert results["fad_classifier"].value == pytest.approx(0.0, abs=1e-6)  # the reference scored against itself
    assert results["fad_classifier"].protocol["real_vs_real"] > 0

    one_class = test["audio"][test["label"] == 1]
    repeated = one_class.repeat(90 // len(one_class) + 1, 1, 1)[:90]
    results = score(["is", "class_coverage"], {"audio": repeated}, tone_context)
    assert results["is"].value == pytest.approx(1.0, abs=0.05)
    assert results["class_coverage"].value == pytest.approx(1 / 3)

    noise = {"audio": (0.3 * torch.randn(90, 1, 4096, generator=torch.Generator().manual_seed(0))).clamp(-1, 1)}
    far = score(["fad_classifier"], noise, tone_context)["fad_classifier"]
    assert far.value > 10 * far.protocol["real_vs_real"]


@pytest.mark.slow
def test_fad_with_vggish_weights_from_a_file(tone_context, tmp_path, monkeypatch):
    torch.manual_seed(0)
    path = tmp_path / vggish.WEIGHTS.file_name
    torch.save(vggish.VGGish().state_dict(), path)
    monkeypatch.setattr(vggish, "WEIGHTS", dataclasses.replace(vggish.WEIGHTS, sha256_prefix=file_sha256(path)[:8]))
    config = dataclasses.replace(CONFIG, n_samples=130, vggish_weights=str(tmp_path))
    test = real(tone_context, "test", 90)
    samples = {"audio": torch.cat([test["audio"], real(tone_context, "train", 40)["audio"]])}  # 130 real clips
    with pytest.raises(MetricError, match="only 90 reference samples for 128-d"):
        score(["fad"], samples, tone_context, config)
    monkeypatch.setattr(tone_context.data_config, "test_every", 0)  # both splits: all 180 clips
    tone_context.datasets.clear()
    config = dataclasses.replace(config, n_samples=180, real_floor=False)
    samples = {"audio": real(tone_context, "test", 180)["audio"]}
    result = score(["fad"], samples, tone_context, config)["fad"]
    assert result.value < 1e-5  # the reference scored against itself (float32 convs: batch-size rounding)
    assert result.protocol["extractor"] == "vggish" and result.protocol["resampled_to"] == 16000
    assert result.protocol["embedding"] == "fc 128 before ReLU, no PCA"
    noise = {"audio": (0.3 * torch.randn(180, 1, 4096)).clamp(-1, 1)}
    assert score(["fad"], noise, tone_context, config)["fad"].value > 30 * result.value  # random weights: small


def test_inception_score_needs_logits(tone_context, tmp_path, monkeypatch):
    torch.manual_seed(0)
    path = tmp_path / vggish.WEIGHTS.file_name
    torch.save(vggish.VGGish().state_dict(), path)
    monkeypatch.setattr(vggish, "WEIGHTS", dataclasses.replace(vggish.WEIGHTS, sha256_prefix=file_sha256(path)[:8]))
    config = dataclasses.replace(CONFIG, features="vggish", vggish_weights=str(path), real_floor=False)
    with pytest.raises(MetricError, match="needs an extractor with class logits; 'vggish'"):
        score(["is"], {"audio": torch.zeros(20, 1, 4096)}, tone_context, config)


def test_image_extractors_refuse_audio(tone_context):
    with pytest.raises(MetricError, match="'inception-fid' scores image samples; this run's data is audio"):
        score(["fid"], {"audio": torch.zeros(4, 1, 4096)}, tone_context,
              dataclasses.replace(CONFIG, features="inception-fid", inception_weights=__file__))


def test_the_audio_classifier_is_trained_once_and_cached_like_the_image_one(tone_context, monkeypatch):
    import multigan.metrics.classifier as classifier

    ClassifierExtractor = classifier.ClassifierExtractor
    first = ClassifierExtractor.from_context(CONFIG, tone_context)  # trained now or by an earlier test
    monkeypatch.setattr(classifier, "train_classifier", lambda *a: pytest.fail("retrained a cached classifier"))
    second = ClassifierExtractor.from_context(CONFIG, tone_context)
    assert second.weights_sha256 == first.weights_sha256 and second.identity()["version"] == "logmel-cnn-1"
    assert list((tone_context.cache_dir / "classifiers").glob("audio_folder-logmel-cnn-1-*.safetensors"))
    assert first.feature_dim == 64 and first.num_classes == 3
