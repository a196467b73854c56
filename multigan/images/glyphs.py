"""`digits`: a procedural, MNIST-like dataset that needs no files — the zero-setup default for quick starts and tests.

Two steps keep it fast (20k digits at 28x28 in well under a second of CPU) and varied:
1. A few hundred base glyphs: one of each digit's writing styles (pen strokes as control points in a unit box,
   below) with per-glyph jitter, slant and pen width, drawn once by PIL at 64x64 and downscaled (antialiased)
   to the target resolution.
2. Every example picks a base glyph of its class and warps it in one batched `grid_sample`: a random affine pose
   (rotation, anisotropic scale, shear, translation) plus a smooth elastic wobble; then random ink intensity and
   pixel noise.
All randomness comes from one generator seeded by (seed, split), so train and test differ and both are reproducible.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw
from torch import Tensor

from multigan.core.data import DataError, check_split
from multigan.core.phases import DataInfo
from multigan.images.datasets import (
    InMemoryImages,
    check_image_options,
    fingerprint_of,
)
from multigan.registry import DATASETS

# A stroke is (smooth, points): points (x, y) in a unit box, y down. Smooth strokes follow a Catmull-Rom spline
# through their points; the others are polylines with sharp corners. A style is the strokes of one way of writing.
Stroke = tuple[bool, tuple[tuple[float, float], ...]]
Style = tuple[Stroke, ...]
ZERO: Style = ((True, ((0.50, 0.04), (0.24, 0.18), (0.18, 0.50), (0.26, 0.84), (0.50, 0.96), (0.74, 0.84),
                       (0.82, 0.50), (0.75, 0.16), (0.50, 0.04), (0.30, 0.12))),)
TWO_TOP = (True, ((0.20, 0.26), (0.34, 0.08), (0.58, 0.04), (0.78, 0.18), (0.74, 0.42), (0.48, 0.68), (0.20, 0.94)))
THREE_TOP = (True, ((0.20, 0.14), (0.46, 0.03), (0.74, 0.12), (0.74, 0.34), (0.44, 0.48)))
THREE_BOTTOM = (True, ((0.44, 0.48), (0.76, 0.58), (0.80, 0.82), (0.52, 0.97), (0.18, 0.88)))
FIVE_BOWL = (True, ((0.25, 0.46), (0.50, 0.38), (0.76, 0.50), (0.80, 0.74), (0.62, 0.94), (0.36, 0.96), (0.18, 0.84)))
SIX: Style = ((True, ((0.72, 0.06), (0.46, 0.14), (0.28, 0.40), (0.22, 0.70), (0.34, 0.93), (0.60, 0.95),
                      (0.78, 0.76), (0.68, 0.54), (0.44, 0.51), (0.25, 0.66))),)
EIGHT: Style = ((True, ((0.50, 0.50), (0.73, 0.32), (0.68, 0.10), (0.50, 0.04), (0.32, 0.10), (0.27, 0.32),
                        (0.50, 0.50), (0.76, 0.70), (0.70, 0.92), (0.50, 0.97), (0.30, 0.92), (0.24, 0.70),
                        (0.50, 0.50))),)
NINE_LOOP = ((0.74, 0.30), (0.56, 0.48), (0.32, 0.46), (0.24, 0.26), (0.38, 0.06), (0.62, 0.05), (0.75, 0.22))
DIGIT_STYLES: dict[int, tuple[Style, ...]] = {
    0: (ZERO,),
    1: (((False, ((0.34, 0.22), (0.54, 0.04), (0.52, 0.96))),),  # with a flag
        ((False, ((0.52, 0.04), (0.48, 0.96))),)),  # a plain bar
    2: ((TWO_TOP, (False, ((0.20, 0.94), (0.84, 0.93)))),
        (TWO_TOP, (True, ((0.20, 0.94), (0.34, 0.84), (0.46, 0.92), (0.62, 0.97), (0.84, 0.90))))),  # wavy base
    3: ((THREE_TOP, THREE_BOTTOM),),
    4: (((False, ((0.62, 0.96), (0.64, 0.04), (0.14, 0.66), (0.86, 0.66))),),  # closed
        ((False, ((0.22, 0.04), (0.16, 0.60), (0.86, 0.60))), (False, ((0.66, 0.28), (0.64, 0.96))))),  # open
    5: (((False, ((0.80, 0.05), (0.30, 0.05), (0.25, 0.46))), FIVE_BOWL),),
    6: (SIX,),
    7: (((False, ((0.18, 0.08), (0.82, 0.06), (0.40, 0.96))),),
        ((False, ((0.18, 0.08), (0.82, 0.06), (0.40, 0.96))), (False, ((0.36, 0.50), (0.76, 0.48))))),  # crossed
    8: (EIGHT,),
    9: (((True, NINE_LOOP + ((0.72, 0.55), (0.58, 0.96))),),  # curved stem
        ((True, NINE_LOOP), (False, ((0.75, 0.22), (0.70, 0.96))))),  # straight stem
}
CANVAS = 64  # base glyph size in pixels
GLYPH_BOX = 0.70  # the unit box covers 70% of the canvas height (MNIST: a 20 px digit in a 28 px frame)
GLYPHS_PER_DIGIT = 32


def catmull_rom(points: np.ndarray, samples_per_segment: int = 8) -> np.ndarray:
    """(P, 2) control points -> (S, 2) points of the uniform Catmull-Rom spline through them."""
    padded = np.concatenate([points[:1], points, points[-1:]])  # repeat the ends so the curve reaches them
    t = np.linspace(0.0, 1.0, samples_per_segment, endpoint=False)[:, None]  # (T, 1)
    pieces = []
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[i - 1], padded[i], padded[i + 1], padded[i + 2]
        pieces.append(0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                             + (3 * p1 - p0 - 3 * p2 + p3) * t**3))
    pieces.append(points[-1:])
    return np.concatenate(pieces)


def draw_glyph(digit: int, rng: np.random.Generator) -> np.ndarray:
    """One hand-written variant of `digit`: a random style, jittered control points, slant and pen width.
    (CANVAS, CANVAS) uint8, white on black."""
    image = Image.new("L", (CANVAS, CANVAS), 0)
    draw = ImageDraw.Draw(image)
    styles = DIGIT_STYLES[digit]
    width = int(rng.integers(4, 9))  # pen width in canvas pixels: thin to bold
    slant = rng.normal(0.0, 0.08)  # a per-writer italic, on top of the per-example shear
    for smooth, points in styles[int(rng.integers(len(styles)))]:
        control = np.asarray(points) + rng.normal(0.0, 0.025, size=(len(points), 2))
        control[:, 0] += slant * (0.5 - control[:, 1])
        path = catmull_rom(control) if smooth else control
        pixels = (path - 0.5) * GLYPH_BOX * CANVAS + CANVAS / 2  # unit box centred on the canvas
        xy = [tuple(p) for p in pixels.tolist()]
        draw.line(xy, fill=255, width=width, joint="curve")
        for x, y in (xy[0], xy[-1]):  # round pen caps
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    return np.asarray(image)


def base_glyphs(seed: int) -> tuple[Tensor, Tensor]:
    """(10 * GLYPHS_PER_DIGIT, 1, CANVAS, CANVAS) float in [0, 1] and their digits (G,)."""
    rng = np.random.default_rng(seed)
    digits = np.repeat(np.arange(10), GLYPHS_PER_DIGIT)
    glyphs = np.stack([draw_glyph(int(d), rng) for d in digits])
    return torch.from_numpy(glyphs).float().div_(255.0).unsqueeze(1), torch.from_numpy(digits)


def random_affine(n: int, generator: torch.Generator) -> Tensor:
    """(n, 2, 3) maps from output to input coordinates (what `affine_grid` wants) of random digit poses."""
    def uniform(low: float, high: float) -> Tensor:
        return torch.empty(n).uniform_(low, high, generator=generator)

    angle = uniform(-0.25, 0.25)  # radians, about +-14 degrees
    scale_x, scale_y = uniform(0.80, 1.15), uniform(0.85, 1.15)
    shear = uniform(-0.30, 0.30)
    cos, sin = torch.cos(angle), torch.sin(angle)
    rotation = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)  # (n, 2, 2)
    shearing = torch.eye(2).repeat(n, 1, 1)
    shearing[:, 0, 1] = shear
    forward = rotation @ shearing @ torch.diag_embed(torch.stack([scale_x, scale_y], -1))  # glyph -> image
    translation = torch.stack([uniform(-0.12, 0.12), uniform(-0.10, 0.10)], -1)  # (n, 2), in [-1, 1] units
    inverse = torch.linalg.inv(forward)  # image -> glyph
    return torch.cat([inverse, -(inverse @ translation.unsqueeze(-1))], -1)


def smooth_basis(size: int, knots: int = 4) -> Tensor:
    """(size, knots) bicubic interpolation weights from `knots` values to `size` points (align_corners=True)."""
    impulses = torch.eye(knots).view(knots, 1, 1, knots)
    return F.interpolate(impulses, size=(1, size), mode="bicubic", align_corners=True).view(knots, size).T


def warp_grid(n: int, size: int, generator: torch.Generator, elastic: float = 0.06) -> Tensor:
    """(n, size, size, 2) `grid_sample` grid: a random affine pose plus a smooth elastic wobble (a 4x4 lattice of
    random offsets, bicubically interpolated). Both are separable, so they are built from outer sums and two small
    matmuls instead of `affine_grid` + `interpolate` at full size (~4x faster on CPU)."""
    theta = random_affine(n, generator)  # (n, 2, 3)
    coords = (torch.arange(size) * 2 + 1) / size - 1  # pixel centres in [-1, 1] (align_corners=False)
    wobble = torch.randn(n, 2, 4, 4, generator=generator) * elastic  # (n, 2, 4, 4) offsets on the lattice
    basis = smooth_basis(size)  # (S, 4)
    grid = basis @ wobble @ basis.T  # (n, 2, S, S): smooth offsets, [axis, y, x]
    grid += theta[:, :, 0, None, None] * coords  # x term, broadcast along rows
    grid += theta[:, :, 1, None, None] * coords[:, None]  # y term, broadcast along columns
    grid += theta[:, :, 2, None, None]
    return grid.permute(0, 2, 3, 1)  # (n, S, S, 2) as a view; grid_sample accepts the strides


def render_digits(labels: Tensor, resolution: int, generator: torch.Generator, glyphs: Tensor,
                  glyph_digits: Tensor) -> Tensor:
    """(N,) digit labels -> (N, 1, resolution, resolution) uint8, each a warped base glyph of its digit."""
    glyph_index = torch.empty_like(labels)
    for digit in range(10):  # a random base glyph among those of the right digit
        of_digit = (glyph_digits == digit).nonzero().squeeze(1)
        mask = labels == digit
        glyph_index[mask] = of_digit[torch.randint(len(of_digit), (int(mask.sum()),), generator=generator)]
    # antialiased downscale of the (G, 1, 64, 64) glyphs once, so each example is warped at its own resolution
    glyphs = F.interpolate(glyphs, size=(resolution, resolution), mode="bilinear", antialias=True)
    chunk = max(256, 2**23 // resolution**2)  # ~32 MB per float tensor: few, large ops (10k digits at 28x28)
    out = []
    for start in range(0, len(labels), chunk):
        index = glyph_index[start : start + chunk]  # (B,)
        n = len(index)
        grid = warp_grid(n, resolution, generator)  # (B, R, R, 2)
        ink = F.grid_sample(glyphs[index], grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        ink = ink * torch.empty(n, 1, 1, 1).uniform_(0.75, 1.0, generator=generator)  # pen pressure
        ink = ink + torch.randn(ink.shape, generator=generator) * torch.rand(n, 1, 1, 1, generator=generator) * 0.06
        out.append(ink.clamp_(0.0, 1.0).mul_(255.0).round_().to(torch.uint8))
    return torch.cat(out)


def balanced_labels(n: int, generator: torch.Generator) -> Tensor:
    """(n,) int64: each digit n/10 times (+1 for the first n % 10 digits), shuffled."""
    return (torch.arange(n) % 10)[torch.randperm(n, generator=generator)]


@dataclass
class DigitsConfig:
    train_size: int = 20000
    test_size: int = 2000
    resolution: int = 28  # 28 (MNIST-like), 32 or 64 for DCGAN-style generators
    channels: int = 1  # 1, or 3 by repeating the grey channel
    seed: int = 0  # train uses (seed, "train"), test (seed, "test"): disjoint, each reproducible


@DATASETS.register("digits")
class DigitsDataset(InMemoryImages):
    """Procedurally drawn, handwritten-looking digits 0-9 (white on black like MNIST), 10 balanced classes."""

    Config = DigitsConfig

    def __init__(self, config: DigitsConfig, root: Path, split: str):
        check_split(split, "digits")
        check_image_options(config.resolution, config.channels, "digits")
        size = config.train_size if split == "train" else config.test_size
        if size <= 0:
            raise DataError(f"data.{split}_size of 'digits' must be > 0, got {size}")
        split_seed = int.from_bytes(hashlib.sha256(f"digits/{config.seed}/{split}".encode()).digest()[:8], "little")
        generator = torch.Generator().manual_seed(split_seed)
        glyphs, glyph_digits = base_glyphs(split_seed % 2**32)
        labels = balanced_labels(size, generator)
        images = render_digits(labels, config.resolution, generator, glyphs, glyph_digits)
        info = DataInfo(modality="image", shape=(config.channels, config.resolution, config.resolution),
                        num_classes=10, class_names=[str(d) for d in range(10)])
        # the content hash, not just the options: a different PIL version may draw slightly different strokes
        content = hashlib.sha256(images.numpy().tobytes() + labels.numpy().tobytes()).hexdigest()
        fingerprint = fingerprint_of(dataset="digits", split=split, content=content, channels=config.channels)
        super().__init__(images, labels, info, fingerprint)

