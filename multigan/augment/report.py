"""A finished study as results.json (every cell and the summary), results.md (one table: label budget x training
set, then synthetic-only) and plot.png (test accuracy against the label budget, one line per synthetic ratio)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from multigan.core.files import atomic_path, write_json_atomic, write_text_atomic


def percent(row: dict[str, Any]) -> str:
    return f"{100 * row['mean']:.1f} ± {100 * row['std']:.1f}"


def find(rows: list[dict[str, Any]], kind: str, budget: float | None = None, ratio: float | None = None) -> dict:
    return next(r for r in rows if r["kind"] == kind and r["budget"] == budget and r["ratio"] == ratio)


def markdown(summary: dict[str, Any]) -> str:
    """The table the README quotes: rows = label budgets, columns = real only, + r x synthetic; then CAS."""
    rows, budgets, ratios = summary["rows"], summary["budgets"], summary["ratios"]
    header = ["label budget (real train examples)", "real only"] + [f"+ {r:g}× synthetic" for r in ratios]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for budget in budgets:
        real = find(rows, "real", budget)
        cells = [f"{100 * budget:g} % ({real['n_real']:,})", percent(real)]
        cells += [percent(find(rows, "mixed", budget, ratio)) for ratio in ratios]
        lines.append("| " + " | ".join(cells) + " |")
    only = find(rows, "synthetic")
    seeds = len(only["seeds"])
    lines += ["", f"Synthetic only (Classification Accuracy Score, {only['n_synthetic']:,} synthetic examples): "
              f"{percent(only)}", "",
              f"Test accuracy (%) on the real test split ({summary['n_test']:,} examples), mean ± std (ddof 1) over "
              f"{seeds} seeds; every cell trains the downstream classifier for {summary['steps']:,} updates. "
              f"GAN: {summary['gan']['run']} (step {summary['gan']['step']}). Compute: {summary['seconds']['total']:.0f} s "
              f"({summary['seconds']['gan']:.0f} s GAN, {summary['seconds']['export']:.0f} s export, "
              f"{summary['seconds']['cells']:.0f} s cells) on {summary['device']}."]
    return "\n".join(lines) + "\n"


def plot(summary: dict[str, Any], path: Path) -> None:
    """Accuracy vs label budget (log x when the budgets span more than 10x), error bars = std over seeds; the
    synthetic-only score as a dashed line with its std band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, budgets = summary["rows"], summary["budgets"]
    figure, axes = plt.subplots(figsize=(6, 4), dpi=100)
    lines = [("real only", "real", None)] + [(f"real + {r:g}× synthetic", "mixed", r) for r in summary["ratios"]]
    for label, kind, ratio in lines:
        points = [find(rows, kind, b, ratio) for b in budgets]
        axes.errorbar([100 * b for b in budgets], [100 * p["mean"] for p in points],
                      yerr=[100 * p["std"] for p in points], marker="o", capsize=3, label=label)
    only = find(rows, "synthetic")
    axes.axhline(100 * only["mean"], color="black", linestyle="--", label="synthetic only (CAS)")
    axes.axhspan(100 * (only["mean"] - only["std"]), 100 * (only["mean"] + only["std"]), color="black", alpha=0.1)
    if max(budgets) / min(budgets) > 10:
        axes.set_xscale("log")
        axes.minorticks_off()
    axes.set_xticks([100 * b for b in budgets], [f"{100 * b:g} %" for b in budgets])
    axes.set_xlabel("label budget (% of the real train split, class-balanced)")
    axes.set_ylabel("test accuracy (%)")
    axes.set_title(f"{summary['study']}: mean ± std over {len(only['seeds'])} seeds", fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
    plt.close(figure)


def write_report(summary: dict[str, Any], folder: Path) -> dict[str, Path]:
    paths = {"json": folder / "results.json", "markdown": folder / "results.md", "plot": folder / "plot.png"}
    write_json_atomic(paths["json"], summary)
    write_text_atomic(paths["markdown"], markdown(summary))
    plot(summary, paths["plot"])
    return paths
