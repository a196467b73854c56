"""Images/s of a StyleGAN2 training step three ways, at identical settings, on the same device, in one run:

  ours      multigan's trainer on our model (images/stylegan2.py): phases D, D_reg, G, G_reg; fused Adam
  plain     our networks in a hand-written loop: the same phases and lazy intervals, plain Adam, zero_grad /
            backward / step, the losses written out. ours / plain is the trainer's cost (goal >= 0.95)
  official  NVlabs/stylegan2-ada-pytorch's networks (training/networks.py) and StyleGAN2Loss (training/loss.py) in
            a minimal loop with its training_loop.py's phase logic: Gmain, Greg every pl_interval, Dmain, Dreg every
            r1_interval, a regulariser's gain its interval, Adam's lr and betas rescaled by I / (I + 1), gradients
            through nan_to_num before each step. Goal: ours >= 1.2x its images/s

    python benchmarks/stylegan2_vs_official.py --official /tmp/stylegan2-ada-pytorch     # ~7 min on 2 idle cores
    python benchmarks/stylegan2_vs_official.py --official DIR --resolution 64 --batch-size 32 --mapping-layers 2

stylegan2-ada-pytorch is not bundled: pass a checkout (`git archive` of a mirror into a folder outside this repo);
its dnnlib and torch_utils are imported from there; without one, ours and plain are timed alone. Its CUDA plugins
are never built: bias_act's and upfirdn2d's `_init` return False (as after a failed build), so their pure-PyTorch
reference paths run on any device (the script counts their calls in one step), custom_ops.get_plugin raises, and
conv2d_gradfix / grid_sample_gradfix stay `enabled = False` (training_loop.py is what turns them on). Both sides run
fp32 (their num_fp16_res 0, conv_clamp None), without augmentation, with min(channel_base // r, channel_max) maps
at r px (ours: stylegan2_nets.channels_at; theirs: the channels_dict of their G and D): widths and parameter counts
are printed for both. Data: random uint8 images. Timing: harness.interleaved_seconds (a block of --steps steps
per loop in turn, --blocks times, the median block); keep --steps a multiple of --r1-interval so that every block
holds the same regularisation updates.
"""
from __future__ import annotations

import argparse
import copy
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import TrainerLoop, device_name, interleaved_seconds  # noqa: E402
from train_throughput import random_images  # noqa: E402

from multigan.images.datasets import InMemoryImages  # noqa: E402
from multigan.images.stylegan2 import StyleGAN2, StyleGAN2Config  # noqa: E402
from multigan.images.stylegan2_nets import block_resolutions, channels_at  # noqa: E402


def lazy_adam(params, lr: float, betas: tuple[float, float], interval: int) -> torch.optim.Adam:
    """Adam for a network whose regulariser runs every `interval` steps: lr and betas rescaled by c = I / (I + 1)
    (StyleGAN2 Sec. 4; training_loop.py); interval 0: no regulariser, no rescaling (theirs with reg_interval None)."""
    c = interval / (interval + 1) if interval else 1.0
    return torch.optim.Adam(params, lr=lr * c, betas=(betas[0] ** c, betas[1] ** c), eps=1e-8)


class RealBatches:
    """Shuffled batches of the uint8 images as float in [-1, 1] (B, C, H, W), for the two hand-written loops."""

    def __init__(self, data: InMemoryImages, batch: int, device: torch.device):
        self.images, self.batch, self.device = data.images, batch, device
        self.order, self.pos = torch.randperm(len(self.images)), 0

    def next(self) -> torch.Tensor:
        if self.pos + self.batch > len(self.order):
            self.order, self.pos = torch.randperm(len(self.images)), 0
        index = self.order[self.pos:self.pos + self.batch]
        self.pos += self.batch
        return self.images[index].to(self.device).float().div_(127.5).sub_(1.0)


