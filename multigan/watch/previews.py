"""A run's previews: the files `samples/step-NNNNNNN.*` that the modality's `save_samples` writes at the sample
cadence (images: a PNG grid; audio: a spectrogram PNG grid and a WAV montage of the same name; text: a .txt of
sentences), grouped by step and tagged with how the page shows them. Any other modality's files are grouped the
same way and shown by their suffix; temporary files (hidden, written before the rename) are never listed."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from multigan.watch.runs import inside

PREVIEW_NAME = re.compile(r"step-(\d+)\.([A-Za-z0-9]+)")
KINDS = {"png": "image", "jpg": "image", "jpeg": "image", "gif": "image", "webp": "image", "svg": "image",
         "wav": "audio", "flac": "audio", "ogg": "audio", "mp3": "audio",
         "txt": "text", "jsonl": "text", "csv": "text"}  # anything else: a link


def file_url(root: Path, path: Path, version: int) -> str:
    """The page's URL of a file inside `root` (relative, so the page works under any prefix); `v` changes when
    the file is rewritten, so the browser never shows a stale copy."""
    return f"files/{quote(path.relative_to(root).as_posix())}?v={version}"


def preview_groups(root: Path, run_folder: Path) -> list[dict[str, Any]]:
    """[{"step", "files": [{"name", "kind", "url"}]}], oldest step first; [] without a samples/ folder."""
    try:
        entries = list(os.scandir(run_folder / "samples"))
    except OSError:
        return []
    groups: dict[int, list[dict[str, Any]]] = {}
    for entry in entries:
        match = PREVIEW_NAME.fullmatch(entry.name)
        real = inside(root, Path(entry.path)) if match else None
        if real is None:
            continue
        try:
            version = real.stat().st_mtime_ns
        except OSError:
            continue
        kind = KINDS.get(match[2].lower(), "link")
        groups.setdefault(int(match[1]), []).append(
            {"name": entry.name, "kind": kind, "url": file_url(root, Path(entry.path), version)})
    return [{"step": step, "files": sorted(files, key=lambda f: (f["kind"] != "image", f["name"]))}
            for step, files in sorted(groups.items())]
