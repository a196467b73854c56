"""The "classifier" feature extractor: a small network trained on the dataset's own labelled train split, so FID,
FAD, KID, PRDC, IS and class coverage work offline on any labelled dataset of any modality (no downloaded weights).

One trainer, one cache, one extractor for every modality; the network is the modality's (`ClassifierNetwork`,
registered by each plug-in in `multigan.registry.CLASSIFIER_NETWORKS`): images get the CNN below
(multigan/images/features.py), audio a log-mel front end before it (multigan/audio/classifier.py). The network
takes the dataset's own values (`gather()`: images and waveforms in [-1, 1]).

Its 256-d embedding (the layer before the class logits, taken before the ReLU so it is dense and its covariance
well-conditioned) serves the distances; its logits serve IS and class coverage. Trained once per (dataset
fingerprint, architecture version, training settings) and cached as safetensors under `cache_dir(root)/classifiers`
with its held-out accuracy, which every metric protocol reports. Fashion-MNIST: 91.1% test accuracy after the
default 3 epochs, ~25 s on one CPU core.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from multigan.core.data import Dataset
from multigan.core.phases import DataInfo
from multigan.metrics.base import EvalContext
from multigan.metrics.config import EvalConfig
from multigan.metrics.features import (
    FeatureExtractor,
    FeatureInput,
    dataset_fingerprint,
)
from multigan.metrics.frechet import MetricError
from multigan.metrics.stats_cache import (
    KEY_FIELD,
    canonical_key,
    key_digest,
    load_keyed,
    save_arrays_atomic,
)
from multigan.registry import CLASSIFIER_NETWORKS, FEATURE_INPUTS, FEATURES

log = logging.getLogger(__name__)

ARCH_VERSION = "cnn-1"  # bump when DomainClassifier changes: cached classifiers and statistics are then rebuilt


@dataclass
class ClassifierConfig:
    epochs: int = 3
    batch_size: int = 128
    lr: float = 3e-3  # one-cycle peak; AdamW
    width: int = 32  # channels of the first stage, doubled per stage up to 8x
    embedding_dim: int = 256
    seed: int = 0


def _conv_bn_relu(in_channels: int, out_channels: int) -> list[nn.Module]:
    return [nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True)]


class DomainClassifier(nn.Module):
    """Stride-2 conv stages until the feature map is at most 4 px (28 -> 14 -> 7 -> 4), global average pooling,
    a linear embedding with batch norm, then the class logits."""

    def __init__(self, shape: tuple[int, ...], num_classes: int, config: ClassifierConfig):
        super().__init__()
        channels, size = shape[0], min(shape[1:])
        layers: list[nn.Module] = []
        width = config.width
        while size > 4 and len(layers) < 3 * 6:
            layers += _conv_bn_relu(channels, width)
            channels, size = width, (size + 1) // 2
            width = min(2 * width, 8 * config.width)
        self.trunk = nn.Sequential(*layers)
        self.embed = nn.Sequential(nn.Linear(channels, config.embedding_dim, bias=False),
                                   nn.BatchNorm1d(config.embedding_dim))
        self.head = nn.Linear(config.embedding_dim, num_classes)

    def embedding(self, images: Tensor) -> Tensor:
        """(B, C, H, W) in [-1, 1] -> (B, E)."""
        return self.embed(self.trunk(images).mean(dim=(2, 3)))

    def classify(self, embedding: Tensor) -> Tensor:
        return self.head(F.relu(embedding))  # (B, K) logits

    def forward(self, images: Tensor) -> Tensor:
        return self.classify(self.embedding(images))


@dataclass(frozen=True)
class ClassifierNetwork:
    """A modality's domain classifier, registered in CLASSIFIER_NETWORKS under the modality name. `build` returns
    a module with `embedding(x) -> (B, E)`, `classify(embedding) -> (B, K)` and a `head` Linear."""

    build: Callable[[DataInfo, ClassifierConfig], nn.Module]
    arch_version: str  # bump when the network changes: cached classifiers and statistics are then rebuilt
    from_prepared: Callable[[Tensor], Tensor]  # FeatureInput.prepare output -> the network's input range
    reference_extractor: str  # what to use for unlabelled data, for the error message
    defaults: dict[str, Any] = field(default_factory=dict)  # ClassifierConfig fields this modality changes


def network_for(info: DataInfo) -> tuple[ClassifierNetwork, FeatureInput]:
    return CLASSIFIER_NETWORKS.get(info.modality), FEATURE_INPUTS.get(info.modality)


@torch.no_grad()
def accuracy(model: nn.Module, dataset: Dataset, batch_size: int, device: torch.device) -> float:
    network, feature_input = network_for(dataset.info)
    model.eval()
    correct = 0
    for index in torch.arange(len(dataset)).split(batch_size):
        batch = dataset.gather(index)
        inputs = network.from_prepared(feature_input.prepare(batch[feature_input.key].to(device)))  # as extracted
        correct += int((model(inputs).argmax(1).cpu() == batch["label"]).sum())
    return correct / len(dataset)


def train_classifier(train: Dataset, config: ClassifierConfig, device: torch.device,
                     steps: int | None = None, verbose: bool = True) -> nn.Module:
    """Supervised training with AdamW and a one-cycle schedule; own RNG, so the caller's random state is untouched.
    `config.epochs` passes over `train`, or exactly `steps` updates (reshuffled every pass) when given: the
    augmentation study trains every cell for the same number of updates, whatever its data size."""
    network, feature_input = network_for(train.info)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = network.build(train.info, config).to(device)
    batch_size = min(config.batch_size, len(train))
    steps_per_epoch = len(train) // batch_size
    total = steps or config.epochs * steps_per_epoch
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.lr, total_steps=total)
    generator = torch.Generator().manual_seed(config.seed)
    model.train()
    done, epoch = 0, 0
    while done < total:
        order = torch.randperm(len(train), generator=generator)
        for step in range(min(steps_per_epoch, total - done)):
            batch = train.gather(order[step * batch_size : (step + 1) * batch_size])
            logits = model(batch[feature_input.key].to(device))
            loss = F.cross_entropy(logits, batch["label"].to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        done, epoch = min(done + steps_per_epoch, total), epoch + 1
        if verbose:
            log.info("domain classifier epoch %d/%d: loss %.4f", epoch, -(-total // steps_per_epoch), loss.item())
    return model.eval().requires_grad_(False)


def weights_digest(model: nn.Module) -> str:
    """sha256 over the parameters and buffers, in name order: what identifies the features it gives."""
    digest = hashlib.sha256()
    for name, value in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def load_cached(path: Path, wanted_key: str, info: DataInfo,
                config: ClassifierConfig) -> tuple[nn.Module, float] | None:
    """The classifier stored at `path` with its held-out accuracy, if it was made for exactly `wanted_key`."""
    entry = load_keyed(path, wanted_key)
    if entry is None:
        return None
    arrays, metadata = entry
    model = network_for(info)[0].build(info, config)
    model.load_state_dict({name: torch.from_numpy(value) for name, value in arrays.items()})
    return model.eval().requires_grad_(False), float(metadata["accuracy"])


def load_or_train(train: Dataset, held_out: Dataset, key: dict[str, Any], config: ClassifierConfig,
                  path: Path, device: torch.device) -> tuple[nn.Module, float]:
    """The cached classifier at `path` if it was made for exactly `key`, else a newly trained (and cached) one."""
    cached = load_cached(path, canonical_key(key), train.info, config)
    if cached is not None:
        return cached[0].to(device), cached[1]
    log.info("training the domain classifier (%d epochs) for metrics; cached at %s", config.epochs, path)
    model = train_classifier(train, config, device)
    held_out_accuracy = accuracy(model, held_out, 1000, device)
    arrays = {name: value.detach().cpu().numpy() for name, value in model.state_dict().items()}
    save_arrays_atomic(path, arrays, {KEY_FIELD: canonical_key(key), "accuracy": repr(held_out_accuracy)})
    return model, held_out_accuracy


@FEATURES.register("classifier")
class ClassifierExtractor(FeatureExtractor):
    name = "classifier"
    version = ARCH_VERSION
    any_modality = True
    needs_classifier_network = True

    def __init__(self, model: nn.Module, train_fingerprint: str, held_out_accuracy: float,
                 held_out_split: str, device: torch.device | str = "cpu", modality: str = "image"):
        self.network = CLASSIFIER_NETWORKS.get(modality)
        self.input = FEATURE_INPUTS.get(modality)
        if modality != "image":  # the image CNN's version is the class's own, ARCH_VERSION, as before
            self.version = self.network.arch_version
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.feature_dim = model.head.in_features
        self.num_classes = model.head.out_features
        self.train_fingerprint = train_fingerprint
        self.held_out_accuracy = held_out_accuracy
        self.held_out_split = held_out_split
        self.weights_sha256 = weights_digest(model)

    @classmethod
    def from_context(cls, config: EvalConfig, context: EvalContext,
                     settings: ClassifierConfig | None = None) -> "ClassifierExtractor":
        """`settings` replaces the recipe's (e.g. a small embedding for a domain classifier of 100-image splits)."""
        network, _ = network_for(context.info)
        if context.info.num_classes < 2:
            raise MetricError(f"the classifier feature extractor needs a labelled dataset; '{context.data_name}' has "
                              f"no classes (use eval.features: {network.reference_extractor})")
        held_out_split = config.reference_split if config.reference_split != "train" else "test"
        train, held_out = context.dataset("train"), context.dataset(held_out_split)
        overrides = {"epochs": config.classifier_epochs}
        if config.classifier_embedding_dim:  # small data sets need a small embedding for Frechet distances
            overrides["embedding_dim"] = config.classifier_embedding_dim
        settings = settings or ClassifierConfig(**{**network.defaults, **overrides})
        fingerprint = dataset_fingerprint(train, context.data_name)
        key = {"dataset": context.data_name, "fingerprint": fingerprint, "arch": network.arch_version,
               "shape": list(context.info.shape), "num_classes": context.info.num_classes, **asdict(settings)}
        name = f"{context.data_name}-{network.arch_version}-{key_digest(key)}.safetensors"
        path = Path(context.cache_dir) / "classifiers" / name
        model, held_out_accuracy = load_or_train(train, held_out, key, settings, path, context.device)
        return cls(model, fingerprint, held_out_accuracy, held_out_split, context.device, context.info.modality)

    def features_and_logits(self, prepared: Tensor) -> tuple[Tensor, Tensor]:
        embedding = self.model.embedding(self.network.from_prepared(prepared))  # the range it was trained on
        return embedding, self.model.classify(embedding)

    def identity(self) -> dict[str, Any]:
        return {"version": self.version, "train_fingerprint": self.train_fingerprint[:16],
                "weights_sha256": self.weights_sha256[:16],
                "classifier_accuracy": round(self.held_out_accuracy, 4),
                "classifier_accuracy_split": self.held_out_split}

    def describe_input(self, shape: tuple[int, ...]) -> dict[str, Any]:
        if self.input.key != "image":
            return super().describe_input(shape)
        return {**super().describe_input(shape), "resolution": list(shape[1:])}
