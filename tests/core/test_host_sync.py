"""The training step of every model reads no tensor value back to the host (on a GPU each read would stall the
launch queue until the device caught up): between log cadences the trainer's step dispatches no `.item()`,
`bool(tensor)`, `nonzero` or other op whose result size or value the host must wait for. Run on the CPU with the
benchmarks' tiny cases of each model, every stage."""
from __future__ import annotations

import argparse
import collections
import sys
import traceback
from pathlib import Path

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from harness import TrainerLoop  # noqa: E402
from throughput import MODELS, build_case  # noqa: E402

# ops that make the host wait for the device: a value read back, or an output whose size depends on the data
HOST_READS = ("local_scalar_dense", "is_nonzero", "nonzero", "masked_select", "unique", "repeat_interleave",
              "equal")  # op names without their leading underscores and overload
# the CPU's shared-prefix SeqGAN rewards renumber the vocabulary in use with torch.unique; on CUDA the plain path
# is taken (text/rollout.py), so that read never happens on a GPU
CPU_ONLY = ("text/rewards.py",)  # paths below multigan/, as the frames are named


class HostReads(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.sites: collections.Counter = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func.__name__.lstrip("_").startswith(HOST_READS):  # "_unique2.default", "nonzero.default" ...
            frames = [f"{f.filename.rsplit('multigan/', 1)[-1]}:{f.lineno}" for f in traceback.extract_stack()
                      if "/multigan/" in f.filename.replace("\\", "/")]
            if not any(path in frame for frame in frames for path in CPU_ONLY):
                self.sites[(func.__name__, " <- ".join(frames[::-1][:3]))] += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("name", MODELS)
def test_training_steps_read_nothing_back_to_the_host(name):
    case = build_case(name, argparse.Namespace(batch_size=2, resolution=32, channels=1, model_dim=4, length=4096),
                      torch.device("cpu"))
    for stage in case.model.stages:
        loop = TrainerLoop(case.model, case.data, case.batch_size, torch.device("cpu"), stage)
        loop.steps(2)  # first steps may read once (one-time flags), as the log cadence does every log_every steps
        reads = HostReads()
        with reads:
            loop.steps(3)
        assert not reads.sites, f"{name}, stage {stage}: {dict(reads.sites)}"
