"""`unpaired_folder`: two unaligned image domains for CycleGAN, batches {"a", "b"} drawn independently.

    <path>/trainA/  <path>/trainB/  <path>/testA/  <path>/testB/      (Zhu et al.'s layout; images at any depth)

An epoch walks the larger domain in the loader's shuffled order (the smaller one wraps around) and pairs every
example with a uniformly random one of the other domain, drawn from the global RNG — as Zhu et al.'s loader
does, and resumable because checkpoints carry that RNG.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from multigan.core.data import DataError
from multigan.core.phases import Batch, DataInfo
from multigan.images.datasets import fingerprint_of
from multigan.images.translation_data import (
    TranslationData,
    TranslationDataConfig,
    check_translation_config,
    decode_square,
    image_files,
    random_jitter,
    resolve_folder,
    to_unit_range,
)
from multigan.registry import DATASETS

LAYOUT = "trainA/ trainB/ testA/ testB/"


@DATASETS.register("unpaired_folder")
class UnpairedFolder(TranslationData):
    Config = TranslationDataConfig  # names: e.g. [summer, winter]

    def __init__(self, config: TranslationDataConfig, root: Path, split: str):
        check_translation_config(config, "unpaired_folder", split, ("train", "test"))
        folder = resolve_folder(config, root, "unpaired_folder")
        missing = [f"{split}{side}/" for side in "AB" if not (folder / f"{split}{side}").is_dir()]
        if missing:
            found = ", ".join(sorted(p.name + "/" for p in folder.iterdir() if p.is_dir())) or "no folders"
            raise DataError(f"unpaired folder {folder} has no {' and no '.join(missing)} (found {found}); "
                            f"expected {LAYOUT}")
        domains, digests = {}, {}
        for key, side, name in (("a", "A", config.names[0]), ("b", "B", config.names[1])):
            where = folder / f"{split}{side}"
            files = image_files(where, f"domain {name}")
            _, domains[key], digests[key] = decode_square(files[: config.limit or None], config,
                                                          f"unpaired_folder {where}")
        names = {"a": config.names[0], "b": config.names[1]}
        info = DataInfo(modality="image", shape=tuple(domains["a"].shape[1:]),
                        extra={"task": "unpaired", "data_check": config.data_check(), "domains": names,
                               "sizes": {key: len(images) for key, images in domains.items()}})
        fingerprint = fingerprint_of(dataset="unpaired_folder", split=split, **digests, resolution=config.resolution,
                                     channels=config.channels, limit=config.limit)
        super().__init__(domains, names, config, info, fingerprint, split)

    def __len__(self) -> int:
        return max(len(images) for images in self.domains.values())

    def gather(self, index: Tensor) -> Batch:
        a, b = self.domains["a"], self.domains["b"]
        partner = torch.randint(len(b), (len(index),))  # B is drawn independently of A (global RNG, on the CPU)
        return {"a": to_unit_range(a[index % len(a)]), "b": to_unit_range(b[partner])}

    def augment(self, batch: Batch) -> Batch:
        """Each domain gets its own crops and mirrors."""
        return {key: random_jitter(images, self.config.load_size, self.config.flip) if key in ("a", "b") else images
                for key, images in batch.items()}
