"""`points_csv`: a user's 2-D points from a CSV file (`data.path`), one point a row: `x,y` or `x,y,label`.

A header row (`x,y` or `x,y,label`) is optional; blank lines and lines starting with `#` are skipped. Labels may be
any text: the classes are the distinct labels, sorted (numerically when every label is a whole number). A fixed
permutation (`data.seed`) holds `data.test_fraction` of the points out as the test split; with 0 both splits are
the whole file. Anything wrong is one line naming the file and the line: a wrong column count, a value that is not
a number or not finite, an empty label, no points, or fewer training points than `train.batch_size`.
"""
from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from multigan.core.data import DataError, check_split
from multigan.points.datasets import InMemoryPoints, points_info
from multigan.registry import DATASETS

HEADERS = (["x", "y"], ["x", "y", "label"])


@dataclass
class PointsCSVConfig:
    path: str = ""  # the CSV file; a relative path is under the data root
    test_fraction: float = 0.1  # held out as the test split; 0: the test split is the whole file too
    seed: int = 0  # the hold-out permutation


@dataclass
class ParsedPoints:
    points: Tensor  # (N, 2) float32
    labels: list[str] | None  # one per point, or None without a label column
    last_line: int  # the file's last line holding a point


def user_file(path: str, root: Path) -> Path:
    """`data.path`: `~` expanded, a relative path under the data root."""
    if not path:
        raise DataError("data.path of 'points_csv' is empty; set it to a CSV file of x,y[,label] rows")
    file = Path(path).expanduser()
    file = file if file.is_absolute() else Path(root) / file
    if not file.is_file():
        raise DataError(f"points file {file} does not exist (data.path={path!r}, data root {root})")
    return file


def parse_number(text: str, column: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{where}: {column} is not a number: {text.strip()!r}") from None
    if not math.isfinite(value):
        raise DataError(f"{where}: {column} is not finite: {text.strip()!r}")
    return value


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_points(text: str, file: Path) -> ParsedPoints:
    """Rows of `text` -> points, labels and the last line read; DataError naming `file:line` on the first bad row."""
    rows, columns, line = [], 0, 0
    reader = csv.reader(io.StringIO(text))
    for row in reader:
        line = reader.line_num
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        cells = [cell.strip() for cell in row]
        if not columns:  # the first row decides: a header, or the first point
            columns = len(cells)
            if columns not in (2, 3):
                raise DataError(f"{file}:{line}: expected 2 or 3 columns (x,y[,label]), got {columns}")
            if not is_number(cells[0]):
                if [cell.lower() for cell in cells] not in HEADERS:
                    raise DataError(f"{file}:{line}: a header row must be x,y or x,y,label, got {','.join(cells)!r}")
                continue
        if len(cells) != columns:
            raise DataError(f"{file}:{line}: expected {columns} columns ({'x,y,label' if columns == 3 else 'x,y'}) "
                            f"like the first row, got {len(cells)}")
        where = f"{file}:{line}"
        point = (parse_number(cells[0], "x", where), parse_number(cells[1], "y", where))
        if columns == 3 and not cells[2]:
            raise DataError(f"{where}: the label is empty")
        rows.append((point, cells[2] if columns == 3 else None, line))
    if not rows:
        raise DataError(f"{file}: no points (rows of x,y or x,y,label)")
    points = torch.tensor([point for point, _, _ in rows], dtype=torch.float32)  # (N, 2)
    labels = [label for _, label, _ in rows] if columns == 3 else None
    return ParsedPoints(points, labels, rows[-1][2])


def class_order(names: set[str]) -> list[str]:
    """Sorted class names; numerically when every name is a whole number ('2' before '10')."""
    return sorted(names, key=int) if all(n.isdigit() for n in names) else sorted(names)


@DATASETS.register("points_csv")
class PointsCSV(InMemoryPoints):

    Config = PointsCSVConfig

    def __init__(self, config: PointsCSVConfig, root: Path, split: str):
        check_split(split, "points_csv")
        if not 0 <= config.test_fraction < 1:
            raise DataError(f"data.test_fraction of 'points_csv' must be in [0, 1), got {config.test_fraction!r}")
        self.file = user_file(config.path, root)
        raw = self.file.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise DataError(f"{self.file}: not UTF-8 text (byte {err.start})") from None
        parsed = parse_points(text, self.file)
        self.total, self.last_line = len(parsed.points), parsed.last_line
        names = class_order(set(parsed.labels)) if parsed.labels is not None else []
        labels = None
        if parsed.labels is not None:
            index = {name: k for k, name in enumerate(names)}
            labels = torch.tensor([index[label] for label in parsed.labels], dtype=torch.int64)  # (N,)
        kept = self.split_index(config, split)
        points = parsed.points[kept]
        labels = labels[kept] if labels is not None else None
        info = points_info(parsed.points, names, {"path": str(self.file)})  # the whole file's bounding box
        digest = hashlib.sha256(raw + repr((config.test_fraction, config.seed, split)).encode()).hexdigest()
        super().__init__(points, labels, info, digest)

    def split_index(self, config: PointsCSVConfig, split: str) -> Tensor:
        """The rows of `split`: a fixed permutation's first `test_fraction` for test, the rest for train."""
        n = self.total
        held = min(n - 1, max(1, round(config.test_fraction * n))) if config.test_fraction > 0 and n > 1 else 0
        if held == 0:
            return torch.arange(n)
        order = torch.randperm(n, generator=torch.Generator().manual_seed(config.seed))
        return (order[:held] if split == "test" else order[held:]).sort().values

    def check_batch_size(self, batch_size: int) -> None:
        if len(self) >= batch_size:
            return
        held = "" if len(self) == self.total else f" ({len(self)} after data.test_fraction holds some out)"
        raise DataError(f"{self.file}:{self.last_line}: the file ends after {self.total} points{held}, fewer than "
                        f"train.batch_size ({batch_size}); add points or lower train.batch_size")
