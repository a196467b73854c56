"""The plug-in contract: a model says *which* networks each phase trains and *what* the loss is; the trainer does
everything else (zero_grad, freezing, autocast, backward, clipping, step, NaN checks, EMA, cadence).

Models never call `backward()` or `optimizer.step()`. To add a model, copy `multigan/images/template.py`.
"""
from __future__ import annotations

from abc import ABC, ABCMeta, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Protocol, runtime_checkable

import torch
from torch import Tensor, nn

Batch = dict[str, Tensor]  # {"image": x, "label": y}, {"tokens": t}, {"source": a, "target": b} ...


@dataclass(frozen=True)
class Phase:
    """One optimiser update of the game."""

    name: str  # "D", "G", "G_mle", "G_pg" ... ; the key passed to `GANModel.loss`
    trains: tuple[str, ...]  # network names that get gradients; every other network is frozen
    optimizer: str  # key into `GANModel.optimizers()`
    repeat: int = 1  # e.g. 5 critic updates per generator update (WGAN-GP)
    every: int = 1  # run on steps where step % every == 0 (lazy regularisation)
    uses_data: bool = True  # False: the trainer passes an empty batch (e.g. the generator's phase)


@dataclass
class DataInfo:
    """What a model needs to know about its data, saved with every checkpoint so a run can sample without it."""

    modality: str  # "image" | "text" | "audio"
    shape: tuple[int, ...] = ()  # one example without batch: (C, H, W) for images, (L,) for text, (1, T) for audio
    num_classes: int = 0  # 0: unlabelled
    class_names: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # modality-specific: vocabulary, sample rate ...

    def class_name(self, label: int) -> str:
        """The class's name, or class_<label> where the data named none (export folders, CSV labels)."""
        return self.class_names[label] if label < len(self.class_names) else f"class_{label}"


def player_adams(generator: nn.Module, discriminator: nn.Module, lr_g: float, lr_d: float,
                 betas: tuple[float, float]) -> dict[str, torch.optim.Optimizer]:
    """The usual two-player optimisers: one Adam per network, named like `networks()` names them."""
    return {
        "generator": torch.optim.Adam(generator.parameters(), lr=lr_g, betas=betas),
        "discriminator": torch.optim.Adam(discriminator.parameters(), lr=lr_d, betas=betas),
    }


