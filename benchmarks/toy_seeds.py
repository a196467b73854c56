"""S seeds of the toy GAN (PacGAN's G 4 x 400 BatchNorm-ReLU, D 3 x 200 maxout-5, batch 100, Adam) trained as S
separate models, or as one model whose every weight is stacked over the seeds (S, ...) and whose layers are grouped
matrix products (torch.baddbmm): the same arithmetic per seed, far fewer and larger kernels.

    python benchmarks/toy_seeds.py --seeds 8 --threads 1

prints the seconds per training step (one D and one G update of every seed) of both, their ratio, and how far the
stacked model's weights are from the separate models' after a few float64 steps from the same weights and noise
(rounding only: a grouped product sums in another order). Adam is elementwise, so one Adam over the stacked weights
is S Adams; each seed's loss is its own batch mean and the seeds' losses are summed, so no gradient crosses seeds.
BatchNorm normalises each seed's batch alone; running statistics (used only for sampling) are not kept here.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import device_name  # noqa: E402
from multigan.core.phases import DataInfo  # noqa: E402
from multigan.points.toygan import Maxout, ToyGAN, ToyGANConfig  # noqa: E402

INFO = DataInfo("points", (2,), 0, [], {"bounds": [-4.0, 4.0, -4.0, 4.0]})


def grid_batch(seeds: int, batch: int, generator: torch.Generator) -> Tensor:
    """(S, B, 2) points of the 25-mode grid, sigma 0.05."""
    modes = torch.cartesian_prod(torch.arange(-4.0, 5.0, 2.0), torch.arange(-4.0, 5.0, 2.0))
    index = torch.randint(len(modes), (seeds, batch), generator=generator)
    return modes[index] + 0.05 * torch.randn(seeds, batch, 2, generator=generator)


class StackedLinear(nn.Module):
    """S linear layers as one: x (S, B, in) -> (S, B, out)."""

    def __init__(self, layers: list[nn.Linear]):
        super().__init__()
        self.weight = nn.Parameter(torch.stack([layer.weight.detach() for layer in layers]).transpose(1, 2).clone())
        bias = [layer.bias for layer in layers]
        self.bias = nn.Parameter(torch.stack([b.detach() for b in bias])[:, None].clone()) if bias[0] is not None \
            else None

    def forward(self, x: Tensor) -> Tensor:
        if self.bias is None:
            return torch.bmm(x, self.weight)  # (S, B, out)
        return torch.baddbmm(self.bias, x, self.weight)


class StackedBatchNorm(nn.Module):
    """Training-mode BatchNorm1d of each seed's batch: x (S, B, C), statistics over B."""

    def __init__(self, norms: list[nn.BatchNorm1d]):
        super().__init__()
        self.weight = nn.Parameter(torch.stack([n.weight.detach() for n in norms])[:, None].clone())  # (S, 1, C)
        self.bias = nn.Parameter(torch.stack([n.bias.detach() for n in norms])[:, None].clone())
        self.eps = norms[0].eps

    def forward(self, x: Tensor) -> Tensor:
        var, mean = torch.var_mean(x, dim=1, keepdim=True, unbiased=False)  # (S, 1, C)
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias


def stacked(modules: list[nn.Sequential]) -> nn.Sequential:
    """The layers of S identical Sequentials (Linear, BatchNorm1d, ReLU, Maxout) as one stacked Sequential."""
    layers: list[nn.Module] = []
    for parts in zip(*modules):
        if isinstance(parts[0], nn.Linear):
            layers.append(StackedLinear(list(parts)))
        elif isinstance(parts[0], nn.BatchNorm1d):
            layers.append(StackedBatchNorm(list(parts)))
        elif isinstance(parts[0], Maxout):
            layers.append(StackedMaxout(list(parts)))
        else:
            layers.append(parts[0])  # ReLU
    return nn.Sequential(*layers)


class StackedMaxout(nn.Module):
    def __init__(self, units: list[Maxout]):
        super().__init__()
        self.linear, self.width, self.pieces = StackedLinear([u.linear for u in units]), units[0].width, units[0].pieces

    def forward(self, x: Tensor) -> Tensor:
        s, b, _ = x.shape
        return self.linear(x).view(s, b, self.width, self.pieces).amax(dim=3)  # (S, B, width)


class Separate:
    """S ToyGANs, each with its two Adams, stepped one after the other."""

    def __init__(self, models: list[ToyGAN], noise: torch.Generator, batch: int):
        self.models, self.noise, self.batch = models, noise, batch
        self.adams = [m.optimizers() for m in models]

    def step(self, real: Tensor, z_d: Tensor, z_g: Tensor) -> None:
        for s, (model, adams) in enumerate(zip(self.models, self.adams)):
            g, d = model.generator, model.discriminator
            adams["discriminator"].zero_grad(set_to_none=True)
            with torch.no_grad():
                fake = g(z_d[s])
            (F.softplus(-d(real[s])).mean() + F.softplus(d(fake)).mean()).backward()
            adams["discriminator"].step()
            adams["generator"].zero_grad(set_to_none=True)
            d.requires_grad_(False)
            F.softplus(-d(g(z_g[s]))).mean().backward()
            d.requires_grad_(True)
            adams["generator"].step()

    def steps(self, n: int) -> None:
        for _ in range(n):
            self.step(*draws(len(self.models), self.batch, self.noise))


