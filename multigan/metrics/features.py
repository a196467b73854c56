"""Feature extractors for sample-based metrics of any modality, and the shared, cached features those metrics score.

An extractor (registered in `multigan.registry.FEATURES`) maps a batch of one modality (images (B, C, H, W),
waveforms (B, 1, T) ...) to features (N, D) for FID/FAD/KID/PRDC and logits (N, K) for IS and class coverage
(N = B, or more rows when an extractor frames long inputs, like VGGish's 0.96 s examples). Its `identity()` names
everything that decides its outputs (version, weights hash, training data), and goes into every cache key and
every metric protocol. How samples of a modality reach an extractor (their Batch field and the quantisation a
saved file would apply) is a `FeatureInput`, registered by each plug-in in `multigan.registry.FEATURE_INPUTS`.

`FeatureSession` is what the metrics of one evaluation share: one extractor, the generated samples' features
(extracted once for FID, KID, IS and PRDC together) and the real splits' features, cached on disk.
"""
from __future__ import annotations

import weakref
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Iterator

import numpy as np
import torch
from torch import Tensor, nn

from multigan.core.phases import Batch, Dataset
from multigan.metrics.base import EvalContext
from multigan.metrics.config import EvalConfig
from multigan.metrics.frechet import MetricError, RunningStats, check_enough_samples, check_finite
from multigan.metrics.stats_cache import StatsCache, canonical_key
from multigan.registry import FEATURE_INPUTS


@dataclass(frozen=True)
class FeatureInput:
    """How samples of one modality reach a feature extractor; registered in FEATURE_INPUTS under the modality."""

    key: str  # the Batch field: "image", "audio"
    plural: str  # what a batch holds, for messages: "images", "waveforms"
    layout: str  # the batch layout, for messages: "(B, C, H, W)"
    prepare: Callable[[Tensor], Tensor]  # samples -> what the extractors take (as a saved file would hold them)
    describe: Callable[[tuple[int, ...]], dict[str, Any]]  # protocol entries for one example's shape
    # the extractor whose features the modality-agnostic measures (fd_norm, memorisation) use for this modality;
    # "": eval.features (images, audio: the domain classifier by default). Text has no classifier: "ngram-hash"
    agnostic_features: str = ""

    @property
    def ndim(self) -> int:
        return self.layout.count(",") + 1


class FeatureExtractor(ABC):
    """Registered in FEATURES; built with `from_context(config, context)`."""

    name: ClassVar[str]
    version: ClassVar[str]  # bump whenever outputs change for the same inputs: invalidates cached statistics
    input: FeatureInput  # the modality it scores (a class attribute; `any_modality` extractors set it when built)
    any_modality: ClassVar[bool] = False  # True: `from_context` sets `input` from the data (the domain classifier)
    needs_classifier_network: ClassVar[bool] = False  # True: scores with the modality's CLASSIFIER_NETWORKS entry
    scores_sequences: ClassVar[bool] = False  # True: scores a SequenceModality's sequences() (no other modality)
    feature_dim: int
    num_classes: int
    device: torch.device
    # the network whose weights decide the features (None: a fixed map, like n-gram hashing); under torchrun every
    # rank takes rank 0's weights of it, so a rank whose cached classifier differs still computes rank 0's features
    model: nn.Module | None = None

    @classmethod
    @abstractmethod
    def from_context(cls, config: EvalConfig, context: EvalContext) -> "FeatureExtractor": ...

    @abstractmethod
    def features_and_logits(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """A prepared batch on `device` (images (B, C, H, W) in [0, 1] on the 8-bit grid; see `input`) ->
        features (N, D), logits (N, K)."""

    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """Everything that decides the outputs: name, version, weights hash / training-data fingerprint."""

    def describe_input(self, shape: tuple[int, ...]) -> dict[str, Any]:
        """What happens to examples of `shape` ((C, H, W) images ...) before the network, for the protocol."""
        return self.input.describe(shape)

    def protocol(self, shape: tuple[int, ...]) -> dict[str, Any]:
        return {"extractor": self.name, **self.identity(), **self.describe_input(shape)}

    def extract(self, batches: Iterable[Tensor]) -> "FeatureSet":
        """Features, logits and float64 statistics of sample batches in [-1, 1] (`input.layout`)."""
        return self.feature_set([self.extract_batch(batch) for batch in batches])

    @torch.no_grad()
    def extract_batch(self, batch: Tensor) -> tuple[Tensor, Tensor]:
        """One batch in [-1, 1] (`input.layout`) -> features (N, D), logits (N, K), float32 on the CPU."""
        if batch.ndim != self.input.ndim:
            raise MetricError(f"expected {self.input.plural} {self.input.layout}, got shape {tuple(batch.shape)}")
        check_finite(self.input.plural, batch)
        features, logits = self.features_and_logits(self.input.prepare(batch.to(self.device)))
        return features.float().cpu(), logits.float().cpu()

    def feature_set(self, parts: list[tuple[Tensor, Tensor]]) -> "FeatureSet":
        """The (features, logits) of batches, in order, as one set with its streaming statistics: the same
        numbers whether the batches were extracted here or on several ranks."""
        if not parts:
            raise MetricError(f"no {self.input.plural} to extract features from")
        stats = RunningStats(self.feature_dim)
        for features, _ in parts:
            stats.update(features)
        # one sample has no covariance; FID refuses fewer samples than dimensions before it would read this
        covariance = stats.covariance if stats.count > 1 else np.zeros((self.feature_dim, self.feature_dim))
        return FeatureSet(torch.cat([f for f, _ in parts]), torch.cat([l for _, l in parts]), stats.mean, covariance)


@dataclass
class FeatureSet:
    features: Tensor  # (N, D) float32
    logits: Tensor  # (N, K) float32
    mean: np.ndarray  # (D,) float64
    covariance: np.ndarray  # (D, D) float64, ddof=1

    def __len__(self) -> int:
        return len(self.features)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"features": self.features.numpy(), "logits": self.logits.numpy(), "mean": self.mean,
                "covariance": self.covariance}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "FeatureSet":
        return cls(torch.from_numpy(arrays["features"]), torch.from_numpy(arrays["logits"]), arrays["mean"],
                   arrays["covariance"])


