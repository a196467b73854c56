"""Translate a folder of images with a pix2pix or CycleGAN run: `multigan sample RUN --input DIR --out DIR`.

Every image below DIR (any size, any mode) is converted to the model's channels, resized to its square training
resolution, translated, resized back to its own size and written as a PNG of the same name (and relative path).
`comparison.png` shows the first rows as input | output, plus the target when the inputs are pairs: A/ and B/
folders with matching names, or — for a run trained on side-by-side A|B files — files exactly twice as wide as
high, whose source half (by the run's direction) is translated. Everything is written into a temporary folder
beside OUT and renamed when complete, so a bad file or a kill leaves nothing under OUT.
"""
from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image
from torch import Tensor
from torchvision.transforms.v2 import functional as TF

from multigan.core.data import DataError
from multigan.core.files import check_new_folder, staged_folder, write_json_atomic, write_png
from multigan.images.decoding import decode_file
from multigan.images.folder import is_image
from multigan.images.modality import image_grid
from multigan.images.paired import matched_files
from multigan.images.translation import TranslationModel

COMPARISON = "comparison.png"
COMPARISON_ROWS = 16
BATCH = 8


def list_inputs(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.rglob("*") if is_image(p))
    if not files:
        raise DataError(f"--input {folder} holds no images (looked for .png, .jpg, .jpeg, .bmp, .tif, .webp ... at "
                        "any depth)")
    return files


def is_side_by_side(files: list[Path]) -> bool:
    """Whether every file is exactly twice as wide as high (read from the headers only)."""
    for path in files:
        try:
            with Image.open(path) as picture:
                width, height = picture.size
        except (OSError, ValueError):
            return False  # decoding will name the file
        if width != 2 * height:
            return False
    return True


def plan(model: TranslationModel, folder: Path) -> tuple[list[Path], list[Path] | None, str]:
    """(input files, matching target files or None, how the inputs were read)."""
    if not folder.is_dir():
        raise DataError(f"--input {folder} is not a folder")
    if len(model.directions) == 1 and (folder / "A").is_dir() and (folder / "B").is_dir():
        a_files, b_files = matched_files(folder / "A", folder / "B")
        sources, targets = (a_files, b_files) if model.directions[0] == "AtoB" else (b_files, a_files)
        return sources, targets, "pairs from A/ and B/"
    files = list_inputs(folder)
    if model.info.extra.get("layout") == "side_by_side" and is_side_by_side(files):
        return files, None, "side-by-side A|B pairs"
    return files, None, "single images"


def load(path: Path, channels: int, half: str = "") -> Tensor:
    """(C, H, W) uint8; `half` "left"/"right" keeps one side of an A|B file."""
    image = decode_file(path, channels).image
    width = image.shape[-1] // 2
    return image[..., :width] if half == "left" else image[..., width:] if half == "right" else image


def translate_images(model: TranslationModel, images: list[Tensor], direction: str) -> list[Tensor]:
    """uint8 (C, H, W) images of any sizes -> uint8 translations of the same sizes."""
    resolution = model.info.shape[-1]
    square = torch.stack([TF.resize(img, [resolution, resolution], antialias=True) for img in images])
    outputs = model.translate(square.float().div(127.5).sub(1), direction).cpu()  # (B, C, R, R) in [-1, 1]
    outputs = outputs.add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8)
    return [TF.resize(out, list(img.shape[-2:]), antialias=True) for out, img in zip(outputs, images)]


def output_names(files: list[Path], base: Path) -> list[Path]:
    """Relative output paths (.png); two inputs that would share one (a.jpg and a.png) are an error."""
    names = [path.relative_to(base).with_suffix(".png") for path in files]
    seen: dict[Path, Path] = {}
    for name, path in zip(names, files):
        if name in seen:
            raise DataError(f"--input {seen[name]} and {path} would both be written as {name}; rename one")
        if name in (Path(COMPARISON), Path("manifest.png")):
            raise DataError(f"--input {path}: the output name {name} is reserved; rename the file")
        seen[name] = path
    return names


def translate_folder(model: TranslationModel, folder: Path, out: Path, direction: str | None = None,
                     manifest: dict | None = None) -> dict:
    """Write the translations of every image in `folder` into `out` (see the module docstring), with
    manifest.json (`manifest` plus what was done); returns that summary."""
    direction = model.check_direction(direction, asked_by_user=True)
    folder, out = Path(folder), Path(out)
    check_new_folder(out)  # before any decoding: a taken --out fails at once
    sources, targets, how = plan(model, folder)
    half = ""
    if how.startswith("side-by-side"):
        half = "left" if direction == "AtoB" else "right"
    base = folder / ("A" if direction == "AtoB" else "B") if targets is not None else folder
    names = output_names(sources, base)
    channels = model.info.shape[0]
    rows: dict[str, list[Tensor]] = {"source": [], "image": [], "target": []}
    with staged_folder(out) as staging:
        for start in range(0, len(sources), BATCH):
            chunk = sources[start : start + BATCH]
            images = [load(path, channels, half) for path in chunk]
            for offset, output in enumerate(translate_images(model, images, direction)):
                write_png(output, staging / names[start + offset])
                if len(rows["source"]) < COMPARISON_ROWS:
                    keep_row(rows, images[offset], output, model, start + offset, sources, targets, half, channels)
        write_comparison(rows, staging / COMPARISON, model)
        summary = {**(manifest or {}), "input": str(folder), "inputs": len(sources), "read_as": how,
                   "direction": model.direction_name(direction), "outputs": [str(n) for n in names]}
        write_json_atomic(staging / "manifest.json", summary)
    return summary


def keep_row(rows: dict[str, list[Tensor]], image: Tensor, output: Tensor, model: TranslationModel, index: int,
             sources: list[Path], targets: list[Path] | None, half: str, channels: int) -> None:
    """One comparison row at the model's resolution: input | output (| target)."""
    resolution = model.info.shape[-1]
    fit = lambda picture: TF.resize(picture, [resolution, resolution], antialias=True)  # noqa: E731
    rows["source"].append(fit(image))
    rows["image"].append(fit(output))
    if targets is not None:
        rows["target"].append(fit(load(targets[index], channels)))
    elif half:
        rows["target"].append(fit(load(sources[index], channels, "right" if half == "left" else "left")))


def write_comparison(rows: dict[str, list[Tensor]], path: Path, model: TranslationModel) -> None:
    samples = {key: torch.stack(parts).float().div(127.5).sub(1) for key, parts in rows.items() if parts}
    write_png(image_grid(samples, model.info), path)
