import warnings

import pytest
import torch

from multigan.core.data import DataError
from multigan.text.corpus import CocoCaptions, TextLines, read_lines
from multigan.text.tokenizers import decode


def lines_config(**kwargs) -> TextLines.Config:
    return TextLines.Config(train_file="text/train.txt", test_file="text/test.txt", **kwargs)


def test_read_lines_skips_blank_lines_and_strips(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"a cat  \n\n   \r\nthe dog\r\n")
    assert read_lines(path) == ["a cat", "the dog"]


def test_empty_corpus_is_an_error(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n \n\n", encoding="utf-8")
    with pytest.raises(DataError, match="empty.txt: the corpus is empty"):
        read_lines(path)


def test_bad_utf8_names_file_line_and_byte(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes("one\ntwo caf\u00e9\n".encode() + b"thr\xffee\n")
    with pytest.raises(DataError, match=r"bad.txt:3: not valid UTF-8 \(byte 0xff at column 4\)"):
        read_lines(path)


def test_missing_file_says_where_it_looked(tmp_path):
    with pytest.raises(DataError, match="no such corpus file"):
        TextLines(lines_config(), tmp_path / "nowhere", "train")


def test_dataset_tensor_layout_and_info(corpus_files):
    root = corpus_files[0].parents[1]
    data = TextLines(lines_config(max_len=12), root, "train")
    assert data.tokens.shape == (18, 12) and data.info.shape == (12,)
    extra = data.info.extra
    assert (extra["pad_id"], extra["bos_id"], extra["eos_id"], extra["unk_id"]) == (0, 1, 2, 3)
    assert decode(data.tokens[:1], extra) == ["a man riding a wave on top of a surfboard ."]
    batch = data.gather(torch.tensor([1, 0]))
    assert torch.equal(batch["tokens"], data.tokens[[1, 0]])


def test_test_split_uses_the_training_vocabulary(corpus_files):
    root = corpus_files[0].parents[1]
    train, test = TextLines(lines_config(), root, "train"), TextLines(lines_config(), root, "test")
    assert train.info.extra["vocab"] == test.info.extra["vocab"]
    assert test.sentences == ["a dog riding a wave .", "giraffes parked in front of a garage"]
    assert test.tokens[1, 0] == test.info.extra["unk_id"]  # 'giraffes' never occurs in training
    assert train.fingerprint != test.fingerprint


def test_long_lines_are_cut_counted_and_reported_once(corpus_files):
    root = corpus_files[0].parents[1]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = TextLines(lines_config(max_len=8), root, "train")
    assert data.truncated == 12  # four of the six captions, three times each, have more than 8 tokens
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "12 of 18 sentences are longer than data.max_len=8" in messages[0]


def test_sentencepiece_dataset(corpus_files):
    root = corpus_files[0].parents[1]
    data = TextLines(lines_config(tokenizer="sentencepiece", vocab_size=40, max_len=80), root, "train")
    assert data.info.extra["tokenizer"] == "sentencepiece" and len(data.info.extra["vocab"]) == 40
    assert decode(data.tokens[:2], data.info.extra) == [
        "a man riding a wave on top of a surfboard .", "a black honda motorcycle parked in front of a garage."]


def test_coco_is_checksummed_and_cut_at_max_len(data_root):
    if not (data_root / "text" / "image_coco.txt").is_file():
        pytest.skip("text/image_coco.txt not in the data root")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = CocoCaptions(CocoCaptions.Config(max_len=25), data_root, "test")
    assert len(data) == 10000 and data.tokens.shape == (10000, 25)
    assert 4000 < len(data.info.extra["vocab"]) < 5000  # word tokens of the 10k training captions
