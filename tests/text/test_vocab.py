import pytest
import torch

from multigan.text.vocab import SPECIALS, Vocabulary, pack


def test_build_orders_by_frequency_after_specials():
    vocab = Vocabulary.build([["b", "a", "b"], ["c", "b", "a"]])
    assert vocab.tokens == list(SPECIALS) + ["b", "a", "c"]
    assert (vocab.pad_id, vocab.bos_id, vocab.eos_id, vocab.unk_id) == (0, 1, 2, 3)


def test_build_limits_size_and_frequency():
    sentences = [["a", "a", "a", "b", "b", "c"]]
    assert Vocabulary.build(sentences, max_size=6).tokens[4:] == ["a", "b"]
    assert Vocabulary.build(sentences, min_freq=2).tokens[4:] == ["a", "b"]


def test_unknown_tokens_map_to_unk():
    vocab = Vocabulary.build([["a"]])
    assert vocab.encode(["a", "zzz"]) == [4, vocab.unk_id]


def test_vocabulary_must_start_with_specials():
    with pytest.raises(ValueError, match="specials"):
        Vocabulary(["a", "b", "c", "d"])


def test_pack_appends_eos_pads_and_counts_cuts():
    tokens, cut = pack([[5, 6], [5, 6, 7, 8], [5, 6, 7, 8, 9]], max_len=4, pad_id=0, eos_id=2)
    assert tokens.tolist() == [[5, 6, 2, 0], [5, 6, 7, 8], [5, 6, 7, 8]]
    assert cut == 1  # a sentence of exactly max_len tokens fits (without EOS); only the longer one is cut
    assert tokens.dtype == torch.long


def test_pack_without_eos():
    tokens, _ = pack([[3]], max_len=3, pad_id=0, eos_id=None)
    assert tokens.tolist() == [[3, 0, 0]]
