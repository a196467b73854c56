"""One measurement of benchmarks/data_scale.py, in a fresh process so that its peak memory is its own.

    python benchmarks/data_scale_child.py construct FOLDER --resolution 64 --workers 2 [--no-cache]
    python benchmarks/data_scale_child.py gather FOLDER --resolution 64 --batches 300

`construct` times building `image_folder` (the registry's class, so the same call works on an older tree put first
on PYTHONPATH: keys its Config lacks, such as decode_workers before the row cache, are left out). `gather` times
`ds.gather` on random batches from the mapped cache and from the same rows copied into memory (what data.cache:
false holds, without decoding the folder again), interleaved so a slow spell hits both alike. Either prints one
JSON line, the last of its stdout. MULTIGAN_CACHE comes from the caller.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

import torch

MB = 2**20
BATCH = 64


def tree_pids(root: int) -> list[int]:
    """`root` and its descendants, from /proc/*/stat (no psutil here)."""
    parent_of = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue  # ended meanwhile
            parent_of[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])  # the name may hold spaces and ")"
    tree, grown = {root}, True
    while grown:
        more = {pid for pid, parent in parent_of.items() if parent in tree} - tree
        tree |= more
        grown = bool(more)
    return sorted(tree)


def pss_bytes(pid: int) -> int:
    """Proportional set size: pages shared with a forked worker (torch, the mapped rows) count once over the tree,
    where summing RSS would count them once per process."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class PeakPss:
    """Samples the summed PSS of this process and its pool workers in a thread until stopped; keeps the peak.
    Reading smaps_rollup walks the page tables (tens of ms for a 13 GiB map), so the thread waits 10x as long as
    its last sample took: it never takes more than a tenth of a core from the decoding it measures."""

    def __init__(self, every_s: float = 0.1):
        self.every_s, self.peak, self._stop = every_s, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            start = time.perf_counter()
            self.peak = max(self.peak, sum(pss_bytes(pid) for pid in tree_pids(os.getpid())))
            if self._stop.wait(max(self.every_s, 10 * (time.perf_counter() - start))):
                return

    def __enter__(self) -> PeakPss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def import_multigan() -> dict:
    """Imports the package (torch, torchvision, torchmetrics ...) outside the timed start-up: seconds and the RSS
    it leaves, the floor under every peak below."""
    start = time.perf_counter()
    package = importlib.import_module("multigan.images")  # registers image_folder
    seconds = time.perf_counter() - start
    return {"tree": str(Path(package.__file__).parents[2]), "import_s": seconds, "rss_import_mb": current_rss_mb(),
            "pss_import_mb": pss_bytes(os.getpid()) / MB}


def current_rss_mb() -> float:
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024 / MB


def build_dataset(folder: str, resolution: int, **options):
    """The registry's image_folder as this tree defines it; `options` its Config lacks are dropped."""
    from multigan.registry import DATASETS

    cls = DATASETS.get("image_folder")
    known = {field.name for field in dataclasses.fields(cls.Config)}
    wanted = {"path": folder, "resolution": resolution, "channels": 3, **options}
    config = cls.Config(**{key: value for key, value in wanted.items() if key in known})
    return cls(config, Path(folder).parent, "train")


def construct(args: argparse.Namespace) -> dict:
    options = {"decode_workers": args.workers, "cache": not args.no_cache}
    imported = import_multigan()
    with PeakPss() as sampler:
        start = time.perf_counter()
        dataset = build_dataset(args.folder, args.resolution, **options)
        seconds = time.perf_counter() - start
    # ru_maxrss is in KiB on Linux; RUSAGE_CHILDREN: the largest of the reaped pool workers (0 without a pool)
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {**imported, "startup_s": seconds, "rows": len(dataset), "rss_self_mb": self_kib * 1024 / MB,
            "rss_workers_mb": workers_kib * 1024 / MB, "rss_mb": (self_kib + workers_kib) * 1024 / MB,
            "pss_peak_mb": sampler.peak / MB}


def batches_per_second(dataset, images: dict[str, torch.Tensor], batches: int, blocks: int) -> dict[str, float]:
    """Median over `blocks` interleaved blocks of gather calls per second, each array in turn; one untimed block
    first (page faults of the map's first touches, allocator)."""
    generator = torch.Generator().manual_seed(0)
    per_block = max(1, batches // blocks)
    timings: dict[str, list[float]] = {name: [] for name in images}
    for block in range(blocks + 1):
        for name, array in images.items():
            dataset.images = array
            index = [torch.randint(0, len(array), (BATCH,), generator=generator) for _ in range(per_block)]
            start = time.perf_counter()
            for one in index:
                dataset.gather(one)
            if block:
                timings[name].append(per_block / (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in timings.items()}


def gather(args: argparse.Namespace) -> dict:
    imported = import_multigan()
    dataset = build_dataset(args.folder, args.resolution, decode_workers=args.workers)
    images = {"mapped": dataset.images}
    array_bytes = dataset.images.numel()
    if array_bytes <= args.memory_max_gb * 2**30:
        images["memory"] = dataset.images.clone()  # anonymous memory, as data.cache: false holds it
    result = batches_per_second(dataset, images, args.batches, args.blocks)
    reason = "" if "memory" in images else (f"in-memory copy skipped: {array_bytes / 2**30:.1f} GiB > "
                                             f"--memory-max-gb {args.memory_max_gb:g}")
    return {"tree": imported["tree"], "mapped_bps": result["mapped"], "memory_bps": result.get("memory"),
            "memory_skipped": reason}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["construct", "gather"])
    parser.add_argument("folder")
    parser.add_argument("--resolution", type=int, required=True)
    parser.add_argument("--workers", type=int, default=0, help="data.decode_workers (0: physical cores)")
    parser.add_argument("--no-cache", action="store_true", help="data.cache: false")
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--memory-max-gb", type=float, default=8.0, help="largest in-memory copy for `gather`")
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    result = construct(args) if args.what == "construct" else gather(args)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
