"""Integer-encoded n-gram counting for BLEU (the numpy half of `multigan.metrics.bleu`).

nltk rebuilds a `Counter` for every (reference, order) pair once per hypothesis. Here every distinct n-gram of the
references gets a dense integer id once (an n-gram's code is `id of its (n-1)-gram prefix * V + id of its last
token`, so codes never overflow), and every count BLEU needs is a sort over flat arrays:

- `max_count[g]`: the most times any single reference holds n-gram g (BLEU's clipping limit);
- `top_counts`: the largest count, the sentence holding it and the second-largest count, so self-BLEU gets
  "the max over every sentence but me" for all sentences at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import chain, repeat
from typing import Hashable, Sequence

import numpy as np

Sentence = Sequence[Hashable]  # tokens, e.g. the strings of `texygen_tokenize`


@dataclass
class FlatCorpus:
    """Sentences as one token-id array. Position p starts an n-gram iff `room[p] >= n`."""

    ids: np.ndarray  # (T,) token ids; -1 for a token the vocabulary does not know
    sentence: np.ndarray  # (T,) index of the sentence each token belongs to
    room: np.ndarray  # (T,) tokens from p to the end of its sentence, p included
    lengths: np.ndarray  # (S,) tokens per sentence

    @classmethod
    def encode(cls, sentences: Sequence[Sentence], vocab: dict[Hashable, int], grow: bool) -> FlatCorpus:
        """Token ids from `vocab`; `grow` adds unseen tokens (references), else they become -1 (hypotheses)."""
        lengths = np.fromiter(map(len, sentences), dtype=np.int64, count=len(sentences))
        tokens = chain.from_iterable(sentences)
        if grow:
            ids = [vocab.setdefault(token, len(vocab)) for token in tokens]
        else:
            ids = list(map(vocab.get, tokens, repeat(-1)))
        total = int(lengths.sum())
        sentence = np.repeat(np.arange(len(sentences), dtype=np.int64), lengths)
        starts = np.cumsum(lengths) - lengths
        room = np.repeat(lengths, lengths) - (np.arange(total, dtype=np.int64) - np.repeat(starts, lengths))
        return cls(np.asarray(ids, dtype=np.int64).reshape(total), sentence, room, lengths)


class NgramCodebook:
    """Dense ids for the distinct n-grams (orders 1..max_order) of a reference corpus."""

    def __init__(self, references: FlatCorpus, vocab_size: int, max_order: int):
        self.vocab_size = vocab_size
        self.max_order = max_order
        # codes[n-1]: sorted distinct codes of order n, so an n-gram's dense id is its rank there
        self.codes: list[np.ndarray] = [np.arange(vocab_size, dtype=np.int64)]
        # reference_ids[n-1]: (T,) dense id of the n-gram starting at each reference position, -1 where none does
        self.reference_ids: list[np.ndarray] = [references.ids]
        for n in range(2, max_order + 1):
            starts = np.flatnonzero(references.room >= n)
            code = self.reference_ids[-1][starts] * vocab_size + references.ids[starts + n - 1]
            distinct, dense = np.unique(code, return_inverse=True)
            ids = np.full(references.ids.shape, -1, dtype=np.int64)
            ids[starts] = dense.reshape(-1)
            self.codes.append(distinct)
            self.reference_ids.append(ids)

    def num_ngrams(self, n: int) -> int:
        return len(self.codes[n - 1])

    def lookup(self, corpus: FlatCorpus, max_order: int) -> list[np.ndarray]:
        """Per order 1..max_order, (T,) dense id of the n-gram starting at each position of `corpus`; -1 where no
        n-gram starts there or the n-gram occurs in no reference."""
        ids = [corpus.ids]
        for n in range(2, max_order + 1):
            prefix = ids[-1]
            starts = np.flatnonzero(corpus.room >= n)
            starts = starts[(prefix[starts] >= 0) & (corpus.ids[starts + n - 1] >= 0)]
            code = prefix[starts] * self.vocab_size + corpus.ids[starts + n - 1]
            rank = np.searchsorted(self.codes[n - 1], code)
            known = rank < len(self.codes[n - 1])
            known[known] = self.codes[n - 1][rank[known]] == code[known]
            order_ids = np.full(corpus.ids.shape, -1, dtype=np.int64)
            order_ids[starts[known]] = rank[known]
            ids.append(order_ids)
        return ids


@dataclass
class PairCounts:
    """How often each sentence holds each (known) n-gram of one order: one row per distinct (sentence, n-gram)."""

    sentence: np.ndarray  # (P,)
    ngram: np.ndarray  # (P,) dense n-gram id
    count: np.ndarray  # (P,) >= 1

    @classmethod
    def of(cls, corpus: FlatCorpus, ngram_ids: np.ndarray, num_ngrams: int) -> PairCounts:
        known = ngram_ids >= 0
        key = corpus.sentence[known] * max(num_ngrams, 1) + ngram_ids[known]
        pairs, count = np.unique(key, return_counts=True)
        return cls(pairs // max(num_ngrams, 1), pairs % max(num_ngrams, 1), count.astype(np.int64))

    def matches_per_sentence(self, clip: np.ndarray, num_sentences: int) -> np.ndarray:
        """(S,) BLEU numerator: sum over a sentence's n-grams of min(its count, `clip` (P,))."""
        clipped = np.minimum(self.count, clip)
        return np.bincount(self.sentence, weights=clipped, minlength=num_sentences).astype(np.int64)


