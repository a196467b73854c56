"""The bench report's tables, each with the protocol card printed under it, from report.json's content (a `Report`).

A metric that does not apply to a run's modality, or that no seed produced, is "—", never 0. Rows "real data"
give what the other real split scores against the reference split on each column: the level a run is read against.
"""
from __future__ import annotations

import math

from multigan.bench.parts import Table
from multigan.bench.published import PublishedRow
from multigan.bench.records import TRANSLATIONS_TIMED, Report, SeedSummary, SuiteRun
from multigan.bench.runner import RUNS
from multigan.bench.stability import NO_EVALUATIONS, Spread
from multigan.registry import METRICS

# the order of the columns, then any other result sorted: the report's layout. Which results are comparable across
# modalities (the main table's columns) is declared by their metrics (Metric.agnostic_results)
COLUMN_ORDER = ("fd_norm", "precision", "recall", "density", "coverage", "class_coverage", "memorisation",
                "fid", "kid", "is", "fad", "fad_classifier", "bleu2", "bleu3", "bleu4", "bleu5", "self_bleu2",
                "self_bleu3", "self_bleu4", "self_bleu5", "nll_gen", "nll_oracle")
DASH = "—"
CARD_KEYS = ("extractor", "version", "dim", "weights_sha256", "classifier_accuracy", "n_generated", "n_reference",
             "reference_split", "floor_split", "references", "hypotheses", "samples", "tokenizer", "n_train",
             "baseline", "near_rule", "split", "sequences")  # shown in the cards, in order


def spread_text(spread: Spread | None) -> str:
    """'0.123 ± 0.004'; ', 1 of 3 failed' when seeds failed; '—' when no seed gave a value."""
    if not spread or spread.mean is None:
        return DASH
    failed = f" ({spread.n_failed} of {spread.n + spread.n_failed} seeds failed)" if spread.n_failed else ""
    if abs(spread.mean) >= 1000:  # samples/s, MiB: whole numbers read better than 2.68e+03
        return f"{spread.mean:,.0f} ± {spread.std:,.0f}{failed}"
    return f"{spread.mean:.3g} ± {spread.std:.2g}{failed}"


def cell(summary: SeedSummary, name: str) -> str:
    return spread_text(summary.metrics.get(name))


def memorisation_cell(report: Report, spec: str, summary: SeedSummary) -> str:
    text = cell(summary, "memorisation")
    levels = [r.metrics["memorisation"].protocol.get("real_vs_real") for r in report.runs_of(spec)
              if "memorisation" in r.metrics]
    return f"{text} (real {levels[0]:.3g})" if text != DASH and levels and levels[0] is not None else text


def collapse_cell(summary: SeedSummary) -> str:
    verdicts = [v for v in summary.collapse.values() if v.reason != NO_EVALUATIONS]
    if not verdicts:
        return DASH
    return f"{sum(v.collapsed for v in verdicts)}/{len(verdicts)}"


def real_rows(report: Report, columns: list[str], kind: str | None = None) -> list[tuple[str, list[str]]]:
    """Per data set, what real data scores on each column (the protocols' real_vs_real: the other real split
    against the reference split, at the generated sample count): the level a run is read against."""
    rows, seen = [], set()
    for spec in report.suite.runs:
        if (kind and spec.kind != kind) or (spec.kind, spec.data) in seen:
            continue
        seen.add((spec.kind, spec.data))
        alike = {s.name for s in report.suite.runs if (s.kind, s.data) == (spec.kind, spec.data)}
        done = [r for r in report.runs.values() if r.done and r.spec in alike]
        cells = []
        for name in columns:
            level = next((r.metrics[name].protocol.get("real_vs_real") for r in done if name in r.metrics), None)
            cells.append(DASH if level is None else f"{level:.3g}")
        if any(c != DASH for c in cells):
            rows.append((spec.kind, [f"real data ({spec.data}, other split vs reference)", *cells]))
    return rows


def agnostic_results() -> set[str]:
    """Results comparable across modalities, as their metrics declare."""
    return {result for _, metric in METRICS.items() for result in metric.agnostic_results}


def in_column_order(names: set[str]) -> list[str]:
    return [n for n in COLUMN_ORDER if n in names] + sorted(names - set(COLUMN_ORDER))


def label(spec: SuiteRun) -> str:
    return f"{spec.label} ({spec.model} on {spec.data})"


def main_table(report: Report) -> Table:
    present = {name for s in report.summary.values() for name in s.metrics}
    columns = in_column_order(present & agnostic_results())
    header = ["run", "modality", *columns, "collapsed seeds", "seeds ok"]
    rows = []
    for spec in report.suite.runs:
        summary = report.summary[spec.name]
        cells = [memorisation_cell(report, spec.name, summary) if c == "memorisation" else cell(summary, c)
                 for c in columns]
        runs = report.runs_of(spec.name)
        done = sum(r.done for r in runs)
        rows.append([label(spec), spec.kind, *cells, collapse_cell(summary), f"{done}/{len(runs)}"])
    rows += [[row[0], kind, *row[1:], DASH, DASH] for kind, row in real_rows(report, columns)]
    note = (f"Mean ± sample std over the {len(report.suite.seeds)} seeds. fd_norm: Fréchet distance scaled so the "
            "real-vs-real floor is 0 and the modality's trivial generator (noise images, uniform random tokens, "
            "noise audio) is 1; lower is better. memorisation: share of samples nearer the training set than real "
            "test data there is (real: the same rule on real test data). Collapsed: the fd_norm curve gave back "
            "more than half its improvement, and more than 0.05 (bench/stability.py). — : does not apply or no seed produced it.")
    return Table("Cross-modality comparison (modality-agnostic measures)", header, rows,
                 protocol_card(report, columns), note)


