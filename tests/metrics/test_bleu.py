"""BLEU / self-BLEU equal nltk's sentence_bleu (Texygen protocol) per sentence, and reproduce Texygen's table."""
from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from multigan.metrics.bleu import (
    BleuError,
    ReferenceIndex,
    bleu_scores,
    self_bleu,
    self_bleu_sentence_scores,
    texygen_bleu,
    texygen_tokenize,
)

ORDERS = (1, 2, 3, 4, 5)
TOLERANCE = 1e-9  # the contract; in practice the values are bit-identical


def nltk_bleu(references, hypothesis, n: int) -> float:
    """The Texygen call, verbatim: uniform weights 1/n, smoothing method1."""
    weights = tuple(1.0 / n for _ in range(n))
    return sentence_bleu(references, hypothesis, weights, smoothing_function=SmoothingFunction().method1)


def nltk_self_bleu(sentences, n: int) -> list[float]:
    return [nltk_bleu(sentences[:i] + sentences[i + 1 :], s, n) for i, s in enumerate(sentences)]


def assert_matches_nltk(hypotheses, references, orders=ORDERS):
    ours = ReferenceIndex(references, max(orders)).sentence_scores(hypotheses, orders)
    for n in orders:
        expected = [nltk_bleu(references, h, n) for h in hypotheses]
        worst = max(abs(a - b) for a, b in zip(ours[n], expected))
        assert worst <= TOLERANCE, f"BLEU-{n}: max |ours - nltk| = {worst}"


def random_sentences(rng: random.Random, count: int, vocab: str = "abcde", max_len: int = 9):
    return [[rng.choice(vocab) for _ in range(rng.randint(0, max_len))] for _ in range(count)]


def text_file(relative: str) -> Path:
    # as tests/conftest.py's `data_root` (function-scoped, so the module-scoped index below cannot use it)
    root = Path(os.environ.get("MULTIGAN_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
    path = root / "text" / relative
    if not path.is_file():
        pytest.skip(f"needs {path} (set MULTIGAN_DATA to the shared data root)")
    return path


def tokenized_lines(relative: str, limit: int | None = None) -> list[list[str]]:
    with open(text_file(relative)) as lines:  # Texygen tokenizes each line as read, newline included
        return [texygen_tokenize(line) for _, line in zip(range(limit or 10**9), lines)]


def test_bleu_equals_nltk_on_random_sentences():
    rng = random.Random(0)  # 5-letter vocabulary: plenty of partial and repeated matches, some empty sentences
    assert_matches_nltk(random_sentences(rng, 150), random_sentences(rng, 40))


def test_bleu_equals_nltk_on_coco_sentences():
    references = tokenized_lines("test_coco.txt", limit=300)
    generated = tokenized_lines("texygen_instances/mle.txt", limit=30)
    assert_matches_nltk(generated + references[:10], references)  # the last 10 match a reference exactly


CORNER_CASES = {
    "empty hypothesis": ([], [["a", "b"], ["c"]]),
    "shorter than every order above 2": (["a", "b"], [["a", "b", "c", "d", "e", "f"]]),
    "no unigram match": (["x", "y", "z"], [["a", "b", "c"]]),
    "unigrams match, no bigram": (["c", "b", "a"], [["a", "b", "c"]]),
    "clipping of a repeated token": (["the"] * 7, [["the", "cat", "is", "on", "the", "mat"], ["the", "cat"]]),
    "length tie picks the shorter reference": (["a", "b", "c"], [["a", "b", "c", "d"], ["a", "b"]]),
    "hypothesis longer than every reference": (["a", "b", "a", "b", "a", "b", "c"], [["a", "b"], ["b", "a", "b"]]),
    "exact match": (["a", "b", "c", "d", "e"], [["a", "b", "c", "d", "e"], ["e"]]),
    "empty reference among others": (["a", "b"], [[], ["a", "b", "c"]]),
    "only empty references": (["a", "b"], [[], []]),
    "tokens are any hashable": ([1, 2, 3, 2, 3], [[2, 3, 2, 3], [1, 2]]),
}


@pytest.mark.parametrize("hypothesis, references", CORNER_CASES.values(), ids=CORNER_CASES.keys())
def test_bleu_corner_cases_equal_nltk(hypothesis, references):
    assert_matches_nltk([hypothesis], references)


def test_zero_unigram_matches_and_empty_hypothesis_score_zero():
    scores = bleu_scores([[], ["x"]], [["a", "b"]], orders=(2, 5))
    assert scores == {2: 0.0, 5: 0.0}


def test_mean_is_texygen_mean_of_sentence_scores():
    rng = random.Random(1)
    references, hypotheses = random_sentences(rng, 30), random_sentences(rng, 20)
    for n in (2, 3, 4, 5):
        expected = sum(nltk_bleu(references, h, n) for h in hypotheses) / len(hypotheses)
        assert abs(texygen_bleu(hypotheses, references, n) - expected) <= TOLERANCE


def test_reference_index_reused_is_independent_of_batching():
    rng = random.Random(2)
    index = ReferenceIndex(random_sentences(rng, 50), max_order=4)
    first, second = random_sentences(rng, 30), random_sentences(rng, 25)
    together = index.sentence_scores(first + second, (2, 4))
    apart = {n: index.sentence_scores(first, (2, 4))[n] + index.sentence_scores(second, (2, 4))[n] for n in (2, 4)}
    assert together == apart


def test_self_bleu_equals_nltk_with_duplicates():
    rng = random.Random(3)
    sentences = random_sentences(rng, 40, vocab="abcd")
    # duplicates: a sentence's copy still counts as its reference; ties for the top count and for the length
    sentences += [["a", "b", "a", "b"], ["a", "b", "a", "b"], ["d"] * 6, sentences[0], []]
    ours = self_bleu_sentence_scores(sentences, ORDERS)
    for n in ORDERS:
        worst = max(abs(a - b) for a, b in zip(ours[n], nltk_self_bleu(sentences, n)))
        assert worst <= TOLERANCE, f"self-BLEU-{n}: max |ours - nltk| = {worst}"


def test_self_bleu_excludes_only_the_sentence_itself():
    # "a a a" is the only sentence with three a's: against the others its unigram clip is 2, not 3
    sentences = [["a", "a", "a"], ["a", "a", "b"], ["b"]]
    ours = self_bleu_sentence_scores(sentences, (1, 2))
    for n in (1, 2):
        assert ours[n] == pytest.approx(nltk_self_bleu(sentences, n), abs=TOLERANCE)
    assert ours[1][0] == pytest.approx(2 / 3, abs=TOLERANCE)  # hypothesis length 3, closest other length 3: BP 1


def test_self_bleu_of_identical_and_of_empty_sentences():
    assert self_bleu([list("abcde")] * 2) == {2: 1.0, 3: 1.0, 4: 1.0, 5: 1.0}  # each is the other's reference
    assert self_bleu([[], [], []]) == {2: 0.0, 3: 0.0, 4: 0.0, 5: 0.0}
    assert ReferenceIndex([["a"]]).sentence_scores([], (2,)) == {2: []}


def test_self_bleu_on_coco_sentences_equals_nltk():
    sentences = tokenized_lines("texygen_instances/textgan.txt", limit=60)  # short, repetitive, some empty
    means = self_bleu(sentences)
    for n in (2, 3, 4, 5):
        expected = nltk_self_bleu(sentences, n)
        assert abs(means[n] - sum(expected) / len(expected)) <= TOLERANCE


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: bleu_scores(["a b"], [["a"]]), "token lists"),
        (lambda: bleu_scores([["a"]], np.array([[1, 2]])), "token lists"),
        (lambda: bleu_scores([["a"]], []), "at least one reference"),
        (lambda: bleu_scores([], [["a"]]), "at least one hypothesis"),
        (lambda: bleu_scores([["a"]], [["a"]], orders=(0, 2)), "positive integers"),
        (lambda: ReferenceIndex([["a"]], max_order=3).score([["a"]], (4,)), "up to 3"),
        (lambda: self_bleu([["a"]]), "at least two sentences"),
    ],
)
def test_bad_inputs_raise_one_clear_error(call, message):
    with pytest.raises(BleuError, match=message):
        call()


