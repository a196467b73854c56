"""Sentences as word-id lists, and the corruptions the learned sentence space is trained (and tested) to tell apart.

A row of token ids (L,) means its ids up to the first EOS or PAD, BOS dropped (what `tokenizers.decode` shows);
a modality without specials (the synthetic oracle) means all L ids. The corruptions keep a sentence's words (but
the word-level LM's), so telling them from real text needs word order, not word statistics:

    local_shuffle       each consecutive 3-word window permuted at random (local order broken, words in place)
    full_shuffle        all words permuted at random
    drop_duplicate      one word dropped and another repeated next to itself (same length; generators' stutter)
    bigram_lm           a fresh sentence from the train split's word-bigram LM (locally fluent, globally not)
"""
from __future__ import annotations

import random
from typing import Any, Callable

import torch
from torch import Tensor

Words = list[int]
LOCAL_WINDOW = 3


def sentence_words(tokens: Tensor, extra: dict[str, Any]) -> list[Words]:
    """Each row of `tokens` (N, L) as the ids of its words: up to the first EOS/PAD, BOS dropped."""
    if not extra.get("has_specials", True):
        return tokens.tolist()
    stops = {extra["eos_id"], extra["pad_id"]}
    sentences = []
    for row in tokens.tolist():
        words = []
        for token in row:
            if token in stops:
                break
            if token != extra["bos_id"]:
                words.append(token)
        sentences.append(words)
    return sentences


def pack_words(sentences: list[Words], max_len: int, extra: dict[str, Any]) -> Tensor:
    """(N, max_len) ids in the dataset's layout: words, then EOS when there is room, then PAD."""
    specials = extra.get("has_specials", True)
    pad = extra["pad_id"] if specials else 0
    out = torch.full((len(sentences), max_len), pad, dtype=torch.long)
    for row, words in enumerate(sentences):
        ids = list(words[:max_len]) + ([extra["eos_id"]] if specials and len(words) < max_len else [])
        if ids:
            out[row, : len(ids)] = torch.tensor(ids)
    return out


def local_shuffle(words: Words, rng: random.Random, window: int = LOCAL_WINDOW) -> Words:
    out = []
    for start in range(0, len(words), window):
        chunk = words[start : start + window]
        rng.shuffle(chunk)
        out += chunk
    return out


def full_shuffle(words: Words, rng: random.Random) -> Words:
    out = list(words)
    rng.shuffle(out)
    return out


def drop_duplicate(words: Words, rng: random.Random) -> Words:
    """Drop the word at one position and repeat the word at another in place (w_j w_j): the length is kept."""
    if len(words) < 2:
        return words + words
    out = list(words)
    del out[rng.randrange(len(out))]
    at = rng.randrange(len(out))
    return out[: at + 1] + out[at:]


class BigramLM:
    """The maximum-likelihood word-bigram LM of a corpus (sentence start and end as states), sampled exactly:
    the successor of w is a uniformly drawn occurrence of a bigram (w, .) in the corpus."""

    def __init__(self, sentences: list[Words], vocab_size: int):
        self.boundary = vocab_size  # the start-of-sentence state, and the end token
        pairs = [(a, b) for s in sentences for a, b in zip([self.boundary, *s], [*s, self.boundary])]
        pairs.sort()
        self.successors = torch.tensor([b for _, b in pairs])  # grouped by predecessor
        counts = torch.bincount(torch.tensor([a for a, _ in pairs]), minlength=vocab_size + 1)
        self.counts, self.offsets = counts, torch.cumsum(counts, 0) - counts

    def sample(self, n: int, max_len: int, generator: torch.Generator) -> list[Words]:
        state = torch.full((n,), self.boundary)
        done = torch.zeros(n, dtype=torch.bool)
        sentences: list[Words] = [[] for _ in range(n)]
        for _ in range(max_len):
            count = self.counts[state].clamp(min=1)  # every word seen is followed by something (the end at least)
            pick = (torch.rand(n, generator=generator) * count).long().clamp(max=count - 1)
            state = self.successors[self.offsets[state] + pick]  # (n,)
            done |= state == self.boundary
            for row in (~done).nonzero().flatten().tolist():
                sentences[row].append(int(state[row]))
            if done.all():
                break
        return sentences


# the classes of the encoder's training objective, in label order; 0 is real text
CORRUPTIONS: dict[str, Callable[[Words, random.Random], Words] | None] = {
    "real": None, "local_shuffle": local_shuffle, "full_shuffle": full_shuffle, "drop_duplicate": drop_duplicate,
    "bigram_lm": None,  # drawn from a BigramLM of the train split, not made from the sentence
}
