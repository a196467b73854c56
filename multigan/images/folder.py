"""`image_folder`: any folder of images in torchvision's ImageFolder layout, decoded once into a row cache.

    <path>/<class_a>/*.png|jpg|...     labelled: one class per subfolder (sorted names; files at any depth)
    <path>/*.png|jpg|...               unlabelled: a flat folder of images
    <path>/{train,test}/...            either of the above per split; without them both splits use all images

Each image is decoded (decoding.py: bad files give one line naming them, or are skipped with `skip_bad`; other
modes are converted and counted), its shorter side resized to `resolution` (antialiased) and centre-cropped to a
square, as it goes, into one uint8 (N, C, R, R) array: the folder's row cache (core/row_cache.py), which later runs
map instead of decoding (data.cache: false decodes into memory every run).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from multigan.core.data import DataError, check_split, user_folder
from multigan.core.phases import DataInfo
from multigan.core.row_cache import FolderCacheOptions
from multigan.images.datasets import InMemoryImages, check_image_options, fingerprint_of
from multigan.images.image_rows import as_tensor, image_rows
from multigan.registry import DATASETS

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif")
LAYOUT = "<path>/<class>/<images> (labelled) or <path>/<images> (unlabelled), optionally under train/ and test/"


def is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def visible_subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def list_images(folder: Path) -> tuple[list[Path], list[int], list[str]]:
    """(files, labels, class names) of one split folder; unlabelled (flat) folders give labels [] and names []."""
    classes = visible_subfolders(folder)
    if not classes:
        files = sorted(p for p in folder.iterdir() if is_image(p))
        if not files:
            raise DataError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in {folder}; expected {LAYOUT}")
        return files, [], []
    files, labels = files_by_class(classes, [f"class folder {c} has no images; expected {LAYOUT}" for c in classes])
    ignored = sum(is_image(p) for p in folder.iterdir())
    if ignored:
        log.warning("%d images directly in %s are ignored: it has class subfolders", ignored, folder)
    return files, labels, [c.name for c in classes]


def list_mapped_images(folder: Path, split_folders: dict[str, dict[str, str]], split: str
                       ) -> tuple[list[Path], list[int], list[str]]:
    """(files, labels, class names) of `split` when data.split_folders maps each class to a subfolder."""
    if set(split_folders) != {"train", "test"} or len({tuple(sorted(m)) for m in split_folders.values()}) != 1:
        raise DataError("data.split_folders must map both train and test to the same class names, e.g. {train: "
                        "{summer: trainA, winter: trainB}, test: {summer: testA, winter: testB}}")
    class_names = sorted(split_folders[split])
    folders = [folder / split_folders[split][name] for name in class_names]
    empty = [f"data.split_folders.{split}.{name}: no images in {f}" for name, f in zip(class_names, folders)]
    files, labels = files_by_class(folders, empty)
    return files, labels, class_names


def files_by_class(class_folders: list[Path], empty: list[str]) -> tuple[list[Path], list[int]]:
    """Every image under each class folder (any depth, sorted), labelled by the folder's position; a folder
    without images (or missing) stops with its line of `empty`."""
    files, labels = [], []
    for label, (class_folder, message) in enumerate(zip(class_folders, empty)):
        found = sorted(p for p in class_folder.rglob("*") if is_image(p)) if class_folder.is_dir() else []
        if not found:
            raise DataError(message)
        files += found
        labels += [label] * len(found)
    return files, labels


def decode_all(files: list[Path], base: Path, config: ImageFolderConfig, what: str = ""
               ) -> tuple[Tensor, str, list[Path]]:
    """(N, channels, resolution, resolution) uint8 (a map of the folder's row cache unless data.cache is false), a
    sha256 over every kept file's relative path and bytes, and the kept files. Bad files raise (or are skipped with
    `skip_bad`); conversions are said once, naming `what`."""
    rows, report = image_rows("image_folder", files, base, config.channels, config.resolution, "crop",
                              config.skip_bad, config)
    report.announce(what or str(base))
    if not rows.kept:
        raise DataError(f"none of the {len(files)} images in {base} could be decoded; see the files named above")
    kept = [files[i] for i in rows.kept]
    digest = hashlib.sha256()
    for path, sha in zip(kept, rows.sha256):
        digest.update(str(path.relative_to(base)).encode() + b"\0" + bytes.fromhex(sha))
    return as_tensor(rows.array), digest.hexdigest(), kept


@dataclass
class ImageFolderConfig(FolderCacheOptions):
    path: str = ""  # the folder: absolute, or relative to the data root
    resolution: int = 64  # shorter side resized to this, then centre-cropped to a square
    channels: int = 3  # 3 (RGB) or 1 (grey); other modes (CMYK, RGBA, palette, 16-bit) are converted and counted
    skip_bad: bool = False  # skip (and count) unreadable, empty or truncated files instead of stopping at the first
    # split -> class -> subfolder, for layouts other than train/ and test/: e.g. CycleGAN's domains as classes,
    # {train: {summer: trainA, winter: trainB}, test: {summer: testA, winter: testB}}; both splits name the same classes
    split_folders: dict[str, dict[str, str]] = field(default_factory=dict)


@DATASETS.register("image_folder")
class ImageFolderDataset(InMemoryImages):
    """A user's folder of images (see the module docstring for the layouts)."""

    Config = ImageFolderConfig

    def __init__(self, config: ImageFolderConfig, root: Path, split: str):
        check_split(split, "image_folder")
        check_image_options(config.resolution, config.channels, "image_folder")
        folder = user_folder(config.path, root, "image_folder", "image folder", f"a folder laid out as {LAYOUT}")
        if config.split_folders:
            split_folder, split_note = folder, f"data.split_folders[{split}]"
            files, labels, class_names = list_mapped_images(folder, config.split_folders, split)
        else:
            split_folder, split_note = self.split_folder(folder, split)
            files, labels, class_names = list_images(split_folder)
        images, content, kept = decode_all(files, split_folder, config, f"image_folder {split_folder}")
        if labels:
            label_of = dict(zip(files, labels))
            labels = [label_of[path] for path in kept]
        info = DataInfo(modality="image", shape=(config.channels, config.resolution, config.resolution),
                        num_classes=len(class_names), class_names=class_names, extra={"split": split_note, "data_check": config.data_check()})
        fingerprint = fingerprint_of(dataset="image_folder", content=content,
                                     resolution=config.resolution, channels=config.channels)
        super().__init__(images, torch.tensor(labels, dtype=torch.int64) if labels else None, info, fingerprint)

    @staticmethod
    def split_folder(folder: Path, split: str) -> tuple[Path, str]:
        """The folder holding `split`, and a note saying where the split came from."""
        if (folder / "train").is_dir() and (folder / "test").is_dir():
            return folder / split, f"{split}/ subfolder"
        note = f"no train/ and test/ subfolders in {folder}: the {split} split uses all its images"
        log.info(note)
        return folder, note
