"""VGGish (Hershey et al. 2017) and its log-mel front end, for the Fréchet Audio Distance (Kilgour et al. 2019),
with weights from a file the user supplies (torchvggish's `vggish-10086976.pth`); never downloaded.

Front end (numerically torchvggish's `waveform_to_examples`; tests check it): mono at 16 kHz, 25 ms periodic-Hann
frames every 10 ms, |rfft| (512 points), 64 HTK-mel bands 125-7500 Hz, log(mel + 0.01), then 96-frame (0.96 s)
examples without overlap. Computed in float64, as the reference computes it in numpy.
Network (torchvggish's `VGG`, same parameter names): 4 VGG stages on (B, 1, 96, 64), flattened as TensorFlow's
NHWC, then fc 4096 - 4096 - 128. FAD uses the 128-d fc output before its ReLU and without the PCA post-processing,
as the `frechet_audio_distance` package does with these weights.
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import torchaudio.functional as AF
from torch import Tensor, nn

from multigan.audio.classifier import AUDIO_INPUT
from multigan.metrics.base import EvalContext
from multigan.metrics.config import EvalConfig
from multigan.metrics.features import FeatureExtractor
from multigan.metrics.frechet import MetricError
from multigan.metrics.weights import WeightFile
from multigan.registry import FEATURES

SAMPLE_RATE = 16000
WINDOW = 400  # 25 ms at 16 kHz
HOP = 160  # 10 ms
FFT = 512  # the next power of two
BANDS = 64
MEL_LOW, MEL_HIGH = 125.0, 7500.0
LOG_OFFSET = 0.01
EXAMPLE_FRAMES = 96  # 0.96 s
MIN_SAMPLES = WINDOW + (EXAMPLE_FRAMES - 1) * HOP  # 15600: the shortest clip that makes one example


def hertz_to_mel(hertz: np.ndarray) -> np.ndarray:
    """HTK mel scale: 1127 ln(1 + f / 700)."""
    return 1127.0 * np.log1p(np.asarray(hertz, dtype=np.float64) / 700.0)


@lru_cache(maxsize=1)
def mel_matrix() -> np.ndarray:
    """(FFT/2 + 1, BANDS) triangular filters, linear in mel, the DC bin zeroed (HTK)."""
    bins = FFT // 2 + 1
    bin_mels = hertz_to_mel(np.linspace(0.0, SAMPLE_RATE / 2, bins))
    edges = np.linspace(hertz_to_mel(MEL_LOW), hertz_to_mel(MEL_HIGH), BANDS + 2)
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]  # (BANDS,) each
    rising = (bin_mels[:, None] - lower) / (centre - lower)
    falling = (upper - bin_mels[:, None]) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights[0, :] = 0.0
    return weights


def log_mel(waves: Tensor) -> Tensor:
    """(B, T) float at 16 kHz -> (B, frames, BANDS) float64 log-mel, frames = 1 + (T - 400) // 160."""
    x = waves.double()
    frames = x.unfold(-1, WINDOW, HOP)  # (B, frames, 400)
    n = torch.arange(WINDOW, dtype=torch.float64, device=x.device)
    window = 0.5 - 0.5 * torch.cos(2 * math.pi * n / WINDOW)  # periodic Hann
    magnitude = torch.fft.rfft(frames * window, n=FFT).abs()  # (B, frames, 257)
    mel = magnitude @ torch.from_numpy(mel_matrix()).to(x.device)  # (B, frames, 64)
    return torch.log(mel + LOG_OFFSET)


def to_examples(audio: Tensor, sample_rate: int) -> tuple[Tensor, int]:
    """(B, 1, T) in [-1, 1] at `sample_rate` -> (B * k, 1, 96, 64) float32 examples, clip-major, and k.
    Clips are resampled to 16 kHz (torchaudio's windowed sinc) and zero-padded to one example if shorter."""
    waves = audio.float().mean(dim=1)  # (B, T) mono
    if sample_rate != SAMPLE_RATE:
        waves = AF.resample(waves, sample_rate, SAMPLE_RATE)
    if waves.shape[-1] < MIN_SAMPLES:
        waves = F.pad(waves, (0, MIN_SAMPLES - waves.shape[-1]))
    spectra = log_mel(waves)  # (B, frames, 64)
    k = spectra.shape[1] // EXAMPLE_FRAMES
    examples = spectra[:, : k * EXAMPLE_FRAMES].reshape(-1, 1, EXAMPLE_FRAMES, BANDS)  # (B k, 1, 96, 64)
    return examples.float(), k


