"""Samples/s of a plain eager fp32 loop vs multigan's trainer with each speed switch and all together, in one
process (interleaved blocks, median); then 1 vs 2 gloo processes (strong scaling at the same global batch).

    OMP_NUM_THREADS=2 python benchmarks/throughput.py --model dcgan
    python benchmarks/throughput.py --model dcgan --device cuda --resolution 64 --channels 3 --batch-size 256

Variants: plain (the hand-written loop of train_throughput.py: eager, fp32, plain Adam), multigan (defaults:
fused Adam), +bf16, +channels_last, +compile, all (bf16 + channels_last + compile). The scaling part runs the
trainer in W = 1 and 2 processes with one thread each and the same global batch; efficiency = rate_2 / (2 rate_1).
Only DCGAN is wired up so far.
"""
from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_throughput import Plain, device_name, random_images, sync  # noqa: E402

from multigan.core.data import BatchLoader  # noqa: E402
from multigan.core.logging import RunLogger  # noqa: E402
from multigan.core.sync_batchnorm import convert_sync_batchnorm  # noqa: E402
from multigan.core.trainer import TrainConfig, Trainer  # noqa: E402
from multigan.images.dcgan import DCGAN, DCGANConfig  # noqa: E402

SWITCHES = {
    "multigan": {},
    "+bf16": {"amp": "bf16"},
    "+channels_last": {"channels_last": True},
    "+compile": {"compile": True},
    "all": {"amp": "bf16", "channels_last": True, "compile": True},
}


class TrainerLoop:
    """The trainer's step as `fit()` runs it, without files: phases, updates, the log-time host sync."""

    def __init__(self, model: DCGAN, data, batch_size: int, device: torch.device, rank: int = 0, world: int = 1,
                 **switches):
        if switches.get("channels_last"):
            model.to(memory_format=torch.channels_last)
        config = TrainConfig(batch_size=batch_size, log_every=50, sample_every=0, checkpoint_every=0, steps=10**9,
                             **switches)
        loader = BatchLoader(data, batch_size, seed=0, device=device, rank=rank, world=world)
        self.trainer = Trainer(model, loader, config, Path("."), lambda *a: None, {}, progress=False)
        self.trainer.logger = RunLogger(Path("."), 0, progress=False, write=False)
        self.stage, self.phases = config.stage_list()[0], model.phases("adversarial")

    def steps(self, n: int) -> None:
        for _ in range(n):
            self.trainer._train_step(self.stage, self.phases)
            if self.trainer.global_step % self.trainer.config.log_every == 0:
                self.trainer.scalars.means()


def one_process(args: argparse.Namespace, device: torch.device) -> dict[str, float]:
    torch.manual_seed(0)
    data = random_images(4096, args.channels, args.resolution)
    model = DCGAN(DCGANConfig(), data.info).to(device)
    plain_args = argparse.Namespace(batch_size=args.batch_size, channels_last=False, amp="none")
    loops = {"plain": Plain(model, data, plain_args, device, freeze=False)}
    for name, switches in SWITCHES.items():
        if "compile" in switches and args.skip_compile:
            continue
        loops[name] = TrainerLoop(copy.deepcopy(model), data, args.batch_size, device, **switches)
    for loop in loops.values():  # warm-up (and compilation) outside the timed blocks
        loop.steps(3)
    sync(device)
    timings: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(args.blocks):
        for name, loop in loops.items():
            start = time.perf_counter()
            loop.steps(args.steps)
            sync(device)
            timings[name].append(args.batch_size * args.steps / (time.perf_counter() - start))
    return {name: statistics.median(v) for name, v in timings.items()}


def scaling_worker(rank: int, world: int, port: int, args: argparse.Namespace, out) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)
    data = random_images(4096, args.channels, args.resolution)
    model = convert_sync_batchnorm(DCGAN(DCGANConfig(), data.info))
    loop = TrainerLoop(model, data, args.batch_size, torch.device("cpu"), rank, world)
    loop.steps(3)
    rates = []
    for _ in range(args.blocks):
        dist.barrier()
        start = time.perf_counter()
        loop.steps(args.steps)
        dist.barrier()
        rates.append(args.batch_size * args.steps / (time.perf_counter() - start))
    if rank == 0:
        out.put(statistics.median(rates))
    dist.destroy_process_group()


def scaled_rate(world: int, args: argparse.Namespace) -> float:
    import socket

    with socket.socket() as s:  # a free localhost port
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    queue = mp.get_context("spawn").SimpleQueue()
    mp.spawn(scaling_worker, args=(world, port, args, queue), nprocs=world)
    return queue.get()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="dcgan", choices=["dcgan"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--resolution", type=int, default=28)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10, help="steps per timed block")
    parser.add_argument("--blocks", type=int, default=3, help="timed blocks per loop (interleaved)")
    parser.add_argument("--skip-compile", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    args = parser.parse_args()
    device = torch.device(args.device)
    rate = one_process(args, device)
    print(f"device: {device_name(device)}; torch {torch.__version__}; DCGAN {args.resolution}px x{args.channels}, "
          f"batch {args.batch_size}; median of {args.blocks} interleaved blocks x {args.steps} steps")
    for name, value in rate.items():
        print(f"  {name:<15} {value:9.1f} samples/s   x{value / rate['plain']:.2f} of plain")
    if args.skip_scaling or device.type != "cpu":
        return
    one, two = scaled_rate(1, args), scaled_rate(2, args)
    print(f"gloo, 1 thread per process, global batch {args.batch_size}: 1 process {one:.1f} samples/s, "
          f"2 processes {two:.1f} samples/s; scaling efficiency {two / (2 * one):.2f}")


if __name__ == "__main__":
    main()
