"""Image datasets held in memory as one uint8 tensor, and the IDX datasets: MNIST and Fashion-MNIST.

Every image dataset here decodes and resizes once at load time, so `gather` is one indexing op plus a cast.
The procedural `digits` set lives in glyphs.py, `image_folder` in folder.py; both build on `InMemoryImages`.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor
from torchvision.transforms.v2 import functional as TF

from multigan.core.data import DataError, check_split
from multigan.core.phases import Batch, DataInfo
from multigan.images.idx import decompress_idx, parse_idx, read_raw
from multigan.registry import DATASETS

log = logging.getLogger(__name__)



class InMemoryImages:
    """A dataset of uint8 images (N, C0, H, W) and optional int64 labels (N,). `channels` may exceed the stored C0
    (grey stored once, repeated to RGB in `gather`), which keeps a 3-channel 64x64 MNIST at 1/3 of the memory."""

    def __init__(self, images: Tensor, labels: Tensor | None, info: DataInfo, fingerprint: str):
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise TypeError(f"images must be uint8 (N, C, H, W), got {images.dtype} {tuple(images.shape)}")
        self.images = images  # (N, C0, H, W) uint8
        self.labels = labels  # (N,) int64 or None
        self.info = info
        self.fingerprint = fingerprint

    def __len__(self) -> int:
        return self.images.shape[0]

    def gather(self, index: Tensor) -> Batch:
        images = self.images[index]  # (B, C0, H, W) uint8
        channels = self.info.shape[0]
        if images.shape[1] != channels:  # grey -> RGB by repetition
            images = images.expand(-1, channels, -1, -1)
        batch = {"image": images.float().div_(127.5).sub_(1.0)}  # [0, 255] -> [-1, 1]
        if self.labels is not None:
            batch["label"] = self.labels[index]
        return batch


def check_image_options(resolution: int, channels: int, dataset: str) -> None:
    if not isinstance(resolution, int) or resolution < 4:
        raise DataError(f"data.resolution of '{dataset}' must be an integer >= 4 (e.g. 28, 32, 64), got {resolution!r}")
    if channels not in (1, 3):
        raise DataError(f"data.channels of '{dataset}' must be 1 or 3, got {channels!r}")


def resize_square(images: Tensor, resolution: int) -> Tensor:
    """(N, C, h, w) uint8 -> (N, C, resolution, resolution): shorter side to `resolution` (antialiased bilinear),
    then a centre crop. One call on the whole tensor, so it costs ~1 s for 60k images to 64x64 on 2 cores."""
    if images.shape[-2:] == (resolution, resolution):
        return images
    images = TF.resize(images, resolution, antialias=True)
    return TF.center_crop(images, [resolution, resolution])


def fingerprint_of(**parts: Any) -> str:
    """Stable hex digest of JSON-able parts (content hashes, preprocessing options): keys caches of derived data."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


# --------------------------------------------------------------------------------------------------------------
# IDX datasets: MNIST and Fashion-MNIST


@dataclass(frozen=True)
class IdxSource:
    """Where one IDX dataset can live, its official checksums and how to get it."""

    title: str
    folder: str  # our layout: <data root>/<folder>/
    torchvision_folder: str  # torchvision's download layout: <data root>/<torchvision_folder>/
    system_dirs: tuple[str, ...]  # absolute places a system package installs to
    class_names: tuple[str, ...]
    # file stem -> (sha256 of the official .gz, sha256 of its decompressed content)
    checksums: dict[str, tuple[str, str]]
    how_to_get: str


