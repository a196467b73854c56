"""A text export: one sentence per line (txt) or {"text", "label"} JSON lines, temperature honoured, and the flags
that need a class-conditional model refused."""
import json

import pytest
import torch

from multigan import api, export
from multigan.export import ExportRequest
from multigan.recipe import load_recipe
from multigan.text.generators import generate

SMALL = ["model.generator.embed_dim=8", "model.generator.hidden_dim=8", "train.batch_size=4", "eval.metrics=[]",
         "train.stages=[{name: pretrain_g, steps: 2}]", "data.name=text_lines", "data.train_file=text/train.txt",
         "data.test_file=text/test.txt", "data.max_len=12", "model.discriminator.filter_sizes=[2,3]",
         "model.discriminator.num_filters=[4,4]", "train.checkpoint_every=2", "train.sample_every=2"]


@pytest.fixture
def text_run(tmp_path, corpus_files):
    return api.train(load_recipe("seqgan_coco", SMALL), data_root=tmp_path, out=tmp_path / "run", progress=False)


def test_text_exports_parse_and_temperature_is_recorded(text_run, tmp_path):
    out = api.sample(text_run, tmp_path / "jsonl", ExportRequest(n=7, format="jsonl", temperature=0.7, batch_size=3))
    records = [json.loads(line) for line in (out / "samples.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(records) == 7 and all(set(r) == {"text", "label"} and r["label"] is None for r in records)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"] == {"all": 7} and manifest["settings"]["sampling"] == {"temperature": 0.7}
    txt = api.sample(text_run, tmp_path / "txt", ExportRequest(n=7, temperature=0.7, batch_size=3))
    lines = (txt / "samples.txt").read_text(encoding="utf-8").splitlines()
    assert lines == [r["text"] for r in records]  # the same draws in either format
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jsonl", "run", "text", "txt"]


def test_a_cold_temperature_samples_the_likeliest_token_whatever_the_seed(text_run):
    _, model, _ = api.load_run(text_run, device="cpu")
    draws = [generate(model.generator, 5, 12, model.bos_id, torch.Generator().manual_seed(seed), temperature=1e-4)
             for seed in (0, 1)]
    assert torch.equal(draws[0], draws[1])
    warm = [generate(model.generator, 5, 12, model.bos_id, torch.Generator().manual_seed(seed)) for seed in (0, 1)]
    assert not torch.equal(warm[0], warm[1])  # at T = 1 the seed matters: the cold draws were not luck


def test_flags_for_conditional_models_are_refused(text_run, tmp_path):
    with pytest.raises(export.ExportError, match="`per_class` needs a class-conditional model"):
        api.sample(text_run, tmp_path / "x", ExportRequest(per_class=2))
    with pytest.raises(export.ExportError, match="`truncation` applies to image models"):
        api.sample(text_run, tmp_path / "x", ExportRequest(n=2, truncation=0.5))
    with pytest.raises(export.ExportError, match="text exports are written as txt or jsonl"):
        api.sample(text_run, tmp_path / "x", ExportRequest(n=2, format="png"))
    assert not (tmp_path / "x").exists()
