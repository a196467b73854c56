"""Metrics of image-to-image translation, each value with its protocol:

- `paired` (pix2pix): L1, PSNR and SSIM of the translated reference split against its targets, on [0, 1] images
  on the 8-bit grid (as saved PNGs). PSNR and SSIM are torchmetrics' (SSIM: Gaussian window 11, sigma 1.5,
  K1 0.01, K2 0.03), per image, then averaged. Real-vs-real has no meaning here; the protocol gives instead the
  scores of a trivial baseline, the mean training target.
- `translation_fid`: FID and KID of translations against the real images of the target domain (reference split),
  with the real-vs-real floor (the target domain's other split vs the reference). Features: `eval.features` —
  "classifier", a domain classifier trained on the two domains of the train split (cached like every
  classifier), or "inception-fid" with the user's Inception weights.
- `translation_success` (unpaired): the share of translations the domain classifier assigns to the target domain,
  next to its accuracy on real images of that domain (the ceiling a perfect translator reaches).

The reference split is translated once per evaluation, whatever the number of these metrics.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, ClassVar

import torch
from torch import Tensor

from multigan.core.phases import Batch, GANModel, Translator
from multigan.images.features import quantize_to_unit
from multigan.metrics.base import EvalContext, Metric, MetricValue
from multigan.metrics.classifier import ClassifierConfig, ClassifierExtractor
from multigan.metrics.config import EvalConfig
from multigan.metrics.features import FeatureSession, FeatureSet
from multigan.metrics.frechet import MetricError, check_enough_samples, frechet_distance
from multigan.metrics.kid import KIDSettings, kernel_inception_distance
from multigan.registry import FEATURES, METRICS

DOMAIN_CLASSIFIER = ClassifierConfig(embedding_dim=64)  # 64-d: FID stays defined with 100-image test domains


@dataclass
class ViewContext(EvalContext):
    """The run's context with every split replaced by a view of it (one domain, or both domains labelled)."""

    base: EvalContext | None = None
    view: Callable[[Any], Any] | None = None

    def _build(self, split: str) -> Any:
        return self.view(self.base.dataset(split))


def view_context(context: EvalContext, tag: str, view: Callable[[Any], Any]) -> ViewContext:
    info = view(context.dataset("train")).info
    return ViewContext(info, f"{context.data_name}-{tag}", context.data_config, context.data_root, context.cache_dir,
                       context.device, base=context, view=view)


def routes(model: GANModel) -> list[tuple[str, str, str, str]]:
    """(direction, source key, target key, result suffix) of every direction the model translates."""
    keys = tuple(model.input_keys) if isinstance(model, Translator) else ()
    if keys == ("source",):
        return [(model.directions[0], "source", "target", "")]
    if keys == ("a", "b"):
        return [("AtoB", "a", "b", "_ab"), ("BtoA", "b", "a", "_ba")]
    raise MetricError(f"translation metrics need a translation model (pix2pix, cyclegan), got {type(model).__name__}")


def translated(context: EvalContext, model: Translator, direction: str, source: str, split: str,
               batch_size: int) -> Tensor:
    """(N, C, R, R) translations of `split`'s `source` images, in [-1, 1] on the CPU; computed once per evaluation
    (the context's evaluation counter and the model) and shared by every metric."""
    def translate() -> Tensor:
        images = context.dataset(split).domain(source).images  # (N, C, R, R) uint8
        return torch.cat([model.translate(unit_range(part), direction).cpu() for part in images.split(batch_size)])

    evaluation = (context.evaluation, id(model))
    return context.shared.for_evaluation(evaluation, ("translations", direction, split), translate)


def unit_range(images: Tensor) -> Tensor:
    return images.float().div(127.5).sub(1)  # uint8 -> [-1, 1]


class TranslationMetric(Metric):
    modality = "image"
    needs_samples = False

    def outputs(self, model: Translator, direction: str, source: str) -> Tensor:
        return translated(self.context, model, direction, source, self.config.reference_split, self.config.batch_size)

    def domain_extractor(self) -> ClassifierExtractor:
        """The summer-vs-winter (labels-vs-photo ...) classifier of this run's two domains, trained and cached once."""
        def make() -> ClassifierExtractor:
            task = self.context.dataset("train").info.extra.get("task")
            keys = ("a", "b") if task == "unpaired" else ("source", "target")
            domains = view_context(self.context, "domains", lambda dataset: dataset.labelled_domains(keys))
            settings = replace(DOMAIN_CLASSIFIER, epochs=self.config.classifier_epochs)
            return ClassifierExtractor.from_context(self.config, domains, settings)

        return self.context.shared.get_or_create("translation:domain_classifier", make)

    def session(self, target: str) -> FeatureSession:
        """Features of the target domain under `eval.features`, with its cached real statistics and floor."""
        name = self.config.features

        def make() -> FeatureSession:
            domain = view_context(self.context, target, lambda dataset: dataset.domain(target))
            extractor = self.domain_extractor() if name == "classifier" else FEATURES.get(name).from_context(
                self.config, domain)
            return FeatureSession(self.config, domain, name, extractor)

        return self.context.shared.get_or_create(f"translation:session:{name}:{target}", make)


