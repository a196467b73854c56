"""Start-up time and peak memory of image_folder at 10k and 70k files: the row cache against the decode-everything
code before it (d16eafa), and whether training reads the mapped cache as fast as rows held in memory.

    OMP_NUM_THREADS=1 python benchmarks/data_scale.py                         # 10k and 70k JPEGs, at 64 and 256 px
    OMP_NUM_THREADS=1 python benchmarks/data_scale.py --sizes 500 --resolutions 64 --json /tmp/scale.json   # a trial

A synthetic folder of N 256x256 JPEGs (smooth random colour fields plus noise, quality 90: 12-27 KB each, 4 class
subfolders) is written once under --folder-root and reused. Per (N, resolution), each in a fresh process
(data_scale_child.py), so its peak memory is its own:
  first run    empty MULTIGAN_CACHE, once per --workers (data.decode_workers): start-up s, files/s, peak memory
  second run   the same cache, mapped: start-up s and peak memory (goal: <= 5 s at 70k files)
  old code     --old-commit's image_folder from a temporary git worktree, where its expected peak fits in memory
  gather       ds.gather of random batches of 64, from the map vs the same rows copied into memory
  training     30 DCGAN steps (multigan train) with data.cache true vs false, at 64 px and N <= 10k
Peak memory: RSS = the process's ru_maxrss + its largest pool worker's (RUSAGE_CHILDREN), which counts the pages a
forked worker shares with its parent (torch, the map) twice; PSS = the process tree's proportional set size, sampled
every 0.1 s, which counts them once. The bound (1.5 x the final array + 500 MB) is checked against RSS.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data_scale_folder import SOURCE_SIDE, folder_bytes, synthetic_folder  # noqa: E402

from multigan.core.row_decode import physical_cores  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHILD = Path(__file__).resolve().parent / "data_scale_child.py"
MB = 2**20
BATCH = 64  # data_scale_child.py's gather batch
OLD_PEAK_FACTOR = 1.3  # the old code held every decoded file at full size, plus the resized copies and the list
TRAIN_RESOLUTION, TRAIN_MAX_N, TRAIN_STEPS, TRAIN_LOG_EVERY = 64, 10_000, 30, 10  # DCGAN's largest size is 64


def child(tree: Path, cache: Path, *arguments: str) -> dict:
    """One data_scale_child.py measurement with `tree` first on PYTHONPATH; its last stdout line is the result."""
    env = {**os.environ, "PYTHONPATH": str(tree), "MULTIGAN_CACHE": str(cache),
           "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    done = subprocess.run([sys.executable, str(CHILD), *arguments], cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"data_scale_child.py {' '.join(arguments)} at {tree}: exit {done.returncode}\n"
                         f"{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result.get("tree", str(tree)) != str(tree):  # a stray install or .pth file would measure other code
        raise SystemExit(f"data_scale_child.py imported multigan from {result['tree']}, not {tree}")
    return result


@contextmanager
def fresh_cache(root: Path):
    """An empty MULTIGAN_CACHE beside the folder (the cache of 70k 256-px rows is 13 GiB), removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="cache-", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def old_worktree(commit: str, needed: bool):
    """The old commit checked out into a temporary git worktree (None when no size needs it)."""
    if not needed:
        yield None
        return
    scratch = Path(tempfile.mkdtemp(prefix="scale-old-"))
    tree = scratch / "old"
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], cwd=ROOT, check=True,
                   capture_output=True)
    try:
        yield tree
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)


def old_expected_gb(n: int) -> float:
    return n * SOURCE_SIDE * SOURCE_SIDE * 3 * OLD_PEAK_FACTOR / 2**30


def train_speed(folder: Path, cache: Path, use_cache: bool, scratch: Path) -> dict:
    """Steps/s of `multigan train dcgan_yosemite` on the folder (median of its sec_per_step records after the first,
    which holds the warm-up), and the command's wall time (start-up included)."""
    out = scratch / f"run-{'cache' if use_cache else 'memory'}"
    sets = ["data.name=image_folder", f"data.path={folder}", "data.split_folders={}", "data.channels=3",
            f"data.resolution={TRAIN_RESOLUTION}", f"data.cache={str(use_cache).lower()}", f"train.steps={TRAIN_STEPS}",
            f"train.log_every={TRAIN_LOG_EVERY}", "train.sample_every=0", "train.checkpoint_every=0",
            "train.threads=1", "eval.metrics=[]"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MULTIGAN_CACHE": str(cache),
           "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    command = [sys.executable, "-m", "multigan", "train", "dcgan_yosemite", "--out", str(out), "--overwrite",
               "--quiet", "--data-root", str(folder.parent), "--set", *sets]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"multigan train (data.cache={use_cache}): exit {done.returncode}\n{done.stderr[-3000:]}")
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    seconds = [r["sec_per_step"] for r in records if r.get("kind") == "train" and "sec_per_step" in r][1:]
    shutil.rmtree(out, ignore_errors=True)
    return {"steps_per_s": 1 / statistics.median(seconds), "wall_s": wall}


