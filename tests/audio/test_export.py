"""An audio export: PCM16 WAVs at the data's rate in class folders, and a manifest.csv whose every row decodes."""
import csv
import json
from collections import Counter

import soundfile

from multigan import api
from multigan.export import ExportRequest
from multigan.recipe import load_recipe

TINY = ["model.model_dim=2", "model.latent_dim=8", "model.d_steps=1", "train.steps=2", "train.batch_size=4",
        "train.checkpoint_every=2", "train.sample_every=2", "train.preview_samples=6", "eval.metrics=[]",
        "data.name=audio_folder", "data.sample_rate=8000", "data.length=4096", r"data.label_pattern=^(\d+)_",
        "model.conditional=true"]


def test_audio_export_manifest_loads_and_every_file_decodes_at_the_declared_rate(tmp_path, digit_folder):
    config = load_recipe("wavegan_digits", TINY + [f"data.path={digit_folder}"])
    run = api.train(config, out=tmp_path / "run", progress=False)
    out = api.sample(run, tmp_path / "wavs", ExportRequest(per_class=3, classes="0,2", batch_size=4))
    manifest = json.loads((out / "manifest.json").read_text())
    rows = list(csv.DictReader((out / "manifest.csv").open(newline="")))
    assert Counter(row["label"] for row in rows) == {"0": 3, "2": 3} == manifest["counts"]
    assert manifest["sample_rate"] == 8000 and len(list(out.rglob("*.wav"))) == len(rows)
    for row in rows:
        data, rate = soundfile.read(str(out / row["path"]))
        assert rate == manifest["sample_rate"] and data.shape == (4096,) and row["path"].startswith(row["label"] + "/")
    assert soundfile.info(str(out / rows[0]["path"])).subtype == "PCM_16"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
