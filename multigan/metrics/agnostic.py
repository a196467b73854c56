"""The modality-agnostic measures of `multigan bench`, one code path for images, text and audio, each in its
modality's feature space (FeatureInput.agnostic_features, else eval.features: the domain classifier for images
and audio, the hashed n-gram space `ngram-hash` for text).

    fd_norm       (FD - floor) / (baseline - floor): the Fréchet distance to the reference split, 0 at the
                  real-vs-real floor (the other real split vs the reference, at the generated sample count) and 1
                  at the modality's trivial generator (`trivial_samples`: noise images, uniform random tokens,
                  noise audio; the same count, drawn from eval.seed). Lower is better; below 0 beats real data.
    memorisation  share of samples nearer the training set than real test data there is (metrics/memorisation.py
                  states the rule); text: the share of near-duplicate training sentences, with the exact-duplicate
                  share as `memorisation_exact`. Each value's protocol holds the real test data's own rate under the
                  same rule as `real_vs_real`: the level a generator that does not copy scores.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from multigan.core.phases import Batch, GANModel, SequenceModality
from multigan.metrics.base import EvalContext, Metric, MetricValue
from multigan.metrics.config import EvalConfig
from multigan.metrics.features import FeatureSession, dataset_fingerprint, feature_session
from multigan.metrics.frechet import MetricError
from multigan.metrics.feature_metrics import frechet_score
from multigan.metrics.memorisation import (
    NEAR_JACCARD,
    TrainingSequences,
    distances_to_train,
    memorisation_rate,
    reference_level,
)
from multigan.registry import FEATURE_INPUTS, FEATURES, METRICS, MODALITIES


def agnostic_extractor(config: EvalConfig, modality: str) -> str:
    """The extractor these measures use for `modality`: eval.features when it names an extractor made for this
    modality's samples (text: `sentence-encoder` or `ngram-hash`), else the modality's `agnostic_features`, else
    eval.features (the domain classifier, which scores any modality)."""
    chosen, data_input = config.features, FEATURE_INPUTS.get(modality)
    if chosen in FEATURES and not FEATURES.get(chosen).any_modality and FEATURES.get(chosen).input.key == data_input.key:
        return chosen
    return data_input.agnostic_features or chosen


def agnostic_session(config: EvalConfig, context: EvalContext) -> FeatureSession:
    """The run's feature session in the modality's agnostic feature space."""
    return feature_session(config, context, agnostic_extractor(config, context.info.modality))


def sequence_modality(modality: str) -> bool:
    """Whether memorisation counts duplicate sequences for `modality` rather than feature-space neighbours."""
    return isinstance(MODALITIES.get(modality), SequenceModality)


@METRICS.register("fd_norm")
class NormalisedFrechet(Metric):
    modality = "any"
    agnostic_results = ("fd_norm",)

    def __init__(self, config: EvalConfig, context: EvalContext):
        super().__init__(config, context)
        self.session = agnostic_session(config, context)
        self.session.check_frechet_counts("fd_norm", floor=True)  # its scale is set by the real-vs-real floor
        self.modality_plugin = MODALITIES.get(context.info.modality)  # trivial_samples: part of the Modality contract

    @classmethod
    def extractors(cls, config: EvalConfig, modality: str) -> tuple[str, ...]:
        return (agnostic_extractor(config, modality),)

    def feature_sessions(self) -> tuple[FeatureSession, ...]:
        return (self.session,)

    def baseline(self, n: int) -> float:
        """FD of `n` trivial samples (seeded by eval.seed) to the reference features; cached on disk."""
        session, context = self.session, self.context
        split = self.config.reference_split
        parts = {**session.features_key(split, len(session.reference())), "n_baseline": n,
                 "baseline": self.modality_plugin.trivial_baseline, "baseline_seed": self.config.seed}

        def compute() -> dict[str, float]:
            generator = torch.Generator().manual_seed(self.config.seed)
            noise = self.modality_plugin.trivial_samples(n, generator, context.info)[session.input.key]
            features = session.extractor.extract(noise.split(self.config.batch_size))
            return {"fd": frechet_score(features, session.reference())}

        return session.cache.get_or_compute_values("trivial_baseline", parts, compute)["fd"]

    def compute(self, samples: Batch, model: GANModel | None = None) -> dict[str, MetricValue]:
        generated = self.session.generated(samples)
        n = len(generated)
        fd = frechet_score(generated, self.session.reference())
        floor = self.session.floor("fd", n, lambda real, reference: {"fd": frechet_score(real, reference)}, {})["fd"]
        baseline = self.baseline(n)
        if not baseline > floor:
            raise MetricError(f"fd_norm: the trivial baseline's FD ({baseline:.4g}) is not above the real-vs-real "
                              f"floor ({floor:.4g}) in '{self.session.extractor.name}' features; nothing to normalise")
        protocol = {
            **self.session.protocol(n), "formula": "(fd - fd_floor) / (fd_baseline - fd_floor)", "fd": fd,
            "fd_floor": floor, "fd_baseline": baseline, "baseline": self.modality_plugin.trivial_baseline,
            "n_baseline": n, "baseline_seed": self.config.seed, "n_real_vs_real": self.session.floor_count(n),
            "real_vs_real": 0.0,  # the floor, by construction
        }
        return {"fd_norm": MetricValue((fd - floor) / (baseline - floor), False, protocol)}


@METRICS.register("memorisation")
class Memorisation(Metric):
    """Feature-space rule for most modalities, duplicate sentences for sequence modalities (text)."""

    modality = "any"
    agnostic_results = ("memorisation",)  # memorisation_exact (text alone) is not

    def __init__(self, config: EvalConfig, context: EvalContext):
        super().__init__(config, context)
        self.modality_plugin = MODALITIES.get(context.info.modality)
        self.sequence_rule = sequence_modality(context.info.modality)
        self.session = None if self.sequence_rule else agnostic_session(config, context)
        self._real: dict[str, Any] | None = None  # the real side, computed at the first evaluation

    @classmethod
    def extractors(cls, config: EvalConfig, modality: str) -> tuple[str, ...]:
        """None on a sequence modality (duplicate sentences), else the modality's agnostic space."""
        return () if sequence_modality(modality) else (agnostic_extractor(config, modality),)

    def feature_sessions(self) -> tuple[FeatureSession, ...]:
        return () if self.session is None else (self.session,)

    def compute(self, samples: Batch, model: GANModel | None = None) -> dict[str, MetricValue]:
        return self.duplicates(samples) if self.sequence_rule else self.neighbours(samples)

    # --- images, audio: feature-space nearest neighbours ----------------------------------------------------------
    def real_side(self) -> dict[str, Any]:
        """Training features (the whole train split), reference features and each reference example's distance to
        the training set, plus the reference level; the distances are cached on disk."""
        if self._real is None:
            session, context = self.session, self.context
            train = session.real("train", len(context.dataset("train")))
            reference = session.reference()
            split = self.config.reference_split
            parts = {**session.features_key(split, len(reference)), "n_train": len(train),
                     "train_fingerprint": dataset_fingerprint(context.dataset("train"), context.data_name)}

            def compute() -> dict[str, np.ndarray]:
                to_train = distances_to_train(reference.features, train.features)
                level = reference_level(reference.features, to_train)
                return {"to_train": to_train.numpy(), "level": np.asarray([level])}

            arrays = session.cache.get_or_compute("memorisation", parts, compute)
            self._real = {"train": train, "reference": reference, "to_train": torch.from_numpy(arrays["to_train"]),
                          "level": float(arrays["level"][0])}
        return self._real

    def neighbours(self, samples: Batch) -> dict[str, MetricValue]:
        generated = self.session.generated(samples)
        real = self.real_side()
        rate = memorisation_rate(generated.features, real["train"].features, real["reference"].features,
                                 real["to_train"])
        protocol = {
            **self.session.protocol(len(generated)), "n_train": len(real["train"]), "distance": "euclidean",
            "rule": "d_train(g) < d_train(r*), r* = the reference example nearest to g; d_train = distance to "
                    "the nearest training example",
            "real_vs_real": real["level"], "real_vs_real_rule": "the same rule for each reference example, r* its "
                                                                "nearest other reference example",
        }
        return {"memorisation": MetricValue(rate, False, protocol)}

    # --- text: exact and near-duplicate training sentences ----------------------------------------------------
    def sentences(self, split: str) -> list[list[str]]:
        dataset = self.context.dataset(split)
        return self.modality_plugin.sequences(dataset.gather(torch.arange(len(dataset))), self.context.info)

    def duplicates(self, samples: Batch) -> dict[str, MetricValue]:
        if self._real is None:
            training = TrainingSequences(self.sentences("train"))
            self._real = {"train": training, "level": training.duplicate_rates(
                self.sentences(self.config.reference_split))}
        training, level = self._real["train"], self._real["level"]
        generated = self.modality_plugin.sequences(samples, self.context.info)
        rates = training.duplicate_rates(generated)
        protocol = {
            "n_generated": len(generated), "n_train": training.count, "reference_split": self.config.reference_split,
            "tokens": "the modality's sequences() (text: Texygen tokens of the decoded text)",
            "near_rule": f"max Jaccard of padded word-bigram sets to a training sentence >= {NEAR_JACCARD} "
                         f"(exact duplicates included)",
            "exact_rule": "word-for-word equal to a training sentence",
        }
        return {
            "memorisation": MetricValue(rates["near"], False, {**protocol, "real_vs_real": level["near"]}),
            "memorisation_exact": MetricValue(rates["exact"], False, {**protocol, "real_vs_real": level["exact"]}),
        }
