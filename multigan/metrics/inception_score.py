"""Inception Score (Salimans et al. 2016) over classifier logits, and class coverage for a domain classifier.

IS = exp(E_x KL(p(y|x) || p(y))), averaged over splits. Shuffling, splits and float64 follow torch-fidelity
0.4.0 (`isc_features_to_metric`: a RandomState(2020) permutation, 10 equal splits, mean and population std), so
the same logits give the same number (tests check it).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from multigan.metrics.frechet import MetricError, check_finite


def inception_score(logits: Tensor | np.ndarray, splits: int = 10, shuffle: bool = True,
                    seed: int = 2020) -> tuple[float, float]:
    """(mean, std) over `splits` of exp(mean KL(p(y|x) || p(y))) for logits (N, K)."""
    logits = torch.as_tensor(logits).detach().cpu().double()
    if logits.ndim != 2:
        raise MetricError(f"Inception Score needs logits (N, K), got shape {tuple(logits.shape)}")
    check_finite("logits", logits)
    n = len(logits)
    if n < splits:
        raise MetricError(f"Inception Score with {splits} splits needs at least {splits} samples, got {n}")
    if shuffle:
        logits = logits[np.random.RandomState(seed).permutation(n)]
    log_p = logits.log_softmax(dim=1)  # (N, K): log p(y|x)
    scores = []
    for i in range(splits):
        chunk = log_p[i * n // splits : (i + 1) * n // splits]
        log_marginal = chunk.exp().mean(dim=0).log()  # (K,): log p(y) within the split
        kl = (chunk.exp() * (chunk - log_marginal)).sum(dim=1)  # (n_split,)
        scores.append(float(kl.mean().exp()))
    return float(np.mean(scores)), float(np.std(scores))


def class_histogram(logits: Tensor | np.ndarray, num_classes: int) -> Tensor:
    """Share of samples predicted as each class, (K,) float64."""
    predicted = torch.as_tensor(logits).argmax(dim=1)
    return torch.bincount(predicted, minlength=num_classes).double() / len(predicted)


def class_coverage(generated_logits: Tensor | np.ndarray, reference_logits: Tensor | np.ndarray,
                   min_relative_share: float = 0.1) -> dict[str, float]:
    """How the generator spreads over the classes, both sides labelled by the same classifier:
    `classes_hit` counts classes whose share among generated samples is at least `min_relative_share` times
    their share among reference samples (a class with a stray sample or two is not hit);
    `class_coverage` is that count over the classes present in the reference;
    `class_kl` is KL(generated histogram || reference histogram) in nats (0: same class balance)."""
    num_classes = torch.as_tensor(reference_logits).shape[1]
    generated = class_histogram(generated_logits, num_classes)  # (K,)
    reference = class_histogram(reference_logits, num_classes)  # (K,)
    present = reference > 0
    hit = (generated >= min_relative_share * reference) & present
    # 1e-12 floor: a class the generator emits but the reference never shows would make the KL infinite
    kl = (generated * (generated.clamp_min(1e-12).log() - reference.clamp_min(1e-12).log())).sum()
    return {"classes_hit": float(hit.sum()), "class_coverage": float(hit.sum() / present.sum()),
            "class_kl": float(kl)}
