"""The speed scripts keep working: benchmarks/throughput.py runs every model's plain loop and multigan's trainer
with each switch for one tiny step, eval_scaling.py one tiny evaluation on 1 and 2 processes, step_profile.py one
profiled step of each loop (no timing is checked; the numbers come from real runs, see README)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "throughput.py"
TINY = ["--steps", "1", "--blocks", "1", "--warmup", "0", "--skip-compile", "--skip-scaling", "--batch-size", "2",
        "--resolution", "32", "--model-dim", "4", "--length", "4096", "--peak-tflops", "1"]


@pytest.mark.slow
@pytest.mark.parametrize("model", ["dcgan", "pix2pix", "cyclegan", "wavegan", "seqgan", "gumbel"])
def test_throughput_runs_every_model_with_its_switches(model):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(SCRIPT), "--model", model, *TINY], capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {line.split()[0] for line in done.stdout.splitlines() if "of plain" in line}
    expected = {"plain", "multigan", "+bf16", "all"} | ({"+channels_last"} if model in ("dcgan", "pix2pix", "cyclegan") else set())
    assert rows == expected, done.stdout
    assert "GFLOP per step" in done.stdout and "failed" not in done.stdout


@pytest.mark.slow
def test_eval_scaling_scores_the_same_set_on_one_and_two_processes():
    script = SCRIPT.with_name("eval_scaling.py")
    done = subprocess.run([sys.executable, str(script), "--recipe", "dcgan_digits", "--metrics", "fid",
                           "--n-samples", "300", "--repeats", "1", "--set", "eval.classifier_epochs=1"],
                          capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    one, two = (line.split("s)  ")[1] for line in done.stdout.splitlines() if "scoring on rank 0" in line)
    assert one == two and "'fid'" in one  # the same values, to the printed digits
    assert "speed-up x" in done.stdout


def test_step_profile_compares_the_two_loops():
    script = SCRIPT.with_name("step_profile.py")
    done = subprocess.run([sys.executable, str(script), "--model", "dcgan", "--batch-size", "2", "--resolution", "32",
                           "--steps", "1", "--warmup", "0"], capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line.split() for line in done.stdout.splitlines() if line.split()[:1] in (["plain"], ["multigan"])]
    assert [row[0] for row in rows] == ["plain", "multigan"] and all(float(row[1]) > 0 for row in rows)
    assert "aten::convolution_backward" in done.stdout  # among the busiest operators of both loops


def test_throughput_rejects_an_unknown_model():
    done = subprocess.run([sys.executable, str(SCRIPT), "--model", "stylegan"], capture_output=True, text=True)
    assert done.returncode == 2 and "--model stylegan: expected one of dcgan" in done.stderr


@pytest.mark.slow
def test_toy_seeds_trains_stacked_seeds_with_the_arithmetic_of_separate_models():
    script = SCRIPT.with_name("toy_seeds.py")
    done = subprocess.run([sys.executable, str(script), "--seeds", "2", "--steps", "1", "--blocks", "1", "--warmup",
                           "0", "--maxout", "2"], capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    difference = float(done.stdout.split("largest |weight difference| is ")[1].split()[0])
    assert difference < 1e-12 and "speed-up x" in done.stdout
