"""Token vocabulary with four specials, and the fixed-length id layout every text model sees.

A sentence becomes `max_len` ids: its tokens, then EOS when there is room, then PAD. Generators are fed BOS as
their first input and learn to emit EOS/PAD themselves (as in SeqGAN/Texygen, where padding is a token too).
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

import torch
from torch import Tensor

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)  # ids 0..3 in every vocabulary we build (sentencepiece is told the same)


class Vocabulary:
    def __init__(self, tokens: Sequence[str]):
        if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"a vocabulary starts with the specials {SPECIALS}; got {list(tokens[:4])}")
        self.tokens = list(tokens)
        self.index = {token: i for i, token in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise ValueError("a vocabulary lists each token once")
        self.pad_id, self.bos_id, self.eos_id, self.unk_id = (self.index[s] for s in SPECIALS)

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], max_size: int = 0, min_freq: int = 1) -> Vocabulary:
        """Most frequent tokens first (ties: first seen), at most `max_size` entries in all (0: no limit)."""
        counts = Counter(token for sentence in sentences for token in sentence)
        ranked = [t for t, c in counts.most_common() if c >= min_freq and t not in SPECIALS]
        if max_size:
            ranked = ranked[: max(0, max_size - len(SPECIALS))]
        return cls(list(SPECIALS) + ranked)

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        return [self.index.get(token, self.unk_id) for token in tokens]


def pack(sequences: Sequence[Sequence[int]], max_len: int, pad_id: int, eos_id: int | None) -> tuple[Tensor, int]:
    """(N, max_len) ids: each sequence cut to `max_len`, then EOS if there is room, then PAD.
    Returns the tensor and how many sequences were cut."""
    out = torch.full((len(sequences), max_len), pad_id, dtype=torch.long)
    truncated = 0
    for row, ids in enumerate(sequences):
        if len(ids) > max_len:
            truncated += 1
        ids = list(ids[:max_len])
        if eos_id is not None and len(ids) < max_len:
            ids.append(eos_id)
        out[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return out, truncated
