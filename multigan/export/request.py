"""What a caller asks of a run's samples (`ExportRequest`), checked in one place: first the request alone
(`ExportRequest.check`, before any run is read), then against the model it samples from (classes, sampling options,
formats). Messages name the request's fields as `field`; the CLI says its flag instead (`per_class` -> --per-class).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from multigan.core.files import folder_name
from multigan.core.phases import DataInfo, GANModel, conditional_classes
from multigan.errors import UserError

DEFAULT_COUNT = 64  # samples when neither `n` nor `per_class` is given


class ExportError(UserError):
    """An export request that cannot be met, or that does not match the interrupted export it would resume."""


@dataclass(frozen=True)
class ExportRequest:
    """Samples from a run: one preview file (`grid`), or a labelled export into a folder of its own."""

    n: int | None = None  # in total, split evenly over the classes (default 64)
    per_class: int | None = None  # exactly this many of each class (class-conditional models)
    classes: str | None = None  # "Bag,3": only these classes, by name, folder name or index
    seed: int = 0  # the same seed and settings give the same files
    checkpoint: str = "latest"  # latest, best, step-N or a checkpoint folder's name
    ema: bool | None = None  # sample with the EMA weights; None: where the checkpoint has them
    truncation: float | None = None  # images: redraw latent values with |z| > truncation
    temperature: float | None = None  # text: sample from softmax(logits / temperature)
    psi: float | None = None  # StyleGAN2: w pulled towards the average, w_avg + psi (w - w_avg); 0 is the average
    format: str | None = None  # one of the modality's export formats; None: its first
    batch_size: int | None = None  # samples generated at once; None: the recipe's eval.batch_size
    min_confidence: float | None = None  # keep samples the domain classifier gives their class with p >= this
    max_generated: int | None = None  # with min_confidence: give up after generating this many
    grid: bool = False  # one preview file instead of one file per sample
    overwrite: bool = False  # replace an existing output folder
    resume: bool = False  # continue an interrupted export of the same settings

    def check(self) -> None:
        """The mistakes the request shows alone, before any run is read."""
        if self.seed < 0:
            raise ExportError(f"`seed` must be 0 or more, got {self.seed}")
        if self.n is not None and self.per_class is not None:
            raise ExportError("pass `n` (in total) or `per_class` (of each class), not both")
        counts = {"n": self.n, "per_class": self.per_class, "batch_size": self.batch_size,
                  "max_generated": self.max_generated}
        for name, value in counts.items():
            if value is not None and value < 1:
                raise ExportError(f"`{name}` must be at least 1, got {value}")
        for name, value in {"truncation": self.truncation, "temperature": self.temperature}.items():
            if value is not None and not value > 0:
                raise ExportError(f"`{name}` must be positive, got {value}")
        if self.psi is not None and not self.psi >= 0:
            raise ExportError(f"`psi` must be 0 or more (1: no truncation), got {self.psi}")
        if self.min_confidence is not None and not 0 < self.min_confidence <= 1:
            raise ExportError(f"`min_confidence` must be in (0, 1], got {self.min_confidence}")
        if self.grid and (self.per_class is not None or self.classes or self.resume or self.min_confidence is not None
                          or self.format):
            raise ExportError("`grid` writes one preview file; `per_class`, `classes`, `format`, `min_confidence` "
                              "and `resume` are for exports into a folder")


def parse_classes(spec: str, info: DataInfo) -> list[int]:
    """'Bag,3' -> label indices, by class name (or its folder name) or index; unknown names list the valid ones."""
    names = list(info.class_names) or [str(i) for i in range(info.num_classes)]
    chosen: list[int] = []
    for item in (part.strip() for part in spec.split(",")):
        if item in names:
            label = names.index(item)
        elif item in (safe := [folder_name(name) for name in names]):
            label = safe.index(item)
        elif item.isdigit() and int(item) < info.num_classes:
            label = int(item)
        else:
            raise ExportError(f"`classes`: no class '{item}'; valid: {', '.join(names)} (or 0-{len(names) - 1})")
        if label not in chosen:
            chosen.append(label)
    return chosen


def plan_counts(model: GANModel, request: ExportRequest, filtered: bool = False) -> tuple[list[int | None], list[int]]:
    """Classes and exact counts: `per_class` each, or `n` split as evenly as the classes allow (the first n % C
    classes get one more). Per-class requests and a confidence filter (`filtered`) need a class-conditional model
    (one that is `ClassConditional` with `num_classes` > 0: dcgan, wavegan)."""
    name, num_classes = type(model).__name__, conditional_classes(model)
    if not num_classes:
        if request.per_class is not None or request.classes is not None:
            field = "per_class" if request.per_class is not None else "classes"
            raise ExportError(f"`{field}` needs a class-conditional model; this {name} is unconditional (train it "
                              "with model.conditional=true), so pass `n`")
        if filtered:
            raise ExportError("`min_confidence` needs a class-conditional model (it keeps samples the domain "
                              "classifier gives their requested class)")
        return [None], [DEFAULT_COUNT if request.n is None else request.n]
    labels = parse_classes(request.classes, model.info) if request.classes else list(range(num_classes))
    if request.per_class is not None:
        return labels, [request.per_class] * len(labels)
    total = DEFAULT_COUNT if request.n is None else request.n
    base, extra = divmod(total, len(labels))
    return labels, [base + (i < extra) for i in range(len(labels))]


def sampling_arguments(model: GANModel, request: ExportRequest) -> dict[str, float]:
    """The extra `model.sample` arguments asked for, refused where the model does not take them."""
    asked = {"truncation": request.truncation, "temperature": request.temperature, "psi": request.psi}
    takers = {"truncation": "image models with a Gaussian latent (dcgan)", "temperature": "text models",
              "psi": "style-based models (stylegan2)"}
    for option, value in asked.items():
        if value is not None and option not in model.sampling_options:
            where = takers[option]
            raise ExportError(f"`{option}` applies to {where}; a {type(model).__name__} run does not take it")
    return {option: float(value) for option, value in asked.items() if value is not None}


def export_format(modality: Any, fmt: str | None) -> str:
    """The modality's format `fmt` names (its first when None); an unknown one lists those it writes."""
    formats = modality.export_formats
    if fmt is None:
        return formats[0]
    if fmt not in formats:
        raise ExportError(f"`format` {fmt}: {modality.name} exports are written as {' or '.join(formats)}")
    return fmt
