"""What the cache folder (`cache_dir()`: $MULTIGAN_CACHE, else ~/.cache/multigan) holds, and clearing it:
`multigan cache` lists and clears. Every entry is derived data, rebuilt on demand when it is gone."""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from multigan.errors import UserError

KINDS = {  # subfolder -> what its entries are
    "rows": "decoded dataset folders (images, pairs, clips), memory-mapped by the runs",
    "classifiers": "domain classifiers: the offline feature extractors of FID/KID/IS/class metrics",
    "reference_stats": "features and real-vs-real floors of reference splits",
    "text": "tokenised corpora and synthetic oracles",
}


@dataclass
class CacheEntry:
    kind: str  # the subfolder: rows, classifiers ...
    path: Path
    bytes: int
    detail: str  # what it holds, where the entry says (a row cache: its dataset kind, rows and options)


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def detail_of(kind: str, path: Path) -> str:
    if kind != "rows":
        return ""
    try:
        meta = json.loads((path / "meta.json").read_text())
    except (OSError, ValueError):
        return "incomplete (no readable meta.json): rebuilt when next used"
    options = ", ".join(f"{k} {v}" for k, v in meta.get("options", {}).items() if k in ("resolution", "channels",
                                                                                          "sample_rate", "length"))
    return f"{meta.get('kind')}: {meta.get('count')} rows of {meta.get('row_shape')} {meta.get('dtype')} ({options})"


def cache_entries(root: Path) -> list[CacheEntry]:
    """Every entry of every kind under `root`, by kind then name; hidden files (locks, temp files) left out."""
    entries = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        for path in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
            entries.append(CacheEntry(folder.name, path, size_of(path), detail_of(folder.name, path)))
    return entries


def clear_caches(root: Path, kinds: list[str]) -> tuple[int, int]:
    """Remove every entry of `kinds` (all kinds when empty); (entries removed, bytes freed)."""
    present = {p.name for p in root.iterdir() if p.is_dir()} if root.is_dir() else set()
    unknown = [k for k in kinds if k not in KINDS and k not in present]
    if unknown:
        raise UserError(f"unknown cache kind {', '.join(unknown)}; the kinds are {', '.join(sorted(KINDS))}")
    removed = freed = 0
    for entry in cache_entries(root):
        if kinds and entry.kind not in kinds:
            continue
        if entry.path.is_dir():
            shutil.rmtree(entry.path)
        else:
            entry.path.unlink()
        removed, freed = removed + 1, freed + entry.bytes
    return removed, freed
