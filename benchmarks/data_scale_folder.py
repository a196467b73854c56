"""The synthetic image folder of benchmarks/data_scale.py: N JPEGs of 256x256 RGB in 4 class subfolders.

Each image is a smooth random colour field (a 3x3 grid upsampled bicubically, plus a 24x24 grid upsampled
bilinearly) with Gaussian noise of a random strength on top, saved at quality 90: 12-27 KB, about what photos of
this size weigh, so reading and decoding cost what a real folder's do. Image i depends only on (seed, i), so a
folder is the same whether one process or a pool wrote it. A marker file written last makes a folder reusable.
"""
from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

SOURCE_SIDE = 256  # pixels of every file: the old code's peak scales with it
CLASSES = 4
QUALITY = 90
GENERATOR_VERSION = 1  # bump when an image changes: folders written by older code are rewritten
POOL_FROM = 5_000  # files; below this one process writes them (a pool's start-up would dominate)
MARKER = ".complete.json"  # hidden: image_folder ignores dot files


def synthetic_image(index: int, seed: int) -> Image.Image:
    rng = np.random.default_rng([seed, index])
    side = (SOURCE_SIDE, SOURCE_SIDE)
    coarse = Image.fromarray(rng.integers(0, 256, (3, 3, 3), dtype=np.uint8)).resize(side, Image.BICUBIC)
    detail = Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).resize(side, Image.BILINEAR)
    noise = rng.normal(0.0, rng.uniform(3.0, 12.0), (*side, 3))  # its strength sets the file size
    pixels = 0.75 * np.asarray(coarse, np.float32) + 0.25 * np.asarray(detail, np.float32) + noise
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def image_path(folder: Path, index: int) -> Path:
    return folder / f"class_{index % CLASSES}" / f"{index:06d}.jpg"


def write_images(folder: Path, indices: range, seed: int) -> int:
    """Writes images `indices`; returns their total bytes."""
    total = 0
    for index in indices:
        path = image_path(folder, index)
        synthetic_image(index, seed).save(path, "JPEG", quality=QUALITY)
        total += path.stat().st_size
    return total


def synthetic_folder(root: Path, n: int, seed: int, chunk: int = 500) -> Path:
    """<root>/jpeg256-n<N>-seed<S>, written unless a complete one is there already."""
    folder = root / f"jpeg{SOURCE_SIDE}-n{n}-seed{seed}"
    facts = {"n": n, "seed": seed, "version": GENERATOR_VERSION, "quality": QUALITY}
    marker = folder / MARKER
    if marker.exists() and {k: v for k, v in json.loads(marker.read_text()).items() if k in facts} == facts:
        return folder
    shutil.rmtree(folder, ignore_errors=True)  # a half-written folder from an interrupted run
    for label in range(CLASSES):
        (folder / f"class_{label}").mkdir(parents=True)
    chunks = [range(start, min(start + chunk, n)) for start in range(0, n, chunk)]
    if n < POOL_FROM:
        total = sum(write_images(folder, indices, seed) for indices in chunks)
    else:
        with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
            total = sum(pool.map(write_images, [folder] * len(chunks), chunks, [seed] * len(chunks)))
    marker.write_text(json.dumps({**facts, "bytes": total}))
    return folder


def folder_bytes(folder: Path) -> int:
    return json.loads((folder / MARKER).read_text())["bytes"]
