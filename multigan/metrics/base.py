"""What every registered metric implements, and the context it gets to find its reference data.

A metric value never travels without its protocol: `MetricValue.protocol` names the feature extractor, sample
counts, reference split, tokenizer ... and is written next to the value in eval.json, logs and reports.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import torch

from multigan.core.data import Dataset
from multigan.core.phases import Batch, DataInfo, GANModel
from multigan.metrics.config import EvalConfig


@dataclass
class MetricValue:
    value: float
    higher_is_better: bool
    protocol: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EvalContext:
    """Where a metric finds the real data it compares against."""

    info: DataInfo
    data_name: str  # registered dataset name
    data_config: Any  # that dataset's Config instance
    data_root: Path
    cache_dir: Path  # reference statistics and trained feature extractors live here
    device: torch.device
    evaluation: int = 0  # counts the evaluations run with this context: metrics key per-evaluation shared work by it

    def dataset(self, split: str) -> Dataset:
        if split not in self._datasets:
            self._datasets[split] = self._build(split)
        return self._datasets[split]

    def _build(self, split: str) -> Dataset:
        from multigan.registry import DATASETS

        return DATASETS.get(self.data_name)(self.data_config, self.data_root, split)

    @cached_property
    def _datasets(self) -> dict[str, Dataset]:
        return {}


class Metric(ABC):
    """Registered in `multigan.registry.METRICS`; built once per run as `Metric(eval_config, context)`, so it can
    prepare (and cache) its reference side in `__init__` or lazily, then score many sets of samples."""

    modality: ClassVar[str]
    needs_samples: ClassVar[bool] = True  # False: the metric makes its own inputs (translations of real images)
    agnostic_results: ClassVar[tuple[str, ...]] = ()  # results comparable across modalities (scale-free)

    def __init__(self, config: EvalConfig, context: EvalContext):
        self.config = config
        self.context = context

    @classmethod
    def extractors(cls, config: EvalConfig, modality: str) -> tuple[str, ...]:
        """The feature extractors (FEATURES names) this metric reads on runs of `modality` under `config`, known
        before anything is built (a bench checks its plan with it); none by default."""
        return ()

    @abstractmethod
    def compute(self, samples: Batch, model: GANModel) -> dict[str, MetricValue]:
        """Scores of `samples` (the model's `sample()` output, concatenated on the CPU), by result name. Most
        metrics read only the samples; likelihood metrics (NLL-gen) also score data under `model`."""
