"""Every toy recipe trains a few steps on a sliver of its data and leaves a preview with D's decision and an
evaluation with protocols; a packed run resumed halfway ends bit for bit where an uninterrupted one does; `multigan
sample` writes the points as a CSV that `points_csv` reads back."""
import csv

import pytest
import torch

from multigan import api
from multigan.core import checkpoint as ckpt
from multigan.core.sampling import batch_seed
from multigan.export.job import batch_labels
from multigan.points.csv_points import PointsCSV, PointsCSVConfig
from multigan.recipe import list_recipes, load_recipe

from cli_support import run_cli

TOY_RECIPES = [p for p in list_recipes() if load_recipe(p).model_name == "toygan"]
TINY = ["model.generator_widths=[16, 16]", "model.discriminator_widths=[16, 16]", "data.n_train=512",
        "data.n_test=128", "train.steps=3", "train.batch_size=32", "train.sample_every=3", "train.checkpoint_every=3",
        "train.preview_samples=50", "eval.every=3", "eval.n_samples=100", "eval.batch_size=50"]


def test_the_toy_recipes_are_the_ring_grid_and_pacgan2_grid():
    assert sorted(p.stem for p in TOY_RECIPES) == ["pacgan2_grid", "toygan_grid", "toygan_ring"]


@pytest.mark.parametrize("path", TOY_RECIPES, ids=lambda p: p.stem)
def test_recipe_trains_three_steps_with_previews_and_mode_metrics(path, tmp_path):
    run = api.train(load_recipe(path, TINY), out=tmp_path / "run", progress=False)
    assert (run / "samples" / "step-0000003.png").is_file() and (run / "checkpoints" / "step-0000003").is_dir()
    metrics = ckpt.read_meta(run / "checkpoints" / "step-0000003")["metrics"]
    assert set(metrics) == {"modes_covered", "high_quality", "reverse_kl", "grid_kl", "grid_js"}
    assert all("real_vs_real" in m["protocol"] and m["protocol"]["n_generated"] == 100 for m in metrics.values())


def packed(steps: int):
    return load_recipe("pacgan2_grid", TINY + [f"train.steps={steps}", "train.checkpoint_every=2", "train.ema=0.9",
                                               "train.sample_every=0", "eval.every=0", "eval.metrics=[]"])


def test_a_packed_run_survives_n_plus_resume_plus_n_bit_for_bit(tmp_path):
    straight = api.train(packed(4), out=tmp_path / "straight", progress=False)
    api.train(packed(2), out=tmp_path / "resumed", progress=False)  # N steps, then resumed to 2N
    api.train(packed(4), resume=tmp_path / "resumed", progress=False)
    a = ckpt.load_networks(ckpt.latest_checkpoint(straight))
    b = ckpt.load_networks(ckpt.latest_checkpoint(tmp_path / "resumed"))
    assert a.keys() == b.keys() and "ema:generator" in a
    assert all(torch.equal(a[k][t], b[k][t]) for k in a for t in a[k])


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    return api.train(load_recipe("toygan_ring", TINY + ["model.conditional=true", "eval.metrics=[]"]),
                     out=tmp_path_factory.mktemp("runs") / "ring", progress=False)


def test_multigan_sample_writes_the_points_as_a_csv_that_points_csv_reads_back(ring_run, tmp_path, capsys):
    code, out, err = run_cli(capsys, "sample", ring_run, "--n", "40", "--out", tmp_path / "export", "--quiet")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "export").iterdir()) == ["manifest.json", "points.csv"]
    rows = list(csv.reader((tmp_path / "export" / "points.csv").open()))
    assert rows[0] == ["x", "y", "label"] and len(rows) == 41 and {r[2] for r in rows[1:]} == {
        f"mode_{k}" for k in range(8)}
    again = PointsCSV(PointsCSVConfig(path="points.csv", test_fraction=0.0), tmp_path / "export", "train")
    _, model, _ = api.load_run(ring_run)  # one batch (eval.batch_size 50), seeded by (seed 0, batch 0), classes in turn
    labels = torch.tensor(batch_labels(list(range(8)), [5] * 8, 50))
    expected = model.sample(40, torch.Generator().manual_seed(batch_seed(0, 0)), labels)
    assert torch.equal(again.points, expected["points"])  # 9 significant digits: float32 exactly
    assert [again.info.class_names[k] for k in again.labels] == [f"mode_{k}" for k in labels.tolist()]


def test_multigan_sample_grid_writes_a_scatter_and_a_wrong_format_is_one_line(ring_run, tmp_path, capsys):
    code, _, err = run_cli(capsys, "sample", ring_run, "--grid", "--n", "100", "--out", tmp_path / "grid.png")
    assert code == 0 and (tmp_path / "grid.png").stat().st_size > 1000, err
    code, _, err = run_cli(capsys, "sample", ring_run, "--format", "png", "--out", tmp_path / "x")
    assert code == 1 and "--format png: points exports are written as csv" in err
