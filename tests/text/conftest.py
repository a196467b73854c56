import pickle
from pathlib import Path

import numpy as np
import pytest

from multigan.core.phases import DataInfo

COCO_LIKE = [
    "a man riding a wave on top of a surfboard .",
    "a black honda motorcycle parked in front of a garage.",
    "two zebras eating from small piles of food",
    "a plate with chips sits next to a burger",
    "a large passenger airplane flying through the air.",
    "a dog lays on a bed",
]


@pytest.fixture
def corpus_files(tmp_path: Path) -> tuple[Path, Path]:
    """A tiny train/test pair of caption files (relative to `tmp_path` as data root)."""
    folder = tmp_path / "text"
    folder.mkdir()
    (folder / "train.txt").write_text("\n".join(COCO_LIKE * 3) + "\n", encoding="utf-8")
    (folder / "test.txt").write_text("a dog riding a wave .\ngiraffes parked in front of a garage\n", encoding="utf-8")
    return folder / "train.txt", folder / "test.txt"


def random_oracle_arrays(vocab: int = 30, embed: int = 6, hidden: int = 5, seed: int = 0) -> list[np.ndarray]:
    """SeqGAN's 15-array oracle layout with N(0, 1) values, small."""
    rng = np.random.default_rng(seed)
    shapes = [(vocab, embed)] + [(embed, hidden), (hidden, hidden), (hidden,)] * 4 + [(hidden, vocab), (vocab,)]
    return [rng.standard_normal(shape).astype(np.float32) for shape in shapes]


@pytest.fixture
def oracle_file(tmp_path: Path) -> Path:
    path = tmp_path / "oracle" / "params.pkl"
    path.parent.mkdir()
    path.write_bytes(pickle.dumps(random_oracle_arrays(), protocol=2))  # writing a pickle is safe; reading is not
    return path


def text_info(vocab_size: int = 12, max_len: int = 6) -> DataInfo:
    """DataInfo of a word-level text dataset with specials at 0..3."""
    vocab = ["<pad>", "<s>", "</s>", "<unk>"] + [f"w{i}" for i in range(vocab_size - 4)]
    extra = {"vocab": vocab, "tokenizer": "word", "has_specials": True, "pad_id": 0, "bos_id": 1, "eos_id": 2,
             "unk_id": 3}
    return DataInfo("text", (max_len,), extra=extra)
