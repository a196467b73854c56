"""Bench suites: a YAML file -> a typed `Suite`, checked whole before anything trains, then planned into one
`PlannedRun` (a resolved recipe) per run and seed.

    suite: text_vs_image                 # its identity: an output folder holds the runs of one suite
    budget: {steps: 600, evals: 4}       # every run trains `steps` steps in all, evaluated `evals` times;
                                         # and/or wall_clock_s: 300, seconds of training per run
    seeds: [0, 1, 2]                     # at least 3: the report gives mean ± std over seeds
    metrics:                             # per modality; results of metrics a modality lacks are shown as "—"
      image: [fid, prdc, fd_norm, memorisation]
      text: [bleu, self_bleu, fd_norm, memorisation]
    eval:                                # eval: values for every run of a modality (n_samples, features ...)
      text: {features: ngram-hash}
    sweeps: {temperature: [0.7, 1.0, 1.3], truncation: [0.5, 1.0, 2.0]}   # quality/diversity curves
    published: [{source: PAPER TABLE, note: HOW, rows: [{label: GAN, beside: RUN, RESULT: [mean, error]}]}]
    runs:
      - {name: dcgan, recipe: dcgan_digits, set: [model.generator_width=32], sweep: true}
      - {name: mle, recipe: seqgan_coco, set: ["train.stages=[{name: pretrain_g, steps: 600}]"], sweep: true}

A staged recipe (SeqGAN: pretrain_g, pretrain_d, adversarial) keeps the proportions of its stages, scaled to the
budget, unless the run sets `train.stages`, whose steps must then add up to the budget. Every mistake in the file
(unknown keys, recipes, metrics, overrides) is collected and reported together as one `SuiteError`.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from multigan.bench.published import PublishedRow, parse_published
from multigan.errors import UserError
from multigan.metrics.config import EvalConfig
from multigan.recipe import RecipeError, build, find_named, known_names
from multigan.registry import METRICS

SUITE_KEYS = ("suite", "description", "budget", "seeds", "metrics", "eval", "sweeps", "runs", "published")
RUN_KEYS = ("name", "recipe", "set", "sweep", "label", "metrics")
SWEEP_OPTIONS = ("temperature", "truncation")  # GANModel.sampling_options the report draws curves over
MIN_SEEDS = 3


class SuiteError(UserError):
    """Everything wrong with a suite file, one problem per line under a header line."""

    def __init__(self, source: str, problems: list[str]):
        self.problems = problems
        if len(problems) == 1:  # one mistake, one line
            super().__init__(f"{source}: {problems[0]} (nothing was trained)")
            return
        super().__init__(f"{source}: {len(problems)} problem(s); nothing was trained:\n"
                         + "\n".join(f"  - {p}" for p in problems))


@dataclass
class Budget:
    steps: int = 0  # training steps of every run, all stages together; 0: each run's own (with wall_clock_s, or
    #                 where every run sets its train.stages: the same steps for runs compared at one step count)
    wall_clock_s: float = 0.0  # seconds of training per run (train.time_limit); 0: none
    clock: str = "wall"  # how wall_clock_s counts: wall | cpu (each run's CPU seconds: fair on a shared machine)
    evals: int = 4  # evaluations per run, evenly spaced over its steps, the last at the end: the curves


@dataclass
class RunSpec:
    name: str
    recipe: str
    overrides: list[str] = field(default_factory=list)  # `set:` in the file, `--set` syntax
    sweep: bool = False  # draw this run's quality/diversity curve over its sampling option
    label: str = ""  # how tables name it (default: name)
    metrics: list[str] | None = None  # replaces the suite's metrics for its modality


@dataclass
class Suite:
    name: str
    budget: Budget
    seeds: list[int]
    metrics: dict[str, list[str]]
    runs: list[RunSpec]
    eval: dict[str, dict[str, Any]] = field(default_factory=dict)
    sweeps: dict[str, list[float]] = field(default_factory=dict)
    description: str = ""
    source: str = ""
    published: list[PublishedRow] = field(default_factory=list)  # results of papers, each beside one of our runs


def find_suite(name_or_path: str) -> Path:
    """A path that exists, else NAME.yaml in ./recipes/bench or the packaged recipes/bench."""
    found = find_named(name_or_path, "bench")
    if found is None:
        raise UserError(f"{name_or_path}: no such suite file (suites: {known_names('bench')})")
    return found[0]


def load_suite(name_or_path: str) -> tuple[Suite, list[Any]]:
    """Parse, check and plan a suite (plan.py: one PlannedRun per run and seed); SuiteError lists every problem."""
    path = find_suite(name_or_path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise UserError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    problems: list[str] = []
    suite = parse_suite(raw, str(path), problems)
    from multigan.bench.plan import plan_runs  # plan.py builds on this module's types

    planned = plan_runs(suite, problems) if suite is not None else []
    if problems:
        raise SuiteError(str(path), problems)
    return suite, planned


def _unknown_keys(mapping: dict[str, Any], valid: tuple[str, ...], where: str, problems: list[str]) -> None:
    for key in mapping:
        if key not in valid:
            close = difflib.get_close_matches(str(key), valid, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(f"{where}: unknown key '{key}'{hint} (valid: {', '.join(valid)})")


def _int_list(value: Any, where: str, problems: list[str]) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        problems.append(f"{where} must be a list of integers, got {value!r}")
        return []
    return value


def parse_suite(raw: Any, source: str, problems: list[str]) -> Suite | None:
    if not isinstance(raw, dict):
        problems.append(f"a suite is a mapping with keys {', '.join(SUITE_KEYS)}")
        return None
    _unknown_keys(raw, SUITE_KEYS, "suite", problems)
    name = raw.get("suite")
    if not isinstance(name, str) or not name:
        problems.append("suite: give the suite's name (its identity in the output folder)")
    budget = parse_budget(raw.get("budget"), problems)
    seeds = _int_list(raw.get("seeds"), "seeds", problems)
    if seeds and (len(seeds) < MIN_SEEDS or len(set(seeds)) != len(seeds)):
        problems.append(f"seeds: at least {MIN_SEEDS} different seeds (the report's spread over seeds), got {seeds}")
    metrics = parse_metrics(raw.get("metrics"), problems)
    runs = parse_runs(raw.get("runs"), problems)
    return Suite(
        name=str(name or ""), budget=budget, seeds=seeds, metrics=metrics, runs=runs,
        eval=parse_eval(raw.get("eval") or {}, problems), sweeps=parse_sweeps(raw.get("sweeps") or {}, problems),
        description=str(raw.get("description", "")), source=source,
        published=parse_published(raw.get("published"), {run.name for run in runs}, problems),
    )


def parse_budget(raw: Any, problems: list[str]) -> Budget:
    keys = ("steps", "wall_clock_s", "evals", "clock")
    if not isinstance(raw, dict):
        problems.append("budget: give {steps: N, evals: K} (steps per run, all stages together) and/or wall_clock_s")
        return Budget()
    _unknown_keys(raw, keys, "budget", problems)
    budget = Budget(**{k: v for k, v in raw.items() if k in keys})
    for key, kinds in (("steps", (int,)), ("wall_clock_s", (int, float)), ("evals", (int,))):
        value = getattr(budget, key)
        if isinstance(value, bool) or not isinstance(value, kinds) or value < (key == "evals"):
            problems.append(f"budget.{key} must be a {'positive' if key == 'evals' else 'non-negative'} "
                            f"{'integer' if kinds == (int,) else 'number'}, got {value!r}")
            return budget
    if budget.clock not in ("wall", "cpu"):
        problems.append(f"budget.clock must be wall or cpu, got {budget.clock!r}")
    if budget.steps and budget.evals > budget.steps:
        problems.append(f"budget.evals ({budget.evals}) cannot exceed budget.steps ({budget.steps})")
    return budget


def check_metric_names(names: Any, where: str, problems: list[str]) -> list[str]:
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        problems.append(f"{where} must be a list of metric names, got {names!r}")
        return []
    for name in names:
        if name not in METRICS:
            problems.append(f"{where}: {METRICS.unknown_message(name)}")
    return names


def parse_metrics(raw: Any, problems: list[str]) -> dict[str, list[str]]:
    if not isinstance(raw, dict) or not raw:
        problems.append("metrics: give the metrics per modality, e.g. {image: [fid, fd_norm], text: [bleu]}")
        return {}
    return {str(modality): check_metric_names(names, f"metrics.{modality}", problems)
            for modality, names in raw.items()}


def parse_eval(raw: Any, problems: list[str]) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        problems.append("eval: a mapping of modality -> eval: values, e.g. {text: {features: ngram-hash}}")
        return {}
    for modality, values in raw.items():
        if "metrics" in values:
            problems.append(f"eval.{modality}.metrics: the suite's `metrics:` decides them")
        try:
            build(EvalConfig, {k: v for k, v in values.items() if k != "metrics"}, "eval", f"eval.{modality}")
        except RecipeError as err:
            problems.append(str(err))
    return raw


def parse_sweeps(raw: Any, problems: list[str]) -> dict[str, list[float]]:
    if not isinstance(raw, dict):
        problems.append(f"sweeps: a mapping of sampling option ({', '.join(SWEEP_OPTIONS)}) -> values")
        return {}
    _unknown_keys(raw, SWEEP_OPTIONS, "sweeps", problems)
    sweeps = {}
    for option, values in raw.items():
        if not isinstance(values, list) or len(values) < 2 or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            problems.append(f"sweeps.{option} must be a list of at least 2 positive numbers, got {values!r}")
            continue
        if not all(v > 0 for v in values):  # temperature: softmax(logits / T); truncation: |z| <= T
            problems.append(f"sweeps.{option}: every value must be > 0, got "
                            f"{', '.join(f'{v:g}' for v in values if not v > 0)} in {values}")
            continue
        sweeps[option] = [float(v) for v in values]
    return sweeps


def parse_runs(raw: Any, problems: list[str]) -> list[RunSpec]:
    if not isinstance(raw, list) or not raw:
        problems.append("runs: give a list of runs, each {name, recipe, set: [...]}")
        return []
    runs, seen = [], set()
    for index, entry in enumerate(raw):
        where = f"runs[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where} must be a mapping with keys {', '.join(RUN_KEYS)}")
            continue
        _unknown_keys(entry, RUN_KEYS, where, problems)
        name, recipe = entry.get("name"), entry.get("recipe")
        if not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
            problems.append(f"{where}.name must be a folder-safe name (letters, digits, - and _), got {name!r}")
            continue
        if name in seen:
            problems.append(f"{where}.name '{name}' is used twice")
        seen.add(name)
        overrides = entry.get("set") or []
        if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
            problems.append(f"runs.{name}.set must be a list of SECTION.KEY=VALUE strings")
            overrides = []
        metrics = entry.get("metrics")
        if metrics is not None:
            metrics = check_metric_names(metrics, f"runs.{name}.metrics", problems)
        runs.append(RunSpec(name, str(recipe or ""), overrides, bool(entry.get("sweep", False)),
                            str(entry.get("label") or name), metrics))
    return runs
