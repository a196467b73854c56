"""Audio modality: PCM16 WAVs + manifest.csv that `audio_folder` reads back, the spectrogram grid and WAV montage
preview, TensorBoard audio and images, nothing half-written."""
import csv

import numpy as np
import pytest
import soundfile
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import AUDIO, IMAGES, EventAccumulator
from torch.utils.tensorboard import SummaryWriter

from multigan.audio.datasets import AudioFolderConfig, AudioFolderDataset
from multigan.audio.modality import AudioModality
from multigan.core.files import OutputExistsError
from multigan.core.phases import DataInfo
from multigan.registry import MODALITIES

INFO = DataInfo("audio", (1, 4096), 3, ["zero", "one", "two"], extra={"sample_rate": 8000})


def samples(n, labelled=True):
    t = torch.arange(4096) / 8000
    audio = torch.stack([0.5 * torch.sin(2 * torch.pi * (300 + 100 * i) * t) for i in range(n)])[:, None]
    batch = {"audio": audio}
    if labelled:
        batch["label"] = torch.arange(n) % 3
    return batch


def test_registered():
    assert MODALITIES.get("audio") is AudioModality


def test_examples_are_pcm16_wavs_with_a_manifest_that_audio_folder_reads(tmp_path):
    batch = samples(6)
    folder = AudioModality.save_examples(batch, tmp_path / "out", INFO)
    rows = list(csv.DictReader((folder / "manifest.csv").open()))
    assert [r["label"] for r in rows] == ["zero", "one", "two"] * 2 and rows[0]["path"] == "zero/00000.wav"
    info = soundfile.info(str(folder / rows[1]["path"]))
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (8000, 1, "PCM_16", 4096)
    data, _ = soundfile.read(str(folder / rows[1]["path"]), dtype="int16")
    assert np.array_equal(data, np.clip(np.round(batch["audio"][1, 0].numpy() * 32768), -32768, 32767))
    back = AudioFolderDataset(AudioFolderConfig(path=str(folder), sample_rate=8000, length=4096), tmp_path, "train")
    assert back.info.class_names == ["one", "two", "zero"] and len(back) == 6
    loaded = back.gather(torch.arange(6))
    assert torch.allclose(loaded["audio"][loaded["label"] == 2][0], batch["audio"][0], atol=1 / 32768)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left behind


def test_unlabelled_examples_and_an_existing_folder(tmp_path):
    folder = AudioModality.save_examples(samples(2, labelled=False), tmp_path / "flat", INFO)
    assert sorted(p.name for p in folder.iterdir()) == ["00000.wav", "00001.wav", "manifest.csv"]
    with pytest.raises(OutputExistsError, match="already exists"):
        AudioModality.save_examples(samples(2), folder, INFO)


def test_a_failing_export_leaves_nothing(tmp_path, monkeypatch):
    import multigan.audio.modality as modality

    calls, original = [], modality.write_wav

    def failing(path, wave, rate):  # the third file fails, after two were written
        calls.append(path)
        if len(calls) == 3:
            raise OSError("disk full")
        original(path, wave, rate)

    monkeypatch.setattr(modality, "write_wav", failing)
    with pytest.raises(OSError, match="disk full"):
        AudioModality.save_examples(samples(6), tmp_path / "out", INFO)
    assert list(tmp_path.iterdir()) == []


def test_preview_is_a_spectrogram_grid_and_a_montage(tmp_path):
    path = AudioModality.save_samples(samples(6), tmp_path / "step-0000010.png", INFO)
    grid = np.asarray(Image.open(path))
    assert grid.ndim == 3 and grid.shape[2] == 3  # RGB (magma colour map)
    assert grid.shape[1] > 3 * 64 and grid.shape[0] > 2 * 64  # 3 columns (one per class) x 2 rows of 64-band images
    montage, rate = soundfile.read(str(tmp_path / "step-0000010.wav"))
    assert rate == 8000 and len(montage) == 6 * (4096 + 2000)  # 6 clips, each with 0.25 s of silence after it


def test_tensorboard_gets_audio_and_spectrograms(tmp_path):
    writer = SummaryWriter(str(tmp_path))
    AudioModality.log_samples(writer, "samples", samples(3), 7, INFO)
    writer.close()
    events = EventAccumulator(str(tmp_path), size_guidance={AUDIO: 0, IMAGES: 0}).Reload()
    assert events.Tags()["audio"] == ["samples/audio"] and events.Tags()["images"] == ["samples/spectrograms"]
    clip = events.Audio("samples/audio")[0]
    assert clip.step == 7 and clip.sample_rate == 8000
