"""Registered feature metrics: FID, KID, IS, PRDC and class coverage, each a thin `Metric` over a pure function.
They score any modality whose plug-in registers a feature input: images and audio (audio/metrics.py adds FAD).

All of them score features from the run's shared `FeatureSession` (`eval.features`: the offline domain
classifier by default, or a reference network with user-supplied weights), so the generated samples pass through
the extractor once per evaluation. Every value carries its protocol (extractor and its version/weights/accuracy,
sample counts, splits, resolution, the metric's settings) and its real-vs-real floor: the same metric between
real data of the other split and the reference split at the generated sample count — what a perfect generator
would score, so a value is read against it rather than against 0.
"""
from __future__ import annotations

from abc import abstractmethod
from dataclasses import asdict
from typing import Any, ClassVar

from multigan.core.phases import Batch, GANModel
from multigan.metrics.base import EvalContext, Metric, MetricValue
from multigan.metrics.config import EvalConfig
from multigan.metrics.features import FeatureSession, FeatureSet, feature_session
from multigan.metrics.frechet import MetricError, check_enough_samples, frechet_distance
from multigan.metrics.inception_score import class_coverage, inception_score
from multigan.metrics.kid import KIDSettings, kernel_inception_distance
from multigan.metrics.prdc import precision_recall_density_coverage
from multigan.registry import METRICS


class FeatureMetric(Metric):
    """`score(generated, reference)` gives named floats; those named in `results` become `MetricValue`s, the rest
    (standard deviations, counts) go into their protocols. Modality-agnostic: the session picks the samples' field."""

    modality = "any"
    name: ClassVar[str]
    results: ClassVar[dict[str, bool]]  # result name -> higher is better
    extractor: ClassVar[str | None] = None  # None: eval.features
    frechet: ClassVar[bool] = False  # a Fréchet distance: needs more samples than feature dimensions

    def __init__(self, config: EvalConfig, context: EvalContext):
        super().__init__(config, context)
        (extractor,) = self.extractors(config, context.info.modality)
        self.session = feature_session(config, context, extractor)
        if self.frechet:
            self.session.check_frechet_counts(self.name, floor=config.real_floor)

    @classmethod
    def extractors(cls, config: EvalConfig, modality: str) -> tuple[str, ...]:
        return (cls.extractor or config.features,)

    def feature_sessions(self) -> tuple[FeatureSession, ...]:
        return (self.session,)

    @abstractmethod
    def score(self, generated: FeatureSet, reference: FeatureSet) -> dict[str, float]: ...

    def settings(self) -> dict[str, Any]:
        """The metric's own parameters, written into the protocol and the floor's cache key."""
        return {}

    def compute(self, samples: Batch, model: GANModel | None = None) -> dict[str, MetricValue]:
        generated = self.session.generated(samples)
        values = self.score(generated, self.session.reference())
        floor = {}
        if self.config.real_floor:
            floor = self.session.floor(self.name, len(generated), self.score, self.settings())
        extras = {key: value for key, value in values.items() if key not in self.results}
        protocol = {**self.session.protocol(len(generated)), **self.settings(), **extras,
                    "n_real_vs_real": self.session.floor_count(len(generated))}
        return {
            key: MetricValue(values[key], higher_is_better, {**protocol, "real_vs_real": floor.get(key)})
            for key, higher_is_better in self.results.items()
        }


def frechet_score(generated: FeatureSet, reference: FeatureSet) -> float:
    """The Fréchet distance of the two feature sets' Gaussians (FID, FAD ...)."""
    dim = generated.features.shape[1]
    check_enough_samples(len(generated), dim, "generated samples")
    check_enough_samples(len(reference), dim, "reference samples")
    return frechet_distance(generated.mean, generated.covariance, reference.mean, reference.covariance)


@METRICS.register("fid")
class FID(FeatureMetric):
    """Fréchet distance between Gaussians fitted to generated and reference features (Heusel et al. 2017)."""

    name = "fid"
    results = {"fid": False}
    frechet = True

    def score(self, generated: FeatureSet, reference: FeatureSet) -> dict[str, float]:
        return {"fid": frechet_score(generated, reference)}


@METRICS.register("kid")
class KID(FeatureMetric):
    """Unbiased polynomial-kernel MMD^2 over subsets (Bińkowski et al. 2018), torch-fidelity's defaults."""

    name = "kid"
    results = {"kid": False}
    defaults = KIDSettings()

    def score(self, generated: FeatureSet, reference: FeatureSet) -> dict[str, float]:
        settings = self.defaults.resolved(len(generated), len(reference))
        mean, std = kernel_inception_distance(generated.features, reference.features, settings)
        return {"kid": mean, "kid_std": std, "kid_subset_size": settings.subset_size}

    def settings(self) -> dict[str, Any]:
        return {"kid_" + key: value for key, value in asdict(self.defaults).items() if key != "subset_size"}


@METRICS.register("is")
class InceptionScore(FeatureMetric):
    """exp E KL(p(y|x) || p(y)) from the extractor's logits (Salimans et al. 2016); its real-vs-real entry is the
    score of real data at the same sample count (a ceiling rather than a floor)."""

    name = "is"
    results = {"is": True}
    splits = 10

    def score(self, generated: FeatureSet, reference: FeatureSet) -> dict[str, float]:
        if generated.logits.shape[1] < 2:
            raise MetricError(f"the Inception Score needs an extractor with class logits; '{self.session.extractor.name}'"
                              f" has none (use eval.features: classifier)")
        mean, std = inception_score(generated.logits, splits=self.splits)
        return {"is": mean, "is_std": std}

    def settings(self) -> dict[str, Any]:
        return {"is_splits": self.splits, "is_shuffle_seed": 2020}


@METRICS.register("prdc")
class PRDC(FeatureMetric):
    """Precision, recall, density and coverage on k-NN manifolds (Naeem et al. 2020)."""

    name = "prdc"
    results = {"precision": True, "recall": True, "density": True, "coverage": True}
    agnostic_results = ("precision", "recall", "density", "coverage")
    nearest_k = 5

    def score(self, generated: FeatureSet, reference: FeatureSet) -> dict[str, float]:
        return precision_recall_density_coverage(reference.features, generated.features, k=self.nearest_k)

    def settings(self) -> dict[str, Any]:
        return {"prdc_k": self.nearest_k}


@METRICS.register("class_coverage")
class ClassCoverage(FeatureMetric):
    """Share of classes the generator hits and KL of its class histogram to the reference's, both labelled by
    the domain classifier (always the classifier: Inception's ImageNet classes are not the dataset's)."""

    name = "class_coverage"
    results = {"class_coverage": True, "class_kl": False}
    extractor = "classifier"
    agnostic_results = ("class_coverage",)
    min_relative_share = 0.1

    def score(self, generated: FeatureSet, reference: FeatureSet) -> dict[str, float]:
        values = class_coverage(generated.logits, reference.logits, self.min_relative_share)
        return {**values, "num_classes": generated.logits.shape[1]}

    def settings(self) -> dict[str, Any]:
        return {"min_relative_share": self.min_relative_share}
