"""The bench's data as typed records: what the runner asks a run's process to do (`RunRequest`), what that process
writes when it ends (`RunRecord`, bench_run.json), and report.json (`Report`: the suite as planned, every run, and
the summaries over seeds). Each record's `to_json` writes the keys, in the order, that these files have always
held, so folders written by an earlier multigan still load and `--report-only` rebuilds their reports.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

from multigan.bench.published import PublishedRow
from multigan.bench.stability import Collapse, Cost, Spread
from multigan.bench.suite import Budget
from multigan.bench.sweeps import SweepResult
from multigan.metrics.base import MetricValue

RECORD = "bench_run.json"  # a RunRecord in each run's folder, written last by its process: there when the run ended
TRANSLATIONS_TIMED = 256  # a translator's images/s is timed on this many inputs, not eval.n_samples (10,000 by
#                          default: minutes of 128 px translations on a CPU, for the same rate)
Curve = list[tuple[int, float]]  # (step, value) of one result at every evaluation, in step order


@dataclass
class RunRequest:
    """What a run's process needs, as plain data: it crosses a process boundary."""

    run_id: str
    config: dict[str, Any]  # the resolved recipe, RunConfig.to_dict()
    run_dir: str
    data_root: str | None
    resume: bool  # an interrupted run (checkpoints, no record) resumes from its last checkpoint
    digest: str  # PlannedRun.digest(): a finished run with another one is stale
    sweep: tuple[str, list[float]] | None  # (sampling option, values) when the run is swept
    memory_protocol: str  # what the peak memory measures (the run's own process, or the bench's)


@dataclass
class RunCost(Cost):
    n_timed: int  # samples generated for samples/s (eval.n_samples)
    resumed: bool  # the wall time is the resumed part's alone
    peak_memory: str  # what peak_memory_mib measures


@dataclass
class SamplePreview:
    """The run's last preview, for the report's gallery: an image or spectrogram grid, or the first sentences."""

    kind: str  # "images" | "spectrograms" | "text"
    file: str  # its name under the run's samples/
    lines: list[str] | None = None  # text: the sentences themselves

    def to_json(self) -> dict[str, Any]:
        if self.lines is None:
            return {"kind": self.kind, "file": self.file}
        return {"kind": self.kind, "lines": self.lines, "file": self.file}


@dataclass
class RunRecord:
    """One run's outcome (bench_run.json): a finished run carries its measurements, any other its error."""

    status: str  # "done" | "failed"; report.json: "missing" for a run not trained yet
    error: str = ""
    step: int | None = None  # the last checkpoint's global step
    metrics: dict[str, MetricValue] = field(default_factory=dict)  # the last evaluation, as eval.json holds it
    curves: dict[str, Curve] = field(default_factory=dict)  # every evaluation during training, per result
    cost: RunCost | None = None
    sweep: SweepResult | None = None
    gallery: SamplePreview | None = None
    versions: dict[str, str] = field(default_factory=dict)  # software that measured it
    run_id: str = ""  # run_id and digest: set when the record is written; report.json's "missing" runs have neither
    digest: str = ""

    @property
    def done(self) -> bool:
        return self.status == "done"

    def to_json(self) -> dict[str, Any]:
        if not self.done:
            data = {"status": self.status, "error": self.error}
        else:
            data = {"status": self.status, "step": self.step,
                    "metrics": {name: value.to_json() for name, value in self.metrics.items()},
                    "curves": self.curves, "cost": dataclasses.asdict(self.cost) if self.cost else {}}
            if self.sweep:
                data["sweep"] = self.sweep.to_json()
            data.update(gallery=self.gallery.to_json() if self.gallery else {}, versions=self.versions)
        return {**data, "run_id": self.run_id, "digest": self.digest} if self.run_id else data

    @staticmethod
    def fields_from_json(data: dict[str, Any]) -> dict[str, Any]:
        """The record's fields from its JSON (ReportRun adds its own)."""
        return dict(
            status=data["status"], error=data.get("error", ""), step=data.get("step"),
            metrics={name: MetricValue(**value) for name, value in data.get("metrics", {}).items()},
            curves={name: [(step, value) for step, value in points] for name, points in data.get("curves", {}).items()},
            cost=RunCost(**data["cost"]) if data.get("cost") else None,
            sweep=SweepResult.from_json(data["sweep"]) if data.get("sweep") else None,
            gallery=SamplePreview(**data["gallery"]) if data.get("gallery") else None,
            versions=data.get("versions", {}), run_id=data.get("run_id", ""), digest=data.get("digest", ""))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        return cls(**cls.fields_from_json(data))


