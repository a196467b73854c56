"""Training stability and cost of benchmark runs, as pure functions of numbers the runs already wrote.

    seed_spread(values) -> Spread       mean, sample std (ddof 1), n over seeds; failed seeds (None/NaN) counted
    detect_collapse(curve, higher)      did a metric-vs-step curve collapse? (rule below) -> Collapse
    diversity_ratio(generated, real)    mean pairwise feature distance of samples / of real data
    diversity_collapsed(ratio)          ratio below DIVERSITY_FLOOR: the samples are (nearly) all alike
    cost(wall_s, n, peak, device)       samples/s, wall time, peak memory and device as one `Cost` record

Collapse rule (curve = [(step, value), ...] in step order): with first, best and final the values at the first
step, at the best step and at the last step, improvement = |best - first| and regression = |final - best| (both
measured in the metric's own direction),
    collapsed  if the final value is not finite (diverged), or
               if improvement > 0 and regression > COLLAPSE_SHARE * improvement: the run gave back more than half
               of what it had gained (e.g. FID 300 -> 40 at its best -> 200 at the end).
A curve that never improved is reported as "no progress", not as a collapse: there was nothing to lose. With a
`tolerance` (metric units), a regression no larger than it is noise, not a collapse: a curve that reaches the
real-data floor early and wobbles around it gives back "200%" of a tiny gain without having lost anything.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Sequence

import torch
from torch import Tensor

COLLAPSE_SHARE = 0.5
DIVERSITY_FLOOR = 0.1  # a tenth of real data's spread: nearly one mode (a collapsed GAN scores ~0.01)
PAIRS_SAMPLE = 1000  # rows per side used for pairwise distances (1000^2 / 2 pairs are plenty for a mean)


def _finite(value: Any) -> bool:
    return value is not None and isinstance(value, (int, float)) and math.isfinite(value)


@dataclass
class Spread:
    """One metric over the seeds of a run; mean/std/min/max are None when no seed gave a finite value."""

    n: int  # seeds with a finite value
    n_failed: int  # crashed or non-finite seeds, left out of the statistics
    mean: float | None
    std: float | None  # sample standard deviation (ddof 1; 0.0 for one seed)
    min: float | None
    max: float | None


def seed_spread(values: Sequence[float | None]) -> Spread:
    """Spread of one metric over the seeds of a run. Crashed or non-finite seeds (None, NaN, inf) are left out of the
    statistics and counted in n_failed; with none left, mean/std/min/max are None (shown as "—")."""
    good = [float(v) for v in values if _finite(v)]
    if not good:
        return Spread(0, len(values), None, None, None, None)
    mean = sum(good) / len(good)
    variance = sum((v - mean) ** 2 for v in good) / (len(good) - 1) if len(good) > 1 else 0.0
    return Spread(len(good), len(values) - len(good), mean, math.sqrt(variance), min(good), max(good))


def format_spread(spread: Spread, digits: int = 3) -> str:
    """'0.123 ± 0.004 (n=3)', with ', 1 failed' when seeds failed; '—' when no seed gave a value."""
    if spread.mean is None:
        return "—"
    failed = f", {spread.n_failed} failed" if spread.n_failed else ""
    return f"{spread.mean:.{digits}g} ± {spread.std:.{digits}g} (n={spread.n}{failed})"


NO_EVALUATIONS = "no evaluations"
DIVERGED = "diverged (final value not finite)"


@dataclass
class Collapse:
    """The collapse rule's verdict on one curve (values in the metric's units, steps of the training run)."""

    first: float | None
    final: float | None
    final_step: int | None
    best: float | None
    best_step: int | None
    collapsed: bool
    reason: str
    regression_share: float | None  # regression / improvement; None without improvement

    def to_json(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        return {key: values[key] for key in JSON_ORDER.get(self.reason, values)}


# report.json lists a verdict's keys in the order the rule has always decided them: these two differ from the rest
JSON_ORDER = {NO_EVALUATIONS: ("collapsed", "reason", "first", "best", "best_step", "final", "final_step",
                               "regression_share"),
              DIVERGED: ("first", "final", "final_step", "collapsed", "reason", "best", "best_step", "regression_share")}


def detect_collapse(curve: Sequence[tuple[int, float]], higher_is_better: bool,
                    share: float = COLLAPSE_SHARE, tolerance: float = 0.0) -> Collapse:
    """The module docstring's rule on `curve` [(step, value), ...]; a regression of at most `tolerance` (in the
    metric's units: noise, e.g. a curve wobbling at the real-data floor) is never a collapse."""
    points = sorted((int(step), value) for step, value in curve)
    if not points:
        return Collapse(None, None, None, None, None, False, NO_EVALUATIONS, None)
    final_step, final = points[-1]
    finite = [(step, float(value)) for step, value in points if _finite(value)]
    first = finite[0][1] if finite else None
    if not _finite(final):
        best_step, best = max(finite, key=lambda p: p[1] if higher_is_better else -p[1]) if finite else (None, None)
        return Collapse(first, final, final_step, best, best_step, True, DIVERGED, None)
    sign = 1.0 if higher_is_better else -1.0  # values times sign: higher is better
    best_step, best = max(finite, key=lambda p: sign * p[1])
    improvement = sign * (best - finite[0][1])
    regression = sign * (best - final)
    if improvement <= 0:
        return Collapse(first, final, final_step, best, best_step, False, "no progress", None)
    ratio = regression / improvement
    collapsed = ratio > share and regression > tolerance
    reason = (f"gave back {ratio:.0%} of its improvement after step {best_step}" if collapsed
              else "stable" if regression == 0 else f"regressed by {regression:.3g}, within the tolerance"
              if ratio > share else f"kept {1 - ratio:.0%} of its improvement")
    return Collapse(first, final, final_step, best, best_step, collapsed, reason, ratio)


