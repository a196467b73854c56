"""The same study on audio: a tiny conditional WaveGAN on a folder of tones, its WAV export read back with
`audio_folder` and its labels mapped to the real classes, the log-mel CNN as the downstream classifier."""
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
import yaml

from multigan.augment.commands import augment_eval

TINY_WAVEGAN = ["model.model_dim=2", "model.latent_dim=8", "model.d_steps=1", "model.conditional=true",
                "train.steps=2", "train.batch_size=4", "train.checkpoint_every=2", "train.sample_every=2",
                "train.preview_samples=6", "eval.metrics=[]", "data.name=audio_folder", "data.sample_rate=8000",
                "data.length=4096", r"data.label_pattern=^(\d+)_"]


@pytest.fixture
def tone_folder(tmp_path):
    """3 classes (pitch bands) x 8 clips of 0.3 s at 8 kHz, named <class>_<n>.wav."""
    rng = np.random.default_rng(0)
    for label, hertz in enumerate((300.0, 900.0, 2000.0)):
        for index in range(8):
            t = np.arange(2400) / 8000
            wave = 0.5 * np.sin(2 * np.pi * hertz * rng.uniform(0.95, 1.05) * t)
            path = tmp_path / "tones" / f"{label}_{index}.wav"
            path.parent.mkdir(exist_ok=True)
            soundfile.write(str(path), wave, 8000, subtype="PCM_16")
    return tmp_path / "tones"


@pytest.mark.slow
def test_audio_study_reads_its_wav_export_back_with_the_real_labels(tmp_path, tone_folder):
    study = {"gan": {"recipe": "wavegan_digits", "set": TINY_WAVEGAN + [f"data.path={tone_folder}"]},
             "budgets": [0.5, 1.0], "seeds": 2, "synthetic": {"ratios": [1], "batch_size": 8},
             "classifier": {"steps": 2, "batch_size": 8, "width": 4, "embedding_dim": 8}, "device": "cpu"}
    path = tmp_path / "audio.yaml"
    path.write_text(yaml.safe_dump(study))
    summary = augment_eval(path, tmp_path / "out", progress=False)
    rows = {(r["kind"], r["budget"], r["ratio"]): r for r in summary["rows"]}
    assert rows[("real", 0.5, None)]["n_real"] == 12 and rows[("mixed", 1.0, 1.0)]["n_synthetic"] == 24
    assert rows[("synthetic", None, None)]["n_synthetic"] == 24 and summary["n_test"] == 24
    manifest = json.loads((Path(summary["synthetic"]["folder"]) / "manifest.json").read_text())
    assert manifest["counts"] == {"0": 8, "1": 8, "2": 8} and manifest["sample_rate"] == 8000
    assert (tmp_path / "out" / "plot.png").is_file() and (tmp_path / "out" / "results.md").is_file()
