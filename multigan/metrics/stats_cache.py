"""Cache of reference statistics (features, mean, covariance, real-vs-real floors) on disk.

An entry is a safetensors file of named arrays whose metadata holds the full key: dataset fingerprint, split,
extractor id + version (+ weights hash or classifier fingerprint), resolution, sample count, subset seed. The file
name is a hash of that key, and on load the stored key must equal the requested one, so an entry made by another
extractor version, another dataset or another protocol is recomputed, never reused. Writes are atomic (temp file +
rename): an interrupted run leaves either the old entry or the new one. safetensors stores raw arrays, no pickle.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Callable

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from multigan.core.files import atomic_path

log = logging.getLogger(__name__)

Arrays = dict[str, np.ndarray]
KEY_FIELD = "multigan_cache_key"


def canonical_key(parts: dict[str, Any]) -> str:
    """Order-independent JSON of the key parts: what is stored and compared."""
    return json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)


def key_digest(parts: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_key(parts).encode()).hexdigest()[:20]


def save_arrays_atomic(path: Path, arrays: Arrays, metadata: dict[str, str]) -> None:
    """Write `arrays` to `path` via a temp file in the same folder and a rename, so readers never see half a file."""
    contiguous = {name: np.ascontiguousarray(value) for name, value in arrays.items()}
    with atomic_path(path) as temporary:
        save_file(contiguous, str(temporary), metadata=metadata)


def load_keyed(path: Path, wanted_key: str) -> tuple[Arrays, dict[str, str]] | None:
    """Arrays and metadata of the cache entry at `path` if it was stored under `wanted_key`; None (with a warning
    when the file is there) if it is absent, unreadable or made for something else, so the caller recomputes."""
    if not path.exists():
        return None
    try:
        arrays, metadata = load_arrays(path)
    except (SafetensorError, OSError) as err:
        log.warning("ignoring unreadable cache entry %s (%s); recomputing", path, err)
        return None
    if metadata.get(KEY_FIELD) != wanted_key:
        log.warning("cache entry %s was made for %s, not %s; recomputing", path, metadata.get(KEY_FIELD), wanted_key)
        return None
    return arrays, metadata


def load_arrays(path: Path) -> tuple[Arrays, dict[str, str]]:
    with safe_open(str(path), framework="np") as handle:
        metadata = handle.metadata() or {}
        arrays = {name: handle.get_tensor(name) for name in handle.keys()}
    return arrays, metadata


class StatsCache:
    """`get_or_compute(kind, parts, compute)` returns cached arrays when an entry with exactly this key exists,
    else runs `compute()`, stores its arrays and returns them."""

    def __init__(self, root: Path):
        self.root = Path(root) / "reference_stats"

    def path_for(self, kind: str, parts: dict[str, Any]) -> Path:
        readable = "_".join(str(parts.get(k, "")) for k in ("dataset", "split", "extractor", "n") if k in parts)
        readable = "".join(c if c.isalnum() or c in "-." else "-" for c in readable)[:80]
        return self.root / f"{kind}-{readable}-{key_digest({'kind': kind, **parts})}.safetensors"

    def load(self, kind: str, parts: dict[str, Any]) -> Arrays | None:
        """The cached arrays, or None when absent, unreadable, or stored under a different key."""
        entry = load_keyed(self.path_for(kind, parts), canonical_key({"kind": kind, **parts}))
        return entry[0] if entry else None

    def store(self, kind: str, parts: dict[str, Any], arrays: Arrays) -> Path:
        path = self.path_for(kind, parts)
        save_arrays_atomic(path, arrays, {KEY_FIELD: canonical_key({"kind": kind, **parts})})
        return path

    def get_or_compute(self, kind: str, parts: dict[str, Any], compute: Callable[[], Arrays]) -> Arrays:
        cached = self.load(kind, parts)
        if cached is not None:
            return cached
        arrays = compute()
        self.store(kind, parts, arrays)
        return arrays

    def get_or_compute_values(
        self, kind: str, parts: dict[str, Any], compute: Callable[[], dict[str, float]]
    ) -> dict[str, float]:
        """Same, for a few named scalars (e.g. a real-vs-real floor)."""

        def as_arrays() -> Arrays:
            return {name: np.asarray([value], dtype=np.float64) for name, value in compute().items()}  # (1,) each

        return {name: float(value[0]) for name, value in self.get_or_compute(kind, parts, as_arrays).items()}
