"""Waveforms/s of multigan's WaveGAN training step vs a plain hand-written WGAN-GP loop with the same networks, and
optionally vs a public PyTorch WaveGAN (mostafaelaraby/wavegan-pytorch) at the same setting.

    python benchmarks/wavegan_throughput.py                          # CPU default recipe size: d=8, 8192 samples
    cd /tmp && python .../benchmarks/wavegan_throughput.py --model-dim 64 --length 16384 --batch-size 64 \\
        --steps 1 --blocks 1 --warmup 0 --reference-dir /path/to/wavegan-pytorch   # the paper setting, side by side
    (its params.py makes an output/ folder in the working directory when imported)

One step = `d_steps` critic updates (WGAN-GP) + one generator update. Loops run interleaved in the same process
(alternating blocks, median of blocks):
  plain      what one writes by hand: G(z) under no_grad for the critic, D frozen (requires_grad False) for the
             generator step, the gradient penalty with autograd.grad: the same arithmetic as multigan's, so
             ours / plain is the framework's own cost (1.0 = free).
  reference  mostafaelaraby/wavegan-pytorch's networks and its train.py iteration (nearest-upsampling + conv in
             G, its default), given its checkout folder; not part of this repository.
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import torch

from multigan.audio.datasets import InMemoryAudio
from multigan.audio.wavegan import WaveGAN, WaveGANConfig
from multigan.core.phases import DataInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import TrainerLoop, device_name, sync  # noqa: E402


def random_audio(n: int, length: int) -> InMemoryAudio:
    g = torch.Generator().manual_seed(0)
    waves = torch.randint(-8000, 8000, (n, length), dtype=torch.int16, generator=g)
    return InMemoryAudio(waves, None, DataInfo("audio", (1, length), extra={"sample_rate": 16000}), "benchmark")


def wgan_gp_critic_loss(critic, real, fake, gp_weight: float) -> torch.Tensor:
    """D(G(z)) - D(x) + lambda (|grad D(x_hat)| - 1)^2, written out by hand."""
    alpha = torch.rand(real.shape[0], 1, 1, device=real.device)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    penalty = ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
    return critic(fake).mean() - critic(real).mean() + gp_weight * penalty


class Plain:
    def __init__(self, generator, discriminator, data: InMemoryAudio, args: argparse.Namespace,
                 device: torch.device, lr: float = 1e-4, latent_dim: int = 100):
        self.G, self.D = generator, discriminator
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=lr, betas=(0.5, 0.9))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr, betas=(0.5, 0.9))
        self.waves, self.batch, self.latent, self.device = data.waves, args.batch_size, latent_dim, device
        self.d_steps = args.d_steps
        self.order, self.pos = torch.randperm(len(self.waves)), 0

    def real_batch(self) -> torch.Tensor:
        if self.pos + self.batch > len(self.order):
            self.order, self.pos = torch.randperm(len(self.waves)), 0
        index = self.order[self.pos : self.pos + self.batch]
        self.pos += self.batch
        return self.waves[index].unsqueeze(1).float().div_(32768).to(self.device, non_blocking=True)

    def noise(self) -> torch.Tensor:
        return torch.rand(self.batch, self.latent, device=self.device) * 2 - 1

    def steps(self, n: int) -> None:
        for _ in range(n):
            self.G.requires_grad_(False)
            for _ in range(self.d_steps):
                self.opt_d.zero_grad(set_to_none=True)
                with torch.no_grad():
                    fake = self.G(self.noise())
                wgan_gp_critic_loss(self.D, self.real_batch(), fake, 10.0).backward()
                self.opt_d.step()
            self.G.requires_grad_(True)
            self.D.requires_grad_(False)  # G: minimise -D(G(z))
            self.opt_g.zero_grad(set_to_none=True)
            (-self.D(self.G(self.noise())).mean()).backward()
            self.opt_g.step()
            self.D.requires_grad_(True)


def reference_loop(folder: str, data: InMemoryAudio, args: argparse.Namespace, device: torch.device) -> Plain:
    """mostafaelaraby/wavegan-pytorch's networks in the same loop (its train.py iteration: the same arithmetic)."""
    sys.path.insert(0, folder)
    import models  # noqa: PLC0415  (their models.py; `from params import *` seeds and makes output/)

    generator = models.WaveGANGenerator(model_size=args.model_dim, slice_len=args.length).to(device)
    discriminator = models.WaveGANDiscriminator(model_size=args.model_dim, slice_len=args.length).to(device)
    return Plain(generator, discriminator, data, args, device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--model-dim", type=int, default=8)
    parser.add_argument("--length", type=int, default=8192)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--d-steps", type=int, default=5)
    parser.add_argument("--steps", type=int, default=3, help="steps per timed block")
    parser.add_argument("--blocks", type=int, default=5, help="timed blocks per loop (interleaved)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps per loop first (0 for minute-long steps)")
    parser.add_argument("--amp", default="none", choices=["none", "bf16"], help="multigan only: train.amp")
    parser.add_argument("--reference-dir", help="a checkout of mostafaelaraby/wavegan-pytorch to time beside ours")
    args = parser.parse_args()

    device = torch.device(args.device)
    torch.manual_seed(0)
    data = random_audio(max(256, 2 * args.batch_size), args.length)
    model = WaveGAN(WaveGANConfig(model_dim=args.model_dim, d_steps=args.d_steps), data.info).to(device)
    loops = {"plain": Plain(copy.deepcopy(model.generator), copy.deepcopy(model.discriminator), data, args, device),
             "multigan": TrainerLoop(model, data, args.batch_size, device, amp=args.amp)}
    if args.reference_dir:
        loops["reference"] = reference_loop(args.reference_dir, data, args, device)
    for loop in loops.values():  # warm-up: allocator, oneDNN primitive caches
        loop.steps(args.warmup)
    sync(device)
    timings: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(args.blocks):
        for name, loop in loops.items():
            start = time.perf_counter()
            loop.steps(args.steps)
            sync(device)
            timings[name].append((time.perf_counter() - start) / args.steps)
    seconds = {name: statistics.median(v) for name, v in timings.items()}
    print(f"device: {device_name(device)}; torch {torch.__version__}; WaveGAN d={args.model_dim}, {args.length} "
          f"samples, batch {args.batch_size}, {args.d_steps} critic updates per step; multigan amp={args.amp}")
    print(f"median of {args.blocks} interleaved blocks x {args.steps} steps")
    for name, value in seconds.items():
        print(f"  {name:<10} {value:9.3f} s/step  {args.batch_size / value:9.1f} waveforms/s (generator updates)")
    print(f"ratio multigan / plain = {seconds['plain'] / seconds['multigan']:.3f}  (framework cost; 1.0 = free)")
    if "reference" in seconds:
        print(f"speed-up multigan vs reference = {seconds['reference'] / seconds['multigan']:.2f}x")


if __name__ == "__main__":
    main()