class Stacked:
    """The same S models as one: stacked weights, grouped products, one Adam per player."""

    def __init__(self, models: list[ToyGAN], noise: torch.Generator, batch: int):
        self.generator = stacked([m.generator.main for m in models])
        self.discriminator = stacked([m.discriminator.main for m in models])
        c = models[0].config
        self.adam_g = torch.optim.Adam(self.generator.parameters(), lr=c.lr_g, betas=c.betas)
        self.adam_d = torch.optim.Adam(self.discriminator.parameters(), lr=c.lr_d, betas=c.betas)
        self.seeds, self.noise, self.batch = len(models), noise, batch

    def step(self, real: Tensor, z_d: Tensor, z_g: Tensor) -> None:
        self.adam_d.zero_grad(set_to_none=True)
        with torch.no_grad():
            fake = self.generator(z_d)  # (S, B, 2)
        d_real, d_fake = self.discriminator(real)[..., 0], self.discriminator(fake)[..., 0]  # (S, B)
        (F.softplus(-d_real).mean(dim=1) + F.softplus(d_fake).mean(dim=1)).sum().backward()  # a sum of S losses
        self.adam_d.step()
        self.adam_g.zero_grad(set_to_none=True)
        self.discriminator.requires_grad_(False)
        F.softplus(-self.discriminator(self.generator(z_g))[..., 0]).mean(dim=1).sum().backward()
        self.discriminator.requires_grad_(True)
        self.adam_g.step()

    def steps(self, n: int) -> None:
        for _ in range(n):
            self.step(*draws(self.seeds, self.batch, self.noise))


def draws(seeds: int, batch: int, noise: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    """A real batch and D's and G's noise for every seed: (S, B, 2) each."""
    return grid_batch(seeds, batch, noise), torch.randn(seeds, batch, 2, generator=noise), \
        torch.randn(seeds, batch, 2, generator=noise)


def build(seeds: int, maxout: int) -> list[ToyGAN]:
    models = []
    for seed in range(seeds):
        torch.manual_seed(seed)
        models.append(ToyGAN(ToyGANConfig(maxout=maxout), INFO).train())
    return models


def largest_difference(seeds: int, maxout: int, batch: int, steps: int = 3) -> float:
    """Both built in float64 from the same weights, fed the same batches and noise: the largest |weight difference|
    of G and D after `steps`. (In float32 Adam's normalised step turns rounding in near-zero gradients into
    differences of up to ~lr, which hides whether the arithmetic is the same.)"""
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        separate = Separate(build(seeds, maxout), torch.Generator(), batch)
        together = Stacked(build(seeds, maxout), torch.Generator(), batch)
        noise = torch.Generator().manual_seed(2)
        for _ in range(steps):
            drawn = draws(seeds, batch, noise)
            separate.step(*drawn)
            together.step(*drawn)
        pairs = [(stacked([m.generator.main for m in separate.models]), together.generator),
                 (stacked([m.discriminator.main for m in separate.models]), together.discriminator)]
        return max(float((a - b).detach().abs().max()) for one, two in pairs
                   for a, b in zip(one.parameters(), two.parameters()))
    finally:
        torch.set_default_dtype(default)


def interleaved_times(loops: dict[str, Separate | Stacked], steps: int, blocks: int,
                      warmup: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds a step of each loop over `blocks` interleaved blocks of `steps` steps. On a shared
    machine the process's CPU time is the work done; wall time also holds the waits for a core."""
    for loop in loops.values():
        loop.steps(warmup)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in loops}
    for _ in range(blocks):
        for name, loop in loops.items():
            wall, cpu = time.perf_counter(), time.process_time()
            loop.steps(steps)
            times[name].append(((time.perf_counter() - wall) / steps, (time.process_time() - cpu) / steps))
    return {name: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for name, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--maxout", type=int, default=5, help="D's maxout pieces (PacGAN: 5; 1: ReLU)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=5, help="steps per timed block")
    parser.add_argument("--blocks", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{device_name(torch.device('cpu'))}, {args.threads} thread(s); {args.seeds} seeds of G 4 x 400 BN-ReLU, "
          f"D 3 x 200 maxout-{args.maxout}, batch {args.batch_size}, Adam")
    difference = largest_difference(args.seeds, args.maxout, args.batch_size)
    print(f"the same arithmetic: after 3 steps in float64 from the same weights and noise, the largest |weight "
          f"difference| is {difference:.1e}")
    loops = {"separate": Separate(build(args.seeds, args.maxout), torch.Generator().manual_seed(1), args.batch_size),
             "stacked": Stacked(build(args.seeds, args.maxout), torch.Generator().manual_seed(1), args.batch_size)}
    times = interleaved_times(loops, args.steps, args.blocks, args.warmup)
    for name, (wall, cpu) in times.items():
        print(f"{name + ':':10s}{cpu * 1000:8.1f} ms CPU a step ({cpu * 1000 / args.seeds:.1f} a seed), "
              f"{wall * 1000:.1f} ms wall")
    (wall_a, cpu_a), (wall_b, cpu_b) = times["separate"], times["stacked"]
    print(f"speed-up x{cpu_a / cpu_b:.2f} in CPU time (x{wall_a / wall_b:.2f} in wall time)")


if __name__ == "__main__":
    main()
