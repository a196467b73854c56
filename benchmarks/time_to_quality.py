"""Time to quality, side by side: FID against training wall time for the reference DCGAN implementations and for
multigan's `dcgan_fashion`, on Fashion-MNIST, the same CPU and thread count, one after the other in one run, each
sampled at marks of training wall time and scored by *our* metric on the same test split.

    python benchmarks/time_to_quality.py --examples /work/.mirror/pytorch+examples/repo \
        --pytorch-gan /work/.mirror/eriklindernoren+PyTorch-GAN/repo --out ~/runs/ttq    # ~1.3 h at 20-min marks
    python benchmarks/time_to_quality.py ... --marks 60,120 --score-only    # re-score existing marks

Sides (each at its own defaults; only the data and the stopping are ours to set):
  examples     pytorch/examples dcgan/main.py: `--dataset mnist --imageSize 64 --manualSeed 0`, its other defaults
               (batch 64, 2 loader workers, Adam 2e-4 / 0.5, ngf = ndf = 64): 64 px outputs
  pytorch-gan  PyTorch-GAN implementations/dcgan/dcgan.py at its defaults (32 px, batch 64, Adam 2e-4 / (0.5, 0.999))
  ours         `multigan train dcgan_fashion` with train.steps raised so that the clock, not the step count, ends it:
               a chain of `--resume` launches with train.time_limit at each mark (wall clock, counted from the first
               step, as the references' clocks are; evaluation off while training)
The references run unmodified through benchmarks/reference_runner.py (the sampling adapter: it samples their
generator at each mark, the sampling off the clock, and stops them after the last). Fashion-MNIST reaches them
through their MNIST loader: its four IDX files, decompressed, under MNIST's file names in a temporary data folder
(the same format; torchvision's MNIST finds them and downloads nothing). Their 64 / 32 px samples are resized to
28 px (bilinear, antialiased) for scoring.

Score: FID in `dcgan_fashion`'s protocol (features of the Fashion-MNIST classifier, 10,000 generated vs the 10,000
test images; the floor, real train vs test, is printed). Ratio: the reference's quality at its last mark is the
target; the time each side first reaches it (linear between marks) — theirs ÷ ours. Plots FID against minutes.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from harness import device_name

HERE = Path(__file__).resolve().parent
FASHION_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte")
# side: (script inside the reference, expression for G in its frame, one latent's shape, its flags)
REFERENCES = {
    "examples": ("dcgan/main.py", "netG", "100,1,1", ["--dataset", "mnist", "--dataroot", "{data}/examples",
                                                      "--imageSize", "64", "--manualSeed", "0", "--outf", "{out}"]),
    "pytorch-gan": ("implementations/dcgan/dcgan.py", "generator", "100", []),  # it reads ../../data/mnist
}


def fashion_as_mnist(data_root: Path, target: Path) -> None:
    """Fashion-MNIST's IDX files, decompressed, where torchvision's MNIST(root=target) looks for its own."""
    raw = target / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name in FASHION_FILES:
        if not (raw / name).is_file():
            with gzip.open(data_root / "fashion_mnist" / f"{name}.gz") as source, open(raw / name, "wb") as out:
                shutil.copyfileobj(source, out)


def checkout(repository: Path, path: str, work: Path) -> Path:
    """`path` of a checkout or a bare mirror, copied under `work` (the reference's files are never in this repo)."""
    work.mkdir(parents=True, exist_ok=True)
    if (repository / "HEAD").is_file() and not (repository / path).exists():  # a bare mirror
        archive = subprocess.run(["git", f"--git-dir={repository}", "archive", "HEAD", str(Path(path).parent)],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(work)], input=archive, check=True)
    else:
        target = work / Path(path).parent
        target.mkdir(parents=True, exist_ok=True)
        shutil.copytree(repository / Path(path).parent, target, dirs_exist_ok=True)
    return work / path


def environment(threads: int) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), "PYTHONUNBUFFERED": "1"}


