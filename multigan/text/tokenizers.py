"""Tokenizers a recipe picks by name (`data.tokenizer`), and decoding ids back to text from `DataInfo` alone.

    word           nltk.word_tokenize(s, preserve_line=True): Texygen's tokenization, no nltk data download
    whitespace     str.split()
    sentencepiece  unigram or BPE pieces trained on the training split (cached by corpus hash + options)

Every tokenizer ends with a `Vocabulary` whose ids 0..3 are PAD, BOS, EOS, UNK. The vocabulary's token strings go
into `DataInfo.extra`, so a checkpoint decodes its samples without the data or the sentencepiece model.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any, Callable, Sequence

from torch import Tensor

from multigan.core.data import DataError
from multigan.core.files import write_bytes_atomic
from multigan.text.vocab import BOS, EOS, PAD, UNK, Vocabulary

TOKENIZERS = ("word", "whitespace", "sentencepiece")
SP_MODEL_TYPES = ("unigram", "bpe")
SP_SPACE = "\u2581"  # sentencepiece's word-boundary mark '▁'


def word_split(line: str) -> list[str]:
    from nltk.tokenize import word_tokenize  # slow to import; only tokenizing needs it

    return word_tokenize(line, preserve_line=True)


def whitespace_split(line: str) -> list[str]:
    return line.split()


SPLITTERS: dict[str, Callable[[str], list[str]]] = {"word": word_split, "whitespace": whitespace_split}


class SplitTokenizer:
    """Word-level: split each line, vocabulary of the training split's most frequent tokens (rest -> UNK)."""

    def __init__(self, name: str, train_lines: Sequence[str], vocab_size: int, min_freq: int):
        self.name = name
        self.split = SPLITTERS[name]
        self.vocab = Vocabulary.build((self.split(line) for line in train_lines), vocab_size, min_freq)

    def encode(self, line: str) -> list[int]:
        return self.vocab.encode(self.split(line))


class SentencePieceTokenizer:
    """Pieces from a sentencepiece model trained on the training split; the model is cached in `cache` under a
    key of (training text, options), so every run on the same data and options reuses it."""

    name = "sentencepiece"

    def __init__(self, train_lines: Sequence[str], vocab_size: int, model_type: str, cache: Path, source: str):
        import sentencepiece as spm

        if model_type not in SP_MODEL_TYPES:
            raise DataError(f"data.sp_model_type: expected one of {', '.join(SP_MODEL_TYPES)}, got '{model_type}'")
        if vocab_size <= len((PAD, BOS, EOS, UNK)):
            raise DataError(f"data.vocab_size: sentencepiece needs a vocabulary size above 4, got {vocab_size}")
        options = {"vocab_size": vocab_size, "model_type": model_type, "character_coverage": 1.0}
        key = hashlib.sha256(("\n".join(train_lines) + json.dumps(options, sort_keys=True)).encode()).hexdigest()
        path = cache / "sentencepiece" / f"{key[:20]}.model"
        if not path.is_file():
            write_bytes_atomic(path, _train_sentencepiece(train_lines, options, source))
        self.processor = spm.SentencePieceProcessor(model_file=str(path))
        self.model_path = path
        self.vocab = Vocabulary([self.processor.id_to_piece(i) for i in range(self.processor.get_piece_size())])

    def encode(self, line: str) -> list[int]:
        return self.processor.encode(line)


def _train_sentencepiece(lines: Sequence[str], options: dict[str, Any], source: str) -> bytes:
    import sentencepiece as spm

    model = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(lines),
            model_writer=model,
            pad_id=0, bos_id=1, eos_id=2, unk_id=3,  # our Vocabulary's specials, same ids
            pad_piece=PAD, bos_piece=BOS, eos_piece=EOS, unk_piece=UNK,
            minloglevel=2,
            num_threads=1,  # one thread: the same corpus always gives the same pieces
            **options,
        )
    except RuntimeError as err:
        limit = re.search(r"value <= (\d+)", str(err))
        if limit:
            raise DataError(
                f"data.vocab_size={options['vocab_size']} is larger than sentencepiece can build from {source} "
                f"(at most {limit.group(1)} pieces); lower data.vocab_size"
            ) from None
        raise DataError(f"sentencepiece could not train on {source}: {str(err).splitlines()[0]}") from None
    return model.getvalue()


def build_tokenizer(
    name: str, train_lines: Sequence[str], vocab_size: int, min_freq: int, sp_model_type: str, cache: Path, source: str
) -> SplitTokenizer | SentencePieceTokenizer:
    if name in SPLITTERS:
        return SplitTokenizer(name, train_lines, vocab_size, min_freq)
    if name == "sentencepiece":
        return SentencePieceTokenizer(train_lines, vocab_size, sp_model_type, cache, source)
    raise DataError(f"data.tokenizer: expected one of {', '.join(TOKENIZERS)}, got '{name}'")


def decode(tokens: Tensor, extra: dict[str, Any]) -> list[str]:
    """Text of each row of `tokens` (N, L) from `DataInfo.extra` alone: stops at the first EOS (or PAD, which
    only follows the end), drops BOS; sentencepiece pieces are joined and '▁' becomes a space."""
    vocab: list[str] = extra["vocab"]
    specials = extra.get("has_specials", True)  # False: every id is a plain token (the synthetic oracle)
    stops = {extra.get("eos_id"), extra.get("pad_id")} - {None} if specials else set()
    skip = {extra.get("bos_id")} - {None} if specials else set()
    join = _join_pieces if extra.get("tokenizer") == "sentencepiece" else " ".join
    lines = []
    for row in tokens.tolist():
        words = []
        for token in row:
            if token in stops:
                break
            if token not in skip:
                words.append(vocab[token])
        lines.append(join(words))
    return lines


def _join_pieces(pieces: list[str]) -> str:
    return "".join(pieces).replace(SP_SPACE, " ").strip()


