"""Reading files that another process is still writing: metrics.jsonl tailed by byte offset, and small files
(eval.json) read again only when their size or time changed.

The trainer appends one JSON line per log step and evaluation (line-buffered, core/logging.py), so a read may end
in the middle of a line: the tail keeps its offset at the last newline and reads the rest once it is complete.
A file that shrank or was replaced (`train --overwrite` makes a new run in the same folder) starts over.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

CHUNK_BYTES = 4 << 20  # the most one poll reads: a long run's history arrives in a few events, not one huge one


def finite(value: Any) -> Any:
    """`value` with every NaN/inf float written as the string the trainer's log uses ("nan", "inf"): what JSON
    and the browser can parse."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite(item) for item in value]
    return value


class MetricsTail:
    """New complete JSON lines of a growing file, from a byte offset; `restarted` says the file was replaced."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.identity: tuple[int, int] | None = None  # (device, inode) of the file being read
        self.skipped = 0  # complete lines that were not a JSON object

    def read(self) -> tuple[list[dict[str, Any]], bool]:
        """(records appended since the last call, whether the file was replaced or truncated since then)."""
        try:
            status = os.stat(self.path)
        except OSError:
            return [], False
        identity = (status.st_dev, status.st_ino)
        restarted = self.identity is not None and (identity != self.identity or status.st_size < self.offset)
        if restarted or self.identity is None:
            self.identity, self.offset, self.skipped = identity, 0, 0
        if status.st_size <= self.offset:
            return [], restarted
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read(min(status.st_size - self.offset, CHUNK_BYTES))
        except OSError:
            return [], restarted
        end = data.rfind(b"\n")
        if end < 0:  # only a partial line so far
            return [], restarted
        self.offset += end + 1
        return self._parse(data[: end + 1]), restarted

    def _parse(self, data: bytes) -> list[dict[str, Any]]:
        records = []
        for line in data.splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if isinstance(record, dict):
                records.append(finite(record))
            else:
                self.skipped += 1
        return records


class ChangedFile:
    """A small file read again whenever its size or modification time changes (written atomically: renamed
    into place, never seen half-written)."""

    def __init__(self, path: Path):
        self.path = path
        self.signature: tuple[int, int] | None = None

    def changed(self) -> bool:
        """True once after each change (a file that disappears counts as one)."""
        try:
            status = os.stat(self.path)
            signature = (status.st_size, status.st_mtime_ns)
        except OSError:
            signature = None
        if signature == self.signature:
            return False
        self.signature = signature
        return True

    def read_json(self) -> Any:
        """The parsed file, or None when it is missing or not (yet) JSON."""
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
