"""Log-mel spectrograms (torchaudio transforms) shared by the previews and the spoken-digit classifier.

Window 32 ms (the next power of two in samples: 256 at 8 kHz, 512 at 16 kHz), hop a quarter of it, 64 mel bands
up to Nyquist, power in dB. The filterbank is a buffer of the module, so it follows `.to(device)`.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torchaudio.transforms import MelSpectrogram

MEL_BANDS = 64
WINDOW_SECONDS = 0.032


def window_length(sample_rate: int) -> int:
    return 2 ** math.ceil(math.log2(WINDOW_SECONDS * sample_rate))


class LogMel(nn.Module):
    """(B, 1, T) waveforms in [-1, 1] -> (B, 1, bands, frames) log-power mel spectrogram in dB (>= -100)."""

    def __init__(self, sample_rate: int, bands: int = MEL_BANDS):
        super().__init__()
        n_fft = window_length(sample_rate)
        self.mel = MelSpectrogram(sample_rate, n_fft=n_fft, hop_length=n_fft // 4, n_mels=bands, power=2.0)
        self.sample_rate = sample_rate

    def forward(self, audio: Tensor) -> Tensor:
        power = self.mel(audio.float())  # (B, 1, bands, frames)
        return 10.0 * torch.log10(power.clamp_min(1e-10))

    def frames(self, length: int) -> int:
        return length // self.mel.hop_length + 1


def to_unit_image(log_mel: Tensor, top_db: float = 80.0, ceiling_db: float = 20.0) -> Tensor:
    """dB (..., bands, frames) -> [0, 1] with a fixed range [ceiling - top_db, ceiling] (not per clip, so a quiet
    clip looks quiet), low frequencies at the bottom."""
    scaled = (log_mel - (ceiling_db - top_db)) / top_db
    return scaled.clamp(0, 1).flip(-2)
