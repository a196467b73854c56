"""One-sentence-per-line corpora as datasets: strict UTF-8, blank lines skipped, fixed-length id tensors.

    data: {name: coco, tokenizer: word, max_len: 25}          # Texygen's MS-COCO captions (checksummed)
    data: {name: text_lines, train_file: my/train.txt, test_file: my/test.txt, tokenizer: sentencepiece,
           vocab_size: 4000}

The vocabulary (or sentencepiece model) always comes from the training split, so both splits share ids.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

from torch import Tensor

from multigan.core.data import SPLITS, DataError, cache_dir
from multigan.core.files import file_sha256
from multigan.core.phases import Batch, DataInfo
from multigan.registry import DATASETS
from multigan.text.tokenizers import build_tokenizer
from multigan.text.vocab import pack



def read_lines(path: Path) -> list[str]:
    """Non-blank lines, stripped (the EMNLP file pads lines with spaces). A byte that is not UTF-8 is an error
    naming the file, line and column; a file without any sentence is an error too."""
    if not path.is_file():
        raise DataError(f"{path}: no such corpus file (one sentence per line, UTF-8)")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(_first_bad_byte(path, raw)) from None
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise DataError(f"{path}: the corpus is empty (no non-blank lines)")
    return lines


def _first_bad_byte(path: Path, raw: bytes) -> str:
    for number, line in enumerate(raw.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as err:
            return f"{path}:{number}: not valid UTF-8 (byte 0x{line[err.start]:02x} at column {err.start + 1})"
    return f"{path}: not valid UTF-8"


@DATASETS.register("text_lines")
class TextLines:
    """Any pair of one-sentence-per-line files (paths relative to the data root, or absolute)."""

    @dataclass
    class Config:
        train_file: str = ""
        test_file: str = ""
        tokenizer: str = "word"  # word | whitespace | sentencepiece
        vocab_size: int = 0  # 0: every training token (word/whitespace); sentencepiece needs a size
        min_freq: int = 1  # word/whitespace: rarer training tokens become UNK
        max_len: int = 25  # ids per sentence, EOS included when it fits; longer sentences are cut
        sp_model_type: str = "unigram"  # unigram | bpe
        lowercase: bool = False
        limit: int = 0  # only the first N sentences of each split (0: all); quick trials and tests

    checksums: ClassVar[dict[str, str]] = {}  # file name -> sha256 for datasets we ship a manifest for

    def __init__(self, config: Config, root: Path, split: str):
        if split not in SPLITS:
            raise DataError(f"unknown split '{split}'; text datasets have {', '.join(SPLITS)}")
        if config.max_len < 1:
            raise DataError(f"data.max_len must be at least 1, got {config.max_len}")
        self.config = config
        train_path, path = self._path(root, "train_file"), self._path(root, f"{split}_file")
        train_lines = self._lines(train_path)
        self.sentences = train_lines if path == train_path else self._lines(path)
        tokenizer = build_tokenizer(
            config.tokenizer, train_lines, config.vocab_size, config.min_freq, config.sp_model_type,
            cache_dir(root) / "text", str(train_path),
        )
        ids = [tokenizer.encode(line) for line in self.sentences]
        vocab = tokenizer.vocab
        self.tokens, self.truncated = pack(ids, config.max_len, vocab.pad_id, vocab.eos_id)  # (N, L)
        if self.truncated:
            warnings.warn(
                f"{path.name}: {self.truncated} of {len(ids)} sentences are longer than data.max_len="
                f"{config.max_len} tokens and were cut",
                stacklevel=2,
            )
        extra = {
            "vocab": vocab.tokens, "tokenizer": config.tokenizer, "has_specials": True,
            "pad_id": vocab.pad_id, "bos_id": vocab.bos_id, "eos_id": vocab.eos_id, "unk_id": vocab.unk_id,
        }
        self.info = DataInfo("text", (config.max_len,), extra=extra)
        digest = hashlib.sha256(json.dumps([file_sha256(path), asdict(config)], sort_keys=True).encode())
        self.fingerprint = digest.hexdigest()[:16]

    def _path(self, root: Path, key: str) -> Path:
        name = getattr(self.config, key)
        if not name:
            raise DataError(f"data.{key}: give the corpus file (relative to the data root {root}, or absolute)")
        path = Path(name).expanduser()
        path = path if path.is_absolute() else root / path
        expected = self.checksums.get(path.name)
        if expected and path.is_file() and file_sha256(path) != expected:
            raise DataError(f"{path}: checksum mismatch (expected sha256 {expected[:12]}...); the file is not the "
                            "published one")
        return path

    def _lines(self, path: Path) -> list[str]:
        lines = read_lines(path)[: self.config.limit or None]
        return [line.lower() for line in lines] if self.config.lowercase else lines

    def __len__(self) -> int:
        return len(self.tokens)

    def gather(self, index: Tensor) -> Batch:
        return {"tokens": self.tokens[index]}


@DATASETS.register("coco")
class CocoCaptions(TextLines):
    """Texygen's MS-COCO captions: 10k training and 10k test sentences (data root: text/, see its MANIFEST.md).
    Longest sentence: 37 word tokens; max_len 25 cuts 0.3% of them."""

    @dataclass
    class Config(TextLines.Config):
        train_file: str = "text/image_coco.txt"
        test_file: str = "text/test_coco.txt"

    checksums = {
        "image_coco.txt": "2c0fd1f0f43aac6a9dc3926a535516ccf395de535e15ac1fd17cd569420736f5",
        "test_coco.txt": "72e25c9fb4d2cd43182ac602c92f6ffc377762147f9709572943b0b09174bcae",
    }
