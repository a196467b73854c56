"""The audio domain classifier and how waveforms reach feature extractors.

`AudioClassifier`: log-mel spectrogram (torchaudio, 64 bands, see spectral.py) -> BatchNorm -> the same strided
CNN the image metrics use (metrics.classifier.DomainClassifier) on the (1, bands, frames) spectrogram. Trained on
the real train split's labels (spoken digits: 0-9) by the one classifier trainer of `metrics/classifier.py` and
cached like the image classifier; its embedding serves FAD-classifier, its softmax the Inception Score (as in the
WaveGAN paper, sec. 5.2, which trains its own SC09 classifier) and class coverage.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from multigan.audio.io import PCM16_SCALE
from multigan.audio.spectral import MEL_BANDS, LogMel
from multigan.core.phases import DataInfo
from multigan.metrics.classifier import ClassifierConfig, ClassifierNetwork, DomainClassifier
from multigan.metrics.features import FeatureInput
from multigan.registry import CLASSIFIER_NETWORKS, FEATURE_INPUTS

ARCH_VERSION = "logmel-cnn-1"  # bump when AudioClassifier or LogMel change: cached classifiers are rebuilt


def quantize_pcm16(audio: Tensor) -> Tensor:
    """[-1, 1] floats -> the 16-bit PCM grid, as if written to a WAV and read back (real clips already are)."""
    return torch.round(audio.float().clamp(-1, 1) * PCM16_SCALE).clamp(-PCM16_SCALE, PCM16_SCALE - 1) / PCM16_SCALE


AUDIO_INPUT = FEATURE_INPUTS.register("audio")(FeatureInput(
    "audio", "waveforms", "(B, C, T)", quantize_pcm16,
    lambda shape: {"data_length": shape[-1], "quantized": "PCM16"},
))


class AudioClassifier(nn.Module):
    """Waveforms (B, 1, T) in [-1, 1] -> embedding (B, E) -> logits (B, K)."""

    def __init__(self, info: DataInfo, config: ClassifierConfig):
        super().__init__()
        self.front = LogMel(int(info.extra["sample_rate"]))
        self.norm = nn.BatchNorm2d(1)  # dB values to ~unit scale, learned on the train split
        frames = self.front.frames(info.shape[-1])
        self.body = DomainClassifier((1, MEL_BANDS, frames), info.num_classes, config)

    @property
    def head(self) -> nn.Linear:
        return self.body.head

    def embedding(self, audio: Tensor) -> Tensor:
        return self.body.embedding(self.norm(self.front(audio)))  # (B, 1, bands, frames) -> (B, E)

    def classify(self, embedding: Tensor) -> Tensor:
        return self.body.classify(embedding)

    def forward(self, audio: Tensor) -> Tensor:
        return self.classify(self.embedding(audio))


CLASSIFIER_NETWORKS.register("audio")(ClassifierNetwork(
    build=AudioClassifier,
    arch_version=ARCH_VERSION,
    from_prepared=lambda audio: audio,  # the PCM16 grid in [-1, 1], as gather() gives
    reference_extractor="vggish",
    # a 64-d embedding: FSDD's test split has 300 clips, and a Frechet distance needs well more samples than dims
    defaults={"width": 16, "embedding_dim": 64},
))
