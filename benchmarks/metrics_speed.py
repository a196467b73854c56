"""Speed of multigan's metric layer vs pytorch-fid / torch-fidelity / prdc doing the same work in the same run.

  features/s   FID Inception (ours vs pytorch-fid's InceptionV3 vs torch-fidelity's extractor, same weights) on
               28-px grey images (grey -> RGB, resized to 299), and the domain classifier (no library equivalent)
  Frechet      2048-d Fréchet distance from fixed statistics (ours: two symmetric eigendecompositions;
               pytorch-fid: scipy sqrtm; torch-fidelity: non-symmetric eigvals)
  statistics   mean + covariance of 10k x 2048 features: our streaming RunningStats vs np.mean + np.cov
  KID / PRDC   on 2048-d features, ours vs torch-fidelity's KID and the prdc package

Ratios are baseline time / our time (> 1: ours is faster). The real Inception weights are used when
--inception-weights (or $MULTIGAN_INCEPTION_WEIGHTS) names the file, else random weights in every network (speed does
not depend on them). Times are the fastest of --repeat runs.

    python benchmarks/metrics_speed.py            # ~3 min on 2 idle cores
    python benchmarks/metrics_speed.py --quick    # smaller inputs, ~1 min
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/metrics_speed.py   # on a machine shared with
        # other busy processes: 2-thread BLAS/OpenMP then waits on the busy core (eigh ran 5x slower than 1 thread)
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from multigan.metrics.classifier import ClassifierConfig, ClassifierExtractor, DomainClassifier
from multigan.metrics.frechet import RunningStats, frechet_distance
from multigan.images.inception import FIDInceptionV3, InceptionFIDExtractor, load_fid_inception
from multigan.metrics.kid import KIDSettings, kernel_inception_distance
from multigan.metrics.prdc import precision_recall_density_coverage


def device_name() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            model = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    blas = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    return (f"{model}, {os.cpu_count()} logical CPUs, torch {torch.__version__} with {torch.get_num_threads()} "
            f"threads, OPENBLAS_NUM_THREADS={blas}")


def fastest(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def row(task: str, ours: float, baselines: dict[str, float | None], unit: str = "s") -> None:
    parts = [f"{task:<34} ours {ours:9.4f} {unit}"]
    for name, seconds in baselines.items():
        parts.append(f"{name} {seconds:9.4f} {unit} (x{seconds / ours:5.2f})" if seconds else f"{name}: n/a")
    print("  ".join(parts), flush=True)


def inception_models(weights: str) -> tuple[FIDInceptionV3, dict, str]:
    if weights:
        model, sha256 = load_fid_inception(Path(weights))
        return model, model.state_dict(), f"real weights {sha256[:8]}"
    torch.manual_seed(0)
    model = FIDInceptionV3().eval()
    return model, model.state_dict(), "RANDOM weights (no weights file given; speed is the same)"


def pytorch_fid_model(state: dict):
    import pytorch_fid.inception as reference

    reference.load_state_dict_from_url = lambda *args, **kwargs: state  # never download
    return reference.InceptionV3([3], resize_input=True, normalize_input=True, use_fid_inception=True).eval()


def torch_fidelity_model(state: dict):
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "weights.pth"
        torch.save(state, path)
        return FeatureExtractorInceptionV3("inception-v3-compat", ["2048", "logits_unbiased"],
                                           feature_extractor_weights_path=str(path))


@torch.no_grad()
def bench_extractors(args: argparse.Namespace) -> None:
    model, state, which = inception_models(args.inception_weights)
    print(f"Inception: {which}")
    grey = torch.randint(0, 256, (args.images, 1, 28, 28)).float() / 127.5 - 1  # (N, 1, 28, 28) in [-1, 1]
    ours = InceptionFIDExtractor(model, "0" * 64)
    ours_time = fastest(lambda: ours.extract(grey.split(args.batch)), args.repeat)
    unit = (grey + 1) / 2
    reference = pytorch_fid_model(state)
    pfid = fastest(lambda: [reference(b.repeat(1, 3, 1, 1)) for b in unit.split(args.batch)], args.repeat)
    try:
        fidelity_model = torch_fidelity_model(state)
        as_uint8 = torch.round(unit * 255).to(torch.uint8).repeat(1, 3, 1, 1)
        fidelity = fastest(lambda: [fidelity_model(b) for b in as_uint8.split(args.batch)], args.repeat)
    except Exception as err:  # a benchmark baseline that cannot run offline is reported, not fatal
        print(f"torch-fidelity extractor unavailable: {err}")
        fidelity = None
    n = len(grey)
    line = (f"{'Inception features/s (28px grey)':<34} ours {n / ours_time:9.1f}/s  "
            f"pytorch-fid {n / pfid:9.1f}/s (ours x{pfid / ours_time:.2f})")
    if fidelity:
        line += f"  torch-fidelity {n / fidelity:9.1f}/s (ours x{fidelity / ours_time:.2f})"
    print(line, flush=True)
    torch.manual_seed(0)
    classifier = ClassifierExtractor(DomainClassifier((1, 28, 28), 10, ClassifierConfig()).eval(), "bench", 0.0, "test")
    many = torch.randint(0, 256, (args.images * 100, 1, 28, 28)).float() / 127.5 - 1
    seconds = fastest(lambda: classifier.extract(many.split(250)), args.repeat)
    print(f"{'classifier features/s (28px grey)':<34} ours {len(many) / seconds:9.1f}/s  "
          f"(x{(len(many) / seconds) / (n / ours_time):.0f} the Inception's rate; no library equivalent)", flush=True)


def bench_statistics(args: argparse.Namespace) -> None:
    from pytorch_fid.fid_score import calculate_frechet_distance
    from torch_fidelity.metric_fid import fid_statistics_to_metric

    rng = np.random.default_rng(0)
    dim = 2048
    features_a = rng.standard_normal((args.features, dim)).astype(np.float32)
    features_b = (rng.standard_normal((args.features, dim)) * 1.1 + 0.1).astype(np.float32)
    def streamed() -> np.ndarray:
        stats = RunningStats(dim)
        for batch in np.array_split(features_a, len(features_a) // 250):  # as during extraction
            stats.update(batch)
        return stats.covariance

    ours = fastest(streamed, args.repeat)
    numpy = fastest(lambda: (features_a.mean(0), np.cov(features_a, rowvar=False)), args.repeat)
    row(f"mean+cov {args.features}x{dim} (250/batch)", ours, {"numpy, all at once": numpy})
    stats = [(f.mean(0, dtype=np.float64), np.cov(f, rowvar=False)) for f in (features_a, features_b)]
    (mu1, s1), (mu2, s2) = stats
    ours = fastest(lambda: frechet_distance(mu1, s1, mu2, s2), args.repeat)
    pfid = fastest(lambda: calculate_frechet_distance(mu1, s1, mu2, s2), 1)
    fidelity = fastest(lambda: fid_statistics_to_metric({"mu": mu1, "sigma": s1}, {"mu": mu2, "sigma": s2}, False), 1)
    row(f"Frechet distance {dim}-d", ours, {"pytorch-fid": pfid, "torch-fidelity": fidelity})
    bench_kid_prdc(args, torch.from_numpy(features_a), torch.from_numpy(features_b))


def bench_kid_prdc(args: argparse.Namespace, features_a: torch.Tensor, features_b: torch.Tensor) -> None:
    from torch_fidelity.defaults import DEFAULTS
    from torch_fidelity.metric_kid import kid_features_to_metric

    subsets = args.kid_subsets
    options = {k: v for k, v in DEFAULTS.items() if k.startswith("kid_") or k == "rng_seed"}
    options.update(kid_subsets=subsets, verbose=False)
    ours = fastest(lambda: kernel_inception_distance(features_a, features_b, KIDSettings(subsets=subsets)), 1)
    fidelity = fastest(lambda: kid_features_to_metric(features_a, features_b, **options), 1)  # both float32 kernels
    row(f"KID 2048-d, {subsets} subsets of 1000", ours, {"torch-fidelity": fidelity})
    n = args.prdc_samples
    ours = fastest(lambda: precision_recall_density_coverage(features_b[:n], features_a[:n]), 1)
    try:
        from prdc import compute_prdc
    except ImportError:
        row(f"PRDC 2048-d, {n} vs {n}", ours, {"prdc": None})
        return
    real, fake = features_b[:n].numpy(), features_a[:n].numpy()
    baseline = fastest(lambda: compute_prdc(real, fake, 5), 1)
    row(f"PRDC 2048-d, {n} vs {n}", ours, {"prdc(f32)": baseline})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller inputs")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--inception-weights", default=os.environ.get("MULTIGAN_INCEPTION_WEIGHTS", ""))
    parser.add_argument("--skip-inception", action="store_true", help="only the statistics and distances")
    args = parser.parse_args()
    args.images, args.batch = (8, 8) if args.quick else (32, 16)
    args.features = 3000 if args.quick else 10000  # > 2048: full-rank covariances
    args.kid_subsets = 5 if args.quick else 20
    args.prdc_samples = 1000 if args.quick else 5000
    print(f"device: {device_name()}")
    if not args.skip_inception:
        bench_extractors(args)
    bench_statistics(args)


if __name__ == "__main__":
    main()
