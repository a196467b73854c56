"""Typing a mapping (a recipe section, a study, a suite) into a dataclass: every key checked against the fields
(aliases accepted, the closest valid key suggested), every value converted to the field's type or refused in one
line that names the key and what was expected."""
from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from typing import Any

from multigan.errors import UserError


class RecipeError(UserError, ValueError):
    """A recipe or override that does not fit the typed configs. `str()` is one line for the user."""


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
                raise RecipeError(unknown_key(source, key, where, list(fields)))
            if key in kwargs:
                raise RecipeError(f"{source}: {prefix}{key} is given twice (once by an alias)")
            kwargs[key] = _convert(value, hints[key], f"{prefix}{key}", source)
    return cls(**kwargs)


def unknown_key(source: str, key: str, where: str, valid: Any, kind: str = "key") -> str:
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
