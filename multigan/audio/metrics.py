"""Registered audio metrics: FAD with VGGish and FAD on the spoken-digit classifier's embedding. IS, class coverage,
KID and PRDC need nothing audio-specific: the registered `is`, `class_coverage`, `kid`, `prdc` score audio runs
through the same feature session (eval.features: classifier). Every value comes with its protocol and floor.
"""
from __future__ import annotations

from multigan.metrics.feature_metrics import FeatureMetric, frechet_score
from multigan.metrics.features import FeatureSet
from multigan.registry import METRICS


@METRICS.register("fad")
class FAD(FeatureMetric):
    """Fréchet Audio Distance (Kilgour et al. 2019): Fréchet distance of VGGish embeddings of every 0.96 s example,
    weights from eval.vggish_weights / --vggish-weights / $MULTIGAN_VGGISH_WEIGHTS."""

    name = "fad"
    results = {"fad": False}
    extractor = "vggish"

    def score(self, generated: FeatureSet, reference: FeatureSet) -> dict[str, float]:
        return {self.name: frechet_score(generated, reference)}


@METRICS.register("fad_classifier")
class FADClassifier(FAD):
    """The same distance on the offline domain classifier's embedding: no downloaded weights."""

    name = "fad_classifier"
    results = {"fad_classifier": False}
    extractor = "classifier"
