"""Kernel Inception Distance (Bińkowski et al. 2018): the unbiased MMD^2 estimate with the polynomial kernel
k(x, y) = (gamma x.y + coef0)^degree, averaged over random subsets. Defaults and the subset sampling (a
`np.random.RandomState(seed)` drawing generated then reference indices without replacement, per subset) are
torch-fidelity 0.4.0's, so the same features give the same number (tests check it). Kernels are computed in the
features' precision (float32 features: float32 kernels, as torch-fidelity, ~2.5x faster than float64) and summed in
float64.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import Tensor

from multigan.metrics.frechet import MetricError, check_finite


@dataclass(frozen=True)
class KIDSettings:
    subsets: int = 100
    subset_size: int = 1000  # lowered to the smaller sample count when fewer samples are given (see `resolved`)
    degree: int = 3
    gamma: float | None = None  # None: 1 / feature dimension
    coef0: float = 1.0
    seed: int = 2020

    def resolved(self, n_1: int, n_2: int) -> "KIDSettings":
        return KIDSettings(self.subsets, min(self.subset_size, n_1, n_2), self.degree, self.gamma, self.coef0,
                           self.seed)


def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int, gamma: float, coef0: float) -> np.ndarray:
    return (x @ y.T * gamma + coef0) ** degree  # (m, m)


def unbiased_mmd2(k_xx: np.ndarray, k_xy: np.ndarray, k_yy: np.ndarray) -> float:
    """MMD^2 without the diagonal (self-similarity) terms of K_XX and K_YY, for m x m kernel matrices."""
    m = k_xx.shape[0]

    def total(k: np.ndarray) -> float:
        return float(k.sum(dtype=np.float64))

    def trace(k: np.ndarray) -> float:
        return float(np.trace(k, dtype=np.float64))

    within = (total(k_xx) - trace(k_xx) + total(k_yy) - trace(k_yy)) / (m * (m - 1))
    return within - 2 * total(k_xy) / (m * m)


def _as_float_array(features: Tensor | np.ndarray) -> np.ndarray:
    """float32 stays float32 (the extractors' output), anything else becomes float64."""
    if isinstance(features, Tensor):
        features = features.detach().cpu().numpy()
    features = np.asarray(features)
    return features if features.dtype == np.float32 else features.astype(np.float64)


def kernel_inception_distance(
    generated: Tensor | np.ndarray, reference: Tensor | np.ndarray, settings: KIDSettings = KIDSettings()
) -> tuple[float, float]:
    """(mean, std) of the unbiased polynomial-kernel MMD^2 over `settings.subsets` random subsets.
    `generated` (N1, D) and `reference` (N2, D); the subset size must not exceed N1 or N2."""
    x_all, y_all = _as_float_array(generated), _as_float_array(reference)
    if x_all.dtype != y_all.dtype:
        x_all, y_all = x_all.astype(np.float64), y_all.astype(np.float64)
    if x_all.ndim != 2 or y_all.ndim != 2 or x_all.shape[1] != y_all.shape[1]:
        raise MetricError(f"KID needs two (N, D) feature sets of one D, got {x_all.shape} and {y_all.shape}")
    check_finite("generated features", x_all)
    check_finite("reference features", y_all)
    size = settings.subset_size
    if size < 2 or size > min(len(x_all), len(y_all)):
        raise MetricError(f"KID subset size {size} must be between 2 and the sample counts "
                          f"({len(x_all)} generated, {len(y_all)} reference)")
    gamma = settings.gamma if settings.gamma is not None else 1.0 / x_all.shape[1]
    rng = np.random.RandomState(settings.seed)
    mmds = np.zeros(settings.subsets)
    for i in range(settings.subsets):
        x = x_all[rng.choice(len(x_all), size, replace=False)]
        y = y_all[rng.choice(len(y_all), size, replace=False)]
        kernel = (settings.degree, gamma, settings.coef0)
        mmds[i] = unbiased_mmd2(polynomial_kernel(x, x, *kernel), polynomial_kernel(x, y, *kernel),
                                polynomial_kernel(y, y, *kernel))
    return float(mmds.mean()), float(mmds.std())
