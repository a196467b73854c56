"""Seconds of one evaluation of a recipe's metrics on 1 and on 2 processes (gloo, 1 thread each): every rank
generates its share of the samples and extracts their features, rank 0 gathers and scores (metrics/evaluate.py).

    OMP_NUM_THREADS=1 python benchmarks/eval_scaling.py                        # dcgan_fashion: FID, KID, IS, PRDC
    python benchmarks/eval_scaling.py --recipe wavegan_digits --n-samples 2000

The generator has the recipe's networks at their seed-0 initial weights (speed does not depend on the weights).
The feature extractor and the reference statistics are built and cached first, in this process, so each timed
evaluation is what a training run pays at every `eval.every`: generation, feature extraction, gathering, scoring.
Both world sizes use per-batch sample seeds, so they score the same set; the values are printed side by side.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch
import torch.distributed as dist

from harness import device_name, on_gloo
from multigan import api
from multigan.metrics.evaluate import Evaluator
from multigan.recipe import load_recipe


def evaluator_and_model(args: argparse.Namespace):
    overrides = [f"eval.n_samples={args.n_samples}", "eval.sample_seeds=per_batch", "eval.real_floor=false"]
    if args.metrics:
        overrides.append(f"eval.metrics=[{args.metrics}]")
    overrides += args.set
    config = load_recipe(args.recipe, overrides)
    info = api.DATASETS.get(config.data_name)(config.data, args.data_root, "train").info
    torch.manual_seed(0)
    model = api.build_model(config, info, torch.device("cpu"))
    model.eval()
    context = api.eval_context(config, info, args.data_root, torch.device("cpu"))
    return Evaluator(config.eval, context), model


def timed_evaluations(rank: int, world: int, args: argparse.Namespace) -> tuple[float, float, dict[str, float]]:
    """Median seconds of an evaluation, of its shared part (generation, features, gather), and the values (run by
    harness.on_gloo on every rank)."""
    evaluator, model = evaluator_and_model(args)
    evaluator(model)  # warm-up: reference features into memory
    sharing = []  # seconds in the shared part
    samples = evaluator._samples

    def timed_samples(*a):
        start = time.perf_counter()
        result = samples(*a)
        sharing.append(time.perf_counter() - start)
        return result

    evaluator._samples = timed_samples
    seconds, values = [], {}
    for _ in range(args.repeats):
        dist.barrier()
        start = time.perf_counter()
        results = evaluator(model)
        seconds.append(time.perf_counter() - start)
        values = {name: round(value.value, 6) for name, value in results.items()}
    return statistics.median(seconds), statistics.median(sharing), values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="dcgan_fashion")
    parser.add_argument("--metrics", default="", help="comma-separated; default: the recipe's eval.metrics")
    parser.add_argument("--n-samples", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--set", nargs="*", default=[], help="more recipe overrides, e.g. eval.batch_size=500")
    parser.add_argument("--data-root", type=Path, default=Path(os.environ.get("MULTIGAN_DATA", "data")))
    args = parser.parse_args()
    torch.set_num_threads(1)
    evaluator, model = evaluator_and_model(args)  # builds and caches the extractor and the reference statistics
    print(f"device: {device_name(torch.device('cpu'))}, gloo, 1 thread per process; {args.recipe}: "
          f"{', '.join(evaluator.config.metrics)} on {args.n_samples} samples (batches of "
          f"{evaluator.config.batch_size}), features: {evaluator.config.features}; median of {args.repeats}")
    del evaluator, model
    (one, one_shared, one_values), (two, two_shared, two_values) = on_gloo(1, timed_evaluations, args), on_gloo(2, timed_evaluations, args)
    for label, total, shared, values in (("1 process", one, one_shared, one_values),
                                         ("2 processes", two, two_shared, two_values)):
        print(f"  {label:<11} {total:7.2f} s  (generation + features + gather {shared:.2f} s, scoring on rank 0 "
              f"{total - shared:.2f} s)  {values}")
    print(f"  speed-up x{one / two:.2f} (scaling efficiency {one / two / 2:.2f}); shared part x{one_shared / two_shared:.2f}")


if __name__ == "__main__":
    main()