def _vgg_stages() -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = 1
    for width in (64, "pool", 128, "pool", 256, 256, "pool", 512, 512, "pool"):
        if width == "pool":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
            channels = width
    return nn.Sequential(*layers)


class VGGish(nn.Module):
    """Examples (N, 1, 96, 64) -> embeddings (N, 128). Randomly initialised; see `load_vggish`."""

    def __init__(self) -> None:
        super().__init__()
        self.features = _vgg_stages()  # (N, 512, 6, 4)
        self.embeddings = nn.Sequential(
            nn.Linear(512 * 6 * 4, 4096), nn.ReLU(True), nn.Linear(4096, 4096), nn.ReLU(True),
            nn.Linear(4096, 128), nn.ReLU(True),
        )

    def pre_activation(self, examples: Tensor) -> Tensor:
        """The 128-d fc output before its ReLU: what FAD compares."""
        x = self.features(examples).permute(0, 2, 3, 1).flatten(1)  # NHWC order, as the TF graph: (N, 12288)
        return self.embeddings[:-1](x)

    def forward(self, examples: Tensor) -> Tensor:
        return F.relu(self.pre_activation(examples))  # torchvggish's output without post-processing


WEIGHTS = WeightFile(
    "the VGGish weights", "vggish-10086976.pth", "10086976",
    "https://github.com/harritaylor/torchvggish/releases/download/v0.1/vggish-10086976.pth",
    "MULTIGAN_VGGISH_WEIGHTS", "--vggish-weights PATH, eval.vggish_weights", "fad_classifier",
)


class VGGishWeightsError(MetricError):
    """The VGGish weights are missing or are not the expected file."""


def load_vggish(path: Path, expected_prefix: str | None = None) -> tuple[VGGish, str]:
    """The network with torchvggish's weights from `path` (sha256 prefix checked), in eval mode, and the sha256."""
    return WEIGHTS.load_into(VGGish(), path, VGGishWeightsError, "a VGGish", expected_prefix)


@FEATURES.register("vggish")
class VGGishExtractor(FeatureExtractor):
    """128-d embeddings of every 0.96 s example of each clip (a 1 s clip gives one); no logits."""

    name = "vggish"
    version = "1"
    feature_dim = 128
    num_classes = 0
    input = AUDIO_INPUT

    def __init__(self, model: VGGish, weights_sha256: str, sample_rate: int, device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.weights_sha256, self.sample_rate = weights_sha256, sample_rate

    @classmethod
    def from_context(cls, config: EvalConfig, context: EvalContext) -> "VGGishExtractor":
        model, sha256 = load_vggish(WEIGHTS.resolve(config.vggish_weights, VGGishWeightsError))
        return cls(model, sha256, int(context.info.extra["sample_rate"]), context.device)

    def features_and_logits(self, audio: Tensor) -> tuple[Tensor, Tensor]:
        examples, _ = to_examples(audio, self.sample_rate)  # (B k, 1, 96, 64)
        embeddings = self.model.pre_activation(examples)  # (B k, 128)
        return embeddings, embeddings.new_zeros(len(embeddings), 0)

    def identity(self) -> dict[str, Any]:
        return {"version": self.version, "weights_sha256": self.weights_sha256[:16]}

    def describe_input(self, shape: tuple[int, ...]) -> dict[str, Any]:
        return {**super().describe_input(shape), "sample_rate": self.sample_rate, "resampled_to": SAMPLE_RATE,
                "examples": "0.96 s log-mel (64 bands) examples of each clip, zero-padded to one",
                "embedding": "fc 128 before ReLU, no PCA"}
