"""Time to quality, side by side: a metric against training wall time for reference implementations and for
multigan's recipe on the same data, the same CPU and thread count, one after the other in one run, each sampled at
marks of training wall time and scored by *our* metric on the same test split (benchmarks/ttq_tasks.py).

    python benchmarks/time_to_quality.py --task fashion --out ~/runs/ttq_fashion \
        --examples /work/.mirror/pytorch+examples/repo --pytorch-gan /work/.mirror/eriklindernoren+PyTorch-GAN/repo
    python benchmarks/time_to_quality.py --task fsdd --out ~/runs/ttq_fsdd \
        --wavegan-pytorch /work/.mirror/mostafaelaraby+wavegan-pytorch/repo     # needs `pip install pescador`
    python benchmarks/time_to_quality.py --task fashion --out ... --score-only    # re-score the marks there

Tasks (every side at its defaults; only the data, the stopping and what ttq_tasks.py states are ours to set):
  fashion  Fashion-MNIST. examples: pytorch/examples dcgan/main.py (`--dataset mnist --imageSize 64 --manualSeed 0`,
           batch 64, 2 loader workers, Adam 2e-4 / 0.5, ngf = ndf = 64; 64 px). pytorch-gan: PyTorch-GAN's
           implementations/dcgan/dcgan.py (32 px, batch 64). Ours: dcgan_fashion. Score: FID on the classifier's
           features, 10,000 generated vs the 10,000 test images; their samples resized to 28 px.
  fsdd     FSDD digits. wavegan-pytorch: mostafaelaraby/wavegan-pytorch's train.py (WGAN-GP, d = 32, batch 10,
           16 kHz). Ours: wavegan_digits (d = 8, 8 kHz). Score: FAD in the FSDD digit classifier's space, 1,000
           generated vs the 300 test clips; their samples resampled to 8 kHz and peak-normalised as our data is.
Ours is the recipe with train.steps raised so that the clock ends it: a chain of `--resume` launches with
train.time_limit at each mark (wall clock, counted from the first step, as the references' clocks are; no
evaluation while training). The references run unmodified through benchmarks/reference_runner.py (the sampling
adapter: it samples their generator at each mark, off the clock, and stops them after the last).
Ratio: the reference's quality at its last mark is the target; the time each side first reaches it (linear between
marks) — theirs / ours (> 1: ours is faster). Plots the metric against minutes.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from harness import device_name, reference_files
from ttq_tasks import TASKS, Task

HERE = Path(__file__).resolve().parent


def environment(threads: int) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), "PYTHONUNBUFFERED": "1"}


def run_reference(task: Task, side: str, repository: Path, args: argparse.Namespace) -> None:
    reference = task.references[side]
    work = args.out / side
    reference_files(repository, [str(Path(reference.script).parent)], work / "code")  # the script and its modules
    script = work / "code" / reference.script
    reference.prepare(args.data_root, work / "data", script.parent)
    fill = {"data": work / "data", "out": work / "output"}
    flags = [flag.format(**fill) for flag in reference.flags]
    command = [sys.executable, str(HERE / "reference_runner.py"), "--script", str(script), "--generator",
               reference.generator, "--latent-shape", reference.latent_shape, "--marks",
               ",".join(f"{m:g}" for m in args.marks), "--n", str(args.n), "--out", str(work / "marks"),
               *[option.format(**fill) for option in reference.runner], "--", *flags]
    print(f"{side}: {' '.join(command[2:])}", flush=True)
    with open(work / "log.txt", "wb") as log:
        subprocess.run(command, cwd=script.parent, env=environment(args.threads), stdout=log,
                       stderr=subprocess.STDOUT, check=True)


def run_ours(task: Task, args: argparse.Namespace) -> None:
    """The recipe in launches that each end at a mark (train.time_limit: the run's total training seconds)."""
    run = args.out / "ours" / "run"
    settings = ["train.steps=10000000", "train.checkpoint_every=0", "train.sample_every=0",
                "train.keep_checkpoints=100", "eval.metrics=[]", "eval.best=''"]
    for mark in args.our_marks:
        start = ["--resume", str(run)] if run.is_dir() else [task.recipe, "--out", str(run)]
        command = [sys.executable, "-m", "multigan", "train", *start, "--quiet", "--data-root", str(args.data_root),
                   "--set", *settings, f"train.time_limit={mark:g}"]
        print(f"ours: to {mark:g} s", flush=True)
        subprocess.run(command, env=environment(args.threads), check=True)


def score(task: Task, args: argparse.Namespace) -> dict[str, list[dict]]:
    """The task's metric (lower is better) for every side's marks, in the recipe's protocol."""
    from multigan import api
    from multigan.core.checkpoint import load_train_state, read_meta
    from multigan.core.sampling import generate
    from multigan.recipe import load_recipe
    from multigan.registry import DATASETS, METRICS

    config = load_recipe(task.recipe, [f"eval.metrics=[{task.metric}]", f"eval.n_samples={args.n}"])
    dataset = DATASETS.get(config.data_name)(config.data, args.data_root, "train")
    context = api.eval_context(config, dataset.info, args.data_root, torch.device("cpu"))
    metric = METRICS.get(task.metric)(config.eval, context)
    curves: dict[str, list[dict]] = {}

    def add(side: str, seconds: float, steps: int, samples: dict) -> None:  # references count optimizer.step()s
        value = metric.compute(samples)[task.metric]
        curves.setdefault(side, []).append({"seconds": seconds, "steps": steps, "value": value.value,
                                            "protocol": value.protocol})
        unit = "trainer steps" if side == "ours" else "optimizer steps"
        print(f"{side:16s} {seconds:7.1f} s  {steps:6d} {unit}  {task.metric} {value.value:.3f}", flush=True)

    for side in [s for s in args.sides if s != "ours"]:
        for path in sorted((args.out / side / "marks").glob("mark-*.pt")):
            mark = torch.load(path, weights_only=True)
            add(side, mark["seconds"], mark["steps"], task.to_batch(mark["samples"], dataset.info))
    if "ours" in args.sides:
        checkpoints = (args.out / "ours" / "run" / "checkpoints").glob("step-*")
        for folder in sorted(checkpoints, key=lambda f: int(f.name.split("-")[1])):
            _, model, _ = api.load_run(folder.parent.parent, folder.name, device="cpu")
            samples = generate(model, args.n, config.eval.seed, config.eval.batch_size)
            add("ours", load_train_state(folder)["clock_spent"], read_meta(folder)["global_step"], samples)
    return curves


def time_to_reach(curve: list[dict], target: float) -> float | None:
    """Seconds at which a curve first gets to a value <= target, linear between marks (from its first mark on)."""
    for before, after in zip([None, *curve], curve):
        if after["value"] <= target:
            if before is None:
                return after["seconds"]
            share = (before["value"] - target) / (before["value"] - after["value"])
            return before["seconds"] + share * (after["seconds"] - before["seconds"])
    return None


def report(task: Task, curves: dict[str, list[dict]], args: argparse.Namespace) -> dict:
    ours = curves.get("ours", [])
    ratios = {}
    for side, curve in curves.items():
        if side == "ours" or not curve:
            continue
        target = curve[-1]["value"]
        theirs, mine = time_to_reach(curve, target), time_to_reach(ours, target)
        at_first_mark = bool(ours) and mine == ours[0]["seconds"]  # reached by then: the ratio is a lower bound
        ratios[side] = {"target": target, "their_seconds": theirs, "our_seconds": mine,
                        "ratio": theirs / mine if mine else None, "lower_bound": at_first_mark}
        bound = ">= " if at_first_mark else ""
        reached = f"ours in {mine / 60:.2f} min: {bound}{theirs / mine:.2f}x" if mine else "ours: not reached"
        print(f"{side}: {task.metric} {target:.3f} at its last mark, first reached at {theirs / 60:.2f} min; "
              f"{reached}")
    return {"task": args.task, "recipe": task.recipe, "metric": task.metric, "n": args.n, "threads": args.threads,
            "device": device_name(torch.device("cpu")), "curves": curves, "ratios": ratios}


def plot(result: dict, target: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(5.5, 3.6), dpi=100)
    names = {"ours": f"multigan {result['recipe']}", "examples": "pytorch/examples dcgan",
             "pytorch-gan": "PyTorch-GAN dcgan", "wavegan-pytorch": "wavegan-pytorch"}
    for side, curve in result["curves"].items():
        axes.plot([p["seconds"] / 60 for p in curve], [p["value"] for p in curve], marker="o",
                  label=names.get(side, side))
    axes.set(xlabel="training wall time (min)", ylabel=f"{result['metric']} (lower is better)", yscale="log",
             title=f"{result['recipe']} and references, {result['threads']} threads")
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(target)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=sorted(TASKS), default="fashion")
    for side in sorted({side for task in TASKS.values() for side in task.references}):
        parser.add_argument(f"--{side}", type=Path, metavar="REPO", help=f"{side}: a checkout or a bare git mirror")
    parser.add_argument("--data-root", type=Path, default=Path(os.environ.get("MULTIGAN_DATA", "data")))
    parser.add_argument("--out", type=Path, required=True, help="work folder (keep it outside the repository)")
    parser.add_argument("--marks", type=lambda s: [float(v) for v in s.split(",")], default=[150, 300, 600, 1200],
                        help="the references' marks, seconds of training wall time")
    parser.add_argument("--our-marks", type=lambda s: [float(v) for v in s.split(",")],
                        help="ours' marks (default: the references' and the halves between them, from 30 s)")
    parser.add_argument("--sides", help="comma-separated (default: ours and the task's references)")
    parser.add_argument("--n", type=int, help="samples scored per mark (default: the recipe's eval.n_samples)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--score-only", action="store_true", help="score the marks already in --out")
    parser.add_argument("--plot-only", action="store_true", help="redraw the plot from --out's JSON")
    args = parser.parse_args()
    task = TASKS[args.task]
    args.sides = args.sides.split(",") if args.sides else ["ours", *task.references]
    unknown = [side for side in args.sides if side != "ours" and side not in task.references]
    if unknown:
        parser.error(f"--sides: {', '.join(unknown)} not among {', '.join(['ours', *task.references])}")
    args.n = args.n or task.n
    args.out = args.out.expanduser().resolve()
    args.data_root = args.data_root.resolve()
    if args.our_marks is None:
        halves = [m / 2 for m in args.marks] + [(a + b) / 2 for a, b in zip(args.marks, args.marks[1:])]
        args.our_marks = sorted({30.0, 60.0, *args.marks, *halves})
    return args


def main() -> None:
    args = arguments()
    task = TASKS[args.task]
    if args.plot_only:
        plot(json.loads((args.out / "time_to_quality.json").read_text()), args.out / "time_to_quality.png")
        return
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    if not args.score_only:
        for side in args.sides:
            if side == "ours":
                run_ours(task, args)
                continue
            repository = getattr(args, side.replace("-", "_"))
            if repository is None:
                raise SystemExit(f"--sides names {side}: pass --{side} (a checkout or a bare mirror)")
            run_reference(task, side, repository.resolve(), args)
    result = report(task, score(task, args), args)
    (args.out / "time_to_quality.json").write_text(json.dumps(result, indent=1))
    plot(result, args.out / "time_to_quality.png")
    print(f"wrote {args.out / 'time_to_quality.json'} and time_to_quality.png ({result['device']})")


if __name__ == "__main__":
    main()
