"""`paired_folder`: aligned image pairs for pix2pix, batches {"source", "target"} (direction picks which is which).

Two layouts (`layout: auto` picks the one it finds):

    side_by_side   <path>/<split>/*.jpg        each file is A|B: A on the left, B on the right, exactly 2:1
                                               (the pix2pix datasets: facades, maps, edges2shoes ...)
    folders        <path>/<split>/A/, .../B/   or <path>/A/<split>/, <path>/B/<split>/: the same file names
                                               (stems) in both; a name in only one of them is an error

Splits: train, val, test. Without split subfolders, every split uses all the pairs (and says so).
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from multigan.core.data import DataError
from multigan.core.phases import Batch, DataInfo
from multigan.images.datasets import fingerprint_of
from multigan.images.image_rows import as_tensor, image_rows
from multigan.images.folder import is_image
from multigan.images.translation_data import (
    TRANSLATION_SPLITS,
    TranslationData,
    TranslationDataConfig,
    check_translation_config,
    content_digest,
    decode_square,
    image_files,
    random_jitter,
    resolve_folder,
    to_unit_range,
)
from multigan.registry import DATASETS

log = logging.getLogger(__name__)

LAYOUTS = ("auto", "side_by_side", "folders")


@dataclass
class PairedConfig(TranslationDataConfig):
    layout: str = "auto"  # auto | side_by_side | folders (see the module docstring)
    direction: str = "AtoB"  # AtoB: A is the source, B the target; BtoA the reverse (facades labels -> photo)


def folder_pair(folder: Path, split: str) -> tuple[Path, Path] | None:
    for a, b in ((folder / split / "A", folder / split / "B"), (folder / "A" / split, folder / "B" / split),
                 (folder / "A", folder / "B")):
        if a.is_dir() and b.is_dir():
            return a, b
    return None


def find_layout(folder: Path, split: str, layout: str) -> tuple[str, Path | tuple[Path, Path]]:
    """("folders", (A dir, B dir)) or ("side_by_side", dir of A|B files); a DataError saying what was expected."""
    if layout not in LAYOUTS:
        raise DataError(f"data.layout must be one of {', '.join(LAYOUTS)}, got '{layout}'")
    pair = folder_pair(folder, split) if layout != "side_by_side" else None
    if pair is not None:
        return "folders", pair
    if layout == "folders":
        raise DataError(f"paired folder {folder} has no A/ and B/ folders for split '{split}' (looked for "
                        f"{split}/A + {split}/B, A/{split} + B/{split}, A + B)")
    if (folder / split).is_dir():
        return "side_by_side", folder / split
    if any(is_image(p) for p in folder.iterdir()):
        log.warning("%s has no %s/ subfolder: the %s split uses all its pairs", folder, split, split)
        return "side_by_side", folder
    raise DataError(f"paired folder {folder} has no {split}/ subfolder of side-by-side A|B images and no A/ B/ "
                    f"folders; expected <path>/{split}/*.jpg or <path>/{split}/A/ + <path>/{split}/B/")


def matched_files(a_dir: Path, b_dir: Path) -> tuple[list[Path], list[Path]]:
    """Files of A/ and B/ matched by name (stem); unmatched names are a DataError listing the first few."""
    a_files = {p.relative_to(a_dir).with_suffix(""): p for p in image_files(a_dir, "the A side of the pairs")}
    b_files = {p.relative_to(b_dir).with_suffix(""): p for p in image_files(b_dir, "the B side of the pairs")}
    only_a, only_b = sorted(set(a_files) - set(b_files)), sorted(set(b_files) - set(a_files))
    if only_a or only_b:
        def few(names: list[Path]) -> str:
            return ", ".join(map(str, names[:5])) + (" ..." if len(names) > 5 else "")
        raise DataError(f"the names in {a_dir} and {b_dir} do not match: {len(only_a)} only in A ({few(only_a)}), "
                        f"{len(only_b)} only in B ({few(only_b)}); each pair needs the same file name in both")
    names = sorted(a_files)
    return [a_files[n] for n in names], [b_files[n] for n in names]


def split_side_by_side(files: list[Path], config: TranslationDataConfig, what: str) -> tuple[Tensor, Tensor, str]:
    """Decode A|B files into A and B, each (N, C, R, R) uint8 (views of one (N, 2, C, R, R) row cache), and a
    content digest. A file that is not exactly twice as wide as high is an error naming it (skipped and counted
    with skip_bad)."""
    base = Path(os.path.commonpath([path.parent for path in files]))
    rows, report = image_rows("paired_folder", files, base, config.channels, config.resolution, "stretch",
                              config.skip_bad, config, pairs=True)
    report.announce(what)
    if not rows.kept:
        raise DataError(f"none of the {len(files)} files of {what} is a usable side-by-side pair")
    pairs = as_tensor(rows.array)  # (N, 2, C, R, R)
    kept = [files[i] for i in rows.kept]
    return pairs[:, 0], pairs[:, 1], content_digest(kept, [bytes.fromhex(h) for h in rows.sha256])


def decode_folder_pairs(a_dir: Path, b_dir: Path, config: TranslationDataConfig, what: str) -> tuple[Tensor, Tensor, str]:
    """A and B images of matched names, (N, C, R, R) uint8 each; with skip_bad, a pair that lost either side to a
    bad file is dropped whole."""
    a_files, b_files = (files[: config.limit or None] for files in matched_files(a_dir, b_dir))
    a_kept, a, a_digest = decode_square(a_files, config, f"{what}, A")
    b_kept, b, b_digest = decode_square(b_files, config, f"{what}, B")
    a_rows = {p.relative_to(a_dir).with_suffix(""): i for i, p in enumerate(a_kept)}
    b_rows = {p.relative_to(b_dir).with_suffix(""): i for i, p in enumerate(b_kept)}
    whole = sorted(set(a_rows) & set(b_rows))
    if not whole:
        raise DataError(f"{what}: no pair has both sides decodable")
    if len(whole) < len(a_files):
        log.warning("%s: %d pair(s) dropped because one side could not be decoded", what, len(a_files) - len(whole))
    if len(whole) < len(a_kept) or len(whole) < len(b_kept):  # a copy of the pairs left whole; else the maps
        a = a[torch.tensor([a_rows[n] for n in whole], dtype=torch.long)]
        b = b[torch.tensor([b_rows[n] for n in whole], dtype=torch.long)]
    return a, b, fingerprint_of(a=a_digest, b=b_digest)


@DATASETS.register("paired_folder")
class PairedFolder(TranslationData):
    Config = PairedConfig

    def __init__(self, config: PairedConfig, root: Path, split: str):
        check_translation_config(config, "paired_folder", split, TRANSLATION_SPLITS)
        if config.direction not in ("AtoB", "BtoA"):
            raise DataError(f"data.direction must be AtoB or BtoA, got '{config.direction}'")
        folder = resolve_folder(config, root, "paired_folder")
        layout, where = find_layout(folder, split, config.layout)
        what = f"paired_folder {folder} ({split})"
        if layout == "folders":
            a, b, content = decode_folder_pairs(*where, config, what)
        else:
            files = image_files(where, "side-by-side pairs")
            a, b, content = split_side_by_side(files[: config.limit or None], config, what)
        source, target = (a, b) if config.direction == "AtoB" else (b, a)
        name_a, name_b = config.names
        names = {"source": name_a, "target": name_b} if config.direction == "AtoB" else {"source": name_b,
                                                                                         "target": name_a}
        info = DataInfo(modality="image", shape=tuple(source.shape[1:]),
                        extra={"task": "paired", "data_check": config.data_check(), "layout": layout,
                               "direction": config.direction, "domains": names, "pairs": len(source)})
        fingerprint = fingerprint_of(dataset="paired_folder", split=split, content=content, layout=layout,
                                     resolution=config.resolution, channels=config.channels, limit=config.limit)
        super().__init__({"source": source, "target": target}, names, config, info, fingerprint, split)

    def __len__(self) -> int:
        return len(self.domains["source"])

    def gather(self, index: Tensor) -> Batch:
        return {key: to_unit_range(images[index]) for key, images in self.domains.items()}

    def augment(self, batch: Batch) -> Batch:
        """The same crop and mirror for source and target: they are jittered as one 2C-channel image."""
        channels = batch["source"].shape[1]
        both = random_jitter(torch.cat([batch["source"], batch["target"]], dim=1), self.config.load_size,
                             self.config.flip)
        return {**batch, "source": both[:, :channels], "target": both[:, channels:]}
