"""The lab's commands without a browser: what a D step, a G step and pause do to the frame, the frame's shapes,
and that playing trains exactly the run `multigan train` makes."""
from __future__ import annotations

import json
import time
from contextlib import closing

import torch
from lab_support import TINY, frame_after

from multigan import api
from multigan.lab.commands import lab
from multigan.lab.probes import LATTICE, POINTS_SHOWN, frame, make_probes
from multigan.points.modality import HEATMAP_CELLS
from multigan.recipe import load_recipe, resolve_recipe


def test_step_d_moves_the_heatmap_not_the_points_and_step_g_moves_the_points(open_lab):
    session = open_lab().session
    version, first = frame_after(session, 0)
    session.command("step_D")
    version, after_d = frame_after(session, version)
    assert after_d["fake"] == first["fake"] and after_d["manifold"] == first["manifold"]  # G's output on fixed z
    assert after_d["heatmap"] != first["heatmap"]
    assert after_d["lone_updates"] == {"D": 1, "G": 0} and after_d["step"] == 0  # outside the step count
    session.command("step_G")
    version, after_g = frame_after(session, version)
    assert after_g["fake"] != after_d["fake"] and after_g["heatmap"] == after_d["heatmap"]
    session.command("step")
    _, stepped = frame_after(session, version)
    assert stepped["step"] == 1 and stepped["updates"] == 3


def test_pause_stops_the_step_counter(open_lab):
    session = open_lab("train.steps=100000").session
    version, _ = frame_after(session, 0)
    session.command("play")
    deadline = time.monotonic() + 30
    while json.loads(session.wait_frame(version, 1)[1])["step"] < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    session.command("pause")
    while json.loads(session.wait_frame(0, 0)[1])["playing"] and time.monotonic() < deadline:
        time.sleep(0.05)
    paused = json.loads(session.wait_frame(0, 0)[1])
    assert paused["step"] >= 3 and not paused["playing"]
    time.sleep(0.5)
    assert json.loads(session.wait_frame(0, 0)[1])["step"] == paused["step"]


def test_a_frame_has_the_shapes_the_page_draws(open_lab):
    lab = open_lab("model.pack=2")
    _, shown = frame_after(lab.session, 0)
    assert len(shown["fake"]) == len(shown["arrows"]) == POINTS_SHOWN and len(shown["fake"][0]) == 2
    assert len(shown["heatmap"]) == HEATMAP_CELLS and len(shown["heatmap"][0]) == HEATMAP_CELLS
    assert all(0 <= p <= 1 for row in shown["heatmap"] for p in row)
    assert len(shown["manifold"]) == LATTICE and len(shown["manifold"][0]) == LATTICE
    setup = json.loads(lab.session.setup_event())
    assert len(setup["real"]) == 400 and "packs of 2" in setup["heatmap_note"] and len(setup["box"]) == 4
    assert setup["history"] and set(shown["losses"]) == {"loss_D", "loss_G"}


def test_the_arrows_point_where_a_g_step_moves_the_points(open_lab):
    session = open_lab("model.lr_g=1e-3").session
    version, before = frame_after(session, 0)
    session.command("step_G")
    _, after = frame_after(session, version)
    arrows, moved = torch.tensor(before["arrows"]), torch.tensor(after["fake"]) - torch.tensor(before["fake"])
    assert torch.nn.functional.cosine_similarity(arrows.flatten(), moved.flatten(), dim=0) > 0


def test_a_frame_changes_nothing_in_the_model_or_the_random_stream(open_lab):
    lab = open_lab()
    lab.session.stop(save=False)  # the thread ends: this test has the trainer to itself
    trainer = lab.session.trainer
    trainer.start()
    trainer.step()
    state = {k: v.clone() for net in trainer.networks.values() for k, v in net.state_dict().items()}
    rng = torch.get_rng_state()
    real = trainer.loader.dataset.gather(torch.arange(100))["points"]
    frame(trainer.model, make_probes(trainer.model, real, 1))
    after = {k: v for net in trainer.networks.values() for k, v in net.state_dict().items()}
    assert all(torch.equal(state[k], after[k]) for k in state) and torch.equal(rng, torch.get_rng_state())


def test_playing_trains_the_run_multigan_train_makes(open_lab, tmp_path):
    lab = open_lab(out=tmp_path / "lab")
    session = lab.session
    version, _ = frame_after(session, 0)
    session.command("speed", 7)
    session.command("play")
    deadline = time.monotonic() + 60
    while not json.loads(session.wait_frame(version, 1)[1])["done"] and time.monotonic() < deadline:
        time.sleep(0.05)
    lab.close()
    path, _ = resolve_recipe("toygan_ring")
    trained = api.train(load_recipe(path, TINY), out=tmp_path / "train", progress=False)
    _, by_lab, _ = api.load_run(tmp_path / "lab", ema=False)
    _, by_train, _ = api.load_run(trained, ema=False)
    for name, net in by_train.networks().items():
        for key, value in net.state_dict().items():
            assert torch.equal(value, by_lab.networks()[name].state_dict()[key]), (name, key)


def test_reset_starts_the_run_over_from_the_same_weights(open_lab):
    session = open_lab().session
    version, first = frame_after(session, 0)
    session.command("step")
    version, stepped = frame_after(session, version)
    session.command("step_G")
    version, _ = frame_after(session, version)
    session.command("reset")
    _, again = frame_after(session, version)
    assert stepped["fake"] != first["fake"]
    assert again["step"] == 0 and again["resets"] == 1 and again["lone_updates"] == {"D": 0, "G": 0}
    assert again["fake"] == first["fake"] and again["heatmap"] == first["heatmap"]
    assert len(json.loads(session.setup_event())["history"]) == 1  # the loss history starts over too


def test_a_points_csv_run_opens_with_its_own_points(tmp_path):
    rows = "".join(f"{0.1 * k:.1f},{(-1) ** k * 0.5:.1f}\n" for k in range(60))
    (tmp_path / "mine.csv").write_text("x,y\n" + rows, encoding="utf-8")
    overrides = [o for o in TINY if not o.startswith("data.")]
    overrides += ["data.name=points_csv", f"data.path={tmp_path / 'mine.csv'}", "data.test_fraction=0"]
    with closing(lab("toygan_ring", overrides, port=0)) as opened:
        _, shown = frame_after(opened.session, 0)
        setup = json.loads(opened.session.setup_event())
    assert len(setup["real"]) == 60 and len(shown["fake"]) == POINTS_SHOWN
    x0, x1, y0, y1 = setup["box"]
    assert x0 < 0 < 5.9 < x1 and y0 < -0.5 < 0.5 < y1  # the file's points with a margin
