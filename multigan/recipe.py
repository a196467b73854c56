"""Recipes: YAML -> typed dataclass configs, `--set a.b=c` overrides, errors that name the key.

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
import difflib
import importlib.resources
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from multigan.core.train_config import TrainConfig
from multigan.metrics.config import EvalConfig
from multigan.errors import UserError
from multigan.registry import DATASETS, MODELS, RegistryError

SECTIONS = ("model", "data", "train", "eval", "out")
SOURCE_RECIPES_DIR = Path(__file__).resolve().parent.parent / "recipes"  # the repository's top-level recipes/
LOCAL_RECIPES_DIR = Path("recipes")  # relative: the user's working directory, looked at on each call


class RecipeError(UserError, ValueError):
    """A recipe or override that does not fit the typed configs. `str()` is one line for the user."""


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
        raise RecipeError(_unknown(source, sorted(unknown)[0], "", SECTIONS, kind="section"))
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


def build(cls: type, values: dict[str, Any], where: str, source: str) -> Any:
    """Instantiate dataclass `cls` from `values`, checking every key and type. `where` names the section ("" for
    a file's top level, e.g. an augmentation study's)."""
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    prefix = f"{where.split(' ')[0]}." if where else ""
    hints = typing.get_type_hints(cls)
    # familiar short names, e.g. DCGAN's ngf -> generator_width; one may set several keys (lr -> lr_g, lr_d)
    aliases = getattr(cls, "ALIASES", {})
    kwargs = {}
    for given, value in values.items():
        targets = aliases.get(given, given)
        for key in (targets,) if isinstance(targets, str) else targets:
            if key not in fields:
                raise RecipeError(_unknown(source, key, where, list(fields)))
            if key in kwargs:
                raise RecipeError(f"{source}: {prefix}{key} is given twice (once by an alias)")
            kwargs[key] = _convert(value, hints[key], f"{prefix}{key}", source)
    return cls(**kwargs)


def _unknown(source: str, key: str, where: str, valid: Any, kind: str = "key") -> str:
    close = difflib.get_close_matches(key, list(valid), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    place = f" in section '{where}'" if where else ""
    return f"{source}: unknown {kind} '{key}'{place}{hint} valid: {', '.join(valid)}"


def _convert(value: Any, hint: Any, key: str, source: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)

    def wrong(expected: str) -> RecipeError:
        return RecipeError(f"{source}: {key} must be {expected}, got {value!r} ({type(value).__name__})")

    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return _convert(value, arg, key, source)
            except RecipeError:
                continue
        raise wrong(" or ".join(getattr(a, "__name__", str(a)) for a in args))
    if origin is typing.Literal:
        if value not in args:
            raise wrong("one of " + ", ".join(repr(a) for a in args))
        return value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise wrong(f"a list of {args[0].__name__ if args else 'values'}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise wrong(f"a list of {len(args)} values")
            return tuple(_convert(v, a, f"{key}[{i}]", source) for i, (v, a) in enumerate(zip(value, args)))
        items = [_convert(v, args[0], f"{key}[{i}]", source) for i, v in enumerate(value)] if args else list(value)
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise wrong("a mapping")
        return {str(k): _convert(v, args[1], f"{key}.{k}", source) for k, v in value.items()} if args else value
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise wrong(f"a mapping with keys {', '.join(f.name for f in dataclasses.fields(hint))}")
        return build(hint, value, key, source)
    if hint is bool:
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("an integer")
        return value
    if hint is float:
        if isinstance(value, str):  # YAML 1.1 reads 1e-4 (no dot) as a string
            try:
                return float(value)
            except ValueError:
                raise wrong("a number") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong("a number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise wrong("a string")
        return value
    if hint is Any:
        return value
    raise RecipeError(f"{source}: {key}: unsupported config type {hint}")


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
