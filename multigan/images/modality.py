"""The image modality: how generated images leave the program — PNG grids, TensorBoard images, and one PNG per
sample in ImageFolder layout (the augmentation-export format, which `image_folder` reads back).

Samples are a Batch {"image": (N, C, H, W) float in [-1, 1], "label": (N,) optional}. Every file is written
atomically (temporary name, then `os.replace`), so a crash never leaves a half-written PNG or folder.
"""
from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import Tensor
from torchvision.utils import make_grid

from multigan.core.files import folder_name, index_width, staged_folder, write_png
from multigan.core.phases import Batch, DataInfo
from multigan.registry import MODALITIES


def to_uint8(images: Tensor) -> Tensor:
    """(N, C, H, W) in [-1, 1] -> uint8 on the CPU, rounded like `torchvision.utils.save_image`."""
    return images.detach().float().cpu().add(1.0).mul_(127.5).add_(0.5).clamp_(0, 255).to(torch.uint8)


def grid_columns(samples: Batch, info: DataInfo) -> int:
    """One column per class when labelled samples come from a small label set (a row is then 0..9 for digits),
    else a square-ish grid."""
    n = samples["image"].shape[0]
    if "label" in samples and 1 < info.num_classes <= 16 and n >= info.num_classes:
        return info.num_classes
    return max(1, math.ceil(math.sqrt(n)))


# translation samples: one row per example, one column per key present, in this order
COMPARISON_COLUMNS = ("source", "image", "reconstruction", "target")


def comparison_rows(samples: Batch) -> tuple[Tensor, int]:
    """(N * K, C, H, W) images interleaved row by row (input | output | ... per example), and K."""
    columns = [samples[key] for key in COMPARISON_COLUMNS if key in samples]
    return torch.stack(columns, dim=1).flatten(0, 1), len(columns)


def image_grid(samples: Batch, info: DataInfo) -> Tensor:
    """(C, H', W') uint8 grid of the samples, 2-pixel black padding, grey images kept grey. Translation samples
    (with a "source") become comparison rows: input | output (| reconstruction) (| target)."""
    if "source" in samples:
        images, columns = comparison_rows(samples)
        images = to_uint8(images)
    else:
        images, columns = to_uint8(samples["image"]), grid_columns(samples, info)  # (N, C, H, W)
    grid = make_grid(images, nrow=columns, padding=2, pad_value=0)  # (3, H', W')
    return grid[:1] if images.shape[1] == 1 else grid  # make_grid expands 1 channel to 3


@MODALITIES.register("image")
class ImageModality:
    """Stateless: call the methods on the class or on an instance."""

    name = "image"
    preview_suffix = ".png"
    trivial_baseline = "uniform noise images: every pixel i.i.d. U(-1, 1)"

    @staticmethod
    def trivial_samples(n: int, generator: torch.Generator, info: DataInfo) -> Batch:
        """`n` noise images (n, C, H, W), drawn only from `generator` (CPU): the baseline that fd_norm maps to 1."""
        return {"image": torch.rand((n, *info.shape), generator=generator) * 2 - 1}

    @classmethod
    def save_samples(cls, samples: Batch, path: Path, info: DataInfo) -> Path:
        """Write the samples as one PNG grid at `path` and return it."""
        path = Path(path)
        write_png(image_grid(samples, info), path)
        return path

    @classmethod
    def log_samples(cls, writer, tag: str, samples: Batch, step: int, info: DataInfo) -> None:
        """Add the sample grid to a `torch.utils.tensorboard.SummaryWriter` as an image."""
        writer.add_image(tag, image_grid(samples, info), global_step=step, dataformats="CHW")

    export_formats = ("png",)

    @classmethod
    def save_examples(cls, samples: Batch, folder: Path, info: DataInfo) -> Path:
        """One PNG per sample: `folder/<class name>/<index>.png` when labelled, `folder/<index>.png` when not
        (both layouts `image_folder` reads). Built in a temporary sibling folder, then renamed into place."""
        with staged_folder(folder) as staging:
            rows = cls.write_batch(samples, staging, info, 0, index_width(len(samples["image"])), "png")
            cls.finish_export(staging, rows, info, "png")
        return Path(folder)

    @staticmethod
    def write_batch(samples: Batch, folder: Path, info: DataInfo, first: int, width: int, fmt: str) -> list[dict]:
        """PNGs `folder/<class folder>/<first + i>.png` (a torchvision ImageFolder tree) or `folder/<i>.png`;
        one {"path", "label"} row each."""
        images = to_uint8(samples["image"])  # (N, C, H, W)
        labels = samples.get("label")
        rows = []
        for offset, image in enumerate(images):
            relative, label = Path(f"{first + offset:0{width}d}.png"), None
            if labels is not None:
                label = info.class_name(int(labels[offset]))
                relative = folder_name(label) / relative
            write_png(image, folder / relative)
            rows.append({"path": relative.as_posix(), "label": label})
        return rows

    @staticmethod
    def finish_export(folder: Path, rows: list[dict], info: DataInfo, fmt: str) -> None:
        """Nothing to add: the folder tree is the index."""

    @staticmethod
    def translate_folder(model, folder: Path, out: Path, direction: str | None, manifest: dict) -> dict:
        """Translate every image in `folder` into `out` with a translation model (see images/translate.py)."""
        from multigan.images.translate import translate_folder  # translate.py builds on this module

        return translate_folder(model, folder, out, direction, manifest)
