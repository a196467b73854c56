"""Images/s of multigan's pix2pix and CycleGAN training steps vs plain hand-written PyTorch loops with the same
networks, batch and per-batch jitter, run interleaved in one process (alternating blocks, median of blocks).

    python benchmarks/translation_throughput.py                                  # CPU, 256 px pix2pix, 128 px CycleGAN
    python benchmarks/translation_throughput.py --models cyclegan --resolution 256 --batch-size 1
    python benchmarks/translation_throughput.py --device cuda --amp bf16 --channels-last --batch-size 8

The plain loops are what one writes by hand after the papers' code: one generator forward per step, G updated
with the critics frozen (requires_grad False), then the critics on the detached fakes (CycleGAN: through the same
image pools). ours / plain is the framework's own cost (1.0 = free).
"""
from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
from torch import nn

from multigan.core.speed import autocast
from multigan.core.phases import DataInfo
from multigan.images.cyclegan import CycleGAN, CycleGANConfig
from multigan.images.pix2pix import Pix2Pix, Pix2PixConfig
from multigan.images.translation_data import random_jitter
from harness import TrainerLoop, device_name, sync


class RandomDomains:
    """Random uint8 images in two domains, jittered on the device like the real datasets."""

    def __init__(self, keys: tuple[str, str], n: int, resolution: int, load_size: int, paired: bool):
        g = torch.Generator().manual_seed(0)
        self.domains = {k: torch.randint(0, 256, (n, 3, resolution, resolution), dtype=torch.uint8, generator=g)
                        for k in keys}
        self.keys, self.load_size, self.paired = keys, load_size, paired
        self.info = DataInfo("image", (3, resolution, resolution),
                             extra={"task": "paired" if paired else "unpaired", "direction": "AtoB"})

    def __len__(self) -> int:
        return len(self.domains[self.keys[0]])

    def gather(self, index: torch.Tensor) -> dict[str, torch.Tensor]:
        return {k: v[index].float().div_(127.5).sub_(1.0) for k, v in self.domains.items()}

    def augment(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if self.paired:  # one crop for both sides
            both = random_jitter(torch.cat([batch[k] for k in self.keys], 1), self.load_size, True)
            return dict(zip(self.keys, both.chunk(2, dim=1)))
        return {k: random_jitter(v, self.load_size, True) for k, v in batch.items()}


class PlainLoop:
    """Shared plumbing of the hand-written loops: data, optimisers, freezing, the step."""

    def __init__(self, generators: list[nn.Module], critics: list[nn.Module], data: RandomDomains,
                 args: argparse.Namespace, device: torch.device):
        self.generators, self.critics = generators, critics
        self.opt_g = torch.optim.Adam([p for g in generators for p in g.parameters()], lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam([p for d in critics for p in d.parameters()], lr=2e-4, betas=(0.5, 0.999))
        self.data, self.batch, self.device, self.args = data, args.batch_size, device, args

    def real_batch(self) -> dict[str, torch.Tensor]:
        index = torch.randint(len(self.data), (self.batch,))
        batch = {k: v.to(self.device) for k, v in self.data.gather(index).items()}
        batch = self.data.augment(batch)
        if self.args.channels_last:
            batch = {k: v.contiguous(memory_format=torch.channels_last) for k, v in batch.items()}
        return batch

    def steps(self, n: int) -> None:
        for _ in range(n):
            batch = self.real_batch()
            for critic in self.critics:
                critic.requires_grad_(False)
            self.opt_g.zero_grad(set_to_none=True)
            with autocast(self.device, self.args.amp):
                loss_g, fakes = self.generator_loss(batch)
            loss_g.backward()
            self.opt_g.step()
            for critic in self.critics:
                critic.requires_grad_(True)
            self.opt_d.zero_grad(set_to_none=True)
            with autocast(self.device, self.args.amp):
                loss_d = self.critic_loss(batch, fakes)
            loss_d.backward()
            self.opt_d.step()


class PlainPix2Pix(PlainLoop):
    def __init__(self, model: Pix2Pix, *rest):
        self.G, self.D = copy.deepcopy(model.generator), copy.deepcopy(model.discriminator)
        super().__init__([self.G], [self.D], *rest)
        self.bce = nn.BCEWithLogitsLoss()

    def generator_loss(self, batch):
        x, y = batch["source"], batch["target"]
        fake = self.G(x)
        d_fake = self.D(torch.cat([x, fake], 1))
        loss = self.bce(d_fake, torch.ones_like(d_fake)) + 100.0 * (fake - y).abs().mean()
        return loss, fake.detach()

    def critic_loss(self, batch, fake):
        x, y = batch["source"], batch["target"]
        d_real, d_fake = self.D(torch.cat([x, y], 1)), self.D(torch.cat([x, fake], 1))
        return 0.5 * (self.bce(d_real, torch.ones_like(d_real)) + self.bce(d_fake, torch.zeros_like(d_fake)))


class PlainCycleGAN(PlainLoop):
    def __init__(self, model: CycleGAN, *rest):
        self.G_ab, self.G_ba = copy.deepcopy(model.gen_ab), copy.deepcopy(model.gen_ba)
        self.D_a, self.D_b = copy.deepcopy(model.disc_a), copy.deepcopy(model.disc_b)
        self.pool_a, self.pool_b = copy.deepcopy(model.pool_a), copy.deepcopy(model.pool_b)
        super().__init__([self.G_ab, self.G_ba], [self.D_a, self.D_b], *rest)

    def generator_loss(self, batch):
        a, b = batch["a"], batch["b"]
        mse = lambda logits, target: ((logits - target) ** 2).mean()  # noqa: E731
        fake_b, fake_a = self.G_ab(a), self.G_ba(b)
        loss = mse(self.D_b(fake_b), 1.0) + mse(self.D_a(fake_a), 1.0)
        loss = loss + 10.0 * ((self.G_ba(fake_b) - a).abs().mean() + (self.G_ab(fake_a) - b).abs().mean())
        loss = loss + 5.0 * ((self.G_ab(b) - b).abs().mean() + (self.G_ba(a) - a).abs().mean())
        return loss, (fake_a.detach(), fake_b.detach())

    def critic_loss(self, batch, fakes):
        fake_a, fake_b = fakes
        mse = lambda logits, target: ((logits - target) ** 2).mean()  # noqa: E731
        loss_b = 0.5 * (mse(self.D_b(batch["b"]), 1.0) + mse(self.D_b(self.pool_b(fake_b)), 0.0))
        loss_a = 0.5 * (mse(self.D_a(batch["a"]), 1.0) + mse(self.D_a(self.pool_a(fake_a)), 0.0))
        return loss_a + loss_b


def build(name: str, args: argparse.Namespace, device: torch.device):
    if name == "pix2pix":
        resolution = args.resolution or 256
        data = RandomDomains(("source", "target"), 64, resolution, resolution * 286 // 256, paired=True)
        model = Pix2Pix(Pix2PixConfig(), data.info)
        plain = PlainPix2Pix
        label = f"pix2pix U-Net-{resolution} + 70x70 PatchGAN"
    else:
        resolution = args.resolution or 128
        data = RandomDomains(("a", "b"), 64, resolution, resolution * 286 // 256, paired=False)
        blocks = 9 if resolution >= 256 else 6
        model = CycleGAN(CycleGANConfig(generator=f"resnet_{blocks}"), data.info)
        plain = PlainCycleGAN
        label = f"CycleGAN 2 x ResNet-{blocks} + 2 x 70x70 PatchGAN at {resolution} px"
    model = model.to(device)
    if args.channels_last:
        model.to(memory_format=torch.channels_last)
    ours = TrainerLoop(model, data, args.batch_size, device, amp=args.amp, channels_last=args.channels_last)
    return label, {"plain": plain(model, data, args, device), "multigan": ours}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="pix2pix,cyclegan")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--amp", default="none", choices=["none", "bf16"])
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--resolution", type=int, default=0, help="0: 256 for pix2pix, 128 for CycleGAN")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--steps", type=int, default=5, help="steps per timed block")
    parser.add_argument("--blocks", type=int, default=5, help="timed blocks per loop (interleaved)")
    args = parser.parse_args()
    device = torch.device(args.device)
    print(f"device: {device_name(device)}; torch {torch.__version__}; amp={args.amp}; "
          f"channels_last={args.channels_last}; batch {args.batch_size}")
    for name in args.models.split(","):
        torch.manual_seed(0)
        label, loops = build(name, args, device)
        for loop in loops.values():  # warm-up: allocator, cuDNN autotune, first touch
            loop.steps(2)
        sync(device)
        timings: dict[str, list[float]] = {key: [] for key in loops}
        for _ in range(args.blocks):
            for key, loop in loops.items():
                start = time.perf_counter()
                loop.steps(args.steps)
                sync(device)
                timings[key].append(args.batch_size * args.steps / (time.perf_counter() - start))
        rate = {key: statistics.median(v) for key, v in timings.items()}
        print(f"{label}: median of {args.blocks} interleaved blocks x {args.steps} steps")
        for key, value in rate.items():
            print(f"  {key:<9} {value:8.2f} images/s  ({1 / value * args.batch_size:.3f} s/step)")
        print(f"  ratio multigan / plain = {rate['multigan'] / rate['plain']:.3f}  (framework cost; 1.0 = free)")


if __name__ == "__main__":
    main()
