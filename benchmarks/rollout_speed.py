"""SeqGAN Monte-Carlo rollouts per second: the batched rollout (multigan.text.rollout.rollout) against
    loop-per-prefix  one policy pass per prefix length, all rollouts of that prefix batched (rollout_loop)
    reference        LantaoYu/SeqGAN's schedule: one pass of batch B per (rollout, prefix length)
on the oracle task's shapes (vocabulary 5000, length 20, batch 64, 16 rollouts) by default.

    python benchmarks/rollout_speed.py                     # LSTM emb/hidden 32 on the CPU
    python benchmarks/rollout_speed.py --device cuda --backbone transformer

A rollout is one completed sequence: R * B * (L - 1) of them per call. Ratios are against the reference schedule,
measured in the same run on the same device.
"""
from __future__ import annotations

import argparse
import time

import torch

from multigan.core.speed import device_description as device_name
from multigan.text.generators import GeneratorConfig, build_generator, generate
from multigan.text.rollout import rollout, rollout_loop


def reference_schedule(policy, tokens, num_rollouts, bos_id):
    return torch.stack([rollout_loop(policy, tokens, 1, bos_id)[:, 0] for _ in range(num_rollouts)], dim=1)


def rollouts_per_second(fn, policy, tokens, num_rollouts, repeats, device) -> float:
    fn(policy, tokens, num_rollouts, 0)  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn(policy, tokens, num_rollouts, 0)
    if device.type == "cuda":
        torch.cuda.synchronize()
    batch, length = tokens.shape
    return repeats * num_rollouts * batch * (length - 1) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backbone", default="lstm", choices=["lstm", "transformer"])
    parser.add_argument("--vocab", type=int, default=5000)
    parser.add_argument("--length", type=int, default=20)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rollouts", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-reference", action="store_true", help="the reference schedule is slow on a CPU")
    args = parser.parse_args()

    device = torch.device(args.device)
    torch.manual_seed(0)
    config = GeneratorConfig(backbone=args.backbone, embed_dim=32, hidden_dim=32, num_heads=2, num_layers=2)
    policy = build_generator(config, args.vocab, args.length, 0, None).to(device).eval()
    tokens = generate(policy, args.batch, args.length, 0, device=device)
    print(f"device: {device_name(device)}; {args.backbone} generator, vocabulary {args.vocab}, length {args.length}, "
          f"batch {args.batch}, {args.rollouts} rollouts ({args.rollouts * args.batch * (args.length - 1)} per call)")
    schedules = {"batched": rollout, "loop-per-prefix": rollout_loop}
    if not args.skip_reference:
        schedules["reference"] = reference_schedule
    speeds = {name: rollouts_per_second(fn, policy, tokens, args.rollouts, args.repeats, device)
              for name, fn in schedules.items()}
    baseline = speeds.get("reference", speeds["loop-per-prefix"])
    for name, speed in speeds.items():
        print(f"  {name:16s} {speed:12.0f} rollouts/s   x{speed / baseline:6.2f}")


if __name__ == "__main__":
    main()
