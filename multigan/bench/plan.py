"""A checked suite planned into runs: one `PlannedRun` (a resolved recipe: the budget's steps and stages, the
suite's metrics and eval values for the run's modality, its seed) per suite run and seed, with the problems a
recipe, an override, a metric or a sweep raises added to the suite's list."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from multigan.bench.suite import RunSpec, Suite
from multigan.bench.sweeps import sweep_problem
from multigan.core.phases import SequenceModality
from multigan.core.train_config import StageConfig
from multigan.metrics.config import EvalConfig
from multigan.recipe import RecipeError, RunConfig, build, changed_values, load_recipe, resolve_recipe
from multigan.registry import (
    CLASSIFIER_NETWORKS, FEATURE_INPUTS, FEATURES, METRICS, MODALITIES, MODELS, RegistryError,
)


@dataclass
class PlannedRun:
    spec: RunSpec
    seed: int
    modality: str
    config: RunConfig
    sweep: tuple[str, list[float]] | None = None  # (sampling option, values) when the run is swept

    @property
    def run_id(self) -> str:
        return f"{self.spec.name}-s{self.seed}"

    def config_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(self.config.to_dict(), default=list))

    def digest(self) -> str:
        """Changes whenever what the run trains or measures changes (a finished run with another digest is stale),
        and not when a later multigan adds a config field with a default: only values off the defaults count."""
        payload = json.dumps([self.config.model_name, self.config.data_name, changed_values(self.config), self.sweep],
                             sort_keys=True, default=dataclasses.asdict)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def plan_runs(suite: Suite, problems: list[str]) -> list[PlannedRun]:
    """One PlannedRun per run and seed; a run whose recipe or overrides do not resolve adds its problems."""
    planned = []
    for spec in suite.runs:
        base = resolve_run(suite, spec, problems)
        if base is None:
            continue
        option = sweep_option(base, suite) if spec.sweep else ""
        for seed in suite.seeds:
            config = dataclasses.replace(base, train=dataclasses.replace(base.train, seed=seed),
                                         out=dataclasses.replace(base.out, name=f"{spec.name}-s{seed}"))
            planned.append(PlannedRun(spec, seed, MODELS.get(base.model_name).modality, config,
                                      (option, suite.sweeps[option]) if option else None))
    return planned


def resolve_run(suite: Suite, spec: RunSpec, problems: list[str]) -> RunConfig | None:
    where = f"runs.{spec.name}"
    try:
        path, _ = resolve_recipe(spec.recipe) if spec.recipe else (None, "")
    except RecipeError as err:
        problems.append(f"{where}.recipe: {err}")
        return None
    if path is None:
        problems.append(f"{where}.recipe: give a recipe name or file")
        return None
    fixed = [o for o in spec.overrides
             if o.split("=")[0].strip() in ("train.steps", "train.seed", "train.time_limit", "train.time_clock",
                                                       "eval.metrics")]
    if fixed:
        problems.append(f"{where}.set: {', '.join(fixed)}: the suite's budget, seeds and metrics decide these")
    try:
        config = load_recipe(path, spec.overrides)
    except (RecipeError, RegistryError) as err:
        problems.append(f"{where}: {err}")
        return None
    return apply_suite(config, suite, spec, where, problems)


def apply_suite(config: RunConfig, suite: Suite, spec: RunSpec, where: str, problems: list[str]) -> RunConfig | None:
    """The run's recipe under the suite: its budget (steps, stages, time limit, eval cadence), its metrics and eval
    values for the run's modality; a metric that cannot score the run, or a sweep it cannot do, is a problem."""
    modality = MODELS.get(config.model_name).modality
    metrics = spec.metrics if spec.metrics is not None else suite.metrics.get(modality)
    if metrics is None:
        problems.append(f"{where}: a {modality} run, but metrics: has no '{modality}' list")
        return None
    budget = suite.budget
    own_stages = any(o.startswith("train.stages") for o in spec.overrides)
    if not budget.steps and not budget.wall_clock_s and not own_stages:
        problems.append(f"{where}: the budget has neither: give steps (per run, all stages) or wall_clock_s (seconds "
                        "of training per run), or set this run's train.stages")
        return None
    steps = budget.steps or sum(s.steps for s in config.train.stage_list())  # the clock or the run: its own steps
    stages = budget_stages(config, steps, own_stages or not budget.steps, where, problems)
    try:
        values = {**{f.name: getattr(config.eval, f.name) for f in dataclasses.fields(EvalConfig)},
                  **suite.eval.get(modality, {})}
        every = max(1, steps // max(1, budget.evals))
        evaluation = build(EvalConfig, {**values, "metrics": metrics, "every": every}, "eval", where)
    except RecipeError as err:
        problems.append(str(err))
        return None
    problems.extend(f"{where}: {problem}" for name in metrics if name in METRICS
                    for problem in [metric_problem(name, modality, evaluation)] if problem)
    if spec.sweep:
        option = sweep_option(config, suite)
        if not option:
            problems.append(f"{where}.sweep: {config.model_name} samples with no option listed under sweeps: "
                            f"(it takes {', '.join(MODELS.get(config.model_name).sampling_options) or 'none'})")
        elif sweep_problem(option, metrics):
            problems.append(f"{where}.sweep: {sweep_problem(option, metrics)}")
    train = dataclasses.replace(config.train, stages=stages, steps=steps, sample_every=0, checkpoint_every=every,
                                log_every=min(config.train.log_every, every), time_limit=float(budget.wall_clock_s),
                                time_clock=budget.clock)
    return dataclasses.replace(config, train=train, eval=evaluation)


def budget_stages(config: RunConfig, steps: int, explicit: bool, where: str,
                  problems: list[str]) -> list[StageConfig]:
    """The run's stages with `steps` in all; eval cadence left to eval.every (global steps) for one step axis."""
    if not config.train.stages:
        return []
    stages = config.train.stages
    total = sum(s.steps for s in stages)
    if explicit:  # the run's own stages: they must fit the budget
        if total != steps:
            problems.append(f"{where}.set: train.stages add up to {total} steps; the budget is {steps}")
        return [dataclasses.replace(s, eval_every=0) for s in stages]
    if len(stages) > steps:
        problems.append(f"{where}: {len(stages)} stages do not fit in budget.steps={steps}")
        return []
    scaled = [max(1, round(s.steps * steps / total)) for s in stages]
    scaled[scaled.index(max(scaled))] += steps - sum(scaled)  # rounding: exactly `steps` in all
    return [dataclasses.replace(s, steps=n, eval_every=0) for s, n in zip(stages, scaled)]


def sweep_option(config: RunConfig, suite: Suite) -> str:
    """The sampling option a sweep of this run varies: the first the model takes that the suite sweeps."""
    options = MODELS.get(config.model_name).sampling_options
    return next((o for o in options if o in suite.sweeps), "")


def metric_problem(name: str, modality: str, evaluation: EvalConfig) -> str:
    """Why metric `name` cannot score runs of `modality` with these eval settings ("" when it can)."""
    metric = METRICS.get(name)
    if metric.modality not in ("any", modality):
        return f"metric '{name}' scores {metric.modality} runs, not {modality} runs"
    problems = [extractor_problem(name, chosen, modality) for chosen in metric.extractors(evaluation, modality)]
    return next((problem for problem in problems if problem), "")


def extractor_problem(metric: str, chosen: str, modality: str) -> str:
    """Why extractor `chosen` cannot score runs of `modality` for `metric` ("" when it can, or when none is set)."""
    if not chosen:
        return ""
    if chosen not in FEATURES:
        return f"metric '{metric}': {FEATURES.unknown_message(chosen)}"
    extractor = FEATURES.get(chosen)
    if not extractor.any_modality and extractor.input.key != FEATURE_INPUTS.get(modality).key:
        return f"metric '{metric}' needs '{chosen}' features, which score {extractor.input.key} samples, not {modality}"
    if extractor.needs_classifier_network and modality not in CLASSIFIER_NETWORKS:
        return (f"metric '{metric}' needs the domain classifier, which {modality} runs do not have (for {modality} set "
                f"eval.features to {FEATURE_INPUTS.get(modality).agnostic_features or 'another extractor'})")
    if extractor.scores_sequences and not isinstance(MODALITIES.get(modality), SequenceModality):
        return f"metric '{metric}': {chosen} features score sequences; {modality} samples are not"
    return ""
