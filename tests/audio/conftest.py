"""Audio fixtures written in the test: tones as WAV/FLAC files at any rate, channel count and bit depth."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile


def tone(seconds: float, rate: int, hertz: float = 440.0, channels: int = 1, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    wave = amplitude * np.sin(2 * np.pi * hertz * t)
    return np.stack([wave * (1 - 0.5 * c) for c in range(channels)], axis=1)  # (frames, channels)


def write_audio(path: Path, data: np.ndarray, rate: int, subtype: str = "PCM_16") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), data, rate, subtype=subtype)
    return path


@pytest.fixture
def audio_writer():
    return write_audio


@pytest.fixture
def make_tone():
    return tone


@pytest.fixture
def digit_folder(tmp_path) -> Path:
    """FSDD-like names `<digit>_<speaker>_<index>.wav`, 3 digits x 2 speakers x 4 takes, 8 kHz, 0.3 s each."""
    folder = tmp_path / "digits"
    for digit in range(3):
        for speaker in ("ann", "bob"):
            for index in range(4):
                write_audio(folder / f"{digit}_{speaker}_{index}.wav", tone(0.3, 8000, 200 + 150 * digit), 8000)
    return folder


@pytest.fixture(scope="session")
def tone_classes(tmp_path_factory) -> Path:
    """3 classes of jittered tones with noise (class = pitch band), 60 files each, 8 kHz, 0.25-0.5 s: enough clips
    (90 a split with data.test_every 2) for Fréchet distances in 64 dims."""
    folder = tmp_path_factory.mktemp("tones")
    rng = np.random.default_rng(0)
    for label, base in enumerate((250.0, 700.0, 1800.0)):
        for index in range(60):
            seconds, hertz = rng.uniform(0.25, 0.5), base * rng.uniform(0.9, 1.1)
            wave = tone(seconds, 8000, hertz, amplitude=rng.uniform(0.2, 0.8))[:, 0]
            wave = wave + 0.02 * rng.standard_normal(len(wave))
            write_audio(folder / f"{label}_{index:02d}.wav", wave.clip(-1, 1)[:, None], 8000)
    return folder


@pytest.fixture
def tone_context(tone_classes, tmp_path_factory):
    """An EvalContext over `tone_classes` (audio_folder, labels from names, every 2nd file is test)."""
    import torch

    from multigan.audio.datasets import AudioFolderConfig, AudioFolderDataset
    from multigan.metrics.base import EvalContext

    config = AudioFolderConfig(path=str(tone_classes), sample_rate=8000, length=4096, label_pattern=r"^(\d)_",
                               test_every=2)
    info = AudioFolderDataset(config, tone_classes.parent, "test").info
    cache = tmp_path_factory.getbasetemp() / "tone-cache"
    return EvalContext(info, "audio_folder", config, tone_classes.parent, cache, torch.device("cpu"))
