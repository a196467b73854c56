"""Metric values as a plain-text table that always shows the protocol next to the number."""
from __future__ import annotations

from typing import Any

# protocol keys shown in the table, in order; everything else stays in eval.json
SHOWN = ("extractor", "n_generated", "n_reference", "reference_split", "tokenizer", "n_hypotheses", "direction",
         "split", "n_pairs", "n_translated", "classifier_accuracy")


def format_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_table(metrics: dict[str, dict[str, Any]]) -> str:
    """`metrics`: name -> {"value", "higher_is_better", "protocol"} (MetricValue.to_json())."""
    rows = [("metric", "value", "real vs real", "better", "protocol")]
    for name, entry in metrics.items():
        protocol = entry.get("protocol", {})
        shown = ", ".join(f"{k}={format_value(protocol[k])}" for k in SHOWN if k in protocol)
        better = "higher" if entry.get("higher_is_better") else "lower"
        rows.append((name, format_value(entry["value"]), format_value(protocol.get("real_vs_real")), better, shown))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths)) + "  " + row[4] for row in rows]
    return "\n".join(lines)
