"""`multigan bench`'s entry points, above the API: run a suite into a bench folder, and (re)write its report."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from multigan.bench import report, report_render
from multigan.bench.plan import PlannedRun
from multigan.bench.runner import run_suite
from multigan.bench.suite import Suite, load_suite
from multigan.errors import UserError


def bench(suite: str, out: str | Path, data_root: str | Path | None = None, inline: bool = False,
          seeds: list[int] | None = None) -> dict[str, Any]:
    """`multigan bench SUITE --out DIR`: check the whole suite (every problem at once), train the runs not yet
    complete in `out` (each in its own process unless `inline`), then write the report. `seeds`: only these of the
    suite's seeds (a partial bench on a small budget; the report covers them; rerun without to complete). Returns
    {"outcome": run -> done/failed/skipped, "report": the report's folder}."""
    loaded, planned = load_suite(suite)
    if seeds is not None:
        unknown = sorted(set(seeds) - set(loaded.seeds))
        if unknown:
            raise UserError(f"--seeds: {unknown} not among the suite's seeds {loaded.seeds}")
        planned = [run for run in planned if run.seed in seeds]
    outcome = run_suite(loaded, planned, Path(out), None if data_root is None else str(data_root), inline)
    bench_report(out, loaded, planned)
    return {"outcome": outcome, "report": Path(out)}


def bench_report(out: str | Path, suite: Suite | None = None, planned: list[PlannedRun] | None = None) -> Path:
    """Write report.json (from the run records; skipped when `suite` is None: `--report-only` reads the existing
    one), report.md and report.html into `out`."""
    out = Path(out)
    if suite is not None:
        report.write_json(report.collect(suite, planned, out), out)
    data = report.load_report(out)
    parts = report.document(data, out)
    report_render.render_markdown(parts, out)
    report_render.render_html(parts, out, f"Bench report: {data.suite.name}")
    return out / "report.html"
