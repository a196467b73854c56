"""The Fréchet distance between two Gaussians, and streaming feature statistics. Shared by FID, FAD and text
embedding distances.

    d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))

pytorch-fid takes `scipy.linalg.sqrtm(S1 @ S2)` (a Schur decomposition of a non-symmetric matrix, retried with
eps*I added when the product is singular). We need only the trace, and for symmetric PSD S1 = F F^T the eigenvalues
of S1 S2 equal those of the symmetric PSD matrix F^T S2 F. A Cholesky factor and one symmetric eigenvalue solve
give the same number (tests compare with pytorch-fid and torch-fidelity at rel 1e-6), several times faster, and
stay real and finite on singular covariances, where sqrtm needs the eps retry.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from multigan.errors import UserError


class MetricError(UserError, ValueError):
    """Inputs a metric cannot score (NaN features, too few samples ...). The message says what to change."""


def _as_float64(x: np.ndarray | Tensor) -> np.ndarray:
    if isinstance(x, Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def check_finite(name: str, x: np.ndarray | Tensor) -> None:
    values = x if isinstance(x, Tensor) else torch.from_numpy(np.asarray(x))
    if not bool(torch.isfinite(values).all()):
        bad = int((~torch.isfinite(values)).sum())
        raise MetricError(f"{name}: {bad} NaN/inf values; the generator or feature extractor diverged")


def check_enough_samples(n: int, dim: int, what: str = "samples") -> None:
    """A covariance of n samples has rank <= n - 1, so n <= dim gives a singular covariance and a meaningless
    Fréchet distance."""
    if n <= dim:
        raise MetricError(
            f"only {n} {what} for {dim}-d features: the covariance is singular (needs more samples than feature "
            f"dimensions, ideally 10x); use more samples, a lower-dimensional extractor, or KID, which has no such "
            f"limit"
        )


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix; tiny negative eigenvalues from rounding are clipped to 0."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    root = np.sqrt(np.clip(eigenvalues, 0.0, None))
    return (eigenvectors * root) @ eigenvectors.T


def _symmetric_factor(matrix: np.ndarray) -> np.ndarray:
    """F with F F^T = matrix: the Cholesky factor (cheap) when the matrix is positive definite, else the PSD
    square root (a singular covariance has no Cholesky factor)."""
    try:
        return np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return _sqrt_psd(matrix)


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr((S1 S2)^(1/2)) for symmetric PSD S1, S2. With S1 = F F^T, S1 S2 = F (F^T S2 F) F^-1 has the eigenvalues
    of the symmetric PSD matrix F^T S2 F, whose eigenvalues alone (no vectors) give the trace."""
    factor = _symmetric_factor(sigma1)
    middle = factor.T @ sigma2 @ factor
    middle = (middle + middle.T) / 2  # remove the rounding asymmetry before eigvalsh
    return float(np.sqrt(np.clip(np.linalg.eigvalsh(middle), 0.0, None)).sum())


def frechet_distance(
    mu1: np.ndarray | Tensor, sigma1: np.ndarray | Tensor, mu2: np.ndarray | Tensor, sigma2: np.ndarray | Tensor
) -> float:
    """Squared Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2), computed in float64."""
    mu1, mu2, sigma1, sigma2 = (_as_float64(x) for x in (mu1, mu2, sigma1, sigma2))
    if mu1.ndim != 1 or mu1.shape != mu2.shape:
        raise MetricError(f"means must be 1-d vectors of one length, got {mu1.shape} and {mu2.shape}")
    dim = mu1.shape[0]
    if sigma1.shape != (dim, dim) or sigma2.shape != (dim, dim):
        raise MetricError(f"covariances must be {dim}x{dim}, got {sigma1.shape} and {sigma2.shape}")
    for name, x in (("mean 1", mu1), ("covariance 1", sigma1), ("mean 2", mu2), ("covariance 2", sigma2)):
        check_finite(name, x)
    diff = mu1 - mu2
    distance = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt_product(sigma1, sigma2)
    return float(max(distance, 0.0))  # exact value is >= 0; rounding can give -1e-13 for identical statistics


class RunningStats:
    """Mean and covariance of feature batches in float64, without keeping the features: per-batch centred scatter
    matrices merged with Chan et al.'s parallel update, which (unlike sum of x x^T minus n mean mean^T) does not
    lose precision when the mean is large against the spread. Equals `np.mean(axis=0)`, `np.cov(rowvar=False)`.

    Small batches are pooled into blocks of `block_rows` before each update: a (B, D)^T (B, D) product is much
    faster per row for B in the thousands than for B = 250, and the D x D merge then runs a few times, not per batch.
    """

    def __init__(self, dim: int, block_rows: int = 4096):
        self.dim = dim
        self.block_rows = block_rows
        self._count = 0
        self._mean = np.zeros(dim)
        self._scatter = np.zeros((dim, dim))  # sum of (x - mean)(x - mean)^T
        self._pending: list[np.ndarray] = []  # float64 batches not yet folded in
        self._pending_rows = 0

    def update(self, features: Tensor | np.ndarray) -> "RunningStats":
        """Add a batch of features (B, D)."""
        batch = _as_float64(features)
        if batch.ndim != 2 or batch.shape[1] != self.dim:
            raise MetricError(f"expected features of shape (B, {self.dim}), got {tuple(batch.shape)}")
        check_finite("features", batch)
        self._pending.append(batch)
        self._pending_rows += len(batch)
        if self._pending_rows >= self.block_rows:
            self._flush()
        return self

    def _flush(self) -> None:
        if not self._pending_rows:
            return
        block = np.concatenate(self._pending)  # (rows, D)
        self._pending, self._pending_rows = [], 0
        block_mean = block.mean(axis=0)
        centred = block - block_mean
        # numpy sees X^T X and calls the symmetric rank-k BLAS routine: half the work of a general product
        self._merge(len(block), block_mean, centred.T @ centred)

    def merge(self, other: "RunningStats") -> "RunningStats":
        """Fold in statistics gathered elsewhere (another process, another shard)."""
        if other.dim != self.dim:
            raise MetricError(f"cannot merge {other.dim}-d statistics into {self.dim}-d ones")
        other._flush()
        self._flush()
        if other.count:
            self._merge(other.count, other._mean, other._scatter)
        return self

    def _merge(self, n_b: int, mean_b: np.ndarray, scatter_b: np.ndarray) -> None:
        n_a = self._count
        n = n_a + n_b
        delta = mean_b - self._mean  # (D,)
        self._mean += delta * (n_b / n)
        self._scatter += scatter_b + np.outer(delta, delta) * (n_a * n_b / n)
        self._count = n

    @property
    def count(self) -> int:
        return self._count + self._pending_rows

    @property
    def mean(self) -> np.ndarray:
        self._flush()
        return self._mean.copy()

    @property
    def covariance(self) -> np.ndarray:
        """Unbiased (ddof=1) covariance (D, D), as np.cov."""
        if self.count < 2:
            raise MetricError(f"a covariance needs at least 2 samples, got {self.count}")
        self._flush()
        return self._scatter / (self.count - 1)

    def frechet_distance(self, other: "RunningStats") -> float:
        check_enough_samples(self.count, self.dim)
        check_enough_samples(other.count, other.dim, "reference samples")
        return frechet_distance(self.mean, self.covariance, other.mean, other.covariance)
