"""The Inception-v3 of FID (the TensorFlow 2015-12-05 graph that TTUR and pytorch-fid use), with its weights
loaded from a file the user supplies. Numerically the network of pytorch-fid's `InceptionV3` (tests check it).

It differs from torchvision's Inception-v3 in four places, all in the pooling branch of the mixed blocks:
Mixed_5b-d and Mixed_6b-e (A and C blocks) and Mixed_7b (first E block) average-pool without counting the
padding (TensorFlow's behaviour), and Mixed_7c (second E block) max-pools. The classifier has 1008 classes.
Parameter names equal torchvision's, so pytorch-fid's weight file loads as it is. Registered as the "inception-fid"
feature extractor by the images plug-in, as the audio plug-in registers VGGish.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models.inception import (
    BasicConv2d,
    InceptionA,
    InceptionB,
    InceptionC,
    InceptionD,
    InceptionE,
)

from multigan.images.features import IMAGE_INPUT
from multigan.metrics.base import EvalContext
from multigan.metrics.config import EvalConfig
from multigan.metrics.features import FeatureExtractor
from multigan.metrics.frechet import MetricError
from multigan.metrics.weights import WeightFile
from multigan.registry import FEATURES

WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_SHA256_PREFIX = "6726825d"
WEIGHTS_URL = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + WEIGHTS_FILE
WEIGHTS_ENV = "MULTIGAN_INCEPTION_WEIGHTS"
WEIGHTS = WeightFile("the FID Inception weights", WEIGHTS_FILE, WEIGHTS_SHA256_PREFIX, WEIGHTS_URL, WEIGHTS_ENV,
                     "--inception-weights PATH, eval.inception_weights", "features: classifier")
INPUT_SIZE = 299
NUM_CLASSES = 1008  # the 2015 graph's 1000 ImageNet classes plus 8 unused


class InceptionWeightsError(MetricError):
    """The FID Inception weights are missing or are not the expected file."""


def _chain(x: Tensor, *layers: nn.Module) -> Tensor:
    for layer in layers:
        x = layer(x)
    return x


def _avg_pool_without_padding(x: Tensor) -> Tensor:
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class TFInceptionA(InceptionA):
    def _forward(self, x: Tensor) -> list[Tensor]:
        return [
            self.branch1x1(x),
            _chain(x, self.branch5x5_1, self.branch5x5_2),
            _chain(x, self.branch3x3dbl_1, self.branch3x3dbl_2, self.branch3x3dbl_3),
            self.branch_pool(_avg_pool_without_padding(x)),
        ]


class TFInceptionC(InceptionC):
    def _forward(self, x: Tensor) -> list[Tensor]:
        return [
            self.branch1x1(x),
            _chain(x, self.branch7x7_1, self.branch7x7_2, self.branch7x7_3),
            _chain(x, self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4,
                   self.branch7x7dbl_5),
            self.branch_pool(_avg_pool_without_padding(x)),
        ]


class TFInceptionE(InceptionE):
    """`max_pool`: the last block of the graph max-pools in its pooling branch; the other averages."""

    def __init__(self, in_channels: int, max_pool: bool):
        super().__init__(in_channels)
        self.max_pool = max_pool

    def _forward(self, x: Tensor) -> list[Tensor]:
        wide = self.branch3x3_1(x)
        deep = _chain(x, self.branch3x3dbl_1, self.branch3x3dbl_2)
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else _avg_pool_without_padding(x)
        return [
            self.branch1x1(x),
            torch.cat([self.branch3x3_2a(wide), self.branch3x3_2b(wide)], 1),
            torch.cat([self.branch3x3dbl_3a(deep), self.branch3x3dbl_3b(deep)], 1),
            self.branch_pool(pooled),
        ]


class FIDInceptionV3(nn.Module):
    """Images (B, 3, H, W) in [0, 1] -> pool3 features (B, 2048). Randomly initialised; see `load_fid_inception`."""

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = TFInceptionA(192, pool_features=32)
        self.Mixed_5c = TFInceptionA(256, pool_features=64)
        self.Mixed_5d = TFInceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = TFInceptionC(768, channels_7x7=128)
        self.Mixed_6c = TFInceptionC(768, channels_7x7=160)
        self.Mixed_6d = TFInceptionC(768, channels_7x7=160)
        self.Mixed_6e = TFInceptionC(768, channels_7x7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = TFInceptionE(1280, max_pool=False)
        self.Mixed_7c = TFInceptionE(2048, max_pool=True)
        self.fc = nn.Linear(2048, NUM_CLASSES)

    def forward(self, images: Tensor) -> Tensor:
        x = F.interpolate(images, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
        x = 2 * x - 1  # [0, 1] -> [-1, 1], the graph's input range; (B, 3, 299, 299)
        x = _chain(x, self.Conv2d_1a_3x3, self.Conv2d_2a_3x3, self.Conv2d_2b_3x3)
        x = F.max_pool2d(x, kernel_size=3, stride=2)  # (B, 64, 73, 73)
        x = _chain(x, self.Conv2d_3b_1x1, self.Conv2d_4a_3x3)
        x = F.max_pool2d(x, kernel_size=3, stride=2)  # (B, 192, 35, 35)
        x = _chain(x, self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a)  # (B, 768, 17, 17)
        x = _chain(x, self.Mixed_6b, self.Mixed_6c, self.Mixed_6d, self.Mixed_6e, self.Mixed_7a)  # (B, 1280, 8, 8)
        x = _chain(x, self.Mixed_7b, self.Mixed_7c)  # (B, 2048, 8, 8)
        return x.mean(dim=(2, 3))  # (B, 2048): pool3

    def logits(self, features: Tensor, bias: bool = True) -> Tensor:
        """(B, 2048) -> (B, 1008). Without the bias: the logits of the original Inception Score code (and
        torch-fidelity's `logits_unbiased`), which multiplied pool3 by the softmax weights only."""
        return F.linear(features, self.fc.weight, self.fc.bias if bias else None)


def resolve_weights_path(configured: str = "") -> Path:
    """`--inception-weights` / eval.inception_weights, else $MULTIGAN_INCEPTION_WEIGHTS; never downloads."""
    return WEIGHTS.resolve(configured, InceptionWeightsError)


def load_fid_inception(path: Path, expected_prefix: str | None = None) -> tuple[FIDInceptionV3, str]:
    """The network with the weights in `path` (checked against the sha256 prefix in its official name), in eval
    mode, and the file's sha256."""
    return WEIGHTS.load_into(FIDInceptionV3(), path, InceptionWeightsError, "an FID Inception",
                             expected_prefix or WEIGHTS_SHA256_PREFIX)


@FEATURES.register("inception-fid")
class InceptionFIDExtractor(FeatureExtractor):
    """pool3 features (2048-d) for FID/KID/PRDC and bias-free logits (1008) for IS, as pytorch-fid/torch-fidelity."""

    name = "inception-fid"
    version = "1"
    input = IMAGE_INPUT
    feature_dim = 2048
    num_classes = NUM_CLASSES

    def __init__(self, model: FIDInceptionV3, weights_sha256: str, device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.weights_sha256 = weights_sha256

    @classmethod
    def from_context(cls, config: EvalConfig, context: EvalContext) -> "InceptionFIDExtractor":
        model, sha256 = load_fid_inception(resolve_weights_path(config.inception_weights))
        return cls(model, sha256, context.device)

    def features_and_logits(self, images: Tensor) -> tuple[Tensor, Tensor]:
        channels = images.shape[1]
        if channels == 1:
            images = images.expand(-1, 3, -1, -1)  # grayscale -> RGB with R = G = B, as PIL's convert("RGB")
        elif channels != 3:
            raise MetricError(f"the Inception extractor takes 1- or 3-channel images, got {channels} channels")
        features = self.model(images)  # (B, 2048)
        return features, self.model.logits(features, bias=False)

    def identity(self) -> dict[str, Any]:
        return {"version": self.version, "weights_sha256": self.weights_sha256[:16]}

    def describe_input(self, shape: tuple[int, ...]) -> dict[str, Any]:
        channels = "grayscale repeated to RGB" if shape[0] == 1 else "RGB"
        return {**super().describe_input(shape), "resolution": [INPUT_SIZE, INPUT_SIZE], "channels": channels,
                "resize": f"bilinear {shape[1]}x{shape[2]} -> {INPUT_SIZE}x{INPUT_SIZE} (align_corners=False)",
                "logits": "fc without bias (1008 classes)"}
