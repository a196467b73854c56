"""The study's downstream classifier and the training sets it sees.

The network is the modality's domain classifier (`CLASSIFIER_NETWORKS`: the strided CNN for images, the log-mel
CNN for audio), built fresh with each cell's seed and trained by the one classifier trainer of
metrics/classifier.py for a fixed number of updates — never the metrics' cached weights. A training set is a view
(`Examples`) of chosen rows of the real train split and of the exported synthetic pool, so no data is copied.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from multigan.augment.study import DownstreamConfig
from multigan.core.data import Dataset
from multigan.core.phases import Batch, DataInfo, LabelledDataset
from multigan.metrics.classifier import ClassifierConfig, accuracy, train_classifier
from multigan.registry import CLASSIFIER_NETWORKS


@dataclass(frozen=True)
class Part:
    """Rows `index` (K,) of `dataset`; `label_map` (C',) turns its labels into the real split's, when they differ."""

    dataset: Dataset
    index: Tensor
    label_map: Tensor | None = None


class Examples:
    """The concatenation of `parts`, as a Dataset (`len`, `gather`, `info`) for the classifier trainer."""

    def __init__(self, parts: list[Part], info: DataInfo):
        self.parts = [part for part in parts if len(part.index)]
        self.info = info
        self.offsets = np.cumsum([0] + [len(part.index) for part in self.parts])  # part p: [offsets[p], offsets[p+1])

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def gather(self, index: Tensor) -> Batch:
        """(B,) positions -> one batch; rows come grouped by part (the order inside a batch does not matter)."""
        pieces: list[Batch] = []
        for p, part in enumerate(self.parts):
            inside = index[(index >= self.offsets[p]) & (index < self.offsets[p + 1])] - int(self.offsets[p])
            if len(inside):
                batch = part.dataset.gather(part.index[inside])
                if part.label_map is not None:
                    batch["label"] = part.label_map[batch["label"]]
                pieces.append(batch)
        return {key: torch.cat([piece[key] for piece in pieces]) for key in pieces[0]}


def labels_of(dataset: Dataset) -> Tensor:
    """(N,) int64 labels of a labelled dataset (the in-memory datasets keep them as `labels`)."""
    if isinstance(dataset, LabelledDataset) and dataset.labels is not None:
        return dataset.labels
    return torch.cat([dataset.gather(chunk)["label"] for chunk in torch.arange(len(dataset)).split(4096)])


def rows_by_class(labels: Tensor, num_classes: int) -> list[Tensor]:
    """Row indices of each class, in dataset order: C tensors."""
    return [torch.nonzero(labels == label)[:, 0] for label in range(num_classes)]


def draw(groups: list[Tensor], counts: list[int], seed: int) -> Tensor:
    """A class-balanced random subset: `counts[c]` rows of class c (at most all of them), drawn with `seed`."""
    generator = torch.Generator().manual_seed(seed)
    chosen = [group[torch.randperm(len(group), generator=generator)[:count]] for group, count in zip(groups, counts)]
    return torch.cat(chosen) if chosen else torch.zeros(0, dtype=torch.int64)


def classifier_settings(info: DataInfo, config: DownstreamConfig, seed: int) -> ClassifierConfig:
    """The modality's network defaults (audio: width 16, 64-d embedding), then the study's choices."""
    settings = {**CLASSIFIER_NETWORKS.get(info.modality).defaults, "batch_size": config.batch_size,
                "lr": config.lr, "seed": seed}
    if config.width:
        settings["width"] = config.width
    if config.embedding_dim:
        settings["embedding_dim"] = config.embedding_dim
    return ClassifierConfig(**settings)


def train_and_score(train: Examples, test: Dataset, config: DownstreamConfig, seed: int,
                    device: torch.device) -> float:
    """Test accuracy on the real test split of a freshly initialised classifier trained on `train`."""
    model = train_classifier(train, classifier_settings(train.info, config, seed), device, steps=config.steps,
                             verbose=False)
    return accuracy(model, test, 500, device)
