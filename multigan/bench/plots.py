"""The bench report's figures, drawn with matplotlib (Agg) from report.json's numbers alone, as PNG bytes.

    quality_diversity_figures   per sweep option: each swept run's curve over the option (mean ± std over seeds,
                                each point labelled with its value), every run of that modality as a point at
                                its default sampling (mean ± std over seeds)
    curve_figures               per suite run: metric vs training step, one line per seed
"""
from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from multigan.bench.parts import Figure  # noqa: E402
from multigan.bench.records import Report, ReportRun  # noqa: E402
from multigan.bench.stability import seed_spread  # noqa: E402

DPI = 80
CURVE_METRICS = ("fd_norm", "fid", "bleu4", "fad_classifier", "nll_oracle", "nll_gen", "modes_covered",
                 "reverse_kl")  # the first 3 present are drawn
AXIS_NAMES = {"bleu4": "BLEU-4 (quality, higher is better)", "self_bleu4": "self-BLEU-4 (lower is more diverse)",
              "precision": "precision (quality)", "recall": "recall (diversity)",
              "nll_oracle": "NLL_oracle (quality, lower is better)",
              "nll_test": "NLL_test (diversity: held-out NLL, lower is better)"}


def png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=DPI)
    plt.close(figure)
    return buffer.getvalue()


def mean_std(values: list[float | None]) -> tuple[float | None, float]:
    spread = seed_spread(values)
    return spread.mean, spread.std or 0.0


def sweep_curve(runs: list[ReportRun]) -> tuple[list[float], list[tuple[float, float]], list[tuple[float, float]]]:
    """(option values, (x mean, x std) per value, (y mean, y std) per value) over the seeds' sweeps."""
    sweeps = [r.sweep for r in runs if r.sweep]
    values = [p.value for p in sweeps[0].points]
    xs, ys = [], []
    for index in range(len(values)):
        points = [s.points[index].metrics for s in sweeps]
        xs.append(mean_std([p.get(sweeps[0].diversity) for p in points]))
        ys.append(mean_std([p.get(sweeps[0].quality) for p in points]))
    return values, xs, ys


def result_value(run: ReportRun, name: str) -> float | None:
    return run.metrics[name].value if name in run.metrics else None


def quality_diversity_figure(report: Report, option: str) -> tuple[bytes, str, str] | None:
    specs = report.suite.runs
    swept = [s for s in specs if any(r.sweep and r.sweep.option == option for r in report.runs_of(s.name))]
    if not swept:
        return None
    first = next(r.sweep for r in report.runs_of(swept[0].name) if r.sweep)
    quality, diversity = first.quality, first.diversity
    modality = swept[0].modality
    figure, axes = plt.subplots(figsize=(6, 4.2))
    for spec in swept:
        values, xs, ys = sweep_curve([r for r in report.runs_of(spec.name) if r.done])
        axes.errorbar([x for x, _ in xs], [y for y, _ in ys], xerr=[e for _, e in xs], yerr=[e for _, e in ys],
                      marker="o", capsize=2, label=f"{spec.label}, {option} sweep")
        for value, (x, _), (y, _) in zip(values, xs, ys):
            if x is not None and y is not None:
                axes.annotate(f"{value:g}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    for marker, spec in zip("s^vDP*X", [s for s in specs if s.modality == modality]):
        done = [r for r in report.runs_of(spec.name) if r.done]
        x = mean_std([result_value(r, diversity) for r in done])
        y = mean_std([result_value(r, quality) for r in done])
        if x[0] is not None and y[0] is not None:
            axes.errorbar([x[0]], [y[0]], xerr=[x[1]], yerr=[y[1]], marker=marker, markersize=9, linestyle="none",
                          capsize=2, label=f"{spec.label} (trained run, default sampling)")
    axes.set_xlabel(AXIS_NAMES.get(diversity, diversity))
    axes.set_ylabel(AXIS_NAMES.get(quality, quality))
    axes.set_title(f"{modality}: {quality} vs {diversity} over {option}", fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7)
    better = (f"{'up' if first.quality_higher_is_better else 'down'} and to the "
              f"{'right' if first.diversity_higher_is_better else 'left'}")
    caption = (f"Each swept run's curve: mean ± std over seeds at each {option} (labels); markers: every "
               f"{modality} run at its default sampling. Better is {better}; a run beats the baseline only if its "
               f"point lies beyond the curve.")
    return png(figure), caption, f"quality_diversity_{option}.png"


def quality_diversity_figures(report: Report) -> list[Figure]:
    figures = []
    for option in report.suite.sweeps:
        drawn = quality_diversity_figure(report, option)
        if drawn:
            picture, caption, name = drawn
            figures.append(Figure(f"Quality vs diversity over {option}", picture, caption, name))
    return figures


def curve_figures(report: Report) -> list[Figure]:
    figures = []
    for spec in report.suite.runs:
        done = [r for r in report.runs_of(spec.name) if r.done and r.curves]
        names = [m for m in CURVE_METRICS if any(m in r.curves for r in done)][:3]
        if not names:
            continue
        figure, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 2.6), squeeze=False)
        for axis, name in zip(axes[0], names):
            for run in done:
                points = run.curves.get(name, [])
                axis.plot([p[0] for p in points], [p[1] for p in points], marker=".", label=f"seed {run.seed}")
            axis.set_title(name, fontsize=9)
            axis.set_xlabel("step", fontsize=8)
            axis.tick_params(labelsize=7)
            axis.grid(alpha=0.3)
        axes[0][0].legend(fontsize=7)
        figures.append(Figure(f"{spec.label}: metrics vs step", png(figure),
                              f"{spec.label} ({spec.model} on {spec.data}): evaluations during training.",
                              f"curves_{spec.name}.png"))
    return figures
