"""One small registry for everything found by name: models, datasets, modalities, metrics, feature extractors,
and per modality the feature input and domain-classifier network that the metrics use.

    MODELS = Registry("model")

    @MODELS.register("dcgan")
    class DCGAN(GANModel): ...

    MODELS.get("dcgn")  # RegistryError: unknown model 'dcgn'; did you mean 'dcgan'? valid: dcgan, seqgan, ...

Plug-ins register themselves when imported; `get`/`names` import the built-in plug-ins first, so a lookup
never misses a model only because its module was not imported yet.
"""
from __future__ import annotations

import difflib
import importlib
from typing import Any, Callable, Generic, Iterator, TypeVar

from multigan.errors import UserError

T = TypeVar("T")

# Modules that register things on import. Order does not matter; a missing optional dependency is an error
# that names the plug-in, not a silent gap in the registry.
BUILTIN_PLUGINS = ("multigan.images", "multigan.text", "multigan.audio", "multigan.points", "multigan.metrics")


class RegistryError(UserError, KeyError):
    """Unknown or duplicate name. `str()` is a one-line message fit for a user."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


_FAILED_PLUGINS: dict[str, str] = {}  # plug-in module -> why it could not be imported


def load_plugins() -> None:
    """Import every built-in plug-in once. One whose third-party dependency is missing is skipped, and the reason
    is given whenever a name is then not found, so the other plug-ins keep working."""
    for module in BUILTIN_PLUGINS:
        if module in _FAILED_PLUGINS:
            continue
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name == module:  # not written yet
                continue
            if err.name and err.name.split(".")[0] == "multigan":
                raise
            _FAILED_PLUGINS[module] = f"{module} needs the missing package '{err.name}'"


class Registry(Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(obj: T) -> T:
            if name in self._entries and self._entries[name] is not obj:
                raise RegistryError(f"{self.kind} '{name}' is registered twice")
            self._entries[name] = obj
            return obj

        return add

    def get(self, name: str) -> T:
        if name not in self._entries:
            load_plugins()
        if name not in self._entries:
            raise RegistryError(self.unknown_message(name))
        return self._entries[name]

    def unknown_message(self, name: Any) -> str:
        valid = self.names()
        close = difflib.get_close_matches(str(name), valid, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        skipped = f" (not loaded: {'; '.join(_FAILED_PLUGINS.values())})" if _FAILED_PLUGINS else ""
        return f"unknown {self.kind} '{name}'{hint} valid: {', '.join(valid) or '(none)'}{skipped}"

    def names(self) -> list[str]:
        load_plugins()
        return sorted(self._entries)

    def items(self) -> Iterator[tuple[str, T]]:
        load_plugins()
        return iter(sorted(self._entries.items()))

    def __contains__(self, name: str) -> bool:
        load_plugins()
        return name in self._entries


MODELS: Registry[Any] = Registry("model")
DATASETS: Registry[Any] = Registry("dataset")
MODALITIES: Registry[Any] = Registry("modality")
METRICS: Registry[Any] = Registry("metric")
FEATURES: Registry[Any] = Registry("feature extractor")
FEATURE_INPUTS: Registry[Any] = Registry("feature input (modality)")  # how samples reach extractors
CLASSIFIER_NETWORKS: Registry[Any] = Registry("domain classifier network (modality)")
AUGMENT_POLICIES: Registry[Any] = Registry("augmentation policy")  # what D sees: DiffAugment, ADA (core/augmentation.py)
