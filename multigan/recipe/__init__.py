"""Recipes: YAML -> typed dataclass configs (the checks of every key and type: typed.py), `--set a.b=c`
overrides, lookup by name, errors that name the key.

A recipe has five sections; `model.name` and `data.name` pick registered classes whose `Config` dataclasses type
the rest of their sections:

    model: {name: dcgan, ngf: 64}        # multigan.images.dcgan.DCGAN.Config
    data:  {name: fashion_mnist}         # the dataset's Config
    train: {steps: 3000}                 # multigan.core.trainer.TrainConfig
    eval:  {metrics: [fid]}              # multigan.metrics.config.EvalConfig
    out:   {root: runs}                  # OutConfig
"""
from __future__ import annotations

import dataclasses
import importlib.resources
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from multigan.core.train_config import TrainConfig
from multigan.metrics.config import EvalConfig
from multigan.recipe.typed import RecipeError, build, unknown_key
from multigan.registry import DATASETS, MODELS, RegistryError

SECTIONS = ("model", "data", "train", "eval", "out")
SOURCE_RECIPES_DIR = Path(__file__).resolve().parents[2] / "recipes"  # the repository's top-level recipes/
LOCAL_RECIPES_DIR = Path("recipes")  # relative: the user's working directory, looked at on each call


@dataclass
class OutConfig:
    root: str = "runs"  # run folders are <root>/<name>
    name: str = ""  # default: the recipe file's name without .yaml


@dataclass
class RunConfig:
    model_name: str
    model: Any  # the model's Config
    data_name: str
    data: Any  # the dataset's Config
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    out: OutConfig = field(default_factory=OutConfig)
    source: str = ""  # the recipe file this came from

    def to_dict(self) -> dict[str, Any]:
        """The resolved recipe: every value, defaults included. `from_dict` of it gives this config back."""
        return {
            "model": {"name": self.model_name, **dataclasses.asdict(self.model)},
            "data": {"name": self.data_name, **dataclasses.asdict(self.data)},
            "train": dataclasses.asdict(self.train),
            "eval": dataclasses.asdict(self.eval),
            "out": dataclasses.asdict(self.out),
        }


def packaged_recipes_dir() -> Path | None:
    """The recipes installed with multigan: recipes/ beside the source tree (a checkout or an editable install),
    else the wheel's package data `multigan.recipes` (setup.py maps the top-level recipes/ folder to it)."""
    if SOURCE_RECIPES_DIR.is_dir():  # checked first so a checkout on PYTHONPATH reads its own recipes
        return SOURCE_RECIPES_DIR
    try:
        folder = importlib.resources.files("multigan.recipes")
    except ModuleNotFoundError:
        return None
    return Path(str(folder)) if Path(str(folder)).is_dir() else None  # a zipped install has no real folder


def recipe_folders() -> list[tuple[Path, str]]:
    """(folder, how it was found), highest precedence first: ./recipes in the working directory, then packaged."""
    folders = []
    if LOCAL_RECIPES_DIR.is_dir():
        folders.append((LOCAL_RECIPES_DIR, "./recipes in the working directory"))
    packaged = packaged_recipes_dir()
    if packaged is not None and not any(f.resolve() == packaged.resolve() for f, _ in folders):
        folders.append((packaged, "shipped with multigan"))
    return folders


def find_named(name_or_path: str, kind: str = "") -> tuple[Path, str] | None:
    """(file, where it came from) for a recipe (KIND ""), study ("augment") or suite ("bench"): a path that exists
    wins, then NAME.yaml in ./recipes/KIND, then the packaged one (`dcgan_fashion` ->
    <package>/recipes/dcgan_fashion.yaml); None when there is none."""
    path = Path(name_or_path)
    if path.is_file():
        return path, "the path given"
    for folder, origin in recipe_folders():
        candidate = folder / kind / f"{name_or_path}.yaml"
        if candidate.is_file():
            return candidate, origin
    return None


def known_names(kind: str = "") -> str:
    """The names `find_named` knows in recipes/KIND, for an error message."""
    return ", ".join(p.stem for p in list_recipes(kind)) or "(none)"


def resolve_recipe(name_or_path: str) -> tuple[Path, str]:
    """(recipe file, where it came from), as `find_named` finds it."""
    found = find_named(name_or_path)
    if found is None:
        raise RecipeError(f"{name_or_path}: no such recipe file (recipes: {known_names()})")
    return found


def find_recipe(name_or_path: str) -> Path:
    """The recipe file `resolve_recipe` picks."""
    return resolve_recipe(name_or_path)[0]


