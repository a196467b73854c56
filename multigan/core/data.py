"""Data plumbing every modality shares: the data root, the dataset contract, and an exactly resumable batch loader.

A dataset (registered in `multigan.registry.DATASETS`) is a class with a `Config` dataclass (the recipe's `data:`
section) built as `Dataset(config, root, split)`. It exposes `info` (a `DataInfo`), `__len__`, and
`gather(index) -> Batch`, which turns a 1-D LongTensor of example indices into model-ready CPU tensors.
Most datasets hold everything in memory as one uint8 tensor, so `gather` is one indexing op plus a cast.
A dataset may also define `augment(batch) -> Batch`: random augmentation (crops, flips) of whole training batches,
run by the loader on the device after the transfer, with the global RNG (so resume replays it exactly).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import torch
from torch import Tensor

from multigan.core.phases import AugmentingDataset, Batch, BatchCheckingDataset, Dataset, LabelledDataset
from multigan.errors import UserError


class DataError(UserError, RuntimeError):
    """A dataset is missing, incomplete or corrupt. The message says where we looked and what was expected."""


SPLITS = ("train", "test")  # what most datasets offer; translation data adds "val"


def check_split(split: str, dataset: str, splits: tuple[str, ...] = SPLITS) -> None:
    if split not in splits:
        raise DataError(f"unknown split '{split}' for dataset '{dataset}'; valid: {', '.join(splits)}")


def user_folder(path: str, root: Path, dataset: str, kind: str, expected: str) -> Path:
    """The folder a recipe's `data.path` names: `~` expanded, a relative path under the data root. Messages name
    the dataset, the `kind` of folder ("image folder") and, when the key is empty, what belongs there."""
    if not path:
        raise DataError(f"data.path of '{dataset}' is empty; set it to {expected}")
    folder = Path(path).expanduser()
    folder = folder if folder.is_absolute() else Path(root) / folder
    if not folder.is_dir():
        raise DataError(f"{kind} {folder} does not exist (data.path={path!r}, data root {root})")
    return folder


def resolve_data_root(explicit: str | os.PathLike | None = None) -> Path:
    """`--data-root`, else `$MULTIGAN_DATA`, else `./data`."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("MULTIGAN_DATA")
    return Path(env).expanduser() if env else Path("data")


class BatchLoader:
    """Endless shuffled batches with O(1) state: (epoch, position). Each epoch's permutation is drawn from a
    generator seeded by (seed, epoch), so a resumed run sees exactly the batches an uninterrupted one would.

    Under torchrun (`world` processes) this is the DistributedSampler-equivalent: every rank draws the same
    permutation and the same global batch of `batch_size` examples and keeps its contiguous slice of
    `batch_size // world`; ranks see disjoint examples, each epoch reshuffles, and the sequence of global batches
    does not depend on the number of processes (nor does the state, so resume works across world sizes)."""

    def __init__(self, dataset: Dataset, batch_size: int, seed: int, device: torch.device | str = "cpu",
                 rank: int = 0, world: int = 1, subset: Tensor | None = None):
        self.subset = subset  # (K,) indices of the examples to train on (`training_subset`); None: all of them
        n = len(dataset) if subset is None else len(subset)
        if n == 0:
            raise DataError("the dataset is empty")
        if not 0 <= rank < world:
            raise ValueError(f"rank {rank} outside a world of {world}")
        if n < world:
            raise DataError(f"the dataset has {n} examples, fewer than the {world} processes that share it")
        if isinstance(dataset, BatchCheckingDataset):  # e.g. a user's CSV of points: refuses fewer rows than a batch
            dataset.check_batch_size(batch_size)
        self.dataset = dataset
        # a dataset smaller than a batch still trains (the global batch shrinks to a multiple of the world)
        self.batch_size = batch_size if batch_size <= n else n - n % world
        self.local_batch_size = self.batch_size // world
        self.rank, self.world = rank, world
        self.seed = seed
        self.device = torch.device(device)
        self.epoch = 0
        self.position = 0
        self._order = self._permutation(0)

    def _permutation(self, epoch: int) -> Tensor:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        if self.subset is None:
            return torch.randperm(len(self.dataset), generator=g)
        return self.subset[torch.randperm(len(self.subset), generator=g)]

    def next_index(self) -> Tensor:
        """This rank's example indices (batch_size // world,) of the next global batch."""
        if self.position + self.batch_size > len(self._order):  # drop the ragged tail: all batches equal size
            self.epoch += 1
            self.position = 0
            self._order = self._permutation(self.epoch)
        start = self.position + self.rank * self.local_batch_size
        self.position += self.batch_size
        return self._order[start : start + self.local_batch_size]

    def next_batch(self) -> Batch:
        batch = self.dataset.gather(self.next_index())
        non_blocking = self.device.type == "cuda"
        batch = {k: v.to(self.device, non_blocking=non_blocking) for k, v in batch.items()}
        return self.dataset.augment(batch) if isinstance(self.dataset, AugmentingDataset) else batch

    def __iter__(self) -> Iterator[Batch]:
        while True:
            yield self.next_batch()

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position, "seed": self.seed}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.seed = int(state["seed"])
        self.epoch = int(state["epoch"])
        self.position = int(state["position"])
        self._order = self._permutation(self.epoch)


def training_subset(dataset: Dataset, fraction: float) -> Tensor | None:
    """The examples a run with `train.data_fraction` trains on: `fraction` of the split, class-balanced when the
    dataset holds labels (the same count of every class, e.g. 60 per class for 1 % of Fashion-MNIST's 60k), drawn
    by a fixed permutation, so every seed and every run of a study trains on the same images. None: all."""
    if fraction == 1.0:
        return None
    if not 0.0 < fraction < 1.0:
        raise DataError(f"train.data_fraction must be in (0, 1], got {fraction}")
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))
    labels = dataset.labels if isinstance(dataset, LabelledDataset) else None
    if labels is None:
        chosen = order[: max(1, round(fraction * len(dataset)))]
    else:
        classes = labels.unique()
        per_class = max(1, round(fraction * len(dataset) / len(classes)))
        chosen = torch.cat([order[labels[order] == c][:per_class] for c in classes])
    return chosen.sort().values


def cache_dir(data_root: Path | None = None) -> Path:
    """Where derived data (reference statistics, trained feature extractors, converted files) is cached:
    `$MULTIGAN_CACHE`, else `~/.cache/multigan`. Never inside the data root, which may be shared or read-only;
    every cache entry is keyed by the dataset's content fingerprint, so one cache serves every data root."""
    env = os.environ.get("MULTIGAN_CACHE")
    path = Path(env).expanduser() if env else Path.home() / ".cache" / "multigan"
    path.mkdir(parents=True, exist_ok=True)
    return path
