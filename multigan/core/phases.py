"""The plug-in contract: a model says *which* networks each phase trains and *what* the loss is; the trainer does
everything else (zero_grad, freezing, autocast, backward, clipping, step, NaN checks, EMA, cadence).

Models never call `backward()` or `optimizer.step()`. To add a model, copy `multigan/images/template.py`.
"""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

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
