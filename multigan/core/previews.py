"""The trainer's previews: one file per preview (the modality's) and its TensorBoard image. A modality that draws
samples against real data and the discriminator's decision (2-D points: `ContextualPreviewModality`) gets fixed
real examples and, from a `Discriminating` model, D's decision as well."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from multigan.core.phases import (
    Batch, ContextualPreviewModality, Dataset, Discriminating, GANModel, PreviewContext,
)


class PreviewWriter:
    """`writer(samples, step, tensorboard_writer_or_None)` writes `folder/step-NNNNNNN<suffix>`. Called on rank 0
    with the sampling weights in place; reads no random numbers, so previews never change a run."""

    def __init__(self, modality: Any, model: GANModel, dataset: Dataset, folder: Path, count: int):
        self.modality, self.model, self.dataset = modality, model, dataset
        self.folder, self.count = Path(folder), count
        self._real: Batch | None = None

    def context(self) -> PreviewContext:
        if self._real is None:  # the first examples of the train split: the same ones in every preview
            self._real = self.dataset.gather(torch.arange(min(self.count, len(self.dataset))))
        decision = self.model.decision if isinstance(self.model, Discriminating) else None
        return PreviewContext(self._real, decision)

    def __call__(self, samples: dict[str, Tensor], step: int, writer: Any) -> None:
        modality, info = self.modality, self.dataset.info
        path = self.folder / f"step-{step:07d}{modality.preview_suffix}"
        if isinstance(modality, ContextualPreviewModality):
            context = self.context()
            modality.save_samples_in_context(samples, path, info, context)
            if writer is not None:
                modality.log_samples_in_context(writer, "samples", samples, step, info, context)
            return
        modality.save_samples(samples, path, info)
        if writer is not None:
            modality.log_samples(writer, "samples", samples, step, info)