class GANModel(nn.Module, metaclass=ABCMeta):
    """Base class of every model. Subclasses set `Config` (a dataclass: the recipe's `model:` section),
    `modality`, and implement the five methods below; the hooks have working defaults.

    All networks are attributes (so `.to(device)` moves them) and are listed by `networks()`.
    """

    Config: ClassVar[type]
    modality: ClassVar[str]
    ema_network: ClassVar[str | None] = "generator"  # the network whose EMA copy samples, if train.ema > 0
    # keyword arguments `sample` takes beyond the contract's, e.g. ("truncation",) or ("temperature",); `multigan
    # sample --truncation/--temperature` is refused for a model that does not list the option
    sampling_options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: Any, info: DataInfo):
        super().__init__()
        self.config = config
        self.info = info
        # this rank's share of train.batch_size, set by the trainer: phases with uses_data=False generate this many
        self.batch_size = 64

    # --- required --------------------------------------------------------------------------------------------
    @abstractmethod
    def networks(self) -> dict[str, nn.Module]:
        """Everything that is checkpointed, by name."""

    @abstractmethod
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Optimisers by name; hyper-parameters come from the model's Config."""

    @abstractmethod
    def phases(self, stage: str) -> list[Phase]:
        """Phases of one training step in `stage` (e.g. "pretrain_g", "adversarial"), in order."""

    @abstractmethod
    def loss(self, phase: str, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        """Scalar loss to minimise for `phase` and detached scalars to log."""

    @abstractmethod
    def sample(self, n: int, generator: torch.Generator, condition: Tensor | Batch | None = None) -> Batch:
        """`n` modality-native samples ({"image": (N, C, H, W) in [-1, 1], "label": (N,)}, {"tokens": (N, L)}),
        drawn only from `generator`, so the same seed gives the same samples. `condition`: class labels (N,) for
        class-conditional models; for models that translate inputs (pix2pix, CycleGAN) a Batch of real inputs
        ({"source"} or {"a", "b"}), and the samples then hold inputs and outputs ({"source", "image", ...})."""

    # --- optional hooks ----------------------------------------------------------------------------------------
    stages: ClassVar[tuple[str, ...]] = ("adversarial",)  # stage names this model understands

    def on_step(self, stage: str, step: int, total: int) -> None:
        """Called before the phases of every step (e.g. temperature annealing). `step` counts within the stage."""

    def after_phase(self, phase: str) -> None:
        """Called after the optimiser step of `phase` (e.g. SeqGAN's delayed rollout-network update)."""

    def lr_schedulers(self, optimizers: dict[str, torch.optim.Optimizer], total_steps: int) -> dict[str, Any]:
        """Per-optimiser LR schedulers, stepped once per training step; none by default."""
        return {}

    def sample_protocol(self) -> dict[str, Any]:
        """How this model's samples are made now, beyond the sampling options: every sample-based metric's protocol
        gets it (PGGAN: the growth level it samples at); nothing by default."""
        return {}

    def check_batch_size(self, batch_size: int, world: int = 1) -> None:
        """Refuse a global `train.batch_size` shared by `world` processes that the model cannot split (PacGAN's
        packs) with a one-line `UserError`, before training starts; any size by default."""

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device


class Modality(Protocol):
    """What a modality plug-in gives the trainer and the CLI: previews and exported examples.
    Registered in `multigan.registry.MODALITIES` under `DataInfo.modality`."""

    preview_suffix: str  # ".png", ".txt", ".wav": the preview file written by save_samples

    def save_samples(self, samples: Batch, path: Path, info: DataInfo) -> Path:
        """One preview file (image grid, text lines, audio montage) at `path`, written atomically."""

    def log_samples(self, writer: Any, tag: str, samples: Batch, step: int, info: DataInfo) -> None:
        """The preview in TensorBoard (`writer` is a SummaryWriter)."""

    def save_examples(self, samples: Batch, folder: Path, info: DataInfo) -> list[Path]:
        """One file per example, in a layout a downstream loader reads (ImageFolder, WAV + CSV, JSONL)."""

    # export_formats: tuple[str, ...] -- the layouts `multigan sample --format` accepts, the default first

    def write_batch(self, samples: Batch, folder: Path, info: DataInfo, first: int, width: int,
                    fmt: str) -> list[dict[str, Any]]:
        """Write one batch of an export into `folder` (examples numbered from `first`, zero-padded to `width`
        digits) and return one JSON-able row per example; the rows of all batches come back to `finish_export`."""

    def finish_export(self, folder: Path, rows: list[dict[str, Any]], info: DataInfo, fmt: str) -> None:
        """Close an export whose batches are all written: manifest.csv for audio, the one text file for text."""

    # --- used by the modality-agnostic measures (fd_norm, memorisation) ------------------------------------------
    # trivial_baseline: str -- what `trivial_samples` draws, in words, for the metric protocols

    def trivial_samples(self, n: int, generator: torch.Generator, info: DataInfo) -> Batch:
        """`n` samples of a trivial generator (noise images, uniform random tokens, noise audio), drawn only from
        the CPU `generator`: the baseline that the normalised Fréchet distance maps to 1."""

    # optional, sequence modalities (text) only:
    # sequences(samples, info) -> list[list[str]] -- each example as word tokens; memorisation then counts exact
    # and near-duplicate training sequences instead of feature-space neighbours


# --- declared capabilities ------------------------------------------------------------------------------------------
# What a model, dataset or modality may offer beyond the contract above. Callers ask with isinstance (models: the
# abstract bases, which a class declares by inheriting; datasets and modalities: the runtime-checkable Protocols),
# never by probing attribute names.


class ClassConditional(ABC):
    """A model that can be trained class-conditionally; `num_classes` > 0 when this one was (0: unconditionally).
    `sample(n, generator, condition=labels (N,))` then draws the requested classes."""

    num_classes: int


class Discriminating(ABC):
    """A model whose discriminator scores single examples on request: previews may draw its decision (2-D points)."""

    @abstractmethod
    def decision(self, x: Tensor) -> Tensor | None:
        """D's logits (N,) for examples `x` (N, ...), no gradient; None when D needs more than the example."""


def conditional_classes(model: Any) -> int:
    """How many classes the model instance `model` samples on request: 0 for an unconditional model."""
    return model.num_classes if isinstance(model, ClassConditional) else 0


class Translator(ABC):
    """A model that translates real inputs rather than sampling from noise (pix2pix, CycleGAN): `sample` takes a
    Batch of inputs as its `condition`; `input_keys` name the data fields it reads, `directions` what it offers."""

    input_keys: ClassVar[tuple[str, ...]]  # ("source",) for paired data, ("a", "b") for unpaired

    @property
    @abstractmethod
    def directions(self) -> tuple[str, ...]:
        """The directions `translate` accepts, the default first."""

    @abstractmethod
    def translate(self, images: Tensor, direction: str | None = None) -> Tensor:
        """(B, C, H, W) in [-1, 1] -> the translated (B, C, H, W) in [-1, 1], eval mode, no gradient."""


class TokenScorer(ABC):
    """A sequence model that scores real token sequences: NLL-gen, and NLL-test at a sampling temperature."""

    @abstractmethod
    def token_nll(self, tokens: Tensor, batch_size: int = 1000, temperature: float = 1.0) -> float:
        """Mean per-token -log p_model of `tokens` (N, L), p_model = softmax(logits / temperature)."""


class FitsData(ABC):
    """A model that keeps statistics of its training data (as buffers, so checkpoints carry them): a new run calls
    `fit_data` once, with the train split, before the first step (SpecGAN's per-frequency normalisation)."""

    @abstractmethod
    def fit_data(self, dataset: Dataset) -> None:
        """Compute the statistics from `dataset` (the train split)."""


@runtime_checkable
class Dataset(Protocol):
    """What every registered dataset offers; built as `Dataset(config, root, split)`."""

    info: DataInfo
    fingerprint: str  # content digest: keys every cache derived from the data

    def __len__(self) -> int: ...

    def gather(self, index: Tensor) -> Batch:
        """The examples at `index` (B,) as a Batch on the CPU."""


@runtime_checkable
class AugmentingDataset(Protocol):
    """A dataset whose batches are transformed on the device after gathering (random jitter and flips), drawn from
    the global RNG so that resume repeats them. This changes the data, not what D sees."""

    def augment(self, batch: Batch) -> Batch: ...


@runtime_checkable
class PreviewingDataset(Protocol):
    """A dataset that gives fixed real inputs for previews (translation models sample from them)."""

    def preview_batch(self, n: int) -> Batch: ...


@runtime_checkable
class BatchCheckingDataset(Protocol):
    """A dataset that refuses batches larger than itself (a user's CSV of points) rather than training on less."""

    def check_batch_size(self, batch_size: int) -> None: ...


@runtime_checkable
class LabelledDataset(Protocol):
    """A dataset that holds every example's class in memory."""

    labels: Tensor | None  # (N,) int64; None when the folder is unlabelled


@runtime_checkable
class SequenceModality(Protocol):
    """A modality whose examples are sequences of words (text): memorisation then counts exact and near-duplicate
    training sequences, and n-gram features apply."""

    def sequences(self, samples: Batch, info: DataInfo) -> list[list[str]]: ...


@runtime_checkable
class FolderTranslatingModality(Protocol):
    """A modality that translates a folder of files with a `Translator` (images)."""

    def translate_folder(self, model: Translator, folder: Path, out: Path, direction: str | None,
                         manifest: dict[str, Any]) -> dict[str, Any]: ...


@dataclass
class PreviewContext:
    """What a preview may show beside the samples: fixed real examples and D's decision (`Discriminating`)."""

    real: Batch  # the first `train.preview_samples` examples of the train split, on the CPU
    decision: Callable[[Tensor], Tensor | None] | None = None  # (N, ...) -> D's logits (N,), None: no D to draw


@runtime_checkable
class ContextualPreviewModality(Protocol):
    """A modality whose training previews show the samples against real data and D's decision (2-D points)."""

    def save_samples_in_context(self, samples: Batch, path: Path, info: DataInfo,
                                context: PreviewContext) -> Path: ...

    def log_samples_in_context(self, writer: Any, tag: str, samples: Batch, step: int, info: DataInfo,
                               context: PreviewContext) -> None: ...