def run_reference(side: str, repository: Path, args: argparse.Namespace) -> None:
    script_path, generator, latent, flags = REFERENCES[side]
    work = args.out / side
    work.mkdir(parents=True, exist_ok=True)
    script = checkout(repository, script_path, work / "code")
    if side == "pytorch-gan":
        fashion_as_mnist(args.data_root, work / "code" / "data" / "mnist")  # ../../data/mnist from its folder
    else:
        fashion_as_mnist(args.data_root, work / "data" / "examples")
    flags = [flag.format(data=work / "data", out=work / "output") for flag in flags]
    command = [sys.executable, str(HERE / "reference_runner.py"), "--script", str(script), "--generator", generator,
               "--latent-shape", latent, "--marks", ",".join(f"{m:g}" for m in args.marks), "--n", str(args.n),
               "--out", str(work / "marks"), "--", *flags]
    print(f"{side}: {' '.join(command[2:])}", flush=True)
    with open(work / "log.txt", "wb") as log:
        subprocess.run(command, cwd=script.parent, env=environment(args.threads), stdout=log,
                       stderr=subprocess.STDOUT, check=True)


def run_ours(args: argparse.Namespace) -> None:
    """dcgan_fashion in launches that each end at a mark (train.time_limit: the run's total training seconds)."""
    run = args.out / "ours" / "run"
    settings = ["train.steps=10000000", "train.checkpoint_every=0", "train.sample_every=0",
                "train.keep_checkpoints=100", "eval.metrics=[]", "eval.best=''"]
    for mark in args.our_marks:
        start = ["--resume", str(run)] if run.is_dir() else ["dcgan_fashion", "--out", str(run)]
        command = [sys.executable, "-m", "multigan", "train", *start, "--quiet", "--data-root", str(args.data_root),
                   "--set", *settings, f"train.time_limit={mark:g}"]
        print(f"ours: to {mark:g} s", flush=True)
        subprocess.run(command, env=environment(args.threads), check=True)


def score(args: argparse.Namespace) -> dict[str, list[dict]]:
    """FID of every side's marks, in dcgan_fashion's protocol."""
    from multigan import api
    from multigan.core.checkpoint import load_train_state, read_meta
    from multigan.core.sampling import generate
    from multigan.recipe import load_recipe
    from multigan.registry import DATASETS, METRICS

    config = load_recipe("dcgan_fashion", ["eval.metrics=[fid]"])
    dataset = DATASETS.get(config.data_name)(config.data, args.data_root, "train")
    context = api.eval_context(config, dataset.info, args.data_root, torch.device("cpu"))
    fid = METRICS.get("fid")(config.eval, context)
    size = dataset.info.shape[-1]
    curves: dict[str, list[dict]] = {}
    for side in [s for s in args.sides if s != "ours"]:
        for path in sorted((args.out / side / "marks").glob("mark-*.pt")):
            mark = torch.load(path, weights_only=True)
            images = F.interpolate(mark["samples"], size=(size, size), mode="bilinear", antialias=True).clamp(-1, 1)
            value = fid.compute({"image": images})["fid"]
            curves.setdefault(side, []).append({"seconds": mark["seconds"], "steps": mark["steps"],
                                                "fid": value.value, "protocol": value.protocol})
            print(f"{side} {mark['seconds']:7.1f} s  {mark['steps']:6d} optimizer steps  FID {value.value:.2f}")
    if "ours" in args.sides:
        for folder in sorted((args.out / "ours" / "run" / "checkpoints").glob("step-*")):
            _, model, _ = api.load_run(folder.parent.parent, folder.name, device="cpu")
            seconds = load_train_state(folder)["clock_spent"]
            samples = generate(model, args.n, config.eval.seed, config.eval.batch_size)
            value = fid.compute(samples)["fid"]
            step = read_meta(folder)["global_step"]
            curves.setdefault("ours", []).append({"seconds": seconds, "steps": step, "fid": value.value,
                                                  "protocol": value.protocol})
            print(f"ours {seconds:7.1f} s  {step:6d} steps  FID {value.value:.2f}")
    return curves


