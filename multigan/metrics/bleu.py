"""BLEU and self-BLEU for text GANs, following the Texygen protocol exactly and fast.

Protocol (Texygen `utils/metrics/Bleu.py`, `SelfBleu.py`, full mode): tokens from `texygen_tokenize`; every
generated sentence is a hypothesis scored against the WHOLE reference set with nltk's `sentence_bleu`, uniform
weights 1/n for BLEU-n and `SmoothingFunction().method1` (epsilon 0.1 on zero-match orders); the score is the plain
mean over hypotheses. Self-BLEU scores each generated sentence against all the others.

Each hypothesis' value equals nltk 3.10's bit for bit: the counts come from an integer n-gram index
(`bleu_index`), then the float maths below repeats nltk's operations in nltk's order:

    p_k   = m_k / t_k                    m_k clipped k-gram matches, t_k = max(1, len - k + 1)
    p_k   = 0.1 / t_k        if m_k = 0  (method1)
    BP    = 1 if len > r else exp(1 - r / len)     r: closest reference length, the shorter on a tie
    BLEU-n = BP * exp(fsum(1/n * log p_k for k = 1..n)),   and 0 if m_1 = 0 (nltk's early return)
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np
import torch

from multigan.metrics.bleu_index import (
    FlatCorpus,
    NgramCodebook,
    PairCounts,
    Sentence,
    TopCounts,
    closest_lengths,
    closest_other_lengths,
)

TEXYGEN_ORDERS = (2, 3, 4, 5)
EPSILON = 0.1  # SmoothingFunction().method1's count for an order without matches


class BleuError(ValueError):
    """Inputs BLEU cannot score (no references, untokenized sentences, bad orders). One line, fit for a user."""


def texygen_tokenize(line: str) -> list[str]:
    """Texygen's tokenizer: nltk's Treebank word tokenizer on the whole line (no punkt sentence splitting, so no
    nltk data download is needed). Reproduces the Texygen BLEU table on its published samples."""
    from nltk.tokenize import (
        word_tokenize,  # nltk is slow to import; only tokenizing needs it
    )

    return word_tokenize(line, preserve_line=True)


class ReferenceIndex:
    """Every count BLEU needs from a reference set, built once; scores many hypothesis sets.

    Holds, per order n <= max_order, the largest count of each n-gram in any single reference (the clipping
    limit), and the sorted distinct reference lengths (for the brevity penalty)."""

    def __init__(self, references: Sequence[Sentence], max_order: int = max(TEXYGEN_ORDERS)):
        _check_tokenized(references, "references")
        if len(references) == 0:
            raise BleuError("BLEU needs at least one reference sentence; got an empty reference set")
        _check_orders((max_order,), max_order=None)
        self.max_order = max_order
        self.num_references = len(references)
        self._vocab: dict = {}
        corpus = FlatCorpus.encode(references, self._vocab, grow=True)
        self._codebook = NgramCodebook(corpus, len(self._vocab), max_order)
        self._max_count = []  # per order: (G_n,) largest count of each n-gram in one reference
        for n in range(1, max_order + 1):
            num = self._codebook.num_ngrams(n)
            pairs = PairCounts.of(corpus, self._codebook.reference_ids[n - 1], num)
            self._max_count.append(TopCounts.of(pairs, num).first)
        self._lengths = np.unique(corpus.lengths)  # sorted distinct reference lengths

    def sentence_scores(
        self, hypotheses: Sequence[Sentence], orders: Iterable[int] = TEXYGEN_ORDERS
    ) -> dict[int, list[float]]:
        """BLEU-n of each hypothesis against all references, for each n in `orders` (nltk `sentence_bleu`)."""
        _check_tokenized(hypotheses, "hypotheses")
        orders = _check_orders(orders, self.max_order)
        corpus = FlatCorpus.encode(hypotheses, self._vocab, grow=False)
        ngram_ids = self._codebook.lookup(corpus, max(orders))
        matches = []
        for n, ids in enumerate(ngram_ids, start=1):
            pairs = PairCounts.of(corpus, ids, self._codebook.num_ngrams(n))
            matches.append(pairs.matches_per_sentence(self._max_count[n - 1][pairs.ngram], len(hypotheses)))
        reference_lengths = closest_lengths(self._lengths, corpus.lengths)
        return _scores_from_counts(np.stack(matches, axis=1), corpus.lengths, reference_lengths, orders)

    def score(self, hypotheses: Sequence[Sentence], orders: Iterable[int] = TEXYGEN_ORDERS) -> dict[int, float]:
        """Texygen BLEU-n: the mean over hypotheses of their sentence BLEU-n."""
        if len(hypotheses) == 0:
            raise BleuError("BLEU needs at least one hypothesis sentence; got none")
        return {n: _texygen_mean(values) for n, values in self.sentence_scores(hypotheses, orders).items()}


def bleu_scores(
    hypotheses: Sequence[Sentence], references: Sequence[Sentence], orders: Iterable[int] = TEXYGEN_ORDERS
) -> dict[int, float]:
    """Texygen BLEU-n for every n in `orders` in one pass: {2: BLEU-2, 3: BLEU-3, ...}."""
    orders = _check_orders(orders, max_order=None)
    return ReferenceIndex(references, max(orders)).score(hypotheses, orders)


def texygen_bleu(hypotheses: Sequence[Sentence], references: Sequence[Sentence], max_n: int) -> float:
    """Texygen BLEU-`max_n`: mean nltk sentence BLEU with weights (1/max_n,) * max_n and smoothing method1."""
    return bleu_scores(hypotheses, references, (max_n,))[max_n]


def self_bleu_sentence_scores(
    sentences: Sequence[Sentence], orders: Iterable[int] = TEXYGEN_ORDERS
) -> dict[int, list[float]]:
    """BLEU-n of each sentence against all the others (a duplicate elsewhere still counts as a reference)."""
    _check_tokenized(sentences, "sentences")
    orders = _check_orders(orders, max_order=None)
    if len(sentences) < 2:
        raise BleuError(
            f"self-BLEU needs at least two sentences (each is scored against the others); got {len(sentences)}"
        )
    vocab: dict = {}
    corpus = FlatCorpus.encode(sentences, vocab, grow=True)
    codebook = NgramCodebook(corpus, len(vocab), max(orders))
    matches = []
    for n in range(1, max(orders) + 1):
        num = codebook.num_ngrams(n)
        pairs = PairCounts.of(corpus, codebook.reference_ids[n - 1], num)
        # the clipping limit is the largest count among the OTHER sentences: the top count unless this sentence
        # is the one holding it, then the runner-up
        others_max = TopCounts.of(pairs, num).excluding_self(pairs)
        matches.append(pairs.matches_per_sentence(others_max, len(sentences)))
    reference_lengths = closest_other_lengths(corpus.lengths)
    return _scores_from_counts(np.stack(matches, axis=1), corpus.lengths, reference_lengths, orders)


def self_bleu(sentences: Sequence[Sentence], orders: Iterable[int] = TEXYGEN_ORDERS) -> dict[int, float]:
    """Texygen self-BLEU-n (full mode): the mean over sentences of each one's BLEU-n against all the others."""
    return {n: _texygen_mean(values) for n, values in self_bleu_sentence_scores(sentences, orders).items()}


