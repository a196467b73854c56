"""Does a refactoring change any result? Trains tiny runs of five recipes with this tree and with an earlier commit
(checked out into a temporary git worktree), then compares every tensor of their final checkpoints by value.

    python benchmarks/same_results.py --against 85f1601            # all five cases
    python benchmarks/same_results.py --against 85f1601 --case dcgan_fashion

A checkpoint's tensors (networks.safetensors, EMA copies included, and train_state.pt: optimiser moments, RNG
states, buffers) are compared as a multiset of (dtype, shape, bytes) digests, so renamed keys do not matter but any
changed value does. Needs the real datasets (MULTIGAN_DATA, else ../shared/data beside the repository). Prints one
line per case and exits 1 when any case differs.
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parents[1]
QUIET = ["train.log_every=1000", "train.sample_every=0", "eval.metrics=[]", "train.threads=1"]
CASES: dict[str, list[str]] = {
    "dcgan_fashion": ["train.steps=20", "train.checkpoint_every=0"],
    "wavegan_digits": ["train.steps=3", "train.checkpoint_every=0", "train.batch_size=8"],
    "pix2pix_facades": ["train.steps=3", "train.checkpoint_every=0", "train.batch_size=1"],
    "cyclegan_summer2winter": ["train.steps=3", "train.checkpoint_every=0", "train.batch_size=1"],
    "seqgan_oracle": ["train.stages=[{name: pretrain_g, steps: 3}, {name: pretrain_d, steps: 2}, "
                      "{name: adversarial, steps: 2}]", "train.checkpoint_every=0", "model.num_rollouts=2"],
}


def train(tree: Path, recipe: str, settings: list[str], out: Path, data_root: str) -> None:
    """`multigan train recipe` as it stands in `tree` (its own recipes and package), into `out`."""
    env = {**os.environ, "PYTHONPATH": str(tree), "MULTIGAN_DATA": data_root, "OMP_NUM_THREADS": "1"}
    sets = ["--set", *QUIET, *settings]  # one --set: older CLIs kept only the last of several
    command = [sys.executable, "-m", "multigan", "train", recipe, "--out", str(out), "--data-root", data_root, *sets]
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{recipe} at {tree}: exit {done.returncode}\n{done.stderr[-2000:]}")


def tensor_digests(run: Path) -> collections.Counter:
    """Every tensor of the run's newest checkpoint as a (dtype, shape, sha256 of its bytes) digest."""
    folder = max((run / "checkpoints").glob("step-*"))
    tensors = list(load_file(folder / "networks.safetensors").values())
    state = torch.load(folder / "train_state.pt", weights_only=True, map_location="cpu")
    tensors += list(_tensors_in(state))
    return collections.Counter((str(t.dtype), tuple(t.shape), _digest(t)) for t in tensors)


def _digest(tensor: torch.Tensor) -> str:
    flat = tensor.detach().reshape(-1).contiguous()  # 0-d tensors cannot be viewed as bytes
    return hashlib.sha256(flat.view(torch.uint8).numpy()).hexdigest() if flat.numel() else ""


def _tensors_in(obj):
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _tensors_in(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from _tensors_in(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, help="the commit before the change")
    parser.add_argument("--case", action="append", choices=sorted(CASES), help="default: every case")
    args = parser.parse_args()
    data_root = os.environ.get("MULTIGAN_DATA") or str((ROOT.parent / "shared" / "data").resolve())
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    print(f"this tree (HEAD {head.strip()}, with any uncommitted change) against {args.against}; data {data_root}")
    failed = False
    with tempfile.TemporaryDirectory() as scratch:
        old = Path(scratch) / "old"
        subprocess.run(["git", "worktree", "add", "--detach", str(old), args.against], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            for case in args.case or sorted(CASES):
                digests = []
                for label, tree in (("old", old), ("new", ROOT)):
                    out = Path(scratch) / f"{case}-{label}"
                    train(tree, case, CASES[case], out, data_root)
                    digests.append(tensor_digests(out))
                same = digests[0] == digests[1]
                failed |= not same
                count = sum(digests[0].values())
                print(f"{case:24s} {'same' if same else 'DIFFERENT'}: {count} tensors "
                      f"({sum((digests[0] & digests[1]).values())} equal by value)")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, capture_output=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
