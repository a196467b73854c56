"""Texygen BLEU-2..5 and self-BLEU speed: multigan vs fast-bleu (C++) vs nltk, same inputs, same run.

Task: the first 1000 of Texygen's published MLE samples scored against all 10,000 COCO test captions (Texygen's
full mode), BLEU-2..5 in one pass; self-BLEU-2..5 of the same 1000 samples, then of the whole 9984-sample file.
nltk (the reference definition) is timed on a subset and extrapolated linearly, since its cost is the same for
every hypothesis. Tokenization (`texygen_tokenize`, shared by all three) is timed separately and excluded.
Times are the fastest of --repeat runs, all taken in this one process.

    python benchmarks/bleu_speed.py            # full task, ~40 s on 2 cores
    python benchmarks/bleu_speed.py --quick    # 200 hypotheses x 2000 references, a few seconds
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from fast_bleu import BLEU, SelfBLEU
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from multigan.metrics.bleu import ReferenceIndex, self_bleu_sentence_scores, texygen_tokenize

ORDERS = (2, 3, 4, 5)
WEIGHTS = {n: tuple(1.0 / n for _ in range(n)) for n in ORDERS}  # Texygen: uniform 1/n


def device_name() -> str:
    model = platform.processor() or platform.machine()
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}"


def read_tokenized(path: Path, limit: int) -> list[list[str]]:
    if not path.is_file():
        sys.exit(f"error: {path} not found; pass --data-root or set MULTIGAN_DATA to the shared data root")
    with open(path) as lines:
        return [texygen_tokenize(line) for _, line in zip(range(limit), lines)]


def best_time(fn, repeat: int):
    """(result, fastest wall time of `repeat` runs)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return result, best


def nltk_scores(references, hypotheses) -> dict[int, list[float]]:
    """nltk's sentence_bleu, all four orders in one call per hypothesis (its fastest use; Texygen calls it
    once per order, about three times slower)."""
    scores: dict[int, list[float]] = {n: [] for n in ORDERS}
    smoothing = SmoothingFunction().method1
    for hypothesis in hypotheses:
        values = sentence_bleu(references, hypothesis, [WEIGHTS[n] for n in ORDERS], smoothing_function=smoothing)
        for n, value in zip(ORDERS, values):
            scores[n].append(value)
    return scores


def nltk_texygen_seconds(references, hypotheses) -> float:
    """Wall time of nltk called as Texygen calls it: one sentence_bleu per hypothesis and order."""
    smoothing = SmoothingFunction().method1
    start = time.perf_counter()
    for hypothesis in hypotheses:
        for n in ORDERS:
            sentence_bleu(references, hypothesis, WEIGHTS[n], smoothing_function=smoothing)
    return time.perf_counter() - start


def nltk_self_scores(sentences, count: int) -> dict[int, list[float]]:
    """nltk self-BLEU of the first `count` sentences, each against all the others."""
    scores: dict[int, list[float]] = {n: [] for n in ORDERS}
    smoothing = SmoothingFunction().method1
    for i in range(count):
        others = sentences[:i] + sentences[i + 1 :]
        values = sentence_bleu(others, sentences[i], [WEIGHTS[n] for n in ORDERS], smoothing_function=smoothing)
        for n, value in zip(ORDERS, values):
            scores[n].append(value)
    return scores


def max_gap(a: dict[int, list[float]], b: dict[int, list[float]], count: int | None = None) -> float:
    return max(abs(x - y) for n in ORDERS for x, y in zip(a[n][:count], b[n][:count]))


def means(scores: dict[int, list[float]]) -> str:
    return "  ".join(f"BLEU-{n} {sum(v) / len(v):.6f}" for n, v in scores.items())


def ours_bleu(references, hypotheses) -> dict[int, list[float]]:
    return ReferenceIndex(references, max(ORDERS)).sentence_scores(hypotheses, ORDERS)


def fast_bleu_scores(references, hypotheses) -> dict[int, list[float]]:
    return BLEU(references, WEIGHTS).get_score(hypotheses)


def fast_self_scores(sentences) -> dict[int, list[float]]:
    return SelfBLEU(sentences, WEIGHTS).get_score()


