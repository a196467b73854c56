"""The points modality: a scatter preview with D's decision behind it, an export CSV that keeps float32 values
exactly, and noise over the data's box as the trivial baseline."""
import csv

import torch
from PIL import Image

from multigan.core.phases import DataInfo, PreviewContext
from multigan.points.modality import HEATMAP_CELLS, PointsModality, view_box

INFO = DataInfo("points", (2,), 2, ["inner", "outer"], {"bounds": [-1.0, 1.0, -2.0, 2.0]})


def test_the_training_preview_asks_d_about_the_whole_view_once(tmp_path):
    asked = []

    def decision(points):
        asked.append(points)
        return points[:, 0] * 4  # D believes the right half is real

    samples = {"points": torch.randn(100, 2) * 0.3}
    context = PreviewContext({"points": torch.randn(50, 2)}, decision)
    path = PointsModality.save_samples_in_context(samples, tmp_path / "step.png", INFO, context)
    (grid,) = asked
    x0, x1, y0, y1 = view_box(INFO)
    assert grid.shape == (HEATMAP_CELLS**2, 2) and float(grid[:, 0].min()) == x0 and float(grid[:, 1].max()) == y1
    assert x0 < -1 and y1 > 2  # the view has a margin around the data
    plain = PointsModality.save_samples(samples, tmp_path / "plain.png", INFO)
    with Image.open(path) as judged, Image.open(plain) as bare:
        assert judged.mode == "RGB" and judged.size == bare.size and judged.tobytes() != bare.tobytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.png", "step.png"]  # no temporary files left


def test_a_model_without_a_decision_map_previews_without_one(tmp_path):
    context = PreviewContext({"points": torch.randn(5, 2)}, lambda points: None)  # a conditional D: no map
    assert PointsModality.save_samples_in_context({"points": torch.zeros(3, 2)}, tmp_path / "a.png", INFO,
                                                  context).is_file()


def test_the_export_csv_keeps_float32_values_and_class_names(tmp_path):
    points = torch.randn(7, 2) * 1000
    samples = {"points": points, "label": torch.tensor([0, 1, 1, 0, 1, 0, 0])}
    PointsModality.save_examples(samples, tmp_path / "export", INFO)
    rows = list(csv.reader((tmp_path / "export" / "points.csv").open()))
    assert rows[0] == ["x", "y", "label"] and [r[2] for r in rows[1:]] == ["inner", "outer", "outer", "inner",
                                                                          "outer", "inner", "inner"]
    back = torch.tensor([[float(r[0]), float(r[1])] for r in rows[1:]], dtype=torch.float32)
    assert torch.equal(back, points)
    PointsModality.save_examples({"points": points}, tmp_path / "plain", INFO)
    assert (tmp_path / "plain" / "points.csv").read_text().splitlines()[0] == "x,y"


def test_the_trivial_baseline_is_uniform_noise_over_the_box():
    noise = PointsModality.trivial_samples(1000, torch.Generator().manual_seed(0), INFO)["points"]
    assert noise.shape == (1000, 2) and noise[:, 0].min() >= -1 and noise[:, 1].max() <= 2 and noise[:, 1].min() < -1.9