def measure(n: int, resolution: int, folder: Path, args: argparse.Namespace, old_tree: Path | None) -> dict:
    """Every measurement of one (N, resolution); see the module docstring."""
    root = Path(args.folder_root)
    result: dict = {"n": n, "resolution": resolution, "array_mb": n * 3 * resolution * resolution / MB, "first": {}}
    size = ["--resolution", str(resolution)]
    for workers in args.workers[:-1]:  # the last worker count's cache stays for the later runs
        with fresh_cache(root) as cache:
            result["first"][workers] = child(ROOT, cache, "construct", str(folder), *size, "--workers", str(workers))
    last = args.workers[-1]
    with fresh_cache(root) as cache:
        result["first"][last] = child(ROOT, cache, "construct", str(folder), *size, "--workers", str(last))
        print(f"  N={n} R={resolution}: first run(s) done", flush=True)
        result["second"] = child(ROOT, cache, "construct", str(folder), *size, "--workers", str(last))
        result["gather"] = child(ROOT, cache, "gather", str(folder), *size, "--workers", str(last),
                                 "--memory-max-gb", str(args.memory_max_gb))
        if resolution != TRAIN_RESOLUTION or n > TRAIN_MAX_N:
            result["train"] = {"skipped": f"training compared at {TRAIN_RESOLUTION} px (DCGAN) and N <= {TRAIN_MAX_N}"}
        else:
            with tempfile.TemporaryDirectory(prefix="scale-runs-") as scratch:
                result["train"] = {"cache": train_speed(folder, cache, True, Path(scratch)),
                                   "memory": train_speed(folder, cache, False, Path(scratch))}
    expected = old_expected_gb(n)
    if old_tree is None or expected > args.old_max_gb:
        result["old"] = {"skipped": f"expected peak {expected:.1f} GB > --old-max-gb {args.old_max_gb:g}"}
    else:
        with fresh_cache(root) as cache:
            result["old"] = child(old_tree, cache, "construct", str(folder), *size)
    return result


def cpu_description() -> str:
    """The CPU's model name, its hardware threads and cores, this process's share, memory and load."""
    info = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "unknown CPU")
    threads = sum(line.startswith("processor") for line in info)
    cores = physical_cores()  # what data.decode_workers: 0 uses
    memory = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    usable = len(os.sched_getaffinity(0))
    return (f"{model}, {threads} threads, {cores} physical cores, {usable} usable, "
            f"{int(memory) / 2**20:.0f} GiB memory, load {os.getloadavg()[0]:.1f}")


