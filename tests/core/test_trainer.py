"""The generic loop: outputs of a run, bit-exact resume, frozen players, NaN handling."""
import json

import pytest
import torch

from multigan import api
from multigan.core import checkpoint as ckpt
from multigan.core.logging import NonFiniteLossError
from multigan.core.trainer import Trainer
from multigan.images.template import TemplateGAN
from multigan.recipe import from_dict


def tiny_config(steps=6, **train):
    return from_dict({
        "model": {"name": "dcgan", "generator_width": 8, "discriminator_width": 8, "latent_dim": 16},
        "data": {"name": "digits", "train_size": 128, "test_size": 32},
        "train": {"steps": steps, "batch_size": 16, "log_every": 2, "sample_every": 3, "checkpoint_every": 3,
                  "preview_samples": 16, **train},
        "out": {"name": "tiny"},
    })


def test_a_tiny_run_writes_config_checkpoints_samples_metrics_and_events(tmp_path):
    run = api.train(tiny_config(), out=tmp_path / "run", progress=False)  # --quiet hides the bar, keeps the files
    assert (run / "config.yaml").is_file()
    assert [p.name for p in ckpt.list_checkpoints(run / "checkpoints")] == ["step-0000003", "step-0000006"]
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step-0000003.png", "step-0000006.png"]
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [2, 4, 6]
    assert {"loss_D", "loss_G", "d_real", "d_fake", "sec_per_step"} <= set(records[0])
    assert list((run / "tb").glob("events.out.tfevents.*"))
    meta = ckpt.read_meta(run / "checkpoints" / "step-0000006")
    assert meta["model"] == "dcgan" and meta["global_step"] == 6 and meta["info"]["num_classes"] == 10


def _state(run_dir):
    folder = ckpt.latest_checkpoint(run_dir)
    return ckpt.load_networks(folder), ckpt.load_train_state(folder)["optimizers"]


def _assert_same(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _assert_same(a[key], b[key])
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b) and all(_assert_same(x, y) is None for x, y in zip(a, b))
    else:
        assert a == b


@pytest.mark.parametrize("extra", [{}, {"ema": 0.9, "grad_clip": 1.0}, {"amp": "bf16"}])  # bf16: autocast on CPU
def test_killed_run_resumes_bit_exactly(tmp_path, monkeypatch, extra):
    config = tiny_config(steps=8, checkpoint_every=4, **extra)
    straight = api.train(config, out=tmp_path / "straight", progress=False)

    original = Trainer._train_step

    def crash_at_step_6(self, *args):
        if self.global_step == 6:  # killed mid-run, after the step-4 checkpoint
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(Trainer, "_train_step", crash_at_step_6)
    with pytest.raises(KeyboardInterrupt):
        api.train(config, out=tmp_path / "killed", progress=False)
    monkeypatch.setattr(Trainer, "_train_step", original)
    assert ckpt.latest_checkpoint(tmp_path / "killed").name == "step-0000004"
    api.train(config, resume=tmp_path / "killed", progress=False)
    _assert_same(_state(straight), _state(tmp_path / "killed"))


def test_evaluation_never_changes_training_with_warm_or_cold_caches(tmp_path, monkeypatch):
    # Building the feature network (trained when the cache is cold, loaded when warm) and scoring mid-run must
    # leave the training RNG where it was: the same recipe gives the same weights with or without evaluation.
    monkeypatch.setenv("MULTIGAN_CACHE", str(tmp_path / "cache"))
    evaluated = {"every": 2, "metrics": ["kid", "class_coverage"], "n_samples": 64, "batch_size": 32,
                 "classifier_epochs": 1}
    runs = {}
    for name, eval_section in [("cold", evaluated), ("warm", evaluated), ("none", {"metrics": []})]:
        config = tiny_config()
        config = from_dict({**config.to_dict(), "eval": {**config.to_dict()["eval"], **eval_section}})
        runs[name] = _state(api.train(config, out=tmp_path / name, progress=False))
    _assert_same(runs["cold"], runs["none"])
    _assert_same(runs["warm"], runs["none"])


def test_frozen_player_is_unchanged_by_the_other_players_phase(tmp_path):
    config = tiny_config()
    model = api.build_model(config, api.DATASETS.get("digits")(config.data, tmp_path, "train").info, torch.device("cpu"))
    trainer = Trainer(model, _loader(config, tmp_path), config.train, tmp_path, lambda *a: None, {}, progress=False)
    before = {k: v.clone() for k, v in model.generator.state_dict().items()}
    trainer._run_phase(model.phases("adversarial")[0])  # D phase
    after = model.generator.state_dict()
    for key in before:
        if "running" not in key and "num_batches" not in key:  # BatchNorm statistics move in train mode
            assert torch.equal(before[key], after[key]), key


