"""Procedural 2-D datasets, each sampled once with a fixed seed into an in-memory (N, 2) float32 tensor:

    ring    8 Gaussians, sigma 0.01, means on the unit circle at angles 2 pi k / 8, k = 0 .. 7   (PacGAN, VEEGAN)
    grid    25 Gaussians, sigma 0.05, means at (-4, -2, 0, 2, 4)^2                               (PacGAN, VEEGAN)
    spiral  two noisy spiral arms (label: the arm)
    moons   scikit-learn's two interleaving half circles (label: the moon)

PacGAN's setting is 100,000 training points (`data.n_train`); the test split is drawn from the same distribution
with another seed. The mixtures know their modes: `DataInfo.extra` carries the means, sigma and weights (the mode
metrics read them, checkpoints keep them) and every point's label is its mode. Every dataset's extra also holds the
train split's bounding box, which previews and the grid histograms (`grid_kl`, `grid_js`) use.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from multigan.core.data import DataError, check_split
from multigan.core.phases import Batch, DataInfo
from multigan.registry import DATASETS


class InMemoryPoints:
    """Points (N, 2) float32 and optional int64 labels (N,)."""

    def __init__(self, points: Tensor, labels: Tensor | None, info: DataInfo, fingerprint: str):
        self.points, self.labels, self.info, self.fingerprint = points, labels, info, fingerprint

    def __len__(self) -> int:
        return self.points.shape[0]

    def gather(self, index: Tensor) -> Batch:
        batch = {"points": self.points[index]}  # (B, 2)
        if self.labels is not None:
            batch["label"] = self.labels[index]  # (B,)
        return batch


def bounding_box(points: Tensor) -> list[float]:
    """[x_min, x_max, y_min, y_max] of (N, 2) points."""
    low, high = points.min(dim=0).values, points.max(dim=0).values
    return [float(low[0]), float(high[0]), float(low[1]), float(high[1])]


def content_fingerprint(name: str, split: str, points: Tensor, labels: Tensor | None) -> str:
    digest = hashlib.sha256(f"{name}/{split}".encode())
    digest.update(points.numpy().tobytes())
    if labels is not None:
        digest.update(labels.numpy().tobytes())
    return digest.hexdigest()


def points_info(points: Tensor, class_names: list[str], extra: dict[str, Any]) -> DataInfo:
    return DataInfo("points", (2,), len(class_names), class_names, {**extra, "bounds": bounding_box(points)})


def split_generator(name: str, seed: int, split: str) -> torch.Generator:
    """A generator seeded by (dataset, seed, split): train and test differ, each reproducible."""
    digest = hashlib.sha256(f"{name}/{seed}/{split}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))


@dataclass
class PointsConfig:
    n_train: int = 100_000  # PacGAN's training set
    n_test: int = 10_000  # the reference split of the metrics (2,500 of them by the papers' protocol)
    seed: int = 0


def split_size(config: PointsConfig, split: str, dataset: str) -> int:
    check_split(split, dataset)
    size = config.n_train if split == "train" else config.n_test
    if not isinstance(size, int) or size < 1:
        raise DataError(f"data.n_{split} of '{dataset}' must be a whole number >= 1, got {size!r}")
    return size


class GaussianMixture(InMemoryPoints):
    """Equal-weight isotropic Gaussians: a mode is drawn uniformly, then mean + std * N(0, I)."""

    name = "mixture"

    def __init__(self, config: PointsConfig, means: Tensor, std: float, split: str):
        n = split_size(config, split, self.name)
        generator = split_generator(self.name, config.seed, split)
        labels = torch.randint(len(means), (n,), generator=generator)  # (N,) the mode of each point
        points = means[labels] + std * torch.randn(n, 2, generator=generator)  # (N, 2)
        modes = {"modes": means.tolist(), "mode_std": std, "mode_weights": [1.0 / len(means)] * len(means)}
        info = points_info(points, [f"mode_{k}" for k in range(len(means))], modes)
        super().__init__(points, labels, info, content_fingerprint(self.name, split, points, labels))


@dataclass
class RingConfig(PointsConfig):
    modes: int = 8
    radius: float = 1.0
    std: float = 0.01


@DATASETS.register("ring")
class Ring(GaussianMixture):
    Config = RingConfig
    name = "ring"

    def __init__(self, config: RingConfig, root: Path, split: str):
        if config.modes < 1 or config.std <= 0:
            raise DataError(f"data.modes of 'ring' must be >= 1 and data.std > 0, got {config.modes}, {config.std}")
        # k = 0 .. modes - 1: distinct angles (a linspace over [0, 2 pi] would repeat its end point as a mode)
        angles = torch.arange(config.modes, dtype=torch.float64) * (2 * math.pi / config.modes)
        means = config.radius * torch.stack([angles.cos(), angles.sin()], dim=1)  # (K, 2)
        super().__init__(config, means.float(), config.std, split)


@dataclass
class GridConfig(PointsConfig):
    side: int = 5  # side x side modes
    spacing: float = 2.0  # (-4, -2, 0, 2, 4) for 5 modes a side
    std: float = 0.05


@DATASETS.register("grid")
class Grid(GaussianMixture):
    Config = GridConfig
    name = "grid"

    def __init__(self, config: GridConfig, root: Path, split: str):
        if config.side < 1 or config.std <= 0:
            raise DataError(f"data.side of 'grid' must be >= 1 and data.std > 0, got {config.side}, {config.std}")
        ticks = (torch.arange(config.side, dtype=torch.float32) - (config.side - 1) / 2) * config.spacing  # (S,)
        means = torch.cartesian_prod(ticks, ticks)  # (S*S, 2), x major
        super().__init__(config, means, config.std, split)


@dataclass
class SpiralConfig(PointsConfig):
    arms: int = 2
    turns: float = 1.5  # revolutions of each arm
    radius: float = 4.0  # of the arms' outer ends
    noise: float = 0.1  # std of the Gaussian noise added to every point


@DATASETS.register("spiral")
class Spiral(InMemoryPoints):
    """Arm a: r = radius * t, angle = 2 pi (turns * t + a / arms), t = sqrt(u), u ~ U(0, 1) (so points spread evenly
    along the arm's length), plus N(0, noise^2 I)."""

    Config = SpiralConfig

    def __init__(self, config: SpiralConfig, root: Path, split: str):
        n = split_size(config, split, "spiral")
        if config.arms < 1:
            raise DataError(f"data.arms of 'spiral' must be >= 1, got {config.arms}")
        generator = split_generator("spiral", config.seed, split)
        labels = torch.randint(config.arms, (n,), generator=generator)  # (N,) the arm
        t = torch.rand(n, generator=generator).sqrt()  # (N,)
        angle = 2 * math.pi * (config.turns * t + labels / config.arms)
        points = config.radius * t[:, None] * torch.stack([angle.cos(), angle.sin()], dim=1)  # (N, 2)
        points = points + config.noise * torch.randn(n, 2, generator=generator)
        info = points_info(points, [f"arm_{a}" for a in range(config.arms)], {})
        super().__init__(points, labels, info, content_fingerprint("spiral", split, points, labels))


@dataclass
class MoonsConfig(PointsConfig):
    noise: float = 0.1  # scikit-learn's make_moons(noise=0.1)


@DATASETS.register("moons")
class Moons(InMemoryPoints):
    """Moon 0: (cos a, sin a); moon 1: (1 - cos a, 0.5 - sin a); a ~ U(0, pi); plus N(0, noise^2 I)."""

    Config = MoonsConfig

    def __init__(self, config: MoonsConfig, root: Path, split: str):
        n = split_size(config, split, "moons")
        generator = split_generator("moons", config.seed, split)
        labels = torch.randint(2, (n,), generator=generator)  # (N,)
        a = torch.rand(n, generator=generator) * math.pi
        outer = torch.stack([a.cos(), a.sin()], dim=1)  # (N, 2)
        inner = torch.stack([1 - a.cos(), 0.5 - a.sin()], dim=1)
        points = torch.where(labels[:, None] == 0, outer, inner) + config.noise * torch.randn(n, 2, generator=generator)
        info = points_info(points, ["moon_0", "moon_1"], {})
        super().__init__(points, labels, info, content_fingerprint("moons", split, points, labels))
