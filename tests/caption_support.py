"""A tiny caption corpus the text-metric tests share (tests/ is on sys.path through pytest's `pythonpath`):
'a <adjective> <noun> <verb> <preposition> the <place> .', 3240 distinct captions of 8 words and a stop."""
from __future__ import annotations

import random
from pathlib import Path

import torch

from multigan.metrics.base import EvalContext
from multigan.registry import DATASETS

WORDS = {
    "adjective": ["small", "red", "old", "large", "white", "young"],
    "noun": ["dog", "man", "cat", "woman", "bus", "bird"],
    "verb": ["sits", "stands", "waits", "runs", "sleeps"],
    "preposition": ["on", "near", "behind"],
    "place": ["bench", "street", "table", "beach", "field", "bed"],
}


def captions(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    w = {key: rng.choices(values, k=n) for key, values in WORDS.items()}
    return [f"a {w['adjective'][i]} {w['noun'][i]} {w['verb'][i]} {w['preposition'][i]} the {w['place'][i]} ."
            for i in range(n)]


def caption_context(root: Path, n_train: int = 400, seed: int = 1) -> EvalContext:
    """`text_lines` with n_train train captions (seed) and 400 test captions (seed 2) under `root`."""
    (root / "train.txt").write_text("\n".join(captions(n_train, seed)) + "\n")
    (root / "test.txt").write_text("\n".join(captions(400, 2)) + "\n")
    kind = DATASETS.get("text_lines")
    config = kind.Config(train_file="train.txt", test_file="test.txt", max_len=12)
    info = kind(config, root, "train").info
    return EvalContext(info, "text_lines", config, root, root / "cache", torch.device("cpu"))
