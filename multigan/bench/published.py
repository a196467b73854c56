"""Published results a suite sets beside its own runs, and the report's table that compares them.

    published:
      - source: PacGAN (Lin et al. 2018), Table 1
        note: mean ± standard error over 10 trials, 400 epochs (400k steps of batch 100)
        rows:
          - {label: GAN, beside: gan_grid, modes_covered: [17.3, 0.8], high_quality: [0.948, 0.007]}

Each row names the suite run it is read against (`beside`) and gives results in the units our metrics report
(high_quality as a share, not a percentage) as [mean, standard error] or a bare mean. The report's table
(tables.published_table) shows our runs as mean ± standard error over their seeds, then the published rows.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from multigan.registry import METRICS

SOURCE_KEYS = ("source", "note", "rows")
ROW_KEYS = ("label", "beside")  # every other key of a row is a result


@dataclass
class PublishedRow:
    source: str  # where the numbers are printed: paper and table
    note: str  # how the source measured them: trials, budget, statistic
    label: str  # the source's name for the model
    beside: str  # the suite run it is compared with
    values: dict[str, list[float | None]]  # result -> [mean, standard error or None]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_published(raw: Any, run_names: set[str], problems: list[str]) -> list[PublishedRow]:
    """The suite's `published:` list; every mistake is appended to `problems`."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append("published: a list of {source, note, rows: [{label, beside, RESULT: [mean, error]}]}")
        return []
    rows = []
    for index, entry in enumerate(raw):
        where = f"published[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("source"), str) or not isinstance(
                entry.get("rows"), list):
            problems.append(f"{where}: give source (paper and table), note and rows")
            continue
        unknown = sorted(set(entry) - set(SOURCE_KEYS))
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(unknown)} (valid: {', '.join(SOURCE_KEYS)})")
        for row_index, row in enumerate(entry["rows"]):
            parsed = _parse_row(row, f"{where}.rows[{row_index}]", run_names, problems)
            if parsed:
                rows.append(PublishedRow(entry["source"], str(entry.get("note", "")), *parsed))
    return rows


def _parse_row(row: Any, where: str, run_names: set[str], problems: list[str]
               ) -> tuple[str, str, dict[str, list[float | None]]] | None:
    if not isinstance(row, dict) or not isinstance(row.get("label"), str):
        problems.append(f"{where}: give label, beside (a run of this suite) and results")
        return None
    if row.get("beside") not in run_names:
        problems.append(f"{where}.beside: {row.get('beside')!r} is not a run of this suite "
                        f"(runs: {', '.join(sorted(run_names))})")
        return None
    values: dict[str, list[float | None]] = {}
    for key, value in row.items():
        if key in ROW_KEYS:
            continue
        if key not in METRICS:
            problems.append(f"{where}.{key}: {METRICS.unknown_message(key)}")
            continue
        pair = value if isinstance(value, list) else [value, None]
        if len(pair) != 2 or not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
                                     for v in pair) or pair[0] is None:
            problems.append(f"{where}.{key}: give [mean, standard error] or a number, got {value!r}")
            continue
        values[key] = [float(pair[0]), None if pair[1] is None else float(pair[1])]
    if not values:
        problems.append(f"{where}: no results given")
        return None
    return row["label"], row["beside"], values
