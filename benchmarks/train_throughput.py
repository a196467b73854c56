"""Images/s of multigan's DCGAN training step vs plain hand-written PyTorch loops with the same networks and batch.

    python benchmarks/train_throughput.py                      # CPU, 28-px grey (Fashion-MNIST shape)
    python benchmarks/train_throughput.py --device cuda --amp bf16 --channels-last --resolution 64 --channels 3

Baselines, run interleaved with ours in the same process (alternating blocks, median of blocks):
  plain        the loop everyone writes: G(z) under no_grad for the D step; D's weight grads are also computed
               (and thrown away) during the G step, as in pytorch/examples' dcgan.
  plain-frozen the same, with D frozen (requires_grad False) during the G step: exactly multigan's arithmetic,
               so ours / plain-frozen is the framework's own cost (1.0 = free).
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import TrainerLoop, device_name, sync  # noqa: E402

from multigan.core.phases import DataInfo  # noqa: E402
from multigan.images.datasets import InMemoryImages  # noqa: E402
from multigan.images.dcgan import DCGAN, DCGANConfig


def random_images(n: int, channels: int, resolution: int) -> InMemoryImages:
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, channels, resolution, resolution), dtype=torch.uint8, generator=g)
    info = DataInfo("image", (channels, resolution, resolution))
    return InMemoryImages(images, None, info, fingerprint="benchmark")


class Plain:
    def __init__(self, model: DCGAN, data: InMemoryImages, args: argparse.Namespace, device: torch.device, freeze: bool):
        self.G, self.D = copy.deepcopy(model.generator), copy.deepcopy(model.discriminator)
        betas = model.config.betas
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=model.config.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=model.config.lr_d, betas=betas)
        self.images, self.batch, self.latent = data.images, args.batch_size, model.config.latent_dim
        self.device, self.freeze, self.channels_last = device, freeze, args.channels_last
        self.amp = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if args.amp == "bf16" else nullcontext
        self.order, self.pos = torch.randperm(len(self.images)), 0

    def real_batch(self) -> torch.Tensor:
        if self.pos + self.batch > len(self.order):
            self.order, self.pos = torch.randperm(len(self.images)), 0
        idx = self.order[self.pos : self.pos + self.batch]
        self.pos += self.batch
        x = self.images[idx].float().div_(127.5).sub_(1.0).to(self.device, non_blocking=True)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def steps(self, n: int) -> None:
        for _ in range(n):
            real = self.real_batch()
            # D: maximise log D(x) + log(1 - D(G(z)))
            self.opt_d.zero_grad(set_to_none=True)
            with self.amp():
                with torch.no_grad():
                    fake = self.G(torch.randn(self.batch, self.latent, device=self.device))
                loss_d = F.softplus(-self.D(real)).mean() + F.softplus(self.D(fake)).mean()
            loss_d.backward()
            self.opt_d.step()
            # G: maximise log D(G(z))
            self.opt_g.zero_grad(set_to_none=True)
            if self.freeze:
                self.D.requires_grad_(False)
            with self.amp():
                loss_g = F.softplus(-self.D(self.G(torch.randn(self.batch, self.latent, device=self.device)))).mean()
            loss_g.backward()
            self.opt_g.step()
            if self.freeze:
                self.D.requires_grad_(True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--amp", default="none", choices=["none", "bf16"])
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--resolution", type=int, default=28)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20, help="steps per timed block")
    parser.add_argument("--blocks", type=int, default=5, help="timed blocks per loop (interleaved)")
    args = parser.parse_args()

    device = torch.device(args.device)
    torch.manual_seed(0)
    data = random_images(4096, args.channels, args.resolution)
    info = data.info
    model = DCGAN(DCGANConfig(), info).to(device)
    if args.channels_last:
        model.to(memory_format=torch.channels_last)
    loops = {
        "plain": Plain(model, data, args, device, freeze=False),
        "plain-frozen": Plain(model, data, args, device, freeze=True),
        "multigan": TrainerLoop(model, data, args.batch_size, device, amp=args.amp,
                                channels_last=args.channels_last),
    }
    for loop in loops.values():  # warm-up: allocator, cuDNN autotune, first-touch
        loop.steps(3)
    sync(device)
    timings: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(args.blocks):
        for name, loop in loops.items():
            start = time.perf_counter()
            loop.steps(args.steps)
            sync(device)
            timings[name].append(args.batch_size * args.steps / (time.perf_counter() - start))
    rate = {name: statistics.median(v) for name, v in timings.items()}
    print(f"device: {device_name(device)}; torch {torch.__version__}; amp={args.amp}; "
          f"channels_last={args.channels_last}; DCGAN {args.resolution}px x{args.channels}, batch {args.batch_size}")
    print(f"median of {args.blocks} interleaved blocks x {args.steps} steps (one step = 1 D + 1 G update)")
    for name, value in rate.items():
        print(f"  {name:<13} {value:9.1f} images/s")
    print(f"ratio multigan / plain-frozen = {rate['multigan'] / rate['plain-frozen']:.3f}  (framework cost; 1.0 = free)")
    print(f"ratio multigan / plain        = {rate['multigan'] / rate['plain']:.3f}")


if __name__ == "__main__":
    main()
