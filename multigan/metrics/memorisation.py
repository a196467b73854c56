"""Memorisation as pure functions: feature-space nearest neighbours, and exact / near-duplicate sequences.

Feature rule (images, audio; any (N, D) features), per generated sample g, with T the training features and R the
real reference (test) features:

    d_T(x)    = min_t |x - t|                      distance to the nearest training example
    r*(g)     = argmin_r |g - r|                   the real test example nearest to g
    memorised = d_T(g) < d_T(r*(g))                g sits closer to the training set than real held-out data
                                                   in the same place does
    rate      = mean_g memorised

A generator that replays training examples scores ~1 (d_T(g) ~ 0). Real held-out data scores at most about 1/2
(a fresh real example and its nearest test example would be equally likely to be the nearer to the training set),
in practice less: in many dimensions the examples that are often someone's nearest neighbour ("hubs") lie near the
data's centre, hence near the training set too (0.26-0.30 on the quadrant test images). So the level is measured,
not assumed: `reference_level` applies the same rule to every test example r, with r*(r) its nearest *other* test
example (leave one out), and a run is read against it. Comparing to the local test distance, not one global threshold, keeps a generator
that favours dense regions (many similar 1s among digits) from counting as memorising.

Sequence rule (text), per generated sequence s of words, with the training sequences S:
    exact     = s is word-for-word a training sequence
    near      = max over training t of Jaccard(B(s), B(t)) >= NEAR_JACCARD, B = the set of word 2-grams padded
                with <s>, </s> (so one substituted word in a 10-word caption gives 7/11 = 0.64: near)
Both rates are reported with the same rates of the real test sequences as their reference levels.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy import sparse
from torch import Tensor

from multigan.metrics.frechet import MetricError, check_finite

NEAR_JACCARD = 0.6
CHUNK = 1024  # rows per distance block: (CHUNK, N) float32 distances at a time


def nearest(queries: Tensor, keys: Tensor, exclude_self: bool = False) -> tuple[Tensor, Tensor]:
    """(M,) distance from each row of `queries` (M, D) to its nearest row of `keys` (N, D), and that row's index.
    exclude_self: queries are keys (same tensor), and a row may not be its own neighbour."""
    if queries.ndim != 2 or keys.ndim != 2 or queries.shape[1] != keys.shape[1]:
        raise MetricError(f"nearest neighbours need (N, D) features of one D, got {tuple(queries.shape)} and "
                          f"{tuple(keys.shape)}")
    if len(keys) < 1 + exclude_self:
        raise MetricError(f"nearest neighbours need at least {1 + exclude_self} reference examples, got {len(keys)}")
    keys = keys.float()
    distances, indices = [], []
    for start in range(0, len(queries), CHUNK):
        block = torch.cdist(queries[start:start + CHUNK].float(), keys)  # (chunk, N)
        if exclude_self:
            rows = torch.arange(len(block))
            block[rows, rows + start] = float("inf")
        value, index = block.min(dim=1)
        distances.append(value)
        indices.append(index)
    return torch.cat(distances), torch.cat(indices)


def distances_to_train(test: Tensor, train: Tensor) -> Tensor:
    """(N_R,) d_T(r) of every real test example: the part of the rule that depends on the real data alone."""
    check_finite("test features", test)
    check_finite("training features", train)
    return nearest(test, train)[0]


def memorisation_rate(generated: Tensor, train: Tensor, test: Tensor, test_to_train: Tensor | None = None) -> float:
    """Share of `generated` (M, D) with d_T(g) < d_T(r*(g)) (module docstring); `test_to_train` (N_R,) may come
    from a cache of `distances_to_train(test, train)`."""
    check_finite("generated features", generated)
    test_to_train = distances_to_train(test, train) if test_to_train is None else test_to_train
    generated_to_train, _ = nearest(generated, train)
    _, nearest_test = nearest(generated, test)
    return float((generated_to_train < test_to_train[nearest_test]).double().mean())


def reference_level(test: Tensor, test_to_train: Tensor) -> float:
    """The rule applied to the real test examples themselves, each against its nearest other test example."""
    _, nearest_other = nearest(test, test, exclude_self=True)
    return float((test_to_train < test_to_train[nearest_other]).double().mean())


def padded_bigrams(words: list[str]) -> set[tuple[str, str]]:
    padded = ["<s>", *words, "</s>"]
    return set(zip(padded, padded[1:]))


def _bigram_matrix(sequences: list[list[str]], columns: dict[tuple[str, str], int]) -> tuple[sparse.csr_matrix,
                                                                                               np.ndarray]:
    """Binary (N, V) matrix of the sequences' bigrams that are in `columns`, and (N,) each sequence's bigram count
    (all of them: a bigram that no training sequence has still enlarges the union)."""
    rows, cols, sizes = [], [], np.zeros(len(sequences))
    for row, words in enumerate(sequences):
        grams = padded_bigrams(words)
        sizes[row] = len(grams)
        for gram in grams:
            if gram in columns:
                rows.append(row)
                cols.append(columns[gram])
    data = np.ones(len(rows), dtype=np.float32)
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(sequences), len(columns))), sizes


class TrainingSequences:
    """The training side of the sequence rule, built once: a set for exact matches, a sparse bigram matrix for
    Jaccard similarities."""

    def __init__(self, sequences: list[list[str]]):
        if not sequences:
            raise MetricError("memorisation needs training sequences, got none")
        self.exact = {tuple(words) for words in sequences}
        self.columns: dict[tuple[str, str], int] = {}
        for words in sequences:
            for gram in padded_bigrams(words):
                self.columns.setdefault(gram, len(self.columns))
        matrix, self.sizes = _bigram_matrix(sequences, self.columns)
        self.transposed = matrix.T.tocsr()  # (V, N_T)
        self.count = len(sequences)

    def max_jaccard(self, sequences: list[list[str]], chunk: int = 512) -> np.ndarray:
        """(M,) the highest bigram Jaccard similarity of each sequence to any training sequence."""
        queries, sizes = _bigram_matrix(sequences, self.columns)
        best = np.zeros(len(sequences))
        for start in range(0, len(sequences), chunk):
            shared = (queries[start:start + chunk] @ self.transposed).toarray()  # (chunk, N_T) |A & B|
            union = sizes[start:start + chunk, None] + self.sizes[None, :] - shared
            best[start:start + chunk] = (shared / np.maximum(union, 1)).max(axis=1)
        return best

    def duplicate_rates(self, sequences: list[list[str]], threshold: float = NEAR_JACCARD) -> dict[str, float]:
        """{"exact": share word-for-word in training, "near": share with max Jaccard >= threshold (exact ones
        included: their Jaccard is 1)}."""
        if not sequences:
            raise MetricError("memorisation needs generated sequences, got none")
        exact = np.array([tuple(words) in self.exact for words in sequences])
        near = self.max_jaccard(sequences) >= threshold
        return {"exact": float(exact.mean()), "near": float((near | exact).mean())}