@METRICS.register("paired")
class PairedSimilarity(TranslationMetric):
    def compute(self, samples: Batch, model: GANModel) -> dict[str, MetricValue]:
        (direction, source, target, _), = routes(model)
        split = self.config.reference_split
        truth = self.context.dataset(split).domain(target).images.float() / 255  # (N, C, R, R) in [0, 1]
        scores = paired_scores(quantize_to_unit(self.outputs(model, direction, source)), truth)
        baseline = self.mean_target_baseline(truth)
        protocol = {"split": split, "n_pairs": len(truth), "resolution": list(truth.shape[2:]),
                    "direction": model.direction_name(direction), "range": "[0, 1], 8-bit grid",
                    "psnr": "per image, data_range 1, then the mean", "ssim": "torchmetrics, Gaussian 11 / 1.5, "
                    "K1 0.01, K2 0.03, per image, then the mean", "l1": "mean absolute error over pixels and channels",
                    "baseline_mean_target": baseline, "real_vs_real": None}
        better = {"l1": False, "psnr": True, "ssim": True}
        return {key: MetricValue(value, better[key], protocol) for key, value in scores.items()}

    def mean_target_baseline(self, truth: Tensor) -> dict[str, float]:
        """What predicting the mean training target for every input scores: the floor of doing nothing useful."""
        mean = self.context.dataset("train").domain("target").images.float().mean(0) / 255  # (C, R, R)
        return paired_scores(quantize_to_unit(mean * 2 - 1).expand_as(truth), truth)


def paired_scores(outputs: Tensor, truth: Tensor, batch: int = 64) -> dict[str, float]:
    """Mean L1, PSNR and SSIM of (N, C, H, W) images in [0, 1] against their targets."""
    # imported here: torchmetrics takes seconds to import, which every run and `--help` would pay otherwise
    from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

    l1, psnr, ssim = [], [], []
    for out, ref in zip(outputs.split(batch), truth.split(batch)):
        l1.append((out - ref).abs().mean(dim=(1, 2, 3)))
        psnr.append(peak_signal_noise_ratio(out, ref, data_range=1.0, reduction="none", dim=(1, 2, 3)))
        ssim.append(structural_similarity_index_measure(out, ref, data_range=1.0, reduction="none"))
    return {name: float(torch.cat(parts).mean()) for name, parts in (("l1", l1), ("psnr", psnr), ("ssim", ssim))}


@METRICS.register("translation_fid")
class TranslationFID(TranslationMetric):
    kid_settings: ClassVar[KIDSettings] = KIDSettings()

    @classmethod
    def extractors(cls, config: EvalConfig, modality: str) -> tuple[str, ...]:
        return (config.features,)  # in the target domain (eval.features: classifier is the domains' own classifier)

    def compute(self, samples: Batch, model: GANModel) -> dict[str, MetricValue]:
        results = {}
        for direction, source, target, suffix in routes(model):
            session = self.session(target)
            generated = session.generated({"image": self.outputs(model, direction, source)})
            floor = session.floor("translation_fid", len(generated), self.numbers, {"kid": asdict(self.kid_settings)})
            values = self.score(generated, session.reference())
            protocol = {**session.protocol(len(generated)), "direction": model.direction_name(direction),
                        "translated_split": self.config.reference_split, "kid_std": values["kid_std"],
                        "n_real_vs_real": session.floor_count(len(generated))}
            if "fid" not in values:  # e.g. 100 test images in Inception's 2048-d space: KID only, and why
                protocol["fid_skipped"] = values["fid_skipped"]
            for key in ("fid", "kid"):
                if key in values:
                    results[key + suffix] = MetricValue(values[key], False, {**protocol, "real_vs_real": floor.get(key)})
        return results

    def numbers(self, generated: FeatureSet, reference: FeatureSet) -> dict[str, float]:
        return {key: value for key, value in self.score(generated, reference).items() if isinstance(value, float)}

    def score(self, generated: FeatureSet, reference: FeatureSet) -> dict[str, Any]:
        """KID always; FID only where both sides have more samples than feature dimensions (else its covariances
        are singular and the number means nothing), with the reason when it is left out."""
        kid, kid_std = kernel_inception_distance(generated.features, reference.features,
                                                 self.kid_settings.resolved(len(generated), len(reference)))
        values: dict[str, Any] = {"kid": kid, "kid_std": kid_std}
        dim = generated.features.shape[1]
        try:
            check_enough_samples(len(generated), dim, "translated images")
            check_enough_samples(len(reference), dim, "reference images")
        except MetricError as err:
            values["fid_skipped"] = str(err)
            return values
        values["fid"] = frechet_distance(generated.mean, generated.covariance, reference.mean, reference.covariance)
        return values


@METRICS.register("translation_success")
class TranslationSuccess(TranslationMetric):
    def compute(self, samples: Batch, model: GANModel) -> dict[str, MetricValue]:
        classifier = self.domain_extractor()
        results = {}
        for direction, source, target, suffix in routes(model):
            label = 1 if target in ("b", "target") else 0  # labelled_domains puts the second domain at 1
            translations = classifier.extract(self.outputs(model, direction, source).split(self.config.batch_size))
            real = self.session(target).reference() if self.config.features == "classifier" else classifier.extract(
                self.real_batches(target))
            protocol = {**classifier.protocol(tuple(self.context.info.shape)),
                        "direction": model.direction_name(direction), "n_translated": len(translations),
                        "n_real": len(real), "split": self.config.reference_split,
                        "real_vs_real": share_of(real.logits, label)}
            results["success" + suffix] = MetricValue(share_of(translations.logits, label), True, protocol)
        return results

    def real_batches(self, target: str):
        images = self.context.dataset(self.config.reference_split).domain(target).images
        return (unit_range(chunk) for chunk in images.split(self.config.batch_size))


def share_of(logits: Tensor, label: int) -> float:
    """Share of rows whose most likely class is `label`."""
    return float((logits.argmax(dim=1) == label).float().mean())
