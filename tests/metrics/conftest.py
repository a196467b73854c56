"""A tiny labelled image dataset (the dataset contract: info, fingerprint, gather) and an EvalContext over it, for
metric tests that must run in seconds without real data."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from multigan.core.phases import Batch, DataInfo
from multigan.metrics.base import EvalContext


class QuadrantImages:
    """16x16 grey images in [-1, 1]: class c (0..3) lights quadrant c, plus noise. Deterministic per split."""

    def __init__(self, split: str, size: int = 400, channels: int = 1, fingerprint_salt: str = ""):
        generator = torch.Generator().manual_seed({"train": 1, "test": 2}[split])
        self.labels = torch.arange(size) % 4  # (N,)
        images = torch.full((size, channels, 16, 16), -0.8)
        for c, (row, col) in enumerate([(0, 0), (0, 8), (8, 0), (8, 8)]):
            images[self.labels == c, :, row : row + 8, col : col + 8] = 0.6
        images += 0.25 * torch.randn(images.shape, generator=generator)
        self.images = (torch.round((images.clamp(-1, 1) + 1) * 127.5) / 127.5 - 1)  # on the 8-bit grid, like data
        self.info = DataInfo(modality="image", shape=(channels, 16, 16), num_classes=4)
        self.fingerprint = f"quadrants-{split}-{size}-{channels}{fingerprint_salt}"

    def __len__(self) -> int:
        return len(self.labels)

    def gather(self, index: torch.Tensor) -> Batch:
        return {"image": self.images[index], "label": self.labels[index]}


class QuadrantContext(EvalContext):
    def _build(self, split: str) -> QuadrantImages:
        return QuadrantImages(split, **self.data_config)


def make_context(cache: Path, **dataset_options) -> QuadrantContext:
    probe = QuadrantImages("train", **dataset_options)
    return QuadrantContext(info=probe.info, data_name="quadrants", data_config=dataset_options, data_root=cache,
                           cache_dir=cache, device=torch.device("cpu"))


@pytest.fixture
def quadrant_context(tmp_path) -> QuadrantContext:
    return make_context(tmp_path)


@pytest.fixture
def make_quadrant_context():
    """`make_quadrant_context(cache_dir, **QuadrantImages options)`."""
    return make_context