def test_texygen_tokenize_is_treebank_without_punkt():
    line = "a man's dog isn't on the couch.\n"
    assert texygen_tokenize(line) == ["a", "man", "'s", "dog", "is", "n't", "on", "the", "couch", "."]


# Texygen docs/evaluation.md, "On test dataset" and "Mode Collapse (Self-BLEU)": BLEU-2..5 per model.
TEXYGEN_TEST_BLEU = {
    "seq": (0.745, 0.498, 0.294, 0.180),
    "maligan": (0.673, 0.432, 0.257, 0.159),
    "rank": (0.743, 0.467, 0.264, 0.156),
    "leakgan": (0.746, 0.528, 0.355, 0.230),
    "textgan": (0.593, 0.463, 0.277, 0.207),
    "mle": (0.731, 0.497, 0.305, 0.189),
}
TEXYGEN_SELF_BLEU = {
    "seq": (0.950, 0.840, 0.670, 0.489),
    "maligan": (0.918, 0.781, 0.606, 0.437),
    "rank": (0.959, 0.882, 0.762, 0.618),
    "leakgan": (0.966, 0.913, 0.848, 0.780),
    "textgan": (0.942, 0.931, 0.804, 0.746),
    "mle": (0.916, 0.769, 0.583, 0.408),
}


@pytest.fixture(scope="module")
def coco_reference_index():
    return ReferenceIndex(tokenized_lines("test_coco.txt"))


@pytest.mark.slow
@pytest.mark.parametrize("model", TEXYGEN_TEST_BLEU)
def test_reproduces_texygen_table(model, coco_reference_index):
    """All 9984 published samples of each model vs all 10,000 test captions (Texygen's full, non-"fast" mode)."""
    generated = tokenized_lines(f"texygen_instances/{model}.txt")
    bleu = coco_reference_index.score(generated)
    if model == "seq":  # the published SeqGAN row is 1e-3 off these samples (.7457 .4977 .2945 .1801)
        assert [bleu[n] for n in (2, 3, 4, 5)] == pytest.approx(TEXYGEN_TEST_BLEU[model], abs=1.5e-3)
    else:
        assert tuple(round(bleu[n], 3) for n in (2, 3, 4, 5)) == TEXYGEN_TEST_BLEU[model]
    # self-BLEU (full mode: every sample against the other 9983) lands within 1e-3 of the published row
    diversity = self_bleu(generated)
    assert [diversity[n] for n in (2, 3, 4, 5)] == pytest.approx(TEXYGEN_SELF_BLEU[model], abs=1.5e-3)