def bench_bleu(references, hypotheses, nltk_subset: int, repeat: int) -> None:
    print(f"\n== BLEU-2..5: {len(hypotheses)} hypotheses x {len(references)} references ==")
    ours, ours_s = best_time(lambda: ours_bleu(references, hypotheses), repeat)
    index, build_s = best_time(lambda: ReferenceIndex(references, max(ORDERS)), repeat)
    _, score_s = best_time(lambda: index.sentence_scores(hypotheses, ORDERS), repeat)
    fast, fast_s = best_time(lambda: fast_bleu_scores(references, hypotheses), repeat)
    reference, nltk_s = best_time(lambda: nltk_scores(references, hypotheses[:nltk_subset]), 1)
    nltk_full_s = nltk_s * len(hypotheses) / nltk_subset
    texygen_subset = max(1, nltk_subset // 4)
    texygen_s = nltk_texygen_seconds(references, hypotheses[:texygen_subset]) * len(hypotheses) / texygen_subset
    print(f"nltk, Texygen's 4 calls {texygen_s:9.3f} s  (extrapolated from {texygen_subset} hypotheses)")
    print(f"nltk, 1 call x 4 weights{nltk_full_s:9.3f} s  (extrapolated from {nltk_subset} hypotheses: {nltk_s:.2f} s)")
    print(f"fast-bleu (C++)         {fast_s:9.3f} s  {means(fast)}")
    print(f"multigan                {ours_s:9.3f} s  {means(ours)}")
    print(f"  (index build {build_s:.3f} s, then scoring {score_s:.3f} s; a reused index pays only the scoring)")
    print(f"max |multigan - nltk|      over {nltk_subset} hypotheses x 4 orders: {max_gap(ours, reference):.3g}")
    print(f"max |fast-bleu - nltk|     over {nltk_subset} hypotheses x 4 orders: {max_gap(fast, reference):.3g}")
    print(f"max |multigan - fast-bleu| over {len(hypotheses)} hypotheses x 4 orders: {max_gap(ours, fast):.3g}")
    print(f"speed: multigan is {fast_s / ours_s:.1f}x fast-bleu, {nltk_full_s / ours_s:.0f}x nltk's one-call use and "
          f"{texygen_s / ours_s:.0f}x Texygen's calls (nltk extrapolated)")


def bench_self_bleu(sentences, nltk_subset: int, repeat: int) -> None:
    print(f"\n== self-BLEU-2..5: {len(sentences)} sentences, each against the other {len(sentences) - 1} ==")
    ours, ours_s = best_time(lambda: self_bleu_sentence_scores(sentences, ORDERS), repeat)
    fast, fast_s = best_time(lambda: fast_self_scores(sentences), repeat)
    print(f"fast-bleu (C++)         {fast_s:9.3f} s  {means(fast)}")
    print(f"multigan                {ours_s:9.3f} s  {means(ours)}")
    print(f"max |multigan - fast-bleu| over {len(sentences)} sentences x 4 orders: {max_gap(ours, fast):.3g}")
    print(f"speed: multigan is {fast_s / ours_s:.1f}x fast-bleu")
    if nltk_subset:
        reference, nltk_s = best_time(lambda: nltk_self_scores(sentences, nltk_subset), 1)
        nltk_full_s = nltk_s * len(sentences) / nltk_subset
        subset = f"{nltk_subset} sentences"
        print(f"nltk, 1 call x 4 weights{nltk_full_s:9.3f} s  (extrapolated from {subset}: {nltk_s:.2f} s)")
        print(f"max |multigan - nltk|      over {subset} x 4 orders: {max_gap(ours, reference, nltk_subset):.3g}")
        print(f"max |fast-bleu - nltk|     over {subset} x 4 orders: {max_gap(fast, reference, nltk_subset):.3g}")
        print(f"speed: multigan is {nltk_full_s / ours_s:.0f}x nltk (extrapolated)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 hypotheses x 2000 references, nltk on 5")
    parser.add_argument("--data-root", default=os.environ.get("MULTIGAN_DATA", "data"))
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per method; the fastest is reported")
    args = parser.parse_args()
    num_hypotheses, num_references, nltk_subset = (200, 2000, 5) if args.quick else (1000, 10000, 20)

    text = Path(args.data_root) / "text"
    start = time.perf_counter()
    references = read_tokenized(text / "test_coco.txt", num_references)
    hypotheses = read_tokenized(text / "texygen_instances" / "mle.txt", num_hypotheses)
    tokenize_s = time.perf_counter() - start
    print(f"device: {device_name()}")
    print(f"tokenized {len(references) + len(hypotheses)} lines with texygen_tokenize in {tokenize_s:.2f} s "
          "(excluded below)")
    bench_bleu(references, hypotheses, nltk_subset, args.repeat)
    bench_self_bleu(hypotheses, nltk_subset, args.repeat)
    if not args.quick:  # Texygen's full self-BLEU: a whole sample file; nltk would take hours, so it is not run
        bench_self_bleu(read_tokenized(text / "texygen_instances" / "mle.txt", 10**9), 0, 1)


if __name__ == "__main__":
    main()