def time_to_reach(curve: list[dict], target: float) -> float | None:
    """Seconds at which a curve first gets to FID <= target, linear between marks (from its first mark on)."""
    for before, after in zip([None, *curve], curve):
        if after["fid"] <= target:
            if before is None:
                return after["seconds"]
            share = (before["fid"] - target) / (before["fid"] - after["fid"])
            return before["seconds"] + share * (after["seconds"] - before["seconds"])
    return None


def report(curves: dict[str, list[dict]], args: argparse.Namespace) -> dict:
    ours = curves.get("ours", [])
    ratios = {}
    for side, curve in curves.items():
        if side == "ours" or not curve:
            continue
        target = curve[-1]["fid"]
        theirs, mine = time_to_reach(curve, target), time_to_reach(ours, target)
        ratios[side] = {"target_fid": target, "their_seconds": theirs, "our_seconds": mine,
                        "ratio": theirs / mine if mine else None}
        reached = f"ours {mine / 60:.2f} min, ratio {theirs / mine:.2f}x" if mine else "ours: not reached"
        print(f"{side}: FID {target:.2f} at its last mark, first reached at {theirs / 60:.2f} min; {reached}")
    return {"device": device_name(torch.device("cpu")), "threads": args.threads, "curves": curves, "ratios": ratios}


def plot(result: dict, target: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(5.5, 3.6), dpi=100)
    for side, curve in result["curves"].items():
        axes.plot([p["seconds"] / 60 for p in curve], [p["fid"] for p in curve], marker="o", label=side)
    axes.set(xlabel="training wall time (min)", ylabel="FID (Fashion-MNIST classifier features)", yscale="log",
             title=f"DCGAN on Fashion-MNIST, {result['threads']} threads")
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(target)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=Path, help="pytorch/examples checkout or bare git mirror")
    parser.add_argument("--pytorch-gan", type=Path, help="PyTorch-GAN checkout or bare git mirror")
    parser.add_argument("--data-root", type=Path, default=Path(os.environ.get("MULTIGAN_DATA", "data")))
    parser.add_argument("--out", type=Path, required=True, help="work folder (keep it outside the repository)")
    parser.add_argument("--marks", type=lambda s: [float(v) for v in s.split(",")], default=[150, 300, 600, 1200],
                        help="the references' marks, seconds of training wall time")
    parser.add_argument("--our-marks", type=lambda s: [float(v) for v in s.split(",")],
                        help="ours' marks (default: the references' and the halves between them, from 30 s)")
    parser.add_argument("--sides", default="ours,examples,pytorch-gan")
    parser.add_argument("--n", type=int, default=10000, help="samples scored per mark")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--score-only", action="store_true", help="score the marks already in --out")
    args = parser.parse_args()
    args.sides = args.sides.split(",")
    args.out = args.out.expanduser().resolve()
    args.data_root = args.data_root.resolve()
    if args.our_marks is None:
        halves = [m / 2 for m in args.marks] + [(a + b) / 2 for a, b in zip(args.marks, args.marks[1:])]
        args.our_marks = sorted({30.0, 60.0, *args.marks, *halves})
    return args


def main() -> None:
    args = arguments()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    if not args.score_only:
        repositories = {"examples": args.examples, "pytorch-gan": args.pytorch_gan}
        for side in args.sides:
            if side == "ours":
                run_ours(args)
            elif repositories.get(side) is None:
                raise SystemExit(f"--sides names {side}: pass --{side} (a checkout or a bare mirror)")
            else:
                run_reference(side, repositories[side].resolve(), args)
    result = report(score(args), args)
    (args.out / "time_to_quality.json").write_text(json.dumps(result, indent=1))
    plot(result, args.out / "time_to_quality.png")
    print(f"wrote {args.out / 'time_to_quality.json'} and time_to_quality.png ({result['device']})")


if __name__ == "__main__":
    main()
