"""The points modality: how generated 2-D points leave the program — a scatter PNG (generated over real points, with
the discriminator's decision as the background during training), the same picture in TensorBoard, and a CSV
export `points.csv` of `x,y[,label]` rows (what `points_csv` reads back).

Samples are a Batch {"points": (N, 2) float, "label": (N,) optional}. Every file is written atomically (a temporary
name, then a rename). Pictures are drawn with matplotlib's Agg canvas (no pyplot state, no display).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import Tensor

from multigan.core.files import staged_folder, write_png, write_text_atomic
from multigan.core.phases import Batch, DataInfo, PreviewContext
from multigan.registry import MODALITIES

HEATMAP_CELLS = 64  # D is evaluated on a 64 x 64 grid over the view
VIEW_MARGIN = 0.25  # the view: the data's bounding box grown by this share of its size on every side
REAL_COLOUR, FAKE_COLOUR = "#1b7837", "#762a83"  # green real, purple generated (PiYG's ends)


def view_box(info: DataInfo) -> tuple[float, float, float, float]:
    """(x_min, x_max, y_min, y_max): the data's bounding box with a margin, the same for every preview of a run."""
    x0, x1, y0, y1 = info.extra.get("bounds", [-1.0, 1.0, -1.0, 1.0])
    pad = VIEW_MARGIN * max(x1 - x0, y1 - y0, 1e-3)
    return x0 - pad, x1 + pad, y0 - pad, y1 + pad


def decision_map(context: PreviewContext | None, box: tuple[float, float, float, float]) -> Tensor | None:
    """sigmoid(D(x)) (cells, cells) over the view, rows bottom to top; None without a discriminator to ask."""
    if context is None or context.decision is None:
        return None
    xs = torch.linspace(box[0], box[1], HEATMAP_CELLS)
    ys = torch.linspace(box[2], box[3], HEATMAP_CELLS)
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1).reshape(-1, 2)  # (cells^2, 2), x fastest
    logits = context.decision(grid)
    return None if logits is None else torch.sigmoid(logits).reshape(HEATMAP_CELLS, HEATMAP_CELLS)


def scatter_image(samples: Batch, info: DataInfo, context: PreviewContext | None = None) -> Tensor:
    """(3, H, W) uint8: generated points over real ones (context.real) and D's decision (context.decision)."""
    box = view_box(info)
    figure = Figure(figsize=(5, 5), dpi=100)
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    heat = decision_map(context, box)
    if heat is not None:  # D's belief that x is real: sigmoid of its logit (for a critic, a monotone view of it)
        image = axes.imshow(heat.numpy(), extent=box, origin="lower", cmap="PiYG", vmin=0.0, vmax=1.0, alpha=0.55,
                            interpolation="bilinear", aspect="auto")
        figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="sigmoid D(x)")
    if context is not None and "points" in context.real:
        real = context.real["points"].float().numpy()
        axes.scatter(real[:, 0], real[:, 1], s=4, c=REAL_COLOUR, alpha=0.5, linewidths=0, label="real")
    fake = samples["points"].detach().float().cpu().numpy()  # (N, 2)
    axes.scatter(fake[:, 0], fake[:, 1], s=4, c=FAKE_COLOUR, alpha=0.7, linewidths=0, label="generated")
    axes.set_xlim(box[0], box[1])
    axes.set_ylim(box[2], box[3])
    axes.set_aspect("equal", adjustable="box")
    axes.legend(loc="upper right", fontsize=7, markerscale=3)
    figure.tight_layout()
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())  # (H, W, 4)
    return torch.from_numpy(rgba[:, :, :3].copy()).permute(2, 0, 1)  # (3, H, W)


@MODALITIES.register("points")
class PointsModality:
    """Stateless: call the methods on the class or on an instance."""

    name = "points"
    preview_suffix = ".png"
    trivial_baseline = "uniform noise over the train split's bounding box"
    export_formats = ("csv",)

    @staticmethod
    def trivial_samples(n: int, generator: torch.Generator, info: DataInfo) -> Batch:
        """`n` points (n, 2) uniform over the data's bounding box, drawn only from `generator` (CPU)."""
        x0, x1, y0, y1 = info.extra.get("bounds", [-1.0, 1.0, -1.0, 1.0])
        unit = torch.rand((n, 2), generator=generator)
        return {"points": unit * torch.tensor([x1 - x0, y1 - y0]) + torch.tensor([x0, y0])}

    @classmethod
    def save_samples(cls, samples: Batch, path: Path, info: DataInfo) -> Path:
        """The generated points as a scatter PNG at `path` (`multigan sample --grid`)."""
        path = Path(path)
        write_png(scatter_image(samples, info), path)
        return path

    @classmethod
    def log_samples(cls, writer, tag: str, samples: Batch, step: int, info: DataInfo) -> None:
        writer.add_image(tag, scatter_image(samples, info), global_step=step, dataformats="CHW")

    @classmethod
    def save_samples_in_context(cls, samples: Batch, path: Path, info: DataInfo, context: PreviewContext) -> Path:
        """The training preview: generated over real points, D's decision behind them."""
        path = Path(path)
        write_png(scatter_image(samples, info, context), path)
        return path

    @classmethod
    def log_samples_in_context(cls, writer, tag: str, samples: Batch, step: int, info: DataInfo,
                               context: PreviewContext) -> None:
        writer.add_image(tag, scatter_image(samples, info, context), global_step=step, dataformats="CHW")

    @classmethod
    def save_examples(cls, samples: Batch, folder: Path, info: DataInfo) -> Path:
        """`folder/points.csv`, built in a temporary sibling folder and renamed into place."""
        with staged_folder(folder) as staging:
            cls.finish_export(staging, cls.write_batch(samples, staging, info, 0, 0, "csv"), info, "csv")
        return Path(folder)

    @staticmethod
    def write_batch(samples: Batch, folder: Path, info: DataInfo, first: int, width: int, fmt: str) -> list[dict]:
        """No file per point: the rows {"x", "y", "label"} are the batch; `finish_export` writes them out."""
        points = samples["points"].detach().float().cpu().tolist()  # float32 values, exact as Python floats
        labels = samples.get("label")
        return [{"x": x, "y": y, "label": None if labels is None else info.class_name(int(labels[i]))}
                for i, (x, y) in enumerate(points)]

    @staticmethod
    def finish_export(folder: Path, rows: list[dict], info: DataInfo, fmt: str) -> None:
        """`points.csv`: a header, then `x,y` (or `x,y,label`) per point; 9 significant digits keep float32 exact."""
        labelled = bool(rows) and rows[0]["label"] is not None
        text = io.StringIO()
        table = csv.writer(text, lineterminator="\n")
        table.writerow(["x", "y", "label"] if labelled else ["x", "y"])
        for row in rows:
            cells = [f"{row['x']:.9g}", f"{row['y']:.9g}"]
            table.writerow(cells + [row["label"]] if labelled else cells)
        write_text_atomic(folder / "points.csv", text.getvalue())
