"""What the paired (pix2pix) and unpaired (CycleGAN) datasets share: their config, the per-batch random jitter on
the device, domain views for metrics, and fixed preview inputs.

Both hold each domain as one uint8 (N, C, R, R) tensor at `resolution` (resized once at load time, aspect ratio
not kept, as in Isola et al.'s code). Training batches are jittered as the papers do — resized to `load_size`,
randomly cropped back to `resolution` and mirrored — but on whole batches on the device, through the loader's
`augment` hook, with the global RNG (which checkpoints carry), so there is no per-item PIL work in the hot loop
and a resumed run sees the same crops.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from multigan.core.data import DataError, check_split, user_folder
from multigan.core.phases import Batch, DataInfo
from multigan.images.datasets import InMemoryImages, check_image_options, fingerprint_of
from multigan.core.row_cache import FolderCacheOptions
from multigan.images.image_rows import as_tensor, fit_square, image_rows
from multigan.images.folder import is_image

TRANSLATION_SPLITS = ("train", "val", "test")


@dataclass
class TranslationDataConfig(FolderCacheOptions):
    path: str = ""  # the dataset folder: absolute, or relative to the data root
    resolution: int = 256  # every image is resized to resolution x resolution once, at load time
    load_size: int = 286  # jitter: upscale to this, then a random `resolution` crop (<= resolution: no crop)
    flip: bool = True  # jitter: mirror half of the examples
    channels: int = 3  # 3 (RGB) or 1 (grey); other modes are converted and counted
    names: tuple[str, str] = ("A", "B")  # the two domains' names, for metrics and reports
    skip_bad: bool = False  # skip (and count) unreadable images instead of stopping at the first
    limit: int = 0  # use only the first `limit` examples of each domain; 0: all


def check_translation_config(config: TranslationDataConfig, dataset: str, split: str, splits: tuple[str, ...]) -> None:
    check_split(split, dataset, splits)
    check_image_options(config.resolution, config.channels, dataset)
    if not config.path:  # checked before anything is read; resolve_folder says the same
        raise DataError(f"data.path of '{dataset}' is empty; set it to the dataset folder")
    if config.limit < 0:
        raise DataError(f"data.limit of '{dataset}' must be >= 0 (0: all examples), got {config.limit}")


def resolve_folder(config: TranslationDataConfig, root: Path, dataset: str) -> Path:
    return user_folder(config.path, root, dataset, f"{dataset} folder", "the dataset folder")


def image_files(folder: Path, what: str) -> list[Path]:
    """Images at any depth below `folder`, sorted; a DataError when there are none."""
    files = sorted(p for p in folder.rglob("*") if is_image(p))
    if not files:
        raise DataError(f"no images in {folder} ({what})")
    return files


def decode_square(files: list[Path], config: TranslationDataConfig, what: str) -> tuple[list[Path], Tensor, str]:
    """Kept files, their images resized to (N, C, R, R) uint8 (mapped from the folder's row cache unless
    data.cache is false), and a content digest over names and bytes."""
    base = Path(os.path.commonpath([path.parent for path in files]))  # files may lie at any depth
    rows, report = image_rows(what.split()[0], files, base, config.channels, config.resolution, "stretch",
                              config.skip_bad, config)
    report.announce(what)
    if not rows.kept:
        raise DataError(f"none of the {len(files)} images of {what} could be decoded")
    kept = [files[i] for i in rows.kept]
    return kept, as_tensor(rows.array), content_digest(kept, [bytes.fromhex(h) for h in rows.sha256])


def square(image: Tensor, resolution: int) -> Tensor:
    """(C, H, W) uint8 -> (C, R, R), antialiased, aspect ratio not kept (Isola et al. resize to a square)."""
    return fit_square(image, resolution, "stretch")


def content_digest(files: list[Path], hashes: list[bytes]) -> str:
    return fingerprint_of(files=[f.name for f in files], bytes=[h.hex() for h in hashes])


def random_jitter(images: Tensor, load_size: int, flip: bool) -> Tensor:
    """(B, C, R, R) -> (B, C, R, R): upscale to load_size, then one gather takes a random R x R crop per example,
    mirrored (reversed column order) for a random half of them."""
    batch, _, size, _ = images.shape
    device = images.device
    if load_size > size:
        images = F.interpolate(images, size=(load_size, load_size), mode="bilinear", align_corners=False)
    span = images.shape[-1]
    top, left = torch.randint(span - size + 1, (2, batch, 1), device=device)  # (B, 1) each
    steps = torch.arange(size, device=device)  # (R,)
    rows = top + steps  # (B, R)
    cols = left + steps
    if flip:
        mirror = torch.rand(batch, 1, device=device) < 0.5
        cols = torch.where(mirror, left + size - 1 - steps, cols)
    index = torch.arange(batch, device=device)[:, None, None]
    crops = images[index, :, rows[:, :, None], cols[:, None, :]]  # (B, R, R, C): advanced indices come first
    return crops.permute(0, 3, 1, 2).contiguous()


def to_unit_range(images: Tensor) -> Tensor:
    return images.float().div_(127.5).sub_(1.0)  # uint8 [0, 255] -> [-1, 1]


class TranslationData:
    """Base of the paired and unpaired datasets: two uint8 domains and their metadata."""

    def __init__(self, domains: dict[str, Tensor], domain_names: dict[str, str], config: TranslationDataConfig,
                 info: DataInfo, fingerprint: str, split: str):
        self.domains = domains  # batch key ("source", "target" / "a", "b") -> (N_key, C, R, R) uint8
        self.domain_names = domain_names  # batch key -> the user's domain name ("photo", "summer" ...)
        self.config, self.info, self.fingerprint, self.split = config, info, fingerprint, split

    def augment(self, batch: Batch) -> Batch:
        raise NotImplementedError

    def domain(self, key: str) -> InMemoryImages:
        """The images of one domain as an unlabelled dataset (gather -> {"image"}): the real side of FID/KID."""
        images = self.domains[key]
        info = DataInfo(modality="image", shape=tuple(images.shape[1:]),
                        extra={"domain": self.domain_names.get(key, key), "split": self.split})
        return InMemoryImages(images, None, info, fingerprint_of(parent=self.fingerprint, domain=key))

    def labelled_domains(self, keys: tuple[str, str]) -> InMemoryImages:
        """Both domains as one labelled dataset (label 0: keys[0], 1: keys[1]): what the domain classifier learns."""
        first, second = (self.domains[k] for k in keys)
        labels = torch.cat([torch.zeros(len(first), dtype=torch.long), torch.ones(len(second), dtype=torch.long)])
        info = DataInfo(modality="image", shape=tuple(first.shape[1:]), num_classes=2,
                        class_names=[self.domain_names.get(k, k) for k in keys])
        return InMemoryImages(torch.cat([first, second]), labels, info,
                              fingerprint_of(parent=self.fingerprint, domains=list(keys)))

    def preview_batch(self, n: int) -> Batch:
        """`n` fixed, evenly spaced examples of every domain, without jitter: the inputs of preview grids."""
        batch = {}
        for key, images in self.domains.items():
            index = torch.linspace(0, len(images) - 1, min(n, len(images))).round().long()
            batch[key] = to_unit_range(images[index])
        return batch
