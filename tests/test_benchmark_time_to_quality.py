"""benchmarks/time_to_quality.py's pieces: the sampling adapter runs a training script it does not modify, samples
its generator at marks of training time (off the clock, leaving the script's G untouched) and stops it after the
last mark; the time a curve first reaches a target FID is read linearly between marks."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
from time_to_quality import time_to_reach  # noqa: E402

# A reference-style script: module-level G with BatchNorm, two optimizers, an endless loop, a print per step. The
# adapter must end it: it never stops by itself.
SCRIPT = """
import time
import torch
from torch import nn

class Body:
    def __init__(self):
        self.generator = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Linear(8, 2))
        self.optimizer = torch.optim.SGD(self.generator.parameters(), lr=0.01)

    def train(self):
        critic = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.01)
        while True:
            self.optimizer.zero_grad()
            self.generator(torch.randn(16, 3)).pow(2).mean().backward()
            self.optimizer.step()
            critic.step()
            time.sleep(0.01)

body = Body()
body.train()
"""


def test_the_adapter_samples_an_unmodified_script_at_its_marks_and_stops_it(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(BENCHMARKS / "reference_runner.py"), "--script", str(script),
                           "--generator", "self.generator", "--latent-shape", "3", "--marks", "0.2,0.5",
                           "--n", "50", "--batch", "16", "--out", str(tmp_path / "marks")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "every mark sampled; the script was stopped" in done.stdout
    first, second = (torch.load(path, weights_only=True) for path in sorted((tmp_path / "marks").glob("mark-*.pt")))
    assert first["samples"].shape == second["samples"].shape == (50, 2)
    assert 0.2 <= first["seconds"] < second["seconds"] and 0.5 <= second["seconds"] < 2.0
    assert 0 < first["steps"] < second["steps"]  # both optimizers' steps are counted
    assert not torch.equal(first["samples"], second["samples"])  # G trained between the marks
    assert not list((tmp_path / "marks").glob("*.tmp"))


def test_time_to_reach_interpolates_between_marks():
    curve = [{"seconds": 60.0, "value": 100.0}, {"seconds": 120.0, "value": 40.0}, {"seconds": 240.0, "value": 20.0}]
    assert time_to_reach(curve, 100.0) == 60.0  # reached at the first mark
    assert time_to_reach(curve, 70.0) == 90.0  # halfway from 100 to 40
    assert time_to_reach(curve, 30.0) == 180.0
    assert time_to_reach(curve, 10.0) is None  # never reached