def _scores_from_counts(
    matches: np.ndarray, lengths: np.ndarray, reference_lengths: np.ndarray, orders: tuple[int, ...]
) -> dict[int, list[float]]:
    """nltk's float maths, per sentence. matches: (S, max order) clipped k-gram matches; lengths,
    reference_lengths: (S,) hypothesis and closest reference lengths."""
    log_precision: dict[tuple[int, int], float] = {}  # memo: the same (matches, total) recurs constantly
    weights = {n: 1.0 / n for n in orders}
    scores: dict[int, list[float]] = {n: [] for n in orders}
    for row, length, reference_length in zip(matches.tolist(), lengths.tolist(), reference_lengths.tolist()):
        if row[0] == 0:  # no unigram matches (or an empty hypothesis): nltk returns 0 for every order
            for n in orders:
                scores[n].append(0.0)
            continue
        penalty = 1.0 if length > reference_length else math.exp(1 - reference_length / length)
        logs = []
        for k, matched in enumerate(row, start=1):
            total = max(1, length - k + 1)
            key = (matched, total)
            if key not in log_precision:
                # int / int is what Fraction.__float__ does; method1 adds epsilon to a zero numerator
                log_precision[key] = math.log(matched / total if matched else (0 + EPSILON) / total)
            logs.append(log_precision[key])
        for n in orders:
            weight = weights[n]
            scores[n].append(penalty * math.exp(math.fsum(weight * log for log in logs[:n])))
    return scores


def _texygen_mean(values: list[float]) -> float:
    """Left-to-right float sum / count, as Texygen accumulates (independent of Python's `sum` algorithm)."""
    total = 0.0
    for value in values:
        total += value
    return total / len(values)


def _check_orders(orders: Iterable[int], max_order: int | None) -> tuple[int, ...]:
    orders = tuple(dict.fromkeys(orders))
    if not orders or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in orders):
        raise BleuError(f"BLEU orders must be positive integers, e.g. (2, 3, 4, 5); got {orders}")
    if max_order is not None and max(orders) > max_order:
        raise BleuError(f"BLEU-{max(orders)} asked of a ReferenceIndex built for orders up to {max_order}")
    return orders


def _check_tokenized(sentences: Sequence[Sentence], what: str) -> None:
    # a raw string would be scored as characters, a tensor row as tokens hashed by identity (never matching)
    if _not_token_list(sentences) or any(_not_token_list(sentence) for sentence in sentences):
        raise BleuError(
            f"BLEU {what} must be lists of token lists (texygen_tokenize(line), or tensor.tolist() for ids), "
            "not raw strings or tensors"
        )


def _not_token_list(value) -> bool:
    return isinstance(value, (str, np.ndarray, torch.Tensor))
