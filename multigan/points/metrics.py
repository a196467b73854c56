"""Mode-collapse measures of 2-D generators: pure functions of points, then registered metrics with protocols.

On a mixture with known modes (ring, grid; `DataInfo.extra`: means, sigma, weights), as PacGAN (Lin et al. 2018,
after VEEGAN) computes them on 2,500 samples (its code: pacgan/extensions.py, MetricLogger):
    high quality   a sample within 3 sigma of its nearest mode (Euclidean; PacGAN's Mahalanobis distance with
                   the modes' isotropic variance)
    modes_covered  modes that at least one high-quality sample is nearest to (higher is better)
    high_quality   the share of samples of high quality (higher is better)
    reverse_kl     KL(P_gen || P_real) over modes: P_gen the histogram of high-quality samples by nearest mode,
                   P_real the mixture's weights (uniform): sum_k p_k log(p_k / w_k), natural log, 0 log 0 = 0. With
                   no high-quality sample the histogram is empty: we report max_k -log w_k (log 8 on the ring, log 25
                   on the grid), the KL of a generator that puts everything on one mode, and say so in the protocol.
On any 2-D data, as GAN Lab (Kahng et al. 2019) computes them: 30 x 30 histograms over the train split's bounding
box, densities count / n, 1e-4 added to every cell's density, log base 2 (bits); generated points outside the box
fall in no cell (their mass is missing from the histogram, which the divergences then see):
    grid_kl        KL(P_real || P_gen)
    grid_js        (KL(P_real || M) + KL(P_gen || M)) / 2, M = (P_real + P_gen) / 2
Every value's protocol holds `real_vs_real`: the same measure of as many real points of the train split.
"""
from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import torch
from torch import Tensor

from multigan.core.phases import Batch, GANModel
from multigan.metrics.base import EvalContext, Metric, MetricValue
from multigan.metrics.config import EvalConfig
from multigan.metrics.frechet import MetricError
from multigan.registry import METRICS

THRESHOLD = 3.0  # high quality: within 3 sigma of the nearest mode
GRID_CELLS = 30  # GAN Lab's histogram: 30 x 30 cells
SMOOTHING = 1e-4  # GAN Lab adds this to every cell's density


def nearest_modes(points: Tensor, means: Tensor) -> tuple[Tensor, Tensor]:
    """(N, 2), (K, 2) -> the nearest mode's index (N,) and the distance to it (N,), in float64."""
    distances = torch.cdist(points.double(), means.double())  # (N, K)
    distance, nearest = distances.min(dim=1)
    return nearest, distance


def mode_counts(points: Tensor, means: Tensor, std: float, threshold: float = THRESHOLD) -> tuple[Tensor, Tensor]:
    """High-quality samples per mode (K,) int64 and the high-quality mask (N,)."""
    nearest, distance = nearest_modes(points, means)
    good = distance < threshold * std  # (N,)
    return torch.bincount(nearest[good], minlength=len(means)), good


def modes_covered(counts: Tensor) -> int:
    return int((counts > 0).sum())


def reverse_kl(counts: Tensor, weights: Tensor) -> float:
    """KL(P_gen || P_real) = sum_k p_k log(p_k / w_k), p = counts / counts.sum() (0 log 0 = 0); an empty histogram
    gives max_k -log w_k (module docstring)."""
    weights = weights.double() / weights.double().sum()
    total = int(counts.sum())
    if total == 0:
        return float(-weights.log().max())
    p = counts.double() / total
    hit = p > 0
    return float((p[hit] * (p[hit] / weights[hit]).log()).sum())


def grid_density(points: Tensor, box: list[float], cells: int = GRID_CELLS) -> Tensor:
    """(cells * cells,) float64: the share of `points` in each cell of `box` [x0, x1, y0, y1] (row = y, column =
    x); points outside the box count in no cell, points on its far edges in the last cells."""
    x0, x1, y0, y1 = box
    p = points.double()
    u = (p[:, 0] - x0) / max(x1 - x0, 1e-12)  # (N,) in [0, 1] inside the box
    v = (p[:, 1] - y0) / max(y1 - y0, 1e-12)
    inside = (u >= 0) & (u <= 1) & (v >= 0) & (v <= 1)
    column = (u[inside] * cells).long().clamp(max=cells - 1)
    row = (v[inside] * cells).long().clamp(max=cells - 1)
    counts = torch.bincount(row * cells + column, minlength=cells * cells)
    return counts.double() / max(len(points), 1)


def smoothed_kl_bits(p: Tensor, q: Tensor) -> float:
    """GAN Lab's sum_j (p_j + e) log2((p_j + e) / (q_j + e)), e = 1e-4."""
    return float(((p + SMOOTHING) * ((p + SMOOTHING) / (q + SMOOTHING)).log2()).sum())


def grid_kl(real: Tensor, fake: Tensor) -> float:
    return smoothed_kl_bits(real, fake)


def grid_js(real: Tensor, fake: Tensor) -> float:
    middle = 0.5 * (real + fake)
    return 0.5 * (smoothed_kl_bits(real, middle) + smoothed_kl_bits(fake, middle))


