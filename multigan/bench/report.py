"""The bench report's numbers: every run's record gathered into `report.json`, summarised over seeds, and laid out
as a document (tables with a protocol card under each, figures, galleries) that report_render.py writes as
Markdown and as self-contained HTML. `--report-only` rebuilds everything from report.json (and the preview files
the galleries show).

A metric that does not apply to a run's modality, or that no seed produced, is "—", never 0.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from multigan.bench import plots
from multigan.bench.runner import RUNS, read_record
from multigan.bench.stability import detect_collapse, seed_spread
from multigan.bench.plan import PlannedRun
from multigan.bench.suite import Suite
from multigan.errors import UserError
from multigan.registry import MODELS

AGNOSTIC = ("fd_norm", "precision", "recall", "density", "coverage", "class_coverage", "memorisation")
NATIVE_ORDER = ("fid", "kid", "is", "fad", "fad_classifier", "bleu2", "bleu3", "bleu4", "bleu5", "self_bleu2",
                "self_bleu3", "self_bleu4", "self_bleu5", "nll_gen", "nll_oracle")  # then the rest, sorted
COLLAPSE_METRIC = "fd_norm"  # the curve the collapse rule reads: the same measure in every modality
DASH = "—"
# protocol keys the cards show, in order (the rest stays in report.json)
CARD_KEYS = ("extractor", "version", "dim", "weights_sha256", "classifier_accuracy", "n_generated", "n_reference",
             "reference_split", "floor_split", "references", "hypotheses", "samples", "tokenizer", "n_train",
             "baseline", "split", "sequences")


class ReportError(UserError):
    """No report.json to rebuild from, or one this version cannot read."""


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]
    card: list[str]  # the protocol card: what the numbers were measured with
    note: str = ""


@dataclass
class Figure:
    title: str
    png: bytes
    caption: str
    name: str  # file name under report_files/ in the Markdown report


@dataclass
class Gallery:
    title: str
    png: bytes | None = None
    lines: list[str] = field(default_factory=list)
    name: str = ""


def kind_of(run: PlannedRun) -> str:
    """The run's modality, or "translation" for models that translate inputs rather than sample from noise."""
    return "translation" if hasattr(MODELS.get(run.config.model_name), "translate") else run.modality


def suite_summary(suite: Suite, planned: list[PlannedRun]) -> dict[str, Any]:
    first = {run.spec.name: run for run in planned}  # load_suite plans every run or raises
    runs = [{"name": spec.name, "label": spec.label, "recipe": spec.recipe, "set": spec.overrides,
             "sweep": spec.sweep, "modality": first[spec.name].modality, "kind": kind_of(first[spec.name]),
             "model": first[spec.name].config.model_name, "data": first[spec.name].config.data_name}
            for spec in suite.runs]
    return {"name": suite.name, "description": suite.description, "source": suite.source,
            "budget": dataclasses.asdict(suite.budget), "seeds": suite.seeds, "metrics": suite.metrics,
            "eval": suite.eval, "sweeps": suite.sweeps, "runs": runs}


