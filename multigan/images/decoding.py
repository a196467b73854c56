"""Reading image files from a user's folder without ever crashing on one: every unreadable, empty, truncated or
foreign-format file becomes one `BadImageError` line naming it, or is skipped and counted (`data.skip_bad: true`);
every file whose mode is not the recipe's (CMYK, RGBA, palette, 16-bit, grey for RGB ...) is converted and
the conversions are said once per dataset, as counts by source mode.

Decoding is PIL's (libjpeg-turbo, libpng, libtiff, libwebp), run in threads: the decoders release the GIL.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from multigan.core.data import DataError

log = logging.getLogger(__name__)

# modes that hold 16 or 32 bits per pixel: PIL's convert("L") would clip them at 255 instead of scaling
WIDE_MODES = {"I;16", "I;16B", "I;16L", "I;16N", "I"}


class BadImageError(DataError):
    """An image file that cannot be decoded; the message names the file and says what to do."""

    def __init__(self, path: Path, reason: str):
        self.path, self.reason = Path(path), reason
        super().__init__(f"image {path}: {reason}; remove or replace the file (or set data.skip_bad: true)")


@dataclass
class Decoded:
    image: Tensor  # (C, H, W) uint8 at the file's own size
    sha256: bytes  # of the file's bytes: content fingerprints of datasets
    source_mode: str  # PIL mode of the file ("RGB", "CMYK", "P", "I;16" ...)


@dataclass
class DecodeReport:
    """What happened to a folder's files: said once per dataset by `announce`."""

    converted: Counter = field(default_factory=Counter)  # "CMYK->RGB" -> count
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (file, reason)

    def announce(self, what: str) -> None:
        if self.converted:
            parts = ", ".join(f"{count} {kind}" for kind, count in sorted(self.converted.items()))
            log.warning("%s: converted %d image(s) to the recipe's channels (%s)", what,
                        sum(self.converted.values()), parts)
        if self.skipped:
            first = "; ".join(f"{path.name}: {reason}" for path, reason in self.skipped[:3])
            more = f" and {len(self.skipped) - 3} more" if len(self.skipped) > 3 else ""
            log.warning("%s: skipped %d unreadable image(s) (data.skip_bad: true): %s%s", what,
                        len(self.skipped), first, more)


def target_mode(channels: int) -> str:
    return "L" if channels == 1 else "RGB"


def to_mode(picture: Image.Image, channels: int) -> np.ndarray:
    """(H, W, channels) uint8 from any PIL mode; 16/32-bit integer images are scaled to 8 bits, not clipped."""
    if picture.mode in WIDE_MODES:
        wide = np.asarray(picture).astype(np.float64)
        scale = 65535.0 if picture.mode != "I" or wide.max() > 255 else 255.0
        array = np.clip(np.round(wide * (255.0 / scale)), 0, 255).astype(np.uint8)  # (H, W)
        picture = Image.fromarray(array, mode="L")
    if picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info):
        # transparent pixels over white, as a browser shows them, rather than the colour hidden under alpha = 0
        rgba = picture.convert("RGBA")
        picture = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    array = np.asarray(picture.convert(target_mode(channels)))
    return array[:, :, None] if array.ndim == 2 else array


def decode_bytes(raw: bytes, path: Path, channels: int) -> Decoded:
    """One file's bytes -> `Decoded`; any failure is a `BadImageError` naming `path`."""
    if not raw:
        raise BadImageError(path, "empty file (0 bytes)")
    try:
        with Image.open(io.BytesIO(raw)) as picture:
            picture.load()  # decodes now: a truncated file fails here, not later
            mode = picture.mode
            array = to_mode(picture, channels)  # animated GIF/WebP/TIFF: the first frame, where load() left it
    except Image.UnidentifiedImageError:
        raise BadImageError(path, "not an image file PIL can identify (wrong format or corrupt header)") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise BadImageError(path, f"cannot decode it ({str(err) or type(err).__name__})") from None
    image = torch.from_numpy(np.array(array)).permute(2, 0, 1).contiguous()  # (C, H, W); a writable copy
    return Decoded(image, hashlib.sha256(raw).digest(), mode)


def decode_file(path: Path, channels: int) -> Decoded:
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise BadImageError(path, f"cannot read it ({err.strerror or err})") from None
    return decode_bytes(raw, Path(path), channels)


def decode_files(files: list[Path], channels: int, skip_bad: bool) -> tuple[list[Path], list[Decoded], DecodeReport]:
    """Decode `files` in threads. Returns the files that decoded, their images and the report. Without
    `skip_bad` the first bad file (in file order) raises; with it, bad files are dropped and counted."""
    workers = min(8, os.cpu_count() or 1)

    def attempt(path: Path) -> Decoded | BadImageError:
        try:
            return decode_file(path, channels)
        except BadImageError as err:
            return err

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(attempt, files))
    report = DecodeReport()
    kept, decoded = [], []
    wanted = target_mode(channels)
    for path, result in zip(files, results):
        if isinstance(result, BadImageError):
            if not skip_bad:
                raise result
            report.skipped.append((path, result.reason))
            continue
        if result.source_mode != wanted:
            report.converted[f"{result.source_mode}->{wanted}"] += 1
        kept.append(path)
        decoded.append(result)
    return kept, decoded, report
