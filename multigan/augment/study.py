"""An augmentation study file (recipes/augment/*.yaml) -> a typed `StudyConfig`, every key checked like a recipe's.

    gan:        {recipe: dcgan_fashion_cond}   # trained first into <out>/gan; or {run: runs/dcgan_fashion_cond}
    budgets:    [0.01, 0.1, 1.0]               # shares of each class's real train examples
    seeds:      3
    synthetic:  {ratios: [0.5, 1, 2]}          # synthetic:real ratios; synthetic-only size; sampling settings
    classifier: {steps: 1000}                  # the downstream classifier's training

Everything a user can get wrong is checked here, before anything is trained or written (`check_study`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from multigan.errors import UserError
from multigan.recipe import RecipeError, build, find_named, known_names, read_yaml_mapping

STUDIES_FOLDER = "augment"  # studies live in recipes/augment/


class StudyError(UserError):
    """A study file that cannot run as written. `str()` is one line naming the file and key."""


@dataclass
class GanSource:
    """Where the synthetic data comes from: a finished `run`, or a `recipe` the study trains first."""

    recipe: str = ""  # recipe name or file; trained into <out>/gan (resumed if interrupted, skipped when done)
    run: str = ""  # a run folder (or one of its checkpoint folders) of a class-conditional model
    set: list[str] = field(default_factory=list)  # --set overrides of the recipe, e.g. [train.steps=500]
    checkpoint: str = "latest"  # latest | best | step-N


@dataclass
class SyntheticConfig:
    """The synthetic data: exported once through `multigan sample --per-class` (one pool), subsets drawn per cell."""

    ratios: list[float] = field(default_factory=lambda: [0.5, 1.0, 2.0])  # r x (real examples) per class, added
    only_size: int = 0  # synthetic-only (CAS) training set, split like the real train split; 0: its full size
    seed: int = 0  # the export's seed
    truncation: float | None = None  # images: redraw latent values with |z| > T
    ema: bool | None = None  # None: the EMA weights where the checkpoint has them
    batch_size: int = 0  # generated at once; 0: the GAN recipe's eval.batch_size


@dataclass
class DownstreamConfig:
    """The downstream classifier: the modality's domain-classifier network (metrics/classifier.py; audio: log-mel
    CNN), freshly initialised per cell with the cell's seed and trained for the same number of updates in every
    cell, so cells differ only in their data."""

    steps: int = 1000  # AdamW updates, one-cycle LR; the data is reshuffled every pass
    batch_size: int = 128
    lr: float = 3e-3
    width: int = 0  # channels of the first conv stage; 0: the modality's default (images 32, audio 16)
    embedding_dim: int = 0  # 0: the modality's default (images 256, audio 64)


@dataclass
class StudyConfig:
    gan: GanSource = field(default_factory=GanSource)
    budgets: list[float] = field(default_factory=lambda: [0.01, 0.1, 1.0])  # label budgets, class-balanced
    seeds: int = 3  # seeds 0..seeds-1: each picks its real subset, synthetic subset, initialisation and order
    synthetic: SyntheticConfig = field(default_factory=SyntheticConfig)
    classifier: DownstreamConfig = field(default_factory=DownstreamConfig)
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    source: str = field(default="", init=False)  # the study file
    name: str = field(default="", init=False)  # its stem: the default output folder is runs/augment/<name>


def resolve_study(name_or_path: str) -> Path:
    """A path that exists, else NAME.yaml in ./recipes/augment, then in the packaged recipes/augment."""
    found = find_named(name_or_path, STUDIES_FOLDER)
    if found is None:
        raise StudyError(f"{name_or_path}: no such study file (studies: {known_names(STUDIES_FOLDER)})")
    return found[0]


def load_study(name_or_path: str) -> StudyConfig:
    path = resolve_study(name_or_path)
    try:
        raw = read_yaml_mapping(path, "a study is a mapping with keys gan, budgets, seeds, synthetic, classifier")
        config = build(StudyConfig, raw, "", str(path))
    except RecipeError as err:
        raise StudyError(str(err)) from None
    config.source, config.name = str(path), path.stem
    check_values(config)
    return config


def check_values(config: StudyConfig) -> None:
    """The checks that need no data: ranges, and exactly one GAN source."""
    where = config.source
    gan = config.gan
    if bool(gan.recipe) == bool(gan.run):
        raise StudyError(f"{where}: gan: give exactly one of gan.recipe (trained first) or gan.run (a finished "
                         f"run folder); got {'both' if gan.recipe else 'neither'}")
    if gan.set and not gan.recipe:
        raise StudyError(f"{where}: gan.set overrides a recipe; it has no meaning with gan.run")
    if not config.budgets or any(not 0 < b <= 1 for b in config.budgets):
        raise StudyError(f"{where}: budgets must be shares of the train split in (0, 1], got {config.budgets}")
    if any(not r > 0 for r in config.synthetic.ratios):
        raise StudyError(f"{where}: synthetic.ratios must be positive, got {config.synthetic.ratios}")
    for key, values in (("budgets", config.budgets), ("synthetic.ratios", config.synthetic.ratios)):
        if len(set(values)) != len(values):
            raise StudyError(f"{where}: {key} lists a value twice: {values}")
    for key, value, low in (("seeds", config.seeds, 1), ("classifier.steps", config.classifier.steps, 1),
                            ("classifier.batch_size", config.classifier.batch_size, 1),
                            ("synthetic.only_size", config.synthetic.only_size, 0),
                            ("synthetic.seed", config.synthetic.seed, 0),
                            ("synthetic.batch_size", config.synthetic.batch_size, 0)):
        if value < low:
            raise StudyError(f"{where}: {key} must be at least {low}, got {value}")
    if not config.classifier.lr > 0:
        raise StudyError(f"{where}: classifier.lr must be positive, got {config.classifier.lr}")