def collect(suite: Suite, planned: list[PlannedRun], out: Path) -> dict[str, Any]:
    """report.json's content: the suite, every run's record, and the summaries over seeds."""
    runs = {}
    for run in planned:
        record = read_record(out / RUNS / run.run_id) or {"status": "missing", "error": "not run yet"}
        runs[run.run_id] = {**record, "spec": run.spec.name, "seed": run.seed, "modality": run.modality}
    report = {"format": 1, "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "suite": suite_summary(suite, planned), "runs": runs}
    report["summary"] = summarise(report)
    return report


def runs_of(report: dict[str, Any], spec: str) -> list[dict[str, Any]]:
    return [r for r in report["runs"].values() if r["spec"] == spec]


def summarise(report: dict[str, Any]) -> dict[str, Any]:
    """Per suite run: each metric's spread over seeds, the collapse verdict per seed, and cost spreads."""
    summary = {}
    for spec in report["suite"]["runs"]:
        runs = runs_of(report, spec["name"])
        names = sorted({name for r in runs for name in r.get("metrics", {})})
        metrics = {}
        for name in names:
            values = [r.get("metrics", {}).get(name, {}).get("value") if r["status"] == "done" else None for r in runs]
            better = next(r["metrics"][name]["higher_is_better"] for r in runs if name in r.get("metrics", {}))
            metrics[name] = {**seed_spread(values), "higher_is_better": better}
        collapse = {f"{spec['name']}-s{r['seed']}": detect_collapse(r.get("curves", {}).get(COLLAPSE_METRIC, []),
                                                                    higher_is_better=False)
                    for r in runs if r["status"] == "done"}
        costs = {key: seed_spread([r.get("cost", {}).get(key) if r["status"] == "done" else None for r in runs])
                 for key in ("samples_per_s", "wall_s", "peak_memory_mib")}
        summary[spec["name"]] = {"metrics": metrics, "collapse": collapse, "cost": costs,
                                 "failed": [r.get("error", "") for r in runs if r["status"] != "done"]}
    return summary


def write_json(report: dict[str, Any], out: Path) -> None:
    from multigan.core.files import write_json_atomic

    write_json_atomic(out / "report.json", report)


def load_report(out: Path) -> dict[str, Any]:
    path = Path(out) / "report.json"
    if not path.is_file():
        raise ReportError(f"{path}: no such file; run `multigan bench SUITE --out {out}` first")
    report = json.loads(path.read_text(encoding="utf-8"))
    if report.get("format") != 1:
        raise ReportError(f"{path}: report format {report.get('format')!r}, this multigan reads format 1")
    return report


# --- tables ------------------------------------------------------------------------------------------------------
def spread_text(spread: dict[str, Any] | None) -> str:
    """'0.123 ± 0.004'; ', 1 of 3 failed' when seeds failed; '—' when no seed gave a value."""
    if not spread or spread["mean"] is None:
        return DASH
    failed = f" ({spread['n_failed']} of {spread['n'] + spread['n_failed']} seeds failed)" if spread["n_failed"] else ""
    return f"{spread['mean']:.3g} ± {spread['std']:.2g}{failed}"


def cell(summary: dict[str, Any], name: str) -> str:
    return spread_text(summary["metrics"].get(name))


def memorisation_cell(report: dict[str, Any], spec: str, summary: dict[str, Any]) -> str:
    text = cell(summary, "memorisation")
    levels = [r["metrics"]["memorisation"]["protocol"].get("real_vs_real") for r in runs_of(report, spec)
              if "memorisation" in r.get("metrics", {})]
    return f"{text} (real {levels[0]:.3g})" if text != DASH and levels and levels[0] is not None else text


def collapse_cell(summary: dict[str, Any]) -> str:
    verdicts = [v for v in summary["collapse"].values() if v["reason"] != "no evaluations"]
    if not verdicts:
        return DASH
    return f"{sum(v['collapsed'] for v in verdicts)}/{len(verdicts)}"


def label(spec: dict[str, Any]) -> str:
    return f"{spec['label']} ({spec['model']} on {spec['data']})"


def main_table(report: dict[str, Any]) -> Table:
    columns = [c for c in AGNOSTIC if any(c in s["metrics"] for s in report["summary"].values())]
    header = ["run", "modality", *columns, "collapsed seeds", "seeds ok"]
    rows = []
    for spec in report["suite"]["runs"]:
        summary = report["summary"][spec["name"]]
        cells = [memorisation_cell(report, spec["name"], summary) if c == "memorisation" else cell(summary, c)
                 for c in columns]
        done = len(runs_of(report, spec["name"])) - len(summary["failed"])
        rows.append([label(spec), spec["kind"], *cells, collapse_cell(summary),
                     f"{done}/{len(runs_of(report, spec['name']))}"])
    note = ("Mean ± sample std over the seeds. fd_norm: Fréchet distance scaled so the "
            "real-vs-real floor is 0 and the modality's trivial generator (noise images, uniform random tokens, "
            "noise audio) is 1; lower is better. memorisation: share of samples nearer the training set than real "
            "test data there is (real: the same rule on real test data). Collapsed: the fd_norm curve gave back "
            "more than half its improvement (bench/stability.py). — : does not apply or no seed produced it.")
    return Table("Cross-modality comparison (modality-agnostic measures)", header, rows,
                 protocol_card(report, columns), note)


def native_tables(report: dict[str, Any]) -> list[Table]:
    """One table per kind of run (image, text, audio, translation): every result that is not modality-agnostic."""
    tables = []
    for kind in dict.fromkeys(s["kind"] for s in report["suite"]["runs"]):
        specs = [s for s in report["suite"]["runs"] if s["kind"] == kind]
        present = {n for s in specs for n in report["summary"][s["name"]]["metrics"] if n not in AGNOSTIC}
        columns = [n for n in NATIVE_ORDER if n in present] + sorted(present - set(NATIVE_ORDER))
        if not columns:
            continue
        rows = [[label(s), *(cell(report["summary"][s["name"]], c) for c in columns)] for s in specs]
        tables.append(Table(f"{kind.capitalize()} metrics (modality-native)", ["run", *columns], rows,
                            protocol_card(report, columns, kind)))
    return tables


def cost_table(report: dict[str, Any]) -> Table:
    rows = []
    for spec in report["suite"]["runs"]:
        summary = report["summary"][spec["name"]]
        devices = sorted({r["cost"]["device"] for r in runs_of(report, spec["name"]) if r.get("cost")})
        rows.append([label(spec), *(spread_text(summary["cost"][k]) for k in
                                    ("wall_s", "samples_per_s", "peak_memory_mib")), ", ".join(devices) or DASH])
    memory = next((r["cost"]["peak_memory"] for r in report["runs"].values() if r.get("cost")), "")
    card = [f"budget: {budget_text(report)}", f"samples/s: generating eval.n_samples after training; peak memory: "
            f"{memory}", *software_lines(report)]
    return Table("Cost", ["run", "train wall s", "samples/s", "peak MiB", "device"], rows, card)


def failure_table(report: dict[str, Any]) -> Table | None:
    rows = [[run_id, r["status"], r.get("error", "")] for run_id, r in report["runs"].items() if r["status"] != "done"]
    if not rows:
        return None
    return Table("Runs that did not finish", ["run", "status", "error"], rows,
                 [f"details: {RUNS}/<run>/bench_error.txt (traceback); the other runs went on"])


def budget_text(report: dict[str, Any]) -> str:
    budget, suite = report["suite"]["budget"], report["suite"]
    steps = f"{budget['steps']} training steps per run (all stages)" if budget["steps"] else "each recipe's steps"
    clock = f", at most {budget['wall_clock_s']:g} s of training per run" if budget.get("wall_clock_s") else ""
    return f"{steps}{clock}, {budget['evals']} evaluations, seeds {', '.join(map(str, suite['seeds']))}"



def software_lines(report: dict[str, Any]) -> list[str]:
    versions = next((r["versions"] for r in report["runs"].values() if r.get("versions")), {})
    devices = sorted({r["cost"]["device"] for r in report["runs"].values() if r.get("cost")})
    return [f"device: {', '.join(devices) or DASH}",
            "software: " + (", ".join(f"{k} {v}" for k, v in versions.items()) or DASH)]


def protocol_card(report: dict[str, Any], columns: list[str], kind: str | None = None) -> list[str]:
    """One line per data set and shared protocol (metrics measured alike are listed together), then budget,
    device, software. A value that differs between seeds is shown as a/b."""
    groups: dict[str, list[str]] = {}
    for spec in report["suite"]["runs"]:
        if kind and spec["kind"] != kind:
            continue
        runs = [r for r in runs_of(report, spec["name"]) if r["status"] == "done"]
        for name in columns:
            protocols = [r["metrics"][name]["protocol"] for r in runs if name in r.get("metrics", {})]
            if not protocols:
                continue
            shown = []
            for key in CARD_KEYS:
                values = sorted({str(p[key]) for p in protocols if key in p})
                if values:
                    shown.append(f"{key}={'/'.join(values)}")
            names = groups.setdefault(f"[{spec['kind']}, {spec['data']}]: {', '.join(shown)}", [])
            if name not in names:
                names.append(name)
    lines = [f"{', '.join(names)} {key}" for key, names in groups.items()]
    return lines + [f"budget: {budget_text(report)}", *software_lines(report)]


# --- the document ------------------------------------------------------------------------------------------------
def document(report: dict[str, Any], out: Path) -> list[Any]:
    """Headings (str), Tables, Figures and Galleries, in reading order."""
    suite = report["suite"]
    parts: list[Any] = [f"# Bench report: {suite['name']}",
                        f"{suite['description']} Budget: {budget_text(report)}. Generated {report['generated']}.",
                        main_table(report), *native_tables(report), cost_table(report)]
    failed = failure_table(report)
    if failed:
        parts.append(failed)
    parts.append("## Quality vs diversity")
    parts += plots.quality_diversity_figures(report) or ["No run of this suite was swept."]
    parts.append("## Metric vs step, per run (one line per seed)")
    parts += plots.curve_figures(report)
    parts.append("## Samples (seed of the first finished run, at its last step)")
    parts += galleries(report, out)
    return parts


def galleries(report: dict[str, Any], out: Path) -> list[Gallery]:
    shown = []
    for spec in report["suite"]["runs"]:
        run = next((r for r in runs_of(report, spec["name"]) if r["status"] == "done" and r.get("gallery")), None)
        if run is None:
            continue
        gallery, title = run["gallery"], f"{label(spec)}, seed {run['seed']}"
        if gallery["kind"] == "text":
            shown.append(Gallery(title, lines=gallery["lines"]))
            continue
        path = out / RUNS / f"{spec['name']}-s{run['seed']}" / "samples" / gallery["file"]
        if path.is_file():
            shown.append(Gallery(title, png=path.read_bytes(), name=f"samples_{spec['name']}.png"))
        else:
            shown.append(Gallery(title, lines=[f"(preview {path} is missing)"]))
    return shown
