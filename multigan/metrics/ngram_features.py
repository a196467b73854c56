"""A fixed, training-free feature space for sequence modalities (text): signed hashed n-gram counts.

Each example becomes word tokens through its modality's `sequences` hook (text: detokenised, then Texygen's
tokenizer, as BLEU reads it). Its word 1-grams and 2-grams (the 2-grams padded with <s> and </s>, so the first and
last words count as such) are counted into DIM buckets by the signed hashing trick (Weinberger et al. 2009):

    phi(x)_j = sum over n-grams g of x with bucket(g) = j of sign(g)
    bucket(g) = h(g) mod DIM, sign(g) = +1 if bit 32 of h(g) is set else -1, h = 64-bit BLAKE2b of g's UTF-8

That is the exact n-gram count vector times a fixed sparse random +-1 projection: deterministic on every machine
(no seed, no weights, no training data), so real statistics cache on the data alone and two runs' distances are
comparable. No logits (the Inception Score and class coverage need a classifier; text has none).
"""
from __future__ import annotations

import hashlib
from typing import Any

import torch
from torch import Tensor

from multigan.core.phases import DataInfo, SequenceModality
from multigan.metrics.base import EvalContext
from multigan.metrics.config import EvalConfig
from multigan.metrics.features import FeatureExtractor
from multigan.metrics.frechet import MetricError
from multigan.registry import FEATURE_INPUTS, FEATURES, MODALITIES

DIM = 128  # few enough that a few hundred sentences give a full-rank covariance, enough to separate corpora
ORDERS = (1, 2)


def ngrams(words: list[str], orders: tuple[int, ...] = ORDERS) -> list[str]:
    """The word n-grams of one sequence as strings (words joined by U+241F), 2-grams and up padded."""
    grams = []
    for n in orders:
        padded = words if n == 1 else ["<s>", *words, "</s>"]
        grams.extend("\u241f".join(padded[i:i + n]) for i in range(len(padded) - n + 1))
    return grams


class NgramHasher:
    """Sequences -> (N, DIM) float32 signed hashed n-gram counts; hashes memoised per distinct n-gram."""

    def __init__(self, dim: int = DIM, orders: tuple[int, ...] = ORDERS):
        self.dim, self.orders = dim, orders
        self._buckets: dict[str, tuple[int, float]] = {}

    def bucket(self, gram: str) -> tuple[int, float]:
        if gram not in self._buckets:
            h = int.from_bytes(hashlib.blake2b(gram.encode("utf-8"), digest_size=8).digest(), "little")
            self._buckets[gram] = (h % self.dim, 1.0 if (h >> 32) & 1 else -1.0)
        return self._buckets[gram]

    def __call__(self, sequences: list[list[str]]) -> Tensor:
        features = torch.zeros(len(sequences), self.dim)
        for row, words in enumerate(sequences):
            for gram in ngrams(words, self.orders):
                column, sign = self.bucket(gram)
                features[row, column] += sign
        return features


@FEATURES.register("ngram-hash")
class NgramHashExtractor(FeatureExtractor):
    """The feature space of the modality-agnostic measures for text (FeatureInput.agnostic_features)."""

    name = "ngram-hash"
    version = "1"
    any_modality = True  # any sequence modality (core.phases.SequenceModality)
    scores_sequences = True

    def __init__(self, info: DataInfo, device: torch.device | str = "cpu"):
        modality = MODALITIES.get(info.modality)
        if not isinstance(modality, SequenceModality):
            raise MetricError(f"the ngram-hash feature extractor scores sequences; {info.modality} samples are not")
        self.info = info
        self.input = FEATURE_INPUTS.get(info.modality)
        self.sequences = modality.sequences
        self.hasher = NgramHasher()
        self.feature_dim, self.num_classes = self.hasher.dim, 0
        self.device = torch.device(device)

    @classmethod
    def from_context(cls, config: EvalConfig, context: EvalContext) -> "NgramHashExtractor":
        return cls(context.info, context.device)

    def features_and_logits(self, prepared: Tensor) -> tuple[Tensor, Tensor]:
        words = self.sequences({self.input.key: prepared.cpu()}, self.info)
        features = self.hasher(words)  # (B, DIM)
        return features.to(self.device), torch.zeros(len(features), 0, device=self.device)

    def identity(self) -> dict[str, Any]:
        return {"version": self.version, "dim": self.hasher.dim, "orders": list(self.hasher.orders),
                "hash": "blake2b-64, bucket h mod dim, sign bit 32",
                "tokens": "the modality's sequences() (text: Texygen tokens of the decoded text)"}
