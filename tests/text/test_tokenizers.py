import pytest
import torch
from nltk.tokenize import word_tokenize

from multigan.core.data import DataError
from multigan.text.tokenizers import SentencePieceTokenizer, build_tokenizer, decode

from .conftest import COCO_LIKE

LINES = COCO_LIKE * 20


def test_word_tokenizer_is_texygens_nltk_call(tmp_path):
    tokenizer = build_tokenizer("word", LINES, 0, 1, "unigram", tmp_path, "train.txt")
    line = "a black honda motorcycle parked in front of a garage."
    expected = word_tokenize(line, preserve_line=True)
    assert expected[-1] == "."  # the full stop is split off, as in Texygen
    assert [tokenizer.vocab.tokens[i] for i in tokenizer.encode(line)] == expected


def test_whitespace_tokenizer_keeps_punctuation_attached(tmp_path):
    tokenizer = build_tokenizer("whitespace", LINES, 0, 1, "unigram", tmp_path, "train.txt")
    ids = tokenizer.encode("in front of a garage.")
    assert tokenizer.vocab.tokens[ids[-1]] == "garage."


def test_unknown_tokenizer_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="data.tokenizer: expected one of word, whitespace, sentencepiece"):
        build_tokenizer("bpe", LINES, 0, 1, "unigram", tmp_path, "train.txt")


@pytest.mark.parametrize("model_type", ["unigram", "bpe"])
def test_sentencepiece_round_trips_through_info_alone(tmp_path, model_type):
    tokenizer = SentencePieceTokenizer(LINES, 60, model_type, tmp_path, "train.txt")
    vocab = tokenizer.vocab
    assert vocab.tokens[:4] == ["<pad>", "<s>", "</s>", "<unk>"]
    extra = {"vocab": vocab.tokens, "tokenizer": "sentencepiece", "pad_id": 0, "bos_id": 1, "eos_id": 2}
    for line in COCO_LIKE:
        ids = tokenizer.encode(line) + [vocab.eos_id, vocab.pad_id]
        assert decode(torch.tensor([ids]), extra) == [line]  # pieces joined, '▁' -> space, stops at EOS
        assert tokenizer.processor.decode(tokenizer.encode(line)) == line  # agrees with the library


def test_sentencepiece_model_is_cached_and_reused(tmp_path):
    first = SentencePieceTokenizer(LINES, 60, "unigram", tmp_path, "train.txt")
    mtime = first.model_path.stat().st_mtime_ns
    second = SentencePieceTokenizer(LINES, 60, "unigram", tmp_path, "train.txt")
    assert second.model_path == first.model_path and second.model_path.stat().st_mtime_ns == mtime
    assert second.vocab.tokens == first.vocab.tokens
    other = SentencePieceTokenizer(LINES, 50, "unigram", tmp_path, "train.txt")
    assert other.model_path != first.model_path  # a different vocabulary size is a different model


def test_sentencepiece_vocabulary_too_large_names_the_key(tmp_path):
    with pytest.raises(DataError, match=r"data.vocab_size=5000 is larger than sentencepiece can build .*at most \d+"):
        SentencePieceTokenizer(LINES, 5000, "unigram", tmp_path, "train.txt")


def test_decode_word_level_stops_at_eos_and_skips_bos():
    extra = {"vocab": ["<pad>", "<s>", "</s>", "<unk>", "a", "dog"], "tokenizer": "word",
             "pad_id": 0, "bos_id": 1, "eos_id": 2}
    tokens = torch.tensor([[1, 4, 5, 2, 4, 4], [4, 4, 4, 4, 5, 5], [0, 4, 5, 0, 0, 0]])
    assert decode(tokens, extra) == ["a dog", "a a a a dog dog", ""]


def test_decode_plain_ids_has_no_specials():
    extra = {"vocab": [str(i) for i in range(5)], "tokenizer": "ids", "has_specials": False,
             "pad_id": None, "bos_id": 0, "eos_id": None}
    assert decode(torch.tensor([[0, 3, 0, 4]]), extra) == ["0 3 0 4"]