def subset_indices(size: int, n: int, seed: int) -> Tensor:
    """The first `n` of a seeded permutation, in ascending order; all of them when n >= size. Random rather than
    the first n, because some datasets are stored sorted by class."""
    if n >= size:
        return torch.arange(size)
    order = torch.randperm(size, generator=torch.Generator().manual_seed(seed))
    return order[:n].sort().values


def dataset_batches(dataset: Dataset, index: Tensor, batch_size: int, key: str) -> Iterator[Tensor]:
    for chunk in index.split(batch_size):
        yield dataset.gather(chunk)[key]


def dataset_fingerprint(dataset: Dataset, name: str) -> str:
    if not isinstance(dataset, Dataset) or not dataset.fingerprint:
        raise MetricError(f"dataset '{name}' has no `fingerprint`, so its reference statistics cannot be cached safely")
    return str(dataset.fingerprint)


class FeatureSession:
    """Features of generated samples and real splits under one extractor, shared by the metrics of a run."""

    def __init__(self, config: EvalConfig, context: EvalContext, extractor_name: str,
                 extractor: FeatureExtractor | None = None):
        from multigan.registry import FEATURES

        self.config = config
        self.context = context
        self.name = extractor_name
        self.input: FeatureInput = FEATURE_INPUTS.get(context.info.modality)
        # a given extractor may come from another context (a domain classifier scoring one domain's images)
        kind = type(extractor) if extractor is not None else FEATURES.get(extractor_name)
        if not kind.any_modality and kind.input.key != self.input.key:
            raise MetricError(f"feature extractor '{extractor_name}' scores {kind.input.key} samples; "
                              f"this run's data is {context.info.modality} (set eval.features)")
        self.extractor: FeatureExtractor = extractor or kind.from_context(config, context)
        self.cache = StatsCache(context.cache_dir)
        self.shape = tuple(context.info.shape)
        self._generated: tuple[weakref.ref, FeatureSet] | None = None
        self._real: dict[tuple[str, int], FeatureSet] = {}  # (split, n) -> features, kept for later evaluations

    @property
    def floor_split(self) -> str:
        """The real split compared with the reference split for the real-vs-real floor."""
        return "train" if self.config.reference_split != "train" else "test"

    def generated(self, samples: Batch) -> FeatureSet:
        """Features of `samples[input.key]`, extracted once however many metrics ask for them."""
        values = self._generated_values(samples)
        if self._generated is not None and self._generated[0]() is values:
            return self._generated[1]
        return self.use_generated(samples, self.generated_parts([samples]))

    def generated_parts(self, batches: list[Batch]) -> list[tuple[Tensor, Tensor]]:
        """(features, logits) of generated sample batches, each split into `eval.batch_size` rows as `generated`
        does: a rank's share of an evaluation set."""
        parts = []
        for batch in batches:
            values = self._generated_values(batch)
            parts += [self.extractor.extract_batch(chunk) for chunk in values.split(self.config.batch_size)]
        return parts

    def use_generated(self, samples: Batch, parts: list[tuple[Tensor, Tensor]]) -> FeatureSet:
        """Make `parts` (every batch of `samples[input.key]`, in order, possibly extracted on several ranks) what
        `generated(samples)` returns."""
        values = self._generated_values(samples)
        features = self.extractor.feature_set(parts)
        self._generated = (weakref.ref(values), features)
        return features

    def _generated_values(self, samples: Batch) -> Tensor:
        key = self.input.key
        values = samples.get(key)
        if values is None:
            raise MetricError(f"{key} metrics need samples['{key}'], got keys {sorted(samples)}")
        if tuple(values.shape[1:]) != self.shape:
            raise MetricError(f"generated {key} samples have shape {tuple(values.shape[1:])} but the dataset's are "
                              f"{self.shape}; both sides must match to be compared")
        return values

    def real(self, split: str, n: int) -> FeatureSet:
        """Features of `n` examples of a real split (all of it if smaller), from the disk cache when possible."""
        dataset = self.context.dataset(split)
        index = subset_indices(len(dataset), n, self.config.seed)
        if (split, len(index)) not in self._real:
            parts = self.features_key(split, len(index))

            def compute() -> dict[str, np.ndarray]:
                batches = dataset_batches(dataset, index, self.config.batch_size, self.input.key)
                return self.extractor.extract(batches).to_arrays()

            arrays = self.cache.get_or_compute("features", parts, compute)
            self._real[split, len(index)] = FeatureSet.from_arrays(arrays)
        return self._real[split, len(index)]

    def reference_count(self) -> int:
        """How many reference examples the metrics read: eval.n_samples, or the whole split when it is smaller."""
        return min(len(self.context.dataset(self.config.reference_split)), self.config.n_samples)

    def reference(self) -> FeatureSet:
        return self.real(self.config.reference_split, self.reference_count())

    def floor(self, metric: str, n_generated: int, score: Callable[[FeatureSet, FeatureSet], dict[str, float]],
              settings: dict[str, Any]) -> dict[str, float]:
        """`score(floor-split features, reference features)` with the generated sample count: what real data
        scores against the reference (cached; `settings` are the metric's own parameters)."""
        split, n = self.floor_split, self.floor_count(n_generated)
        reference = self.reference()
        reference_split = self.config.reference_split
        reference_fingerprint = dataset_fingerprint(self.context.dataset(reference_split), self.context.data_name)
        parts = {**self.features_key(split, n), "metric": metric,
                 "reference_split": reference_split, "reference_fingerprint": reference_fingerprint,
                 "n_reference": len(reference), "settings": canonical_key(settings)}
        return self.cache.get_or_compute_values("floor", parts, lambda: score(self.real(split, n), reference))

    def check_frechet_counts(self, metric: str, floor: bool) -> None:
        """Before any training: a Fréchet distance needs more samples than feature dimensions in the generated set,
        the reference split and the floor's split; a run whose evaluation would refuse them is refused at once,
        not after its training."""
        n = self.config.n_samples
        counts = ((n, "generated samples (eval.n_samples)"),
                  (self.reference_count(), f"reference samples (the {self.config.reference_split} split)"))
        if floor:
            counts += ((self.floor_count(n), f"real-vs-real samples (the {self.floor_split} split)"),)
        for count, what in counts:
            try:
                check_enough_samples(count, self.extractor.feature_dim, what)
            except MetricError as error:
                raise MetricError(f"eval.metrics: {metric}: {error}") from None

    def floor_count(self, n_generated: int) -> int:
        return min(n_generated, len(self.context.dataset(self.floor_split)))

    def protocol(self, n_generated: int) -> dict[str, Any]:
        return {**self.extractor.protocol(self.shape), "n_generated": n_generated,
                "n_reference": self.reference_count(),
                "reference_split": self.config.reference_split, "floor_split": self.floor_split,
                "subset_seed": self.config.seed,
                **{key: self.context.info.extra[key] for key in ("data_check",) if key in self.context.info.extra}}

    def features_key(self, split: str, n: int) -> dict[str, Any]:
        """What identifies the features of `n` examples of the real `split` (data, its fingerprint, the seeded
        subset, the extractor's identity and input): the disk-cache key of those features and, extended with the
        metric's own entries, of every value derived from them (floors, baselines, distances to the train split)."""
        dataset = self.context.dataset(split)
        return {"dataset": self.context.data_name, "fingerprint": dataset_fingerprint(dataset, self.context.data_name),
                "split": split, "n": n, "subset_seed": self.config.seed, "extractor": self.extractor.name,
                "identity": canonical_key(self.extractor.identity()),
                "input": canonical_key(self.extractor.describe_input(self.shape))}


def feature_session(config: EvalConfig, context: EvalContext, extractor_name: str) -> FeatureSession:
    """The run's one session for `extractor_name`, kept in the context's shared work so all metrics share it."""
    return context.shared.feature_session(extractor_name, lambda: FeatureSession(config, context, extractor_name))