def mean_pairwise_distance(features: Tensor, limit: int = PAIRS_SAMPLE) -> float:
    """Mean Euclidean distance over all pairs of the first `limit` rows of `features` (N, D), N >= 2."""
    rows = torch.as_tensor(features).double()[:limit]
    if rows.ndim != 2 or len(rows) < 2:
        raise ValueError(f"pairwise distances need (N >= 2, D) features, got shape {tuple(rows.shape)}")
    return float(torch.pdist(rows).mean())


def diversity_ratio(generated: Tensor, real: Tensor, limit: int = PAIRS_SAMPLE) -> float:
    """Mean pairwise distance of generated features over that of real features (same extractor): ~1 for samples
    as varied as the data, ~0 for a generator that emits one thing. Pass shuffled rows: the first `limit` count."""
    real_spread = mean_pairwise_distance(real, limit)
    if real_spread == 0:
        raise ValueError("the real features are all identical; their spread cannot scale the samples'")
    return mean_pairwise_distance(generated, limit) / real_spread


def diversity_collapsed(ratio: float, floor: float = DIVERSITY_FLOOR) -> bool:
    """True when the samples' spread is below `floor` times the real data's: mode collapse."""
    return ratio < floor


@dataclass
class Cost:
    wall_s: float
    samples_per_s: float | None  # None without a sample count
    peak_memory_mib: float | None
    device: str


def cost(wall_s: float, n_samples: int | None = None, peak_memory_bytes: int | None = None,
         device: str = "") -> Cost:
    """One cost record: wall time, samples/s (n_samples / wall_s, None without both), peak memory in MiB."""
    rate = n_samples / wall_s if n_samples is not None and wall_s > 0 else None
    memory = peak_memory_bytes / 2**20 if peak_memory_bytes is not None else None
    return Cost(wall_s, rate, memory, device)


def peak_memory_bytes(device: str | torch.device = "cpu") -> int:
    """Peak memory so far: CUDA's max allocated on a CUDA device, else this process's peak resident set size
    (Linux ru_maxrss, the process's lifetime peak: measure a run in its own process)."""
    device = torch.device(device)
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # KiB on Linux