def list_recipes(kind: str = "") -> list[Path]:
    """Every file by name in recipes/KIND ("": training recipes, "augment": studies, "bench": suites): the packaged
    ones, each replaced by ./recipes/KIND/NAME.yaml where that exists."""
    by_name: dict[str, Path] = {}
    for folder, _ in reversed(recipe_folders()):
        by_name.update({p.stem: p for p in (folder / kind).glob("*.yaml")})
    return [by_name[name] for name in sorted(by_name)]


def recipe_description(path: Path) -> str:
    """The header's first comment line: what the recipe trains."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
    return ""


def read_yaml_mapping(path: Path, what: str) -> dict:
    """The mapping a YAML file holds (empty for an empty file), or one RecipeError line naming the file: not valid
    YAML, or not a mapping (`what` says what it should be, e.g. "a recipe is a mapping with sections ...")."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise RecipeError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise RecipeError(f"{path}: {what}")
    return raw


def load_recipe(path: str | Path, overrides: list[str] = ()) -> RunConfig:
    path = find_recipe(str(path))
    raw = read_yaml_mapping(path, f"a recipe is a mapping with sections {', '.join(SECTIONS)}")
    raw.setdefault("out", {})
    if isinstance(raw["out"], dict):
        raw["out"].setdefault("name", path.stem)
    apply_overrides(raw, overrides)
    source = f"{path} with --set {' '.join(overrides)}" if overrides else str(path)  # the key may come from either
    return from_dict(raw, source=source)


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> None:
    """`train.steps=200` sets raw["train"]["steps"] = 200; values are parsed as YAML (`[1, 2]`, `true`, `1e-4`)."""
    for item in overrides:
        key, sep, text = item.partition("=")
        parts = key.strip().split(".")
        if not sep or len(parts) < 2 or not all(parts):
            raise RecipeError(f"--set {item}: expected SECTION.KEY=VALUE, e.g. train.steps=200")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            value = text
        node = raw
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise RecipeError(f"--set {item}: '{part}' is not a section")
        node[parts[-1]] = value


def from_dict(raw: dict[str, Any], source: str = "<recipe>") -> RunConfig:
    unknown = set(raw) - set(SECTIONS)
    if unknown:
        raise RecipeError(unknown_key(source, sorted(unknown)[0], "", SECTIONS, kind="section"))
    model_name, model_cls = _named(raw, "model", MODELS, source)
    data_name, data_cls = _named(raw, "data", DATASETS, source)
    return RunConfig(
        model_name=model_name,
        model=build(model_cls.Config, _section(raw, "model", source, drop="name"), f"model ({model_name})", source),
        data_name=data_name,
        data=build(data_cls.Config, _section(raw, "data", source, drop="name"), f"data ({data_name})", source),
        train=build(TrainConfig, _section(raw, "train", source), "train", source),
        eval=build(EvalConfig, _section(raw, "eval", source), "eval", source),
        out=build(OutConfig, _section(raw, "out", source), "out", source),
        source=source,
    )


def _section(raw: dict[str, Any], name: str, source: str, drop: str = "") -> dict[str, Any]:
    section = raw.get(name) or {}
    if not isinstance(section, dict):
        raise RecipeError(f"{source}: section '{name}' must be a mapping, got {type(section).__name__}")
    return {k: v for k, v in section.items() if k != drop}


def _named(raw: dict[str, Any], section: str, registry: Any, source: str) -> tuple[str, Any]:
    name = _section(raw, section, source).get("name")
    if not name:
        raise RecipeError(f"{source}: {section}.name is missing; valid: {', '.join(registry.names())}")
    try:
        return name, registry.get(name)
    except RegistryError as err:
        raise RecipeError(f"{source}: {section}.name: {err}") from None


def changed_values(config: RunConfig) -> dict[str, dict[str, Any]]:
    """section -> {field: value} for the values that differ from their dataclass's defaults (every section listed)."""
    changed = {}
    for section in ("model", "data", "train", "eval"):
        values, defaults = getattr(config, section), type(getattr(config, section))()
        changed[section] = {f.name: getattr(values, f.name) for f in dataclasses.fields(values)
                            if getattr(values, f.name) != getattr(defaults, f.name)}
    return changed


def non_defaults(config: RunConfig) -> dict[str, Any]:
    """The same values as flat `section.key` -> value (printed at start)."""
    return {f"{section}.{key}": value for section, changed in changed_values(config).items()
            for key, value in changed.items()}


def dump_yaml(config: RunConfig) -> str:
    return yaml.safe_dump(_plain(config.to_dict()), sort_keys=False)


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj
