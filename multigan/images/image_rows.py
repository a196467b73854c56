"""Image files as rows of the folder cache (core/row_cache.py): each file decoded (decoding.py) and resized as it
goes, so the first pass holds a few images, never the folder; later runs map the cache.

`fit` says how a picture becomes a square: "crop" (shorter side to R, centre crop: image_folder) or "stretch"
(resized to R x R, aspect ratio not kept: the pix2pix / CycleGAN folders, as Isola et al.'s code does).
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch
from torchvision.transforms.v2 import functional as TF

from multigan.core.row_cache import FolderCacheOptions, RowRecipe, Rows, folder_rows
from multigan.core.row_decode import RowResult
from multigan.images.decoding import BadImageError, DecodeReport, decode_file, target_mode

# bump when decoding or resizing changes a pixel: caches built by the older code then no longer match their key
DECODER_VERSION = 1


def fit_square(image: torch.Tensor, resolution: int, fit: str) -> torch.Tensor:
    """(C, H, W) uint8 -> (C, R, R) uint8, antialiased."""
    if image.shape[-2:] == (resolution, resolution):
        return image
    if fit == "stretch":
        return TF.resize(image.unsqueeze(0), [resolution, resolution], antialias=True)[0]
    image = TF.resize(image.unsqueeze(0), resolution, antialias=True)
    return TF.center_crop(image, [resolution, resolution])[0]


def image_row(position: int, path: Path, channels: int, resolution: int, fit: str) -> RowResult:
    """One file -> a (C, R, R) uint8 row, or the one line saying why it has none."""
    try:
        item = decode_file(path, channels)
    except BadImageError as err:
        return RowResult(None, facts={"bad": err.reason}, error=str(err))
    row = fit_square(item.image, resolution, fit).numpy()
    return RowResult(row, item.sha256.hex(), {"mode": item.source_mode})


def pair_row(position: int, path: Path, channels: int, resolution: int) -> RowResult:
    """One side-by-side A|B file -> a (2, C, R, R) row (A then B); a file not exactly 2:1 has none."""
    try:
        item = decode_file(path, channels)
    except BadImageError as err:
        return RowResult(None, facts={"bad": err.reason}, error=str(err))
    _, height, width = item.image.shape
    if width != 2 * height:
        reason = f"{width}x{height} pixels, not exactly twice as wide as high (A|B side by side)"
        return RowResult(None, item.sha256.hex(), {"bad": reason}, error=f"paired image {path} is {reason}; fix it, "
                         "use layout: folders, or set data.skip_bad: true")
    halves = [fit_square(half, resolution, "stretch") for half in (item.image[:, :, :height], item.image[:, :, height:])]
    return RowResult(torch.stack(halves).numpy(), item.sha256.hex(), {"mode": item.source_mode})


def image_rows(kind: str, files: list[Path], base: Path, channels: int, resolution: int, fit: str, skip_bad: bool,
               options: FolderCacheOptions, pairs: bool = False) -> tuple[Rows, DecodeReport]:
    """The files' rows (N_kept, [2,] C, R, R) uint8 through the cache, and what decoding did (to be announced)."""
    if pairs:
        decode = functools.partial(pair_row, channels=channels, resolution=resolution)
        shape: tuple[int, ...] = (2, channels, resolution, resolution)
    else:
        decode = functools.partial(image_row, channels=channels, resolution=resolution, fit=fit)
        shape = (channels, resolution, resolution)
    recipe = RowRecipe(kind, {"channels": channels, "resolution": resolution, "fit": fit, "pairs": pairs,
                              "skip_bad": skip_bad, "decoder": DECODER_VERSION}, shape, "uint8", decode, skip_bad)
    rows = folder_rows(recipe, files, base, options)
    return rows, decode_report(rows, files, channels)


def decode_report(rows: Rows, files: list[Path], channels: int) -> DecodeReport:
    """Conversions (by source mode) and skipped files, from the facts kept with the rows (cached runs say it too)."""
    report = DecodeReport()
    wanted = target_mode(channels)
    for path, facts in zip(files, rows.facts):
        if "bad" in facts:
            report.skipped.append((path, facts["bad"]))
        elif facts.get("mode", wanted) != wanted:
            report.converted[f"{facts['mode']}->{wanted}"] += 1
    return report


def as_tensor(array: np.ndarray) -> torch.Tensor:
    """The rows as a uint8 tensor sharing their memory (a map of the cache stays a map)."""
    return torch.from_numpy(array)
