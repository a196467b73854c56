"""fd_norm and memorisation on the tiny quadrant images with the domain classifier: the normalisation's two anchors,
and memorisation's replay / real-data levels."""
import json

import pytest
import torch

from multigan.images.modality import ImageModality
from multigan.metrics.config import EvalConfig
from multigan.metrics.features import subset_indices
from multigan.metrics.agnostic import agnostic_extractor
from multigan.metrics.memorisation import memorisation_rate, nearest, reference_level
from multigan.registry import METRICS, load_plugins
from tests.metrics.conftest import QuadrantImages

# 300 samples > the 256-d classifier embedding, so every covariance is full rank
CONFIG = EvalConfig(metrics=["fd_norm", "memorisation"], n_samples=300, batch_size=64, classifier_epochs=10)


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("agnostic-cache")  # the classifier trains once for the module


def build(name, context, config=CONFIG):
    return METRICS.get(name)(config, context)


def test_fd_norm_maps_the_floor_to_0_and_the_trivial_baseline_to_1(shared_cache, make_quadrant_context):
    context = make_quadrant_context(shared_cache)
    metric = build("fd_norm", context)
    train = context.dataset("train")  # the floor split: the reference split is test
    floor_samples = train.gather(subset_indices(len(train), CONFIG.n_samples, CONFIG.seed))
    value = metric.compute({"image": floor_samples["image"]})["fd_norm"]
    assert value.value == pytest.approx(0.0, abs=1e-9)
    noise = ImageModality.trivial_samples(CONFIG.n_samples, torch.Generator().manual_seed(CONFIG.seed), context.info)
    baseline = metric.compute(noise)["fd_norm"]
    assert baseline.value == pytest.approx(1.0, abs=1e-9)
    protocol = baseline.protocol
    assert protocol["fd_baseline"] > protocol["fd_floor"] > 0 and protocol["fd"] == protocol["fd_baseline"]
    assert protocol["extractor"] == "classifier" and protocol["baseline"].startswith("uniform noise images")
    assert (protocol["n_generated"], protocol["n_baseline"], protocol["n_real_vs_real"]) == (300, 300, 300)
    json.dumps(baseline.to_json())


def test_fd_norm_orders_a_degraded_generator_between_the_anchors(shared_cache, make_quadrant_context):
    context = make_quadrant_context(shared_cache)
    train = context.dataset("train")
    images = train.gather(torch.arange(300))["image"]
    blurred = 0.5 * images + 0.5 * torch.rand(images.shape, generator=torch.Generator().manual_seed(1)) * 2 - 0.5
    value = build("fd_norm", context).compute({"image": blurred.clamp(-1, 1)})["fd_norm"].value
    assert 0.0 < value < 1.0


def test_memorisation_is_1_for_replayed_training_images_and_the_real_level_for_fresh_real_ones(
        shared_cache, make_quadrant_context):
    context = make_quadrant_context(shared_cache)
    metric = build("memorisation", context)
    train = context.dataset("train")
    replay = train.gather(torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:300])
    replayed = metric.compute({"image": replay["image"]})["memorisation"]
    assert replayed.value > 0.97
    level = replayed.protocol["real_vs_real"]
    assert 0.15 < level < 0.7  # real test data against itself: at most about 1/2 (docstring); 0.30 here
    # real images that are in neither split: the first 400 of an 800-image test split are the test split itself
    fresh = QuadrantImages("test", size=800).images[400:700]
    assert torch.equal(QuadrantImages("test", size=800).images[:400], context.dataset("test").images)
    real = metric.compute({"image": fresh})["memorisation"]
    assert abs(real.value - level) < 0.12
    assert real.protocol["n_train"] == 400 and "rule" in real.protocol and real.protocol["extractor"] == "classifier"


def test_memorisation_rule_on_hand_made_points():
    train = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    test = torch.tensor([[0.0, 1.0], [10.0, 3.0]])  # 1 and 3 from the training set
    generated = torch.tensor([[0.0, 0.5], [0.0, 2.0], [10.0, 2.9], [10.0, 3.5]])
    # nearest test of each: test 0 (d_T 1), test 0, test 1 (d_T 3), test 1 -> memorised: 0.5<1, not 2<1, 2.9<3, not
    assert memorisation_rate(generated, train, test) == pytest.approx(0.5)
    to_train = nearest(test, train)[0]
    assert to_train.tolist() == [1.0, 3.0]
    # leave-one-out: test 0's nearest other is test 1 (1 < 3: memorised), test 1's is test 0 (3 < 1: not)
    assert reference_level(test, to_train) == pytest.approx(0.5)


def test_the_agnostic_space_is_eval_features_when_it_names_an_extractor_for_the_modality():
    load_plugins()
    assert agnostic_extractor(EvalConfig(), "text") == "ngram-hash"  # text has no classifier: its default space
    assert agnostic_extractor(EvalConfig(features="sentence-encoder"), "text") == "sentence-encoder"
    assert agnostic_extractor(EvalConfig(features="ngram-hash"), "text") == "ngram-hash"
    assert agnostic_extractor(EvalConfig(), "image") == "classifier"
    assert agnostic_extractor(EvalConfig(features="inception-fid"), "image") == "inception-fid"
    assert agnostic_extractor(EvalConfig(features="vggish"), "text") == "ngram-hash"  # not a text extractor