class EMA:
    """G's running average: p_ema <- lerp(p, p_ema, decay), buffers copied (what both codebases do per step)."""

    def __init__(self, generator: nn.Module, decay: float):
        self.copy, self.generator, self.decay = copy.deepcopy(generator).requires_grad_(False), generator, decay

    @torch.no_grad()
    def update(self) -> None:
        for shadow, param in zip(self.copy.parameters(), self.generator.parameters()):
            shadow.copy_(param.lerp(shadow, self.decay))
        for shadow, buffer in zip(self.copy.buffers(), self.generator.buffers()):
            shadow.copy_(buffer)


class PlainStyleGAN2:
    """Our networks, the loop one writes by hand. Per step: D (G under no_grad), R1 every r1_interval steps on a
    fresh real batch, G with style mixing (D frozen), path length every pl_interval steps on batch / shrink."""

    def __init__(self, model: StyleGAN2, data: InMemoryImages, batch: int, device: torch.device, ema: float):
        self.c, self.batch, self.device = model.config, batch, device
        self.G, self.D = copy.deepcopy(model.generator), copy.deepcopy(model.discriminator)
        c = self.c
        self.opt_g = lazy_adam(self.G.parameters(), c.lr_g, c.betas, c.pl_interval if c.pl_weight else 0)
        self.opt_d = lazy_adam(self.D.parameters(), c.lr_d, c.betas, c.r1_interval if c.r1_gamma else 0)
        self.reals, self.pl_mean, self.index = RealBatches(data, batch, device), torch.zeros((), device=device), 0
        self.ema = EMA(self.G, ema) if ema else None

    def mixed_ws(self, n: int) -> torch.Tensor:
        """(n, num_ws, W): one w per sample; with probability style_mixing a second w from a random layer on."""
        ws = self.G.ws(torch.randn(n, self.c.latent_dim, device=self.device), None, track=True)
        num_ws = ws.shape[1]
        if torch.rand(()) < self.c.style_mixing:
            cutoff = int(torch.randint(1, num_ws, ()))
            other = self.G.ws(torch.randn(n, self.c.latent_dim, device=self.device), None)
            ws = torch.cat([ws[:, :cutoff], other[:, cutoff:]], dim=1)
        return ws

    def update(self, optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def steps(self, n: int) -> None:
        c = self.c
        for _ in range(n):
            # D: minimise softplus(D(G(z))) + softplus(-D(x))
            with torch.no_grad():
                fake = self.G.synthesis(self.mixed_ws(self.batch))
            self.update(self.opt_d, F.softplus(self.D(fake)).mean() + F.softplus(-self.D(self.reals.next())).mean())
            if c.r1_gamma and self.index % c.r1_interval == 0:  # R1: gamma / 2 |grad_x D(x)|^2, x interval
                real = self.reals.next().requires_grad_(True)
                (grad,) = torch.autograd.grad(self.D(real).sum(), real, create_graph=True)  # (B, C, H, W)
                self.update(self.opt_d, 0.5 * c.r1_gamma * grad.square().sum(dim=(1, 2, 3)).mean() * c.r1_interval)
            self.D.requires_grad_(False)
            # G: minimise softplus(-D(G(z)))
            self.update(self.opt_g, F.softplus(-self.D(self.G.synthesis(self.mixed_ws(self.batch)))).mean())
            if c.pl_weight and self.index % c.pl_interval == 0:
                self.update(self.opt_g, self.path_length_loss())
            self.D.requires_grad_(True)
            if self.ema is not None:
                self.ema.update()
            self.index += 1

    def path_length_loss(self) -> torch.Tensor:
        """(|J_w^T y| - a)^2 x weight x interval, y ~ N(0, I) / sqrt(HW), a the running mean of the lengths."""
        c = self.c
        ws = self.mixed_ws(max(1, self.batch // c.pl_batch_shrink))
        images = self.G.synthesis(ws)  # (n, C, H, W)
        noise = torch.randn_like(images) / math.sqrt(images.shape[2] * images.shape[3])
        (grad,) = torch.autograd.grad((images * noise).sum(), ws, create_graph=True)  # (n, num_ws, W)
        lengths = grad.square().sum(dim=2).mean(dim=1).sqrt()  # (n,)
        self.pl_mean.copy_(self.pl_mean.lerp(lengths.detach().mean(), c.pl_decay))
        return (lengths - self.pl_mean).square().mean() * c.pl_weight * c.pl_interval


@dataclass
class Official:
    """What the benchmark uses from a stylegan2-ada-pytorch checkout."""

    Generator: type
    Discriminator: type
    StyleGAN2Loss: type
    misc: ModuleType
    ops: dict[str, ModuleType]  # bias_act, upfirdn2d: their reference-path functions are counted by reference_calls


def import_official(directory: Path | None) -> Official | str:
    """The checkout's modules, its CUDA plugins switched off; or why they cannot be used (one line)."""
    if directory is None:
        return "no --official checkout given"
    if not (directory / "training" / "networks.py").is_file() or not (directory / "torch_utils").is_dir():
        return f"--official {directory}: not a stylegan2-ada-pytorch checkout (training/networks.py, torch_utils/)"
    sys.path.insert(0, str(directory.resolve()))
    from torch_utils import custom_ops, misc
    from torch_utils.ops import bias_act, conv2d_gradfix, grid_sample_gradfix, upfirdn2d
    from training.loss import StyleGAN2Loss
    from training.networks import Discriminator, Generator

    for module in (bias_act, upfirdn2d):
        module._init = lambda: False  # "no plugin": the reference path, no custom_ops.get_plugin, no compiler
    custom_ops.get_plugin = _refuse_plugin_build  # and should anything else ask for one, it fails loudly
    conv2d_gradfix.enabled = grid_sample_gradfix.enabled = False  # their defaults; training_loop.py sets True
    return Official(Generator, Discriminator, StyleGAN2Loss, misc, {"bias_act": bias_act, "upfirdn2d": upfirdn2d})


def _refuse_plugin_build(module_name: str, **_) -> None:
    raise RuntimeError(f"benchmark: stylegan2-ada-pytorch's CUDA plugin {module_name} was asked for; it is off here")


class OfficialStyleGAN2:
    """Their networks and loss; per step, training_loop.py's phase logic with one round per phase (batch_gpu =
    batch), no augmentation, G_ema when --ema is set (their loop always keeps one; ours only when asked)."""

    def __init__(self, lib: Official, c: StyleGAN2Config, shape: tuple[int, int, int], data: InMemoryImages,
                 batch: int, device: torch.device, ema: float):
        channels, resolution, _ = shape
        synthesis = {"channel_base": c.channel_base, "channel_max": c.channel_max, "num_fp16_res": 0,
                     "conv_clamp": None}
        self.G = lib.Generator(c.latent_dim, 0, c.w_dim, resolution, channels, mapping_kwargs={
            "num_layers": c.mapping_layers}, synthesis_kwargs=synthesis).train().requires_grad_(False).to(device)
        self.D = lib.Discriminator(0, resolution, channels, channel_base=c.channel_base, channel_max=c.channel_max,
                                   num_fp16_res=0, conv_clamp=None, epilogue_kwargs={"mbstd_group_size": c.mbstd_group}
                                   ).train().requires_grad_(False).to(device)
        self.loss = lib.StyleGAN2Loss(device, G_mapping=self.G.mapping, G_synthesis=self.G.synthesis, D=self.D,
                                      style_mixing_prob=c.style_mixing, r1_gamma=c.r1_gamma,
                                      pl_batch_shrink=c.pl_batch_shrink, pl_decay=c.pl_decay, pl_weight=c.pl_weight)
        self.phases = []  # (name, network, optimiser, interval): lazy regularisation splits main and reg phases
        for player, net, lr, interval in (("G", self.G, c.lr_g, c.pl_interval if c.pl_weight else 0),
                                          ("D", self.D, c.lr_d, c.r1_interval if c.r1_gamma else 0)):
            adam = lazy_adam(net.parameters(), lr, c.betas, interval)
            kinds = [("main", 1), ("reg", interval)] if interval else [("both", 1)]
            self.phases += [(player + kind, net, adam, every) for kind, every in kinds]
        self.misc, self.batch, self.device = lib.misc, batch, device
        self.reals, self.no_labels = RealBatches(data, batch, device), torch.zeros(batch, 0, device=device)
        self.ema, self.index = EMA(self.G, ema) if ema else None, 0

    def steps(self, n: int) -> None:
        for _ in range(n):
            real = self.reals.next()
            latents = torch.randn(len(self.phases) * self.batch, self.G.z_dim, device=self.device).split(self.batch)
            for (name, net, adam, every), z in zip(self.phases, latents):
                if self.index % every:
                    continue
                adam.zero_grad(set_to_none=True)
                net.requires_grad_(True)
                self.loss.accumulate_gradients(phase=name, real_img=real, real_c=self.no_labels, gen_z=z,
                                               gen_c=self.no_labels, sync=True, gain=every)
                net.requires_grad_(False)
                for param in net.parameters():
                    if param.grad is not None:
                        self.misc.nan_to_num(param.grad, nan=0, posinf=1e5, neginf=-1e5, out=param.grad)
                adam.step()
            if self.ema is not None:
                self.ema.update()
            self.index += 1

    def widths(self, resolution: int) -> list[int]:
        return [getattr(self.G.synthesis, f"b{r}").conv1.weight.shape[0] for r in [4, *block_resolutions(resolution)]]


def reference_calls(loop: OfficialStyleGAN2, lib: Official) -> dict[str, int]:
    """Calls of their pure-PyTorch bias_act / upfirdn2d per step (one step counted): proof that the reference path
    runs (their CUDA path would call neither)."""
    counts, originals = {}, {}
    for name, module in lib.ops.items():
        original = originals[name] = getattr(module, f"_{name}_ref")

        def counted(*args, _name=name, _original=original, **kwargs):
            counts[_name] = counts.get(_name, 0) + 1
            return _original(*args, **kwargs)
        setattr(module, f"_{name}_ref", counted)
    try:
        loop.steps(1)
    finally:
        for name, module in lib.ops.items():
            setattr(module, f"_{name}_ref", originals[name])
    return counts


def parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def our_config(args: argparse.Namespace) -> StyleGAN2Config:
    return StyleGAN2Config(latent_dim=args.latent_dim, w_dim=args.w_dim, mapping_layers=args.mapping_layers,
                           channel_base=args.channel_base, channel_max=args.channel_max, mbstd_group=args.mbstd_group,
                           style_mixing=args.style_mixing, r1_gamma=args.r1_gamma, r1_interval=args.r1_interval,
                           pl_weight=args.pl_weight, pl_interval=args.pl_interval)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--official", type=Path, help="a stylegan2-ada-pytorch checkout (left out: not timed)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0: torch's default)")
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--channels", type=int, default=3, help="image channels (1: grey)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--channel-base", type=int, default=4096, help="maps at r px: min(base // r, max)")
    parser.add_argument("--channel-max", type=int, default=128)
    parser.add_argument("--latent-dim", type=int, default=128)
    parser.add_argument("--w-dim", type=int, default=128)
    parser.add_argument("--mapping-layers", type=int, default=8)
    parser.add_argument("--mbstd-group", type=int, default=4)
    parser.add_argument("--style-mixing", type=float, default=0.9)
    parser.add_argument("--r1-gamma", type=float, default=0.01, help="0: no R1 phase")
    parser.add_argument("--r1-interval", type=int, default=16)
    parser.add_argument("--pl-weight", type=float, default=2.0, help="0: no path-length phase")
    parser.add_argument("--pl-interval", type=int, default=4)
    parser.add_argument("--ema", type=float, default=0.0, help="G EMA decay in all three loops (0: none)")
    parser.add_argument("--steps", type=int, default=16, help="steps per timed block")
    parser.add_argument("--blocks", type=int, default=3, help="timed blocks per loop (interleaved)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per loop first")
    return parser.parse_args()


def describe(args: argparse.Namespace, model: StyleGAN2, official: OfficialStyleGAN2 | None) -> None:
    c, res = model.config, args.resolution
    print(f"device: {device_name(torch.device(args.device))}; torch {torch.__version__}; StyleGAN2 {res} px x "
          f"{args.channels}, batch {args.batch_size}, z {c.latent_dim}, w {c.w_dim}, mapping {c.mapping_layers}, "
          f"channel_base {c.channel_base}, channel_max {c.channel_max}, mbstd group {c.mbstd_group}")
    print(f"  style mixing {c.style_mixing}; R1 gamma {c.r1_gamma} every {c.r1_interval}; path length weight "
          f"{c.pl_weight} every {c.pl_interval} on batch / {c.pl_batch_shrink}; Adam lr {c.lr_g}/{c.lr_d} betas "
          f"{c.betas} (x I / (I + 1) for a lazily regularised player); fp32; EMA {args.ema or 'off'}")
    ours = [channels_at(r, c.channel_base, c.channel_max) for r in [4, *block_resolutions(res)]]
    print(f"  widths 4..{res} px: ours {ours}" + (f", theirs {official.widths(res)}" if official else ""))
    line = f"  parameters: ours G {parameters(model.generator):,} D {parameters(model.discriminator):,}"
    if official:
        g, d = parameters(official.G), parameters(official.D)
        line += (f"; theirs G {g:,} D {d:,} (G {parameters(model.generator) / g - 1:+.1%}, "
                 f"D {parameters(model.discriminator) / d - 1:+.1%})")
    print(line)


def main() -> None:
    args = arguments()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    data = random_images(max(1024, 4 * args.batch_size), args.channels, args.resolution)
    model = StyleGAN2(our_config(args), data.info).to(device)
    loops = {"ours": TrainerLoop(copy.deepcopy(model), data, args.batch_size, device, ema=args.ema),
             "plain": PlainStyleGAN2(model, data, args.batch_size, device, args.ema)}
    lib, official = import_official(args.official), None
    if isinstance(lib, Official):
        official = loops["official"] = OfficialStyleGAN2(lib, model.config, data.info.shape, data, args.batch_size,
                                                         device, args.ema)
    describe(args, model, official)
    if official is None:
        print(f"  official: skipped ({lib}); pass --official DIR, a stylegan2-ada-pytorch checkout")
    seconds = interleaved_seconds(loops, args.steps, args.blocks, args.warmup, device)
    if official is not None:  # counted after the timing, so that every loop's blocks start at the same step
        calls = ", ".join(f"{name}_ref x {n}" for name, n in sorted(reference_calls(official, lib).items()))
        print(f"  official ops: the pure-PyTorch reference path ({calls or 'no calls?'} in one step)")
    print(f"median of {args.blocks} interleaved blocks x {args.steps} steps after {args.warmup} warm-up "
          f"(a step: D, G; R1 every {args.r1_interval}, path length every {args.pl_interval})")
    for name, value in seconds.items():
        print(f"  {name:<9} {args.batch_size / value:9.1f} images/s  {value * 1e3:9.1f} ms/step")
    if "plain" in seconds and "ours" in seconds:
        print(f"ours / plain    = {seconds['plain'] / seconds['ours']:.3f}  (goal >= 0.95)")
    if "official" in seconds and "ours" in seconds:
        print(f"ours / official = {seconds['official'] / seconds['ours']:.3f}  (goal >= 1.2)")


if __name__ == "__main__":
    main()
