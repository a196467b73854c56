"""torchrun with gloo on CPU: 2 processes follow the 1-process run with the same global batch, write one run
folder, resume exactly (also on another number of processes), and train SeqGAN. Launched as subprocesses on
free localhost ports (`--standalone`), one thread per process."""
import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from multigan.core import checkpoint as ckpt

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("ddp_worker.py")
CONFIG = {
    "model": {"name": "dcgan_sharded_noise", "generator_width": 8, "discriminator_width": 8, "latent_dim": 16},
    "data": {"name": "digits", "train_size": 128, "test_size": 32},
    "train": {"steps": 4, "batch_size": 16, "log_every": 2, "sample_every": 2, "checkpoint_every": 2,
              "preview_samples": 16},
    "out": {"name": "ddp"},
    # one evaluation at the end; per-batch sample seeds on one process too, so both runs score the same sample set
    "eval": {"metrics": ["fid"], "n_samples": 40, "batch_size": 16, "sample_seeds": "per_batch",
             "classifier_epochs": 1, "classifier_embedding_dim": 8, "real_floor": False},
}


def launch(args: list[str], processes: int, timeout: int = 300, ok: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    prefix = [sys.executable]
    if processes > 1:
        prefix += ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    done = subprocess.run(prefix + args, env=env, capture_output=True, text=True, timeout=timeout)
    assert (done.returncode == 0) == ok, done.stderr[-3000:]
    return done


def train(out: Path, processes: int, resume: bool = False, model: str = "dcgan_sharded_noise", ok: bool = True,
          **train_overrides) -> subprocess.CompletedProcess:
    config = copy.deepcopy(CONFIG)
    config["train"].update(train_overrides)
    config["model"]["name"] = model
    return launch([str(WORKER), json.dumps(config), str(out)] + (["resume"] if resume else []), processes, ok=ok)


def networks(run: Path, step: int = 4) -> dict[str, dict[str, torch.Tensor]]:
    return ckpt.load_networks(ckpt.step_folder(run / "checkpoints", step))


def max_difference(a: dict, b: dict) -> float:
    return max((a[n][k].double() - b[n][k].double()).abs().max().item() for n in a for k in a[n])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    train(root / "one", 1)
    train(root / "two", 2)
    return root


def test_two_processes_follow_one_process_with_the_same_global_batch(runs):
    one, two = networks(runs / "one"), networks(runs / "two")
    assert one.keys() == two.keys() and all(one[n].keys() == two[n].keys() for n in one)
    # float tolerance only: the all-reduce sums in another order and SyncBatchNorm's variance is E[x^2] - E[x]^2
    assert max_difference(one, two) < 1e-5
    optimizers = [ckpt.load_train_state(ckpt.step_folder(r / "checkpoints", 4))["optimizers"] for r in
                  (runs / "one", runs / "two")]
    for name, state in optimizers[0].items():
        for index, moments in state["state"].items():
            for key in ("exp_avg", "exp_avg_sq"):
                other = optimizers[1][name]["state"][index][key]
                assert (moments[key] - other).abs().max() <= 1e-4 * moments[key].abs().max()


def test_two_processes_write_one_run_folder(runs):
    run = runs / "two"
    assert [p.name for p in ckpt.list_checkpoints(run / "checkpoints")] == ["step-0000002", "step-0000004"]
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step-0000002.png", "step-0000004.png"]
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [(r["step"], r["kind"]) for r in records] == [(2, "train"), (4, "train"), (4, "eval")]  # not per rank
    first = json.loads((runs / "one" / "metrics.jsonl").read_text().splitlines()[0])
    assert records[0]["loss_D"] == pytest.approx(first["loss_D"], rel=1e-5)  # the mean over both ranks
    assert len(list((run / "tb").glob("events.out.tfevents.*"))) == 1
    assert not [p for p in (run / "checkpoints").iterdir() if p.name.startswith(".")]  # no temp folders left
    state = ckpt.load_train_state(ckpt.step_folder(run / "checkpoints", 4))
    assert len(state["rng_ranks"]) == 1  # rank 1's random streams travel with rank 0's


def test_two_processes_share_the_evaluation_and_score_the_one_process_samples(runs):
    # rank r generated batches r, r + 2 (40 samples in batches of 16: 16, 16, 8); rank 0 gathered and scored them
    one, two = (json.loads((runs / r / "eval.json").read_text())["metrics"]["fid"] for r in ("one", "two"))
    assert one["protocol"]["sample_seeds"] == two["protocol"]["sample_seeds"] == "per_batch"
    assert one["protocol"]["n_generated"] == two["protocol"]["n_generated"] == 40
    assert two["value"] == pytest.approx(one["value"], rel=1e-3)  # the weights agree to float tolerance


def test_a_metric_error_on_another_rank_is_raised_by_rank_0(tmp_path):
    # rank 1's share of the evaluation samples is NaN: it sends the error to rank 0 instead of its features
    done = train(tmp_path / "nan", 2, model="dcgan_nan_samples_on_rank_1", steps=2, ok=False)
    assert "MetricError: images: 12544 NaN/inf values" in done.stderr  # batch 1: 16 images of 28 x 28


def test_batchnorm_without_synchronisation_differs_from_one_process(runs, tmp_path):
    # Each rank normalises with its own half batch's statistics: a different (still valid) training run.
    train(tmp_path / "unsynced", 2, sync_batchnorm=False)
    assert max_difference(networks(runs / "one"), networks(tmp_path / "unsynced")) > 1e-4


def test_two_processes_resume_exactly_and_on_one_process(runs, tmp_path):
    train(tmp_path / "resumed", 2, steps=2)
    shutil.copytree(tmp_path / "resumed", tmp_path / "on_one")
    train(tmp_path / "resumed", 2, resume=True)
    straight, resumed = networks(runs / "two"), networks(tmp_path / "resumed")
    assert all(torch.equal(straight[n][k], resumed[n][k]) for n in straight for k in straight[n])
    # another world size: weights, optimiser state and data order continue; it says the RNG streams restart
    done = train(tmp_path / "on_one", 1, resume=True)
    assert "saved by 2 process(es) and resumes on 1" in done.stderr
    assert max_difference(networks(runs / "one"), networks(tmp_path / "on_one")) < 1e-5


def test_seqgan_trains_and_evaluates_under_two_processes(tmp_path, data_root):
    stages = ("[{name: pretrain_g, steps: 2}, {name: pretrain_d, steps: 2}, "
              "{name: adversarial, steps: 2, eval_every: 1}]")
    overrides = ["data.n_samples=64", f"train.stages={stages}", "train.batch_size=8", "train.log_every=1",
                 "train.sample_every=0", "train.checkpoint_every=0", "train.preview_samples=4",
                 "eval.metrics=[nll_oracle]", "eval.n_samples=16", "eval.batch_size=16", "eval.best=nll_oracle",
                 "model.num_rollouts=2", "model.d_steps=1", "model.generator.embed_dim=8",
                 "model.generator.hidden_dim=8", "model.discriminator.filter_sizes=[2,3]",
                 "model.discriminator.num_filters=[8,8]"]
    done = launch(["-m", "multigan", "train", "seqgan_oracle", "--quiet", "--data-root", str(data_root),
                   "--out", str(tmp_path / "run"), "--set", *overrides], processes=2)
    assert done.stdout.count("run finished") == 1
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r["kind"] == "eval"] == [5, 6]  # both ranks generate, rank 0 scores
    protocol = json.loads((tmp_path / "run" / "eval.json").read_text())["metrics"]["nll_oracle"]["protocol"]
    assert protocol["sample_seeds"] == "per_batch"  # "auto" under torchrun
    assert (tmp_path / "run" / "checkpoints" / "best").is_dir()  # kept by every rank's decision, written once
    records = [r for r in records if r["kind"] == "train"]
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5, 6]
    losses = [v for r in records for k, v in r.items() if k.startswith("loss_")]
    assert len(losses) >= 6 and all(isinstance(v, float) and abs(v) < 1e6 for v in losses)
    assert {"loss_G_pg", "reward"} <= set(records[-1])