def test_an_app_stepping_the_run_itself_makes_the_run_fit_makes(tmp_path):
    """api.prepare_training + start / step / finish (the lab's pace) writes the same weights, optimiser states and
    checkpoints as `train`; run_phase updates one player alone and leaves the step count where it was."""
    straight = api.train(tiny_config(), out=tmp_path / "straight", progress=False)
    trainer = api.prepare_training(tiny_config(), out=tmp_path / "stepped")
    trainer.start()
    while trainer.step():
        pass
    trainer.finish()
    _assert_same(_state(straight), _state(tmp_path / "stepped"))
    assert trainer.done and not trainer.step() and trainer.global_step == 6

    trainer = api.prepare_training(tiny_config(), out=tmp_path / "phase", overwrite=True)
    trainer.start()
    generator = {k: v.clone() for k, v in trainer.model.generator.named_parameters()}
    discriminator = {k: v.clone() for k, v in trainer.model.discriminator.named_parameters()}
    trainer.run_phase("D")
    assert all(torch.equal(v, generator[k]) for k, v in trainer.model.generator.named_parameters())
    assert not all(torch.equal(v, discriminator[k]) for k, v in trainer.model.discriminator.named_parameters())
    assert trainer.global_step == 0
    with pytest.raises(KeyError, match="no phase 'E'"):
        trainer.run_phase("E")
    trainer.finish()


def _loader(config, root):
    from multigan.core.data import BatchLoader

    return BatchLoader(api.DATASETS.get("digits")(config.data, root, "train"), 16, 0)


def test_nan_loss_stops_keeps_last_good_checkpoint_and_names_the_phase(tmp_path, monkeypatch):
    config = from_dict({
        "model": {"name": "template", "hidden": 16},
        "data": {"name": "digits", "train_size": 64, "test_size": 16},
        "train": {"steps": 10, "batch_size": 8, "log_every": 1, "checkpoint_every": 2, "sample_every": 0},
    })
    original = TemplateGAN.loss
    step = {"n": 0}

    def poisoned(self, phase, batch):
        loss, scalars = original(self, phase, batch)
        if phase == "G":
            step["n"] += 1
            if step["n"] >= 4:
                loss = loss * float("nan")
        return loss, scalars

    monkeypatch.setattr(TemplateGAN, "loss", poisoned)
    with pytest.raises(NonFiniteLossError, match=r"phase 'G' became NaN/inf at step 4;.*step-0000002"):
        api.train(config, out=tmp_path / "nan", progress=False)
    assert [p.name for p in ckpt.list_checkpoints(tmp_path / "nan" / "checkpoints")] == ["step-0000002"]


def test_evaluation_cadence_logs_metrics_and_keeps_the_best_checkpoint(tmp_path):
    config = tiny_config(steps=4, log_every=2)
    config.eval.metrics, config.eval.every, config.eval.n_samples, config.eval.best = ["kid"], 2, 32, "kid"
    run = api.train(config, out=tmp_path / "run", progress=True)
    evals = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines() if '"eval"' in l]
    assert [e["step"] for e in evals] == [2, 4] and all("kid" in e for e in evals)
    record = json.loads((run / "eval.json").read_text())
    assert record["step"] == 4 and record["metrics"]["kid"]["protocol"]["extractor"] == "classifier"
    best = ckpt.read_meta(run / "checkpoints" / "best")
    assert best["global_step"] in (2, 4) and "kid" in best["metrics"]


@pytest.mark.parametrize("clock", ["wall", "cpu"])
def test_a_time_limit_ends_the_run_as_its_last_step_would(tmp_path, clock):
    config = tiny_config(steps=50, time_limit=1e-9, time_clock=clock)  # up after the first step
    run = api.train(config, out=tmp_path / "run", progress=False)
    assert [p.name for p in ckpt.list_checkpoints(run / "checkpoints")] == ["step-0000001"]
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step-0000001.png"]
    assert [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [1]


def test_a_resumed_run_gets_what_is_left_of_its_time_limit(tmp_path):
    config = tiny_config(steps=50, time_limit=1e-9, time_clock="cpu")  # up after the first step
    run = api.train(config, out=tmp_path / "run", progress=False)
    spent = ckpt.load_train_state(run / "checkpoints" / "step-0000001")["clock_spent"]
    assert spent > 1e-9  # the checkpoint carries the CPU seconds the run trained
    api.train(config, resume=run, progress=False)  # nothing left of the budget: no step more
    assert [p.name for p in ckpt.list_checkpoints(run / "checkpoints")] == ["step-0000001"]
    assert [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [1]


def test_a_resumed_run_with_budget_left_trains_on_and_counts_its_first_part(tmp_path, monkeypatch):
    config = tiny_config(steps=8, checkpoint_every=4, time_limit=1e6)
    original = Trainer._train_step

    def crash_at_step_6(self, *args):
        if self.global_step == 6:
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(Trainer, "_train_step", crash_at_step_6)
    with pytest.raises(KeyboardInterrupt):
        api.train(config, out=tmp_path / "run", progress=False)
    monkeypatch.setattr(Trainer, "_train_step", original)
    first = ckpt.load_train_state(tmp_path / "run" / "checkpoints" / "step-0000004")["clock_spent"]
    api.train(config, resume=tmp_path / "run", progress=False)
    last = ckpt.load_train_state(tmp_path / "run" / "checkpoints" / "step-0000008")["clock_spent"]
    assert 0 < first < last
