"""fd_norm and memorisation on a small procedural caption corpus: the n-gram feature space's anchors, replayed and
real sentences, and near-duplicate detection."""
from pathlib import Path

import pytest
import torch

from multigan.metrics.base import EvalContext
from multigan.metrics.config import EvalConfig
from multigan.metrics.features import subset_indices
from multigan.metrics.memorisation import TrainingSequences
from multigan.metrics.ngram_features import NgramHasher, ngrams
from multigan.registry import METRICS
from multigan.text.modality import TextModality

from caption_support import caption_context

CONFIG = EvalConfig(metrics=["fd_norm", "memorisation"], n_samples=400, batch_size=100)


@pytest.fixture
def context(tmp_path: Path) -> EvalContext:
    return caption_context(tmp_path)


def test_fd_norm_maps_the_floor_to_0_and_uniform_random_tokens_to_1(context):
    metric = METRICS.get("fd_norm")(CONFIG, context)
    train = context.dataset("train")
    floor = metric.compute(train.gather(subset_indices(len(train), CONFIG.n_samples, CONFIG.seed)))["fd_norm"]
    assert floor.value == pytest.approx(0.0, abs=1e-9)
    noise = TextModality.trivial_samples(CONFIG.n_samples, torch.Generator().manual_seed(CONFIG.seed), context.info)
    baseline = metric.compute(noise)["fd_norm"]
    assert baseline.value == pytest.approx(1.0, abs=1e-9)
    assert baseline.protocol["extractor"] == "ngram-hash" and baseline.protocol["dim"] == 128
    assert baseline.protocol["baseline"].startswith("uniform random tokens")
    # the same words in a scrambled order within each sentence (one permutation of the shared block 1:7 across
    # sentences would only reorder the corpus, whose features are the training set's)
    order = torch.rand(len(train.tokens), 6, generator=torch.Generator().manual_seed(0)).argsort(dim=1) + 1  # (N, 6)
    shuffled = train.tokens.clone()
    shuffled[:, 1:7] = train.tokens.gather(1, order)
    assert 0.0 < metric.compute({"tokens": shuffled})["fd_norm"].value < 1.0  # 0.33


def test_uniform_random_tokens_avoid_the_special_tokens(context):
    tokens = TextModality.trivial_samples(500, torch.Generator().manual_seed(0), context.info)["tokens"]
    extra = context.info.extra
    assert tokens.shape == (500, 12)
    assert not torch.isin(tokens, torch.tensor([extra[k] for k in ("pad_id", "bos_id", "eos_id", "unk_id")])).any()


def test_memorisation_of_replayed_and_real_sentences(context):
    metric = METRICS.get("memorisation")(CONFIG, context)
    replay = metric.compute({"tokens": context.dataset("train").tokens.flip(0)})
    assert replay["memorisation"].value == replay["memorisation_exact"].value == 1.0
    real = metric.compute({"tokens": context.dataset("test").tokens})
    for name in ("memorisation", "memorisation_exact"):  # the reference split itself scores its reference level
        assert real[name].value == real[name].protocol["real_vs_real"]
    # 400 of 3240 captions drawn twice: about 1 - (1 - 1/3240)^400 = 12% of test captions are training ones
    assert 0.05 < real["memorisation_exact"].value < 0.2
    assert real["memorisation"].value > real["memorisation_exact"].value  # one word apart is near, not exact
    assert real["memorisation"].protocol["n_train"] == 400 and "near_rule" in real["memorisation"].protocol


def test_near_duplicates_are_found_and_unrelated_sentences_are_not():
    train = [s.split() for s in ["a man riding a wave on top of a surfboard .", "two zebras eating from piles"]]
    index = TrainingSequences(train)
    one_word_changed = "a man riding a wave on top of a skateboard .".split()  # 10 of 14 bigrams shared
    unrelated = "a plate with chips next to a burger".split()
    assert index.max_jaccard([one_word_changed]).tolist() == pytest.approx([10 / 14])
    rates = index.duplicate_rates([train[0], one_word_changed, unrelated, train[1]])
    assert rates == {"exact": 0.5, "near": 0.75}


def test_hashed_ngram_features_count_each_ngram_once_with_its_sign():
    hasher = NgramHasher(dim=16)
    words = ["a", "dog", "a"]
    grams = ngrams(words)
    assert grams == ["a", "dog", "a", "<s>\u241fa", "a\u241fdog", "dog\u241fa", "a\u241f</s>"]
    expected = torch.zeros(16)
    for gram in grams:
        column, sign = hasher.bucket(gram)
        expected[column] += sign
    assert torch.equal(hasher([words])[0], expected)
    assert hasher([words]).abs().sum() <= len(grams) and NgramHasher(dim=16).bucket("dog") == hasher.bucket("dog")
