import json

import pytest
import torch

from multigan.registry import MODALITIES
from multigan.core.files import OutputExistsError
from multigan.text.modality import TextModality

from .conftest import text_info


class RecordingWriter:
    def __init__(self):
        self.calls = []

    def add_text(self, tag, text, global_step=None):
        self.calls.append((tag, text, global_step))


SAMPLES = {"tokens": torch.tensor([[4, 5, 2, 0, 0, 0], [6, 6, 7, 4, 5, 6]])}


def test_text_modality_is_registered():
    assert MODALITIES.get("text") is TextModality and TextModality.preview_suffix == ".txt"


def test_save_samples_writes_one_sentence_per_line(tmp_path):
    path = TextModality.save_samples(SAMPLES, tmp_path / "samples" / "step-0000010.txt", text_info())
    assert path.read_text(encoding="utf-8") == "w0 w1\nw2 w2 w3 w0 w1 w2\n"
    assert not list(path.parent.glob(".*tmp"))  # the temporary file was renamed into place


def test_sentencepiece_samples_are_detokenised(tmp_path):
    info = text_info()
    pieces = ["<pad>", "<s>", "</s>", "<unk>", "\u2581a", "\u2581do", "g", "."]
    info.extra.update(vocab=pieces, tokenizer="sentencepiece")
    path = TextModality.save_samples({"tokens": torch.tensor([[4, 5, 6, 7, 2, 0]])}, tmp_path / "s.txt", info)
    assert path.read_text(encoding="utf-8") == "a dog.\n"


def test_log_samples_adds_text_to_tensorboard():
    writer = RecordingWriter()
    TextModality.log_samples(writer, "samples", SAMPLES, 7, text_info())
    ((tag, text, step),) = writer.calls
    assert (tag, step) == ("samples", 7) and text.splitlines() == ["    w0 w1", "    w2 w2 w3 w0 w1 w2"]


def test_save_examples_writes_text_or_jsonl_and_refuses_a_full_folder(tmp_path):
    folder = TextModality.save_examples(SAMPLES, tmp_path / "export", text_info())
    assert [p.name for p in folder.iterdir()] == ["samples.txt"]
    assert (folder / "samples.txt").read_text(encoding="utf-8").splitlines() == ["w0 w1", "w2 w2 w3 w0 w1 w2"]
    folder = TextModality.save_examples(SAMPLES, tmp_path / "jsonl", text_info(), fmt="jsonl")
    records = [json.loads(line) for line in (folder / "samples.jsonl").read_text(encoding="utf-8").splitlines()]
    assert records == [{"text": "w0 w1", "label": None}, {"text": "w2 w2 w3 w0 w1 w2", "label": None}]
    with pytest.raises(OutputExistsError):
        TextModality.save_examples(SAMPLES, folder, text_info())
