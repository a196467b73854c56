"""What every registered metric implements, and the context it gets to find its reference data.

A metric value never travels without its protocol: `MetricValue.protocol` names the feature extractor, sample
counts, reference split, tokenizer ... and is written next to the value in eval.json, logs and reports.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Hashable, TypeVar

import torch

from multigan.core.data import Dataset
from multigan.core.phases import Batch, DataInfo, GANModel
from multigan.metrics.config import EvalConfig

if TYPE_CHECKING:  # for annotations only: features.py builds on this module
    from multigan.metrics.features import FeatureSession

T = TypeVar("T")


@dataclass
class MetricValue:
    value: float
    higher_is_better: bool
    protocol: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SharedWork:
    """What the metrics of one run share through their `EvalContext`, built by the first metric that asks: one
    feature session per extractor, other run-long objects by name, and the work of the current evaluation."""

    feature_sessions: dict[str, FeatureSession] = field(default_factory=dict)  # extractor name -> session
    objects: dict[str, Any] = field(default_factory=dict)  # e.g. translation metrics' domain classifier
    evaluation: Hashable = None  # whose work `per_evaluation` holds (an evaluation and a model)
    per_evaluation: dict[Hashable, Any] = field(default_factory=dict)

    def feature_session(self, extractor: str, make: Callable[[], FeatureSession]) -> FeatureSession:
        """The run's session for `extractor`, made by `make()` at the first request."""
        if extractor not in self.feature_sessions:
            self.feature_sessions[extractor] = make()
        return self.feature_sessions[extractor]

    def get_or_create(self, name: str, make: Callable[[], T]) -> T:
        """The run's one object called `name`, made by `make()` at the first request."""
        if name not in self.objects:
            self.objects[name] = make()
        return self.objects[name]

    def for_evaluation(self, evaluation: Hashable, key: Hashable, make: Callable[[], T]) -> T:
        """`make()` once per evaluation: what was kept for an earlier `evaluation` is dropped first."""
        if self.evaluation != evaluation:
            self.per_evaluation.clear()
            self.evaluation = evaluation
        if key not in self.per_evaluation:
            self.per_evaluation[key] = make()
        return self.per_evaluation[key]


@dataclass
class EvalContext:
    """Where a metric finds the real data it compares against, and the work its metrics share (`shared`)."""

    info: DataInfo
    data_name: str  # registered dataset name
    data_config: Any  # that dataset's Config instance
    data_root: Path
    cache_dir: Path  # reference statistics and trained feature extractors live here
    device: torch.device
    evaluation: int = 0  # counts the evaluations run with this context: metrics key per-evaluation shared work by it
    # the model's sampling options the current samples were drawn with (set by the Evaluator at each call, e.g.
    # {"temperature": 0.7}): a likelihood metric scores data under the same tempered model (nll_test)
    sampling: dict[str, float] = field(default_factory=dict, compare=False)
    shared: SharedWork = field(default_factory=SharedWork, init=False, repr=False, compare=False)
    datasets: dict[str, Dataset] = field(default_factory=dict, init=False, repr=False, compare=False)  # by split

    def dataset(self, split: str) -> Dataset:
        """The run's dataset of `split`, built once."""
        if split not in self.datasets:
            self.datasets[split] = self._build(split)
        return self.datasets[split]

    def _build(self, split: str) -> Dataset:
        from multigan.registry import DATASETS

        return DATASETS.get(self.data_name)(self.data_config, self.data_root, split)


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

    def feature_sessions(self) -> tuple[FeatureSession, ...]:
        """The run's feature sessions whose generated features `compute` reads (none by default): under torchrun
        the evaluator has every rank extract those features for its share of the samples."""
        return ()

    @abstractmethod
    def compute(self, samples: Batch, model: GANModel) -> dict[str, MetricValue]:
        """Scores of `samples` (the model's `sample()` output, concatenated on the CPU), by result name. Most
        metrics read only the samples; likelihood metrics (NLL-gen) also score data under `model`."""
