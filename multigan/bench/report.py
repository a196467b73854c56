"""The bench report's numbers: every run's record gathered into `report.json`, summarised over seeds, and laid out
as a document (tables with a protocol card under each, figures, galleries) that report_render.py writes as
Markdown and as self-contained HTML. `--report-only` rebuilds everything from report.json (and the preview files
the galleries show).

The tables (and their protocol cards) are in tables.py, the figures in plots.py.
"""
from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from multigan.bench import plots, tables
from multigan.bench.parts import Gallery
from multigan.bench.plan import PlannedRun
from multigan.bench.records import MetricSpread, Report, ReportRun, RunRecord, SeedSummary, SuiteRun, SuiteSummary
from multigan.bench.runner import RUNS, read_record
from multigan.bench.stability import detect_collapse, seed_spread
from multigan.bench.suite import Suite
from multigan.core.files import write_json_atomic
from multigan.core.phases import Translator
from multigan.errors import UserError
from multigan.registry import MODELS

COLLAPSE_METRIC = "fd_norm"  # the curve the collapse rule reads: the same measure in every modality
# fd_norm regressions up to this are noise, not collapse: 5 % of the way from real data (0) to the trivial
# generator (1). Without it, a curve that reached the floor early and wobbles there (text in n-gram space) "collapses"
COLLAPSE_TOLERANCE = 0.05


class ReportError(UserError):
    """No report.json to rebuild from, or one this version cannot read."""


def kind_of(run: PlannedRun) -> str:
    """The run's modality, or "translation" for models that translate inputs rather than sample from noise."""
    return "translation" if issubclass(MODELS.get(run.config.model_name), Translator) else run.modality


def suite_summary(suite: Suite, planned: list[PlannedRun]) -> SuiteSummary:
    first = {run.spec.name: run for run in planned}  # load_suite plans every run or raises
    runs = [SuiteRun(spec.name, spec.label, spec.recipe, spec.overrides, spec.sweep, first[spec.name].modality,
                     kind_of(first[spec.name]), first[spec.name].config.model_name, first[spec.name].config.data_name)
            for spec in suite.runs]
    return SuiteSummary(suite.name, suite.description, suite.source, suite.budget, suite.seeds, suite.metrics,
                        suite.eval, suite.sweeps, runs, suite.published)


def collect(suite: Suite, planned: list[PlannedRun], out: Path) -> Report:
    """report.json's content: the suite, every run's record, and the summaries over seeds."""
    runs = {}
    for run in planned:
        record = read_record(out / RUNS / run.run_id) or RunRecord("missing", "not run yet")
        runs[run.run_id] = ReportRun(**vars(record), spec=run.spec.name, seed=run.seed, modality=run.modality)
    report = Report(datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                    suite_summary(suite, planned), runs)
    report.summary = summarise(report)
    return report


def summarise(report: Report) -> dict[str, SeedSummary]:
    """Per suite run: each metric's spread over seeds, the collapse verdict per seed, and cost spreads."""
    summary = {}
    for spec in report.suite.runs:
        runs = [r for r in report.runs_of(spec.name) if r.status != "missing"]  # not run yet: not failed
        names = sorted({name for r in runs for name in r.metrics})
        metrics = {}
        for name in names:
            values = [r.metrics[name].value if r.done and name in r.metrics else None for r in runs]
            better = next(r.metrics[name].higher_is_better for r in runs if name in r.metrics)
            metrics[name] = MetricSpread(**vars(seed_spread(values)), higher_is_better=better)
        collapse = {f"{spec.name}-s{r.seed}": detect_collapse(r.curves.get(COLLAPSE_METRIC, []), higher_is_better=False,
                                                              tolerance=COLLAPSE_TOLERANCE)
                    for r in runs if r.done}
        costs = {key: seed_spread([getattr(r.cost, key) if r.done and r.cost else None for r in runs])
                 for key in ("samples_per_s", "wall_s", "peak_memory_mib")}
        summary[spec.name] = SeedSummary(metrics, collapse, costs, [r.error for r in runs if not r.done])
    return summary


def write_json(report: Report, out: Path) -> None:
    write_json_atomic(out / "report.json", report.to_json())


def load_report(out: Path) -> Report:
    path = Path(out) / "report.json"
    if not path.is_file():
        raise ReportError(f"{path}: no such file; run `multigan bench SUITE --out {out}` first")
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != Report.FORMAT:
        raise ReportError(f"{path}: report format {data.get('format')!r}, this multigan reads format {Report.FORMAT}")
    return Report.from_json(data)


# --- the document ------------------------------------------------------------------------------------------------
def document(report: Report, out: Path) -> list[Any]:
    """Headings (str), Tables, Figures and Galleries, in reading order."""
    suite = report.suite
    parts: list[Any] = [f"# Bench report: {suite.name}",
                        f"{suite.description} Budget: {tables.budget_text(report)}. Generated {report.generated}.",
                        tables.main_table(report), *tables.native_tables(report)]
    published = tables.published_table(report)
    if published:
        parts.append(published)
    parts.append(tables.cost_table(report))
    failed = tables.failure_table(report)
    if failed:
        parts.append(failed)
    parts.append("## Quality vs diversity")
    parts += plots.quality_diversity_figures(report) or ["No run of this suite was swept."]
    parts.append("## Metric vs step, per run (one line per seed)")
    parts += plots.curve_figures(report)
    parts.append("## Samples (seed of the first finished run, at its last step)")
    parts += galleries(report, out)
    return parts


def galleries(report: Report, out: Path) -> list[Gallery]:
    shown = []
    for spec in report.suite.runs:
        run = next((r for r in report.runs_of(spec.name) if r.done and r.gallery), None)
        if run is None:
            continue
        preview, title = run.gallery, f"{tables.label(spec)}, seed {run.seed}"
        if preview.kind == "text":
            shown.append(Gallery(title, lines=preview.lines))
            continue
        path = out / RUNS / f"{spec.name}-s{run.seed}" / "samples" / preview.file
        if path.is_file():
            shown.append(Gallery(title, png=path.read_bytes(), name=f"samples_{spec.name}.png"))
        else:
            shown.append(Gallery(title, lines=[f"(preview {path} is missing)"]))
    return shown
