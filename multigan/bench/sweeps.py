"""Quality/diversity sweeps: one trained run sampled over a range of its sampling option, scored at each value.

Text (Caccia et al. 2020, "Language GANs Falling Short"): the generator trained by MLE alone, sampled at a range of
softmax temperatures, traces a quality vs diversity curve; a text GAN only beats MLE if its point lies beyond that
curve, since lowering the temperature alone already trades diversity for quality. On the synthetic oracle the axes
are the paper's own, NLL_oracle (quality) vs NLL_test (diversity: the model's NLL of held-out oracle samples, at
the same temperature); on real text BLEU-4 vs self-BLEU-4. A run's metrics pick the axes (the first pair it has).
Images, the analogue: precision vs recall (Kynkäänniemi et al. 2019) over latent truncation (BigGAN's trick).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from multigan.core.phases import GANModel
from multigan.metrics.base import EvalContext
from multigan.metrics.config import EvalConfig
from multigan.metrics.evaluate import Evaluator


@dataclass(frozen=True)
class Axes:
    metrics: tuple[str, ...]  # registered metrics computed at each value
    quality: str  # result drawn on the y axis
    diversity: str  # result drawn on the x axis
    diversity_higher_is_better: bool  # self-BLEU, NLL_test: lower is more diverse
    quality_higher_is_better: bool = True  # NLL_oracle: lower is better


QUALITY_DIVERSITY = {  # per option, the axes in order of preference
    "temperature": (Axes(("nll_oracle", "nll_test"), "nll_oracle", "nll_test", False, False),
                    Axes(("bleu", "self_bleu"), "bleu4", "self_bleu4", False)),
    "truncation": (Axes(("prdc",), "precision", "recall", True),),
}


def sweep_axes(option: str, run_metrics: list[str]) -> Axes | None:
    """The first axes of `option` whose metrics the run computes; None when it has none of them."""
    return next((axes for axes in QUALITY_DIVERSITY[option] if set(axes.metrics) <= set(run_metrics)), None)


def sweep_problem(option: str, run_metrics: list[str]) -> str:
    """Why a run cannot be swept over `option` with its metrics ("" when it can)."""
    if sweep_axes(option, run_metrics):
        return ""
    choices = " or ".join(", ".join(axes.metrics) for axes in QUALITY_DIVERSITY[option])
    return f"a sweep over {option} scores {choices}; the run's metrics have neither set"


@dataclass
class SweepPoint:
    value: float  # the sampling option's value
    metrics: dict[str, float]  # result -> value at it


@dataclass
class SweepResult:
    option: str
    quality: str
    diversity: str
    diversity_higher_is_better: bool
    points: list[SweepPoint]
    protocol: dict[str, dict[str, Any]]  # quality and diversity result -> its protocol
    quality_higher_is_better: bool = True  # records written before NLL axes: BLEU, precision

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if data["quality_higher_is_better"]:  # the default is left out: older records write back unchanged
            del data["quality_higher_is_better"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SweepResult:
        return cls(**{**data, "points": [SweepPoint(**point) for point in data["points"]]})


def run_sweep(model: GANModel, option: str, values: list[float], config: EvalConfig,
              context: EvalContext) -> SweepResult:
    """The sweep's metrics on `config.n_samples` samples at each value of `option` (same eval seed at each); the
    axes are the first of the option's whose metrics the run's `config.metrics` has."""
    axes = sweep_axes(option, config.metrics)
    if axes is None:
        raise ValueError(f"run_sweep: {sweep_problem(option, config.metrics)}")  # plan.py checks this first
    evaluator = Evaluator(dataclasses.replace(config, metrics=list(axes.metrics), real_floor=False), context)
    points, protocol = [], {}
    for value in values:
        results = evaluator(model, **{option: value})
        points.append(SweepPoint(value, {name: result.value for name, result in results.items()}))
        # the protocol of the sweep, not of one point: the swept value itself is in each point
        protocol = {name: {k: v for k, v in results[name].protocol.items() if k != option}
                    for name in (axes.quality, axes.diversity)}
    return SweepResult(option, axes.quality, axes.diversity, axes.diversity_higher_is_better, points, protocol,
                       axes.quality_higher_is_better)