@dataclass
class TopCounts:
    """Per n-gram: the largest count in one sentence, a sentence holding it, and the runner-up count (which
    equals `first` when two sentences tie for the largest)."""

    first: np.ndarray  # (G,)
    owner: np.ndarray  # (G,) a sentence whose count is `first`; -1 for an n-gram no sentence holds
    second: np.ndarray  # (G,) the largest count among the sentences other than `owner`; 0 if none

    @classmethod
    def of(cls, pairs: PairCounts, num_ngrams: int) -> TopCounts:
        order = np.lexsort((-pairs.count, pairs.ngram))  # grouped by n-gram, largest count first
        ngram, count, sentence = pairs.ngram[order], pairs.count[order], pairs.sentence[order]
        leads = np.ones(len(ngram), dtype=bool)  # first row of each n-gram's group
        leads[1:] = ngram[1:] != ngram[:-1]
        runners = np.zeros(len(ngram), dtype=bool)  # second row of a group
        runners[1:] = leads[:-1] & ~leads[1:]
        first = np.zeros(num_ngrams, dtype=np.int64)
        owner = np.full(num_ngrams, -1, dtype=np.int64)
        second = np.zeros(num_ngrams, dtype=np.int64)
        first[ngram[leads]] = count[leads]
        owner[ngram[leads]] = sentence[leads]
        second[ngram[runners]] = count[runners]
        return cls(first, owner, second)

    def excluding_self(self, pairs: PairCounts) -> np.ndarray:
        """(P,) for each (sentence, n-gram) row: the largest count of that n-gram in any *other* sentence."""
        is_owner = self.owner[pairs.ngram] == pairs.sentence
        return np.where(is_owner, self.second[pairs.ngram], self.first[pairs.ngram])


def closest_lengths(reference_lengths: np.ndarray, hypothesis_lengths: np.ndarray) -> np.ndarray:
    """(S,) nltk's `closest_ref_length`: the reference length nearest each hypothesis length, the shorter on a tie.
    `reference_lengths` must be sorted and distinct."""
    above = np.searchsorted(reference_lengths, hypothesis_lengths)  # first reference length >= hypothesis
    last = len(reference_lengths) - 1
    upper = reference_lengths[np.minimum(above, last)]
    lower = reference_lengths[np.maximum(above - 1, 0)]
    take_lower = (above > 0) & ((above > last) | (hypothesis_lengths - lower <= upper - hypothesis_lengths))
    return np.where(take_lower, lower, upper)


def closest_other_lengths(lengths: np.ndarray) -> np.ndarray:
    """(S,) for each sentence: the closest length among all the *other* sentences (nltk's tie rule)."""
    distinct, multiplicity = np.unique(lengths, return_counts=True)
    at = np.searchsorted(distinct, lengths)
    last = len(distinct) - 1
    # a sentence whose length occurs only once sees the distinct lengths without its own
    lower = distinct[np.maximum(at - 1, 0)]
    upper = distinct[np.minimum(at + 1, last)]
    has_lower, has_upper = at > 0, at < last
    take_lower = has_lower & (~has_upper | (lengths - lower <= upper - lengths))
    nearest_other = np.where(take_lower, lower, upper)
    return np.where(multiplicity[at] >= 2, lengths, nearest_other)