@dataclass(kw_only=True)
class ReportRun(RunRecord):
    """A run in report.json: its record, and which suite run and seed it is."""

    spec: str  # the suite run's name
    seed: int
    modality: str

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "spec": self.spec, "seed": self.seed, "modality": self.modality}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReportRun:
        return cls(**cls.fields_from_json(data), spec=data["spec"], seed=data["seed"], modality=data["modality"])


@dataclass
class SuiteRun:
    """A suite run as planned: what its rows and figures are labelled with."""

    name: str
    label: str
    recipe: str
    overrides: list[str]  # `set:` in the suite file
    sweep: bool
    modality: str
    kind: str  # the modality, or "translation"
    model: str
    data: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "recipe": self.recipe, "set": self.overrides,
                "sweep": self.sweep, "modality": self.modality, "kind": self.kind, "model": self.model,
                "data": self.data}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SuiteRun:
        return cls(**{key: value for key, value in data.items() if key != "set"}, overrides=data["set"])



def budget_json(budget: Budget) -> dict:
    """The budget as report.json holds it; the default wall clock is left out, so older reports read back as
    written."""
    data = dataclasses.asdict(budget)
    if data.get("clock") == "wall":
        del data["clock"]
    return data


@dataclass
class SuiteSummary:
    name: str
    description: str
    source: str
    budget: Budget
    seeds: list[int]
    metrics: dict[str, list[str]]  # modality -> metric names
    eval: dict[str, dict[str, Any]]  # modality -> eval: values
    sweeps: dict[str, list[float]]
    runs: list[SuiteRun]
    published: list[PublishedRow] = field(default_factory=list)  # written only when the suite sets some

    def to_json(self) -> dict[str, Any]:
        data = {**{f.name: getattr(self, f.name) for f in dataclasses.fields(self)},
                "budget": budget_json(self.budget), "runs": [run.to_json() for run in self.runs],
                "published": [row.to_json() for row in self.published]}
        if not self.published:  # reports of suites without published rows read back as they were written
            del data["published"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SuiteSummary:
        return cls(**{**data, "budget": Budget(**data["budget"]), "runs": [SuiteRun.from_json(r) for r in data["runs"]],
                      "published": [PublishedRow(**row) for row in data.get("published", [])]})


@dataclass
class MetricSpread(Spread):
    higher_is_better: bool


@dataclass
class SeedSummary:
    """One suite run over its seeds (runs not trained yet left out)."""

    metrics: dict[str, MetricSpread]  # result -> its spread (failed seeds counted)
    collapse: dict[str, Collapse]  # run id -> the collapse rule's verdict on its curve (finished runs)
    cost: dict[str, Spread]  # "samples_per_s", "wall_s", "peak_memory_mib" -> spread
    failed: list[str]  # the errors of the seeds that did not finish

    def to_json(self) -> dict[str, Any]:
        return {"metrics": {name: dataclasses.asdict(spread) for name, spread in self.metrics.items()},
                "collapse": {run: verdict.to_json() for run, verdict in self.collapse.items()},
                "cost": {key: dataclasses.asdict(spread) for key, spread in self.cost.items()}, "failed": self.failed}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SeedSummary:
        return cls({name: MetricSpread(**spread) for name, spread in data["metrics"].items()},
                   {run: Collapse(**verdict) for run, verdict in data["collapse"].items()},
                   {key: Spread(**spread) for key, spread in data["cost"].items()}, data["failed"])


@dataclass
class Report:
    """report.json: the suite, every run (by run id) and the summaries over seeds (by suite run)."""

    FORMAT: ClassVar[int] = 1  # the version of this layout; a reader refuses any other

    generated: str  # ISO time, UTC
    suite: SuiteSummary
    runs: dict[str, ReportRun]
    summary: dict[str, SeedSummary] = field(default_factory=dict)

    def runs_of(self, spec: str) -> list[ReportRun]:
        """The seeds of suite run `spec`."""
        return [run for run in self.runs.values() if run.spec == spec]

    def to_json(self) -> dict[str, Any]:
        return {"format": self.FORMAT, "generated": self.generated, "suite": self.suite.to_json(),
                "runs": {run_id: run.to_json() for run_id, run in self.runs.items()},
                "summary": {name: summary.to_json() for name, summary in self.summary.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        return cls(data["generated"], SuiteSummary.from_json(data["suite"]),
                   {run_id: ReportRun.from_json(run) for run_id, run in data["runs"].items()},
                   {name: SeedSummary.from_json(summary) for name, summary in data["summary"].items()})
