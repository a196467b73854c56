"""How image samples reach the metrics' feature extractors, registered for the image modality as text and audio
register theirs: the image `FeatureInput` (generated images quantised to the 8-bit grid, as a saved PNG holds them)
and the image domain classifier (the strided CNN of metrics/classifier.py, trained on the images as `gather()` gives
them)."""
from __future__ import annotations

import torch
from torch import Tensor

from multigan.metrics.classifier import ARCH_VERSION, ClassifierNetwork, DomainClassifier
from multigan.metrics.features import FeatureInput
from multigan.registry import CLASSIFIER_NETWORKS, FEATURE_INPUTS


def quantize_to_unit(images: Tensor) -> Tensor:
    """[-1, 1] floats -> [0, 1] on the 8-bit grid, as if saved to PNG and read back: generated and real images
    are scored on the same footing (and as pytorch-fid scores image files)."""
    return torch.round((images.float().clamp(-1, 1) + 1) * 127.5) / 255.0


IMAGE_INPUT = FEATURE_INPUTS.register("image")(FeatureInput(
    "image", "images", "(B, C, H, W)", quantize_to_unit,
    lambda shape: {"data_resolution": list(shape[1:]), "quantized": "8-bit"},
))

CLASSIFIER_NETWORKS.register("image")(ClassifierNetwork(
    build=lambda info, config: DomainClassifier(tuple(info.shape), info.num_classes, config),
    arch_version=ARCH_VERSION,
    from_prepared=lambda unit: unit * 2 - 1,  # [0, 1] on the 8-bit grid -> [-1, 1]
    reference_extractor="inception-fid",
))
