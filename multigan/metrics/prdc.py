"""Precision, recall, density and coverage (Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for
Generative Models") over k-nearest-neighbour manifolds; k = 5 as in the paper.

Each real sample r_i owns a ball of radius rad_i = distance to its k-th nearest other real sample (likewise each
fake sample f_j, radius rad'_j). With d_ij = |r_i - f_j|:
    precision = mean_j [exists i: d_ij < rad_i]        fake samples that fall on the real manifold
    recall    = mean_i [exists j: d_ij < rad'_j]       real samples that fall on the fake manifold
    density   = mean_j (1/k) #{i: d_ij < rad_i}        how many real balls hold a fake sample, on average
    coverage  = mean_i [min_j d_ij < rad_i]            real balls that hold at least one fake sample
The `prdc` package builds full N x N distance matrices; here they are made in row chunks so 10k-50k samples fit
in memory. Tests compare with `prdc.compute_prdc`.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from multigan.metrics.frechet import MetricError, check_finite


def _rows(features: Tensor | np.ndarray) -> Tensor:
    return torch.as_tensor(features).detach().cpu().double()


def kth_neighbour_radii(features: Tensor, k: int, chunk: int) -> Tensor:
    """(N,) distance of each row to its k-th nearest other row (the row itself, at distance 0, is not counted)."""
    radii = []
    for block in features.split(chunk):
        distances = torch.cdist(block, features)  # (chunk, N)
        radii.append(distances.topk(k + 1, dim=1, largest=False).values[:, -1])
    return torch.cat(radii)


def precision_recall_density_coverage(real: Tensor | np.ndarray, fake: Tensor | np.ndarray, k: int = 5,
                                      chunk: int = 2048) -> dict[str, float]:
    """PRDC of `fake` (M, D) against `real` (N, D), both needing more than k samples."""
    real, fake = _rows(real), _rows(fake)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise MetricError(f"PRDC needs two (N, D) feature sets of one D, got {tuple(real.shape)} and "
                          f"{tuple(fake.shape)}")
    if min(len(real), len(fake)) <= k:
        raise MetricError(f"PRDC with k={k} needs more than {k} samples per side, got {len(real)} real, "
                          f"{len(fake)} fake")
    check_finite("real features", real)
    check_finite("fake features", fake)
    real_radii = kth_neighbour_radii(real, k, chunk)  # (N,)
    fake_radii = kth_neighbour_radii(fake, k, chunk)  # (M,)
    balls_holding_fake = torch.zeros(len(fake), dtype=torch.float64)  # per fake: #real balls it lies in
    real_recalled = torch.zeros(len(real), dtype=torch.bool)
    real_covered = torch.zeros(len(real), dtype=torch.bool)
    for start in range(0, len(real), chunk):
        distances = torch.cdist(real[start : start + chunk], fake)  # (chunk, M): d_ij
        radii = real_radii[start : start + chunk, None]  # (chunk, 1)
        balls_holding_fake += (distances < radii).sum(dim=0)
        real_recalled[start : start + chunk] = (distances < fake_radii[None, :]).any(dim=1)
        real_covered[start : start + chunk] = distances.min(dim=1).values < radii[:, 0]
    return {
        "precision": float((balls_holding_fake > 0).double().mean()),
        "recall": float(real_recalled.double().mean()),
        "density": float(balls_holding_fake.mean() / k),
        "coverage": float(real_covered.double().mean()),
    }
