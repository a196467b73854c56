"""Where one training step's time goes: the plain eager fp32 loop beside multigan's trainer (defaults, or with
--switches), under torch.profiler, per step: operators dispatched, CUDA kernel launches, host-device syncs, copies
and scalar reads (`.item()`; the CPU's Adam kernels read their step counts so), host time and device time, the busiest operators of each, and the operators one loop dispatches more often
than the other. The tool for a gap that throughput.py shows but cannot explain (e.g. DCGAN on a GPU).

    python benchmarks/step_profile.py --model dcgan --device cuda --resolution 64 --channels 3 --batch-size 256
    OMP_NUM_THREADS=2 python benchmarks/step_profile.py --model dcgan --switches amp=bf16 channels_last=true

Model shapes and options as throughput.py's (the same cases).
"""
from __future__ import annotations

import argparse
import collections
import copy
import sys
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Loop, TrainerLoop, device_name, sync  # noqa: E402
from throughput import MODELS, add_case_arguments, build_case  # noqa: E402

LAUNCHES = ("cudaLaunchKernel", "cuLaunchKernel", "cudaLaunchKernelExC", "cuLaunchKernelEx")
SYNCS = ("cudaStreamSynchronize", "cudaDeviceSynchronize", "cudaEventSynchronize")  # the host waits for the GPU
READS = ("aten::_local_scalar_dense",)  # .item() of any tensor (a sync when the tensor is on the GPU)
COPIES = ("cudaMemcpyAsync", "cudaMemcpy")


def parse_switches(items: list[str]) -> dict[str, object]:
    """["amp=bf16", "channels_last=true"] -> TrainConfig fields."""
    switches: dict[str, object] = {}
    for item in items:
        key, _, value = item.partition("=")
        switches[key] = {"true": True, "false": False}.get(value.lower(), value)
    return switches


def profiled(loop: Loop, steps: int, warmup: int, device: torch.device) -> dict:
    loop.steps(warmup)
    sync(device)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        loop.steps(steps)
        sync(device)
    events = prof.events()
    ops = collections.Counter(e.name for e in events if e.name.startswith("aten::"))
    top_level = sum(1 for e in events if e.name.startswith("aten::") and
                    (e.cpu_parent is None or not e.cpu_parent.name.startswith("aten::")))
    host = sum(e.self_cpu_time_total for e in events) / 1e3 / steps
    device_ms = sum(getattr(e, "self_device_time_total", 0) for e in events
                    if getattr(e, "device_type", None) == torch.autograd.DeviceType.CUDA) / 1e3 / steps
    count = lambda names: sum(1 for e in events if e.name in names) / steps  # noqa: E731
    busiest = sorted(prof.key_averages(), key=lambda a: a.self_cpu_time_total, reverse=True)[:8]
    return {"ops": ops, "top_level": top_level / steps, "launches": count(LAUNCHES), "syncs": count(SYNCS), "reads": count(READS),
            "copies": count(COPIES), "host_ms": host, "device_ms": device_ms,
            "busiest": [(a.key, a.self_cpu_time_total / 1e3 / steps, a.count / steps) for a in busiest]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="dcgan", choices=MODELS)
    parser.add_argument("--device", default="cpu")
    add_case_arguments(parser)
    parser.add_argument("--steps", type=int, default=5, help="profiled steps per loop")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--switches", nargs="*", default=[], help="TrainConfig fields for multigan's loop")
    args = parser.parse_args()
    device = torch.device(args.device)
    case = build_case(args.model, args, device)
    switches = parse_switches(args.switches)
    loops = {"plain": case.plain(copy.deepcopy(case.model)),
             "multigan": TrainerLoop(copy.deepcopy(case.model), case.data, case.batch_size, device, case.stage,
                                     **switches)}
    print(f"device: {device_name(device)}; torch {torch.__version__}; {case.label}; batch {case.batch_size}; "
          f"multigan switches {switches or 'defaults'}; per step, over {args.steps} profiled steps")
    results = {name: profiled(loop, args.steps, args.warmup, device) for name, loop in loops.items()}
    print(f"  {'':9} {'aten ops':>9} {'top-level':>10} {'launches':>9} {'syncs':>6} {'copies':>7} {'item()':>7} "
          f"{'host ms':>9} {'device ms':>10}")
    for name, r in results.items():
        print(f"  {name:9} {sum(r['ops'].values()) / args.steps:9.0f} {r['top_level']:10.0f} {r['launches']:9.0f} "
              f"{r['syncs']:6.1f} {r['copies']:7.1f} {r['reads']:7.1f} {r['host_ms']:9.2f} {r['device_ms']:10.2f}")
    for name, r in results.items():
        print(f"  busiest operators, {name} (self host ms per step, calls per step):")
        for key, ms, calls in r["busiest"]:
            print(f"    {key:<44} {ms:8.2f} {calls:6.1f}")
    plain, ours = results["plain"]["ops"], results["multigan"]["ops"]
    difference = {op: (ours[op] - plain[op]) / args.steps for op in set(plain) | set(ours) if ours[op] != plain[op]}
    print("  operators dispatched more (+) or less (-) per step by multigan than by the plain loop:")
    for op, delta in sorted(difference.items(), key=lambda item: -abs(item[1]))[:12]:
        print(f"    {op:<44} {delta:+8.1f}")


if __name__ == "__main__":
    main()