FASHION_MNIST = IdxSource(
    title="Fashion-MNIST",
    folder="fashion_mnist",
    torchvision_folder="FashionMNIST/raw",
    system_dirs=("/usr/share/datasets/fashion-mnist",),
    class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    checksums={
        "train-images-idx3-ubyte": ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                                    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        "train-labels-idx1-ubyte": ("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                                    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        "t10k-images-idx3-ubyte": ("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                                   "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        "t10k-labels-idx1-ubyte": ("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                                   "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    },
    how_to_get="`apt-get install dataset-fashion-mnist`, or download the 4 files from "
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/ into <data root>/fashion_mnist/",
)

MNIST = IdxSource(
    title="MNIST",
    folder="mnist",
    torchvision_folder="MNIST/raw",
    system_dirs=(),
    class_names=tuple(str(digit) for digit in range(10)),
    checksums={
        "train-images-idx3-ubyte": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                                    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        "train-labels-idx1-ubyte": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                                    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        "t10k-images-idx3-ubyte": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                                   "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        "t10k-labels-idx1-ubyte": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                                   "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    },
    how_to_get="download the 4 files from https://ossci-datasets.s3.amazonaws.com/mnist/ "
    "(torchvision's mirror of yann.lecun.com/exdb/mnist/) into <data root>/mnist/",
)


def idx_stems(split: str) -> tuple[str, str]:
    prefix = "train" if split == "train" else "t10k"
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def find_idx_file(folder: Path, stem: str) -> Path | None:
    for name in (f"{stem}.gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def locate_idx_files(source: IdxSource, root: Path, split: str) -> tuple[Path, Path]:
    """(images file, labels file) from the first place that has both; else a DataError listing every place."""
    stems = idx_stems(split)
    places = [root / source.folder, root / source.torchvision_folder, *map(Path, source.system_dirs)]
    partial = ""
    for place in places:
        found = [find_idx_file(place, stem) for stem in stems]
        if all(found):
            return found[0], found[1]
        if any(found):
            missing = stems[found.index(None)]
            partial = f" ({place} has only one of them, {missing}[.gz] is missing)"
    raise DataError(
        f"{source.title} {split} split not found: looked in {', '.join(map(str, places))} for {stems[0]}.gz and "
        f"{stems[1]}.gz (un-gzipped also accepted){partial}; get them with {source.how_to_get} (see data/README.md)"
    )


def load_checked_idx(path: Path, known: tuple[str, str]) -> tuple[np.ndarray, str]:
    """Decoded array and the sha256 of its decompressed content. A file that is not the official one only warns:
    a re-gzipped copy (Debian's package) is fine when its content is identical; other content is someone's data."""
    raw = read_raw(path)
    content = decompress_idx(raw, path)
    array = parse_idx(content, path)
    content_sha = hashlib.sha256(content).hexdigest()
    official_gz, official_content = known
    if content_sha != official_content:
        log.warning("%s differs from the official file (content sha256 %s, expected %s); results will not be "
                    "comparable with published ones", path, content_sha[:12], official_content[:12])
    elif content is not raw and hashlib.sha256(raw).hexdigest() != official_gz:
        log.info("%s is a re-compressed copy of the official file; its content is identical", path)
    return array, content_sha


def load_idx_split(source: IdxSource, root: Path, split: str) -> tuple[Tensor, Tensor, dict[str, str]]:
    """Images (N, 1, 28, 28) uint8, labels (N,) int64, and the content sha256 of both files."""
    images_path, labels_path = locate_idx_files(source, root, split)
    images_stem, labels_stem = idx_stems(split)
    images, images_sha = load_checked_idx(images_path, source.checksums[images_stem])
    labels, labels_sha = load_checked_idx(labels_path, source.checksums[labels_stem])
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(f"{images_path} holds {images.dtype} of shape {images.shape}, expected uint8 (N, H, W)")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise DataError(f"{labels_path} holds {labels.dtype} of shape {labels.shape}, expected uint8 (N,)")
    if len(images) != len(labels):
        raise DataError(f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels")
    if labels.size and labels.max() >= len(source.class_names):
        raise DataError(f"{labels_path} has label {labels.max()}, expected 0..{len(source.class_names) - 1}")
    hashes = {"images": images_sha, "labels": labels_sha}
    return torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels).long(), hashes


@dataclass
class IdxConfig:
    resolution: int = 28  # native 28; 32 or 64 resize once at load time (antialiased bilinear)
    channels: int = 1  # 1, or 3 by repeating the grey channel
    limit: int = 0  # use only the first `limit` examples of the split; 0: all


class IdxDataset(InMemoryImages):
    """An IDX dataset (see `IdxSource`), built as `Dataset(config, root, split)` with split "train" or "test"."""

    Config: ClassVar[type] = IdxConfig
    source: ClassVar[IdxSource]
    name: ClassVar[str]

    def __init__(self, config: IdxConfig, root: Path, split: str):
        check_split(split, self.name)
        check_image_options(config.resolution, config.channels, self.name)
        if config.limit < 0:
            raise DataError(f"data.limit of '{self.name}' must be >= 0 (0: all examples), got {config.limit}")
        images, labels, hashes = load_idx_split(self.source, Path(root), split)
        if config.limit:
            images, labels = images[: config.limit], labels[: config.limit]
        images = resize_square(images, config.resolution)  # (N, 1, R, R)
        info = DataInfo(modality="image", shape=(config.channels, config.resolution, config.resolution),
                        num_classes=len(self.source.class_names), class_names=list(self.source.class_names))
        fingerprint = fingerprint_of(dataset=self.name, split=split, **hashes, resolution=config.resolution,
                                     channels=config.channels, limit=config.limit)
        super().__init__(images.contiguous(), labels, info, fingerprint)


@DATASETS.register("fashion_mnist")
class FashionMNISTDataset(IdxDataset):
    """Fashion-MNIST (Xiao et al. 2017): 60k/10k 28x28 grey images of 10 kinds of clothing."""

    source = FASHION_MNIST
    name = "fashion_mnist"


@DATASETS.register("mnist")
class MNISTDataset(IdxDataset):
    """MNIST (LeCun et al. 1998): 60k/10k 28x28 grey handwritten digits."""

    source = MNIST
    name = "mnist"