def cell(value, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def table(title: str, header: list[str], rows: list[list[str]], notes: list[str]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    for row in [header, *rows]:
        print("  ".join(text.rjust(width) for text, width in zip(row, widths)))
    for note in dict.fromkeys(notes):  # each reason once, in order
        print(f"  {note}")


def within(result: dict, workers: list[int], bound: float, floor: float) -> str:
    """'yes', or 'NO' with the peaks (less `floor`) of the worker counts above `bound`."""
    over = [f"w{w} {result['first'][w]['rss_mb'] - floor:,.0f}" for w in workers
            if result["first"][w]["rss_mb"] - floor > bound]
    return "yes" if not over else "NO: " + ", ".join(over)


def startup_tables(results: list[dict], workers: list[int]) -> None:
    header = ["N", "R", "array MB"]
    for w in workers:
        header += [f"1st s w{w}", f"img/s w{w}", f"RSS w{w}", f"PSS w{w}"]
    first, later, notes = [], [], []
    for r in results:
        bound = 1.5 * r["array_mb"] + 500
        row = [f"{r['n']:,}", str(r["resolution"]), cell(r["array_mb"])]
        for w in workers:
            run = r["first"][w]
            row += [cell(run["startup_s"], 2), cell(r["n"] / run["startup_s"]), cell(run["rss_mb"]),
                    cell(run["pss_peak_mb"])]
        floor = r["first"][workers[-1]]["rss_import_mb"]
        first.append(row + [cell(floor), cell(bound), within(r, workers, bound, 0.0),
                            within(r, workers, bound, floor)])
        old, second = r["old"], r["second"]
        if "skipped" in old:
            notes.append(f"old code at N={r['n']:,}: skipped, {old['skipped']}")
            old_cells = ["skipped"] * 3 + ["-"] * 2
        else:
            first_rss = max(r["first"][w]["rss_mb"] for w in workers)
            old_cells = [cell(old["startup_s"], 2), cell(old["rss_mb"]), cell(old["pss_peak_mb"]),
                         cell(old["startup_s"] / second["startup_s"], 1), cell(old["rss_mb"] / first_rss, 2)]
        later.append([f"{r['n']:,}", str(r["resolution"]), cell(second["import_s"], 1), cell(second["startup_s"], 2),
                      cell(second["rss_mb"]), cell(second["pss_peak_mb"]), *old_cells])
    table("First run (empty cache): start-up s, files/s over it, peak RSS and PSS in MB per data.decode_workers; "
          "floor = RSS after importing multigan; bound = 1.5 x array + 500 MB, against peak RSS and against peak "
          "RSS - floor", header + ["floor MB", "bound MB", "RSS within", "above floor within"], first, [])
    table("Second run (cache mapped) and the old code (decodes every run), start-up without `import multigan` "
          "(import s, paid by every run); ratios: old start-up / second run's, old peak RSS / first run's (the "
          "larger of the worker counts)",
          ["N", "R", "import s", "2nd s", "2nd RSS", "2nd PSS", "old s", "old RSS", "old PSS", "s old/2nd",
           "RSS old/1st"], later, notes)


def throughput_table(results: list[dict]) -> None:
    rows, notes = [], []
    for r in results:
        gather, train = r["gather"], r["train"]
        memory = gather["memory_bps"]
        row = [f"{r['n']:,}", str(r["resolution"]), cell(gather["mapped_bps"]), cell(memory),
               cell(gather["mapped_bps"] / memory, 2) if memory else "-"]
        if gather["memory_skipped"]:
            notes.append(f"gather at N={r['n']:,} R={r['resolution']}: {gather['memory_skipped']}")
        if "skipped" in train:
            notes.append(f"training at N={r['n']:,} R={r['resolution']}: skipped, {train['skipped']}")
            row += ["-"] * 5
        else:
            cached, plain = train["cache"], train["memory"]
            row += [cell(cached["steps_per_s"], 2), cell(plain["steps_per_s"], 2),
                    cell(cached["steps_per_s"] / plain["steps_per_s"], 2), cell(cached["wall_s"], 1),
                    cell(plain["wall_s"], 1)]
        rows.append(row)
    table(f"Reading while training: gather batches/s of {BATCH} (median of interleaved blocks) and {TRAIN_STEPS} "
          "DCGAN steps (steps/s after the first log, wall s with start-up); ratio = mapped / in memory",
          ["N", "R", "gather map", "gather mem", "ratio", "train map", "train mem", "ratio", "wall map",
           "wall mem"], rows, notes)


def parse_ints(text: str) -> list[int]:
    return [int(part) for part in text.replace(",", " ").split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 70_000], help="numbers of files")
    parser.add_argument("--resolutions", type=int, nargs="+", default=[64, 256], help="data.resolution values")
    parser.add_argument("--folder-root", default="/tmp/multigan-data-scale",
                        help="where the synthetic folders (and, while measuring, the caches) live; not in the repo")
    parser.add_argument("--old-commit", default="d16eafa", help="the image_folder before the row cache")
    parser.add_argument("--old-max-gb", type=float, default=12.0, help="skip the old code above this expected peak")
    parser.add_argument("--memory-max-gb", type=float, default=8.0,
                        help="largest array copied into memory for the gather comparison")
    parser.add_argument("--workers", type=parse_ints, default=[1, 2], help="data.decode_workers of the first runs")
    parser.add_argument("--seed", type=int, default=0, help="of the synthetic images")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if Path(args.folder_root).resolve().is_relative_to(ROOT):
        raise SystemExit(f"--folder-root must be outside the repository ({ROOT}): it holds GBs of images and caches")
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    cpu = cpu_description()
    print(f"image_folder start-up at HEAD {head.strip()} (with any uncommitted change) vs {args.old_commit}; {cpu}; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset (children get 1)')}", flush=True)
    results = []
    needs_old = any(old_expected_gb(n) <= args.old_max_gb for n in args.sizes)
    with old_worktree(args.old_commit, needs_old) as old_tree:
        for n in args.sizes:
            start = time.perf_counter()
            folder = synthetic_folder(Path(args.folder_root), n, args.seed)
            print(f"  folder of {n:,} JPEGs ({folder_bytes(folder) / MB:,.0f} MB): {folder} "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
            for resolution in args.resolutions:
                results.append(measure(n, resolution, folder, args, old_tree))
    startup_tables(results, args.workers)
    throughput_table(results)
    if args.json:
        report = {"cpu": cpu, "head": head.strip(), "old_commit": args.old_commit, "results": results}
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