class PointsMetric(Metric):
    """One registered measure of generated points against the run's data; `name` is its result."""

    modality = "points"
    name: ClassVar[str]
    higher_is_better: ClassVar[bool]

    def __init__(self, config: EvalConfig, context: EvalContext):
        super().__init__(config, context)
        if context.info.modality != "points":
            raise MetricError(f"{self.name} scores 2-D points, not {context.info.modality} samples; leave it out of "
                              "eval.metrics")

    def real_points(self, split: str, n: int) -> Tensor:
        """The first `n` points of `split` (the splits are i.i.d. draws: any n of them are a sample)."""
        dataset = self.context.dataset(split)
        return dataset.gather(torch.arange(min(n, len(dataset))))["points"]

    def compute(self, samples: Batch, model: GANModel | None = None) -> dict[str, MetricValue]:
        points = samples["points"]  # (N, 2)
        value, protocol = self.score(points)
        real = self.real_points("train", len(points))
        floor, _ = self.score(real)
        protocol.update(n_generated=len(points), real_vs_real=floor, n_real_vs_real=len(real),
                        real_vs_real_split="train")
        return {self.name: MetricValue(value, self.higher_is_better, protocol)}

    @abstractmethod
    def score(self, points: Tensor) -> tuple[float, dict[str, Any]]:
        """(value, protocol) of (N, 2) points: each metric's own measure."""


class ModeMetric(PointsMetric):
    """A measure against the known modes of a mixture (ring, grid)."""

    def __init__(self, config: EvalConfig, context: EvalContext):
        super().__init__(config, context)
        extra = context.info.extra
        if "modes" not in extra:
            raise MetricError(f"{self.name}: dataset '{context.data_name}' has no known modes (ring and grid do); "
                              f"leave {self.name} out of eval.metrics (grid_kl and grid_js apply to any points)")
        self.means = torch.tensor(extra["modes"], dtype=torch.float64)  # (K, 2)
        self.std = float(extra["mode_std"])
        self.weights = torch.tensor(extra["mode_weights"], dtype=torch.float64)  # (K,)

    def base_protocol(self) -> dict[str, Any]:
        return {"reference": f"the dataset's {len(self.means)} known modes", "n_modes": len(self.means),
                "mode_std": self.std, "high_quality": f"within {THRESHOLD:g} sigma of the nearest mode (PacGAN)"}


@METRICS.register("modes_covered")
class ModesCovered(ModeMetric):
    name, higher_is_better = "modes_covered", True

    def score(self, points: Tensor) -> tuple[float, dict[str, Any]]:
        counts, _ = mode_counts(points, self.means, self.std)
        return float(modes_covered(counts)), {**self.base_protocol(), "rule": "a mode counts when at least one "
                                              "high-quality sample is nearest to it"}


@METRICS.register("high_quality")
class HighQuality(ModeMetric):
    name, higher_is_better = "high_quality", True

    def score(self, points: Tensor) -> tuple[float, dict[str, Any]]:
        _, good = mode_counts(points, self.means, self.std)
        return float(good.double().mean()), {**self.base_protocol(), "rule": "share of samples of high quality"}


@METRICS.register("reverse_kl")
class ReverseKL(ModeMetric):
    name, higher_is_better = "reverse_kl", False

    def score(self, points: Tensor) -> tuple[float, dict[str, Any]]:
        counts, _ = mode_counts(points, self.means, self.std)
        return reverse_kl(counts, self.weights), {
            **self.base_protocol(), "rule": "KL(P_gen || P_real) over modes, nats; P_gen: high-quality samples by "
            "nearest mode, P_real: the mixture's weights; 0 log 0 = 0", "empty_histogram": int(counts.sum()) == 0,
        }


class GridMetric(PointsMetric):
    """GAN Lab's divergences between 30 x 30 histograms of real (the reference split) and generated points."""

    def __init__(self, config: EvalConfig, context: EvalContext):
        super().__init__(config, context)
        self.box = list(context.info.extra["bounds"])
        self._reference: Tensor | None = None  # the reference split's density, for `_reference_count` points
        self._reference_count = 0

    def reference(self, n: int) -> Tensor:
        if self._reference is None or self._reference_count != min(n, len(self.context.dataset(
                self.config.reference_split))):
            points = self.real_points(self.config.reference_split, n)
            self._reference, self._reference_count = grid_density(points, self.box), len(points)
        return self._reference

    def score(self, points: Tensor) -> tuple[float, dict[str, Any]]:
        reference = self.reference(len(points))
        divergence = grid_kl if self.name == "grid_kl" else grid_js
        return divergence(reference, grid_density(points, self.box)), {
            "cells": f"{GRID_CELLS} x {GRID_CELLS}", "box": self.box, "box_of": "the train split",
            "reference_split": self.config.reference_split, "n_reference": int(self._reference_count),
            "units": "bits (log2)", "smoothing": f"{SMOOTHING:g} added to every cell's density (GAN Lab)",
        }


@METRICS.register("grid_kl")
class GridKL(GridMetric):
    name, higher_is_better = "grid_kl", False


@METRICS.register("grid_js")
class GridJS(GridMetric):
    name, higher_is_better = "grid_js", False