def native_tables(report: Report) -> list[Table]:
    """One table per kind of run (image, text, audio, translation): every result that is not modality-agnostic."""
    tables = []
    for kind in dict.fromkeys(s.kind for s in report.suite.runs):
        specs = [s for s in report.suite.runs if s.kind == kind]
        present = {n for s in specs for n in report.summary[s.name].metrics}
        columns = in_column_order(present - agnostic_results())
        if not columns:
            continue
        rows = [[label(s), *(cell(report.summary[s.name], c) for c in columns)] for s in specs]
        rows += [row for _, row in real_rows(report, columns, kind)]
        tables.append(Table(f"{kind.capitalize()} metrics (modality-native)", ["run", *columns], rows,
                            protocol_card(report, columns, kind)))
    return tables


def published_table(report: Report) -> Table | None:
    """Our runs that have published rows beside them (mean ± standard error over seeds, the statistic such tables
    print), each followed by those rows; None when the suite sets none."""
    rows_beside: dict[str, list[PublishedRow]] = {}
    for row in report.suite.published:
        rows_beside.setdefault(row.beside, []).append(row)
    if not rows_beside:
        return None
    columns = in_column_order({name for row in report.suite.published for name in row.values})
    rows = []
    for spec in report.suite.runs:
        if spec.name not in rows_beside:
            continue
        summary = report.summary[spec.name]
        seeds = max((s.n for s in summary.metrics.values()), default=0)
        rows.append([f"{label(spec)}, ours ({seeds} seeds)",
                     *(standard_error_text(summary.metrics.get(name)) for name in columns)])
        rows += [[f"{row.label}, {row.source}", *(published_text(row.values.get(name)) for name in columns)]
                 for row in rows_beside[spec.name]]
    sources = sorted({(row.source, row.note) for row in report.suite.published})
    card = [f"ours: {budget_text(report)}", *(f"{source}: {note}" for source, note in sources)]
    note = "Mean ± standard error (sample std / √n) over seeds. — : not reported, or no seed produced it."
    return Table("Published results beside ours", ["run", *columns], rows, card, note)


def standard_error_text(spread: Spread | None) -> str:
    if spread is None or spread.mean is None:
        return DASH
    error = spread.std / math.sqrt(spread.n) if spread.n > 1 else 0.0
    return f"{spread.mean:.3g} ± {error:.2g}"


def published_text(value: list[float | None] | None) -> str:
    if value is None:
        return DASH
    mean, error = value
    return f"{mean:.3g}" if error is None else f"{mean:.3g} ± {error:.2g}"


def cost_table(report: Report) -> Table:
    rows = []
    for spec in report.suite.runs:
        summary = report.summary[spec.name]
        devices = sorted({r.cost.device for r in report.runs_of(spec.name) if r.cost})
        rows.append([label(spec), *(spread_text(summary.cost[k]) for k in
                                    ("wall_s", "samples_per_s", "peak_memory_mib")), ", ".join(devices) or DASH])
    memory = next((r.cost.peak_memory for r in report.runs.values() if r.cost), "")
    card = [f"budget: {budget_text(report)}",
            "train wall s: the whole training, its evaluations included; one-time caches shared by the seeds (the "
            "domain classifier, real-data features) are built before the clock starts",
            f"samples/s: generating eval.n_samples after training (a translation model: translating "
            f"{TRANSLATIONS_TIMED} inputs); peak memory: {memory}", *software_lines(report)]
    return Table("Cost", ["run", "train wall s", "samples/s", "peak MiB", "device"], rows, card)


def failure_table(report: Report) -> Table | None:
    rows = [[run_id, r.status, r.error] for run_id, r in report.runs.items() if not r.done]
    if not rows:
        return None
    return Table("Runs that did not finish", ["run", "status", "error"], rows,
                 [f"details: {RUNS}/<run>/bench_error.txt (traceback); the other runs went on"])


def budget_text(report: Report) -> str:
    budget, suite = report.suite.budget, report.suite
    steps = f"{budget.steps} training steps per run (all stages)" if budget.steps else "each recipe's steps"
    unit = "CPU-seconds" if budget.clock == "cpu" else "s"
    clock = f", at most {budget.wall_clock_s:g} {unit} of training per run" if budget.wall_clock_s else ""
    return f"{steps}{clock}, {budget.evals} evaluations, seeds {', '.join(map(str, suite.seeds))}"


def software_lines(report: Report) -> list[str]:
    versions = next((r.versions for r in report.runs.values() if r.versions), {})
    devices = sorted({r.cost.device for r in report.runs.values() if r.cost})
    return [f"device: {', '.join(devices) or DASH}",
            "software: " + (", ".join(f"{k} {v}" for k, v in versions.items()) or DASH)]


def protocol_card(report: Report, columns: list[str], kind: str | None = None) -> list[str]:
    """One line per data set and shared protocol (metrics measured alike are listed together), then budget,
    device, software. A value that differs between seeds is shown as a/b."""
    groups: dict[str, list[str]] = {}
    for spec in report.suite.runs:
        if kind and spec.kind != kind:
            continue
        runs = [r for r in report.runs_of(spec.name) if r.done]
        for name in columns:
            protocols = [r.metrics[name].protocol for r in runs if name in r.metrics]
            if not protocols:
                continue
            shown = []
            for key in CARD_KEYS:
                values = sorted({str(p[key]) for p in protocols if key in p})
                if values:
                    shown.append(f"{key}={'/'.join(values)}")
            names = groups.setdefault(f"[{spec.kind}, {spec.data}]: {', '.join(shown)}", [])
            if name not in names:
                names.append(name)
    lines = [f"{', '.join(names)} {key}" for key, names in groups.items()]
    return lines + [f"budget: {budget_text(report)}", *software_lines(report)]
