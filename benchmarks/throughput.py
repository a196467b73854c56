"""Samples/s of a plain eager fp32 loop vs multigan's trainer with each speed switch and all together, for every
model, in one process (interleaved blocks, median); FLOPs per step and MFU on a GPU; then 1 vs 2 gloo processes on
a CPU (strong scaling at the same global batch).

    OMP_NUM_THREADS=2 python benchmarks/throughput.py --model dcgan
    python benchmarks/throughput.py --model pix2pix --device cuda --batch-size 16 --peak-tflops 989
    python benchmarks/throughput.py --model seqgan --steps 1 --blocks 1 --skip-compile      # ~10 s/step on a CPU

Models and their default shapes (override with --batch-size / --resolution / --length / --model-dim):
  dcgan     28 px x 1, batch 64             pix2pix   U-Net-256 + 70x70 PatchGAN, 256 px, batch 1
  cyclegan  ResNet-6 x 2 + PatchGAN x 2, 128 px, batch 1 (ResNet-9 from 256 px)
  wavegan   d = 8, 8,192 samples, batch 32, 5 critic updates per step
  seqgan    seqgan_oracle shapes (V 5,000, L 20, 16 rollouts), batch 64, 5 D updates per step
  gumbel    gumbel_coco's LSTM and RelGAN D at V 5,000, L 20, batch 64, 5 D updates per step
Loops: plain (hand-written eager fp32 loop, plain Adam, same networks; benchmarks/*_plain / *_throughput.py),
multigan (defaults: fused Adam), +bf16, +channels_last (2-D conv nets only), +compile, all (every switch that
applies); on CUDA also +compile(reduce-overhead) and all(reduce-overhead) (torch.compile's CUDA graphs).
MFU = counted FLOPs per step (torch.utils.flop_counter: matrix products and convolutions) x steps/s / --peak-tflops
(dense bf16 of the chip: 989 for an H100/H200 SXM), printed for every loop when a peak is given.
"""
from __future__ import annotations

import argparse
import copy
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Loop, TrainerLoop, device_name, interleaved_seconds, on_gloo, step_flops  # noqa: E402

from multigan.core.phases import GANModel  # noqa: E402
from multigan.core.sync_batchnorm import convert_sync_batchnorm  # noqa: E402

SWITCHES = {
    "multigan": {},
    "+bf16": {"amp": "bf16"},
    "+channels_last": {"channels_last": True},
    "+compile": {"compile": True},
}
DEFAULT_BATCH = {"dcgan": 64, "pix2pix": 1, "cyclegan": 1, "wavegan": 32, "seqgan": 64, "gumbel": 64}
MODELS = tuple(DEFAULT_BATCH)


@dataclass
class Case:
    label: str
    model: GANModel  # on its device; every loop trains its own copy
    data: object
    plain: Callable[[GANModel], Loop]  # a hand-written loop over (copies of) this model's networks
    batch_size: int
    image_convs: bool  # channels_last applies
    stage: str = "adversarial"


def add_case_arguments(parser: argparse.ArgumentParser) -> None:
    """The shape options `build_case` reads (also step_profile.py's)."""
    parser.add_argument("--batch-size", type=int, default=0, help="0: the model's default (above)")
    parser.add_argument("--resolution", type=int, default=0, help="images; 0: the model's default")
    parser.add_argument("--channels", type=int, default=1, help="dcgan")
    parser.add_argument("--length", type=int, default=0, help="wavegan samples; 0: 8192")
    parser.add_argument("--model-dim", type=int, default=0, help="wavegan d; 0: 8 (the paper's is 64)")


def plain_args(args: argparse.Namespace, batch: int) -> argparse.Namespace:
    """What the sibling scripts' plain loops read: eager fp32, contiguous."""
    return argparse.Namespace(batch_size=batch, channels_last=False, amp="none", d_steps=5)


def build_case(name: str, args: argparse.Namespace, device: torch.device) -> Case:
    torch.manual_seed(0)
    if name == "dcgan":
        from train_throughput import Plain, random_images
        from multigan.images.dcgan import DCGAN, DCGANConfig
        batch, res = args.batch_size or DEFAULT_BATCH[name], args.resolution or 28
        data = random_images(4096, args.channels, res)
        model = DCGAN(DCGANConfig(), data.info)
        return Case(f"DCGAN {res} px x {args.channels}", model.to(device), data,
                    lambda m: Plain(m, data, plain_args(args, batch), device, freeze=False), batch, True)
    if name in ("pix2pix", "cyclegan"):
        from translation_throughput import PlainCycleGAN, PlainPix2Pix, RandomDomains
        from multigan.images.cyclegan import CycleGAN, CycleGANConfig
        from multigan.images.pix2pix import Pix2Pix, Pix2PixConfig
        batch = args.batch_size or DEFAULT_BATCH[name]
        res = args.resolution or (256 if name == "pix2pix" else 128)
        paired = name == "pix2pix"
        data = RandomDomains(("source", "target") if paired else ("a", "b"), 64, res, res * 286 // 256, paired)
        if paired:
            model, plain, label = Pix2Pix(Pix2PixConfig(), data.info), PlainPix2Pix, f"pix2pix U-Net-{res}, 70x70 D"
        else:
            blocks = 9 if res >= 256 else 6
            model = CycleGAN(CycleGANConfig(generator=f"resnet_{blocks}"), data.info)
            plain, label = PlainCycleGAN, f"CycleGAN ResNet-{blocks} x 2, 70x70 D x 2, {res} px"
        return Case(label, model.to(device), data, lambda m: plain(m, data, plain_args(args, batch), device),
                    batch, True)
    if name == "wavegan":
        from wavegan_throughput import Plain, random_audio
        from multigan.audio.wavegan import WaveGAN, WaveGANConfig
        batch, length, dim = args.batch_size or DEFAULT_BATCH[name], args.length or 8192, args.model_dim or 8
        data = random_audio(max(256, 2 * batch), length)
        model = WaveGAN(WaveGANConfig(model_dim=dim), data.info)
        return Case(f"WaveGAN d={dim}, {length} samples, 5 critic updates", model.to(device), data,
                    lambda m: Plain(copy.deepcopy(m.generator), copy.deepcopy(m.discriminator), data,
                                    plain_args(args, batch), device), batch, False)
    from text_plain import PlainGumbel, PlainSeqGAN, RandomTokens
    from multigan.text.gumbel import GumbelGAN
    from multigan.text.seqgan import SeqGAN
    batch = args.batch_size or DEFAULT_BATCH[name]
    data = RandomTokens(4096, 20, 5000)
    if name == "seqgan":
        model = SeqGAN(SeqGAN.Config(), data.info)
        model.rollout_network.load_state_dict(model.generator.state_dict())
        plain, label = PlainSeqGAN, "SeqGAN oracle shapes (V 5000, L 20, 16 rollouts, D 1720 filters)"
    else:
        model, plain = GumbelGAN(GumbelGAN.Config(), data.info), PlainGumbel
        label = "Gumbel-softmax GAN (LSTM 32/32, RelGAN D), V 5000, L 20"
    return Case(label, model.to(device), data, lambda m: plain(m, data, batch, device), batch, False)


def loops_for(case: Case, args: argparse.Namespace, device: torch.device) -> dict[str, Loop]:
    switches = dict(SWITCHES)
    if not case.image_convs:
        del switches["+channels_last"]
    if args.skip_compile:
        del switches["+compile"]
    switches["all"] = {k: v for s in switches.values() for k, v in s.items()}
    if device.type == "cuda" and not args.skip_compile:  # CUDA graphs: for small nets whose steps are launch-bound
        switches["+compile(reduce-overhead)"] = {"compile": True, "compile_mode": "reduce-overhead"}
        switches["all(reduce-overhead)"] = {**switches["all"], "compile_mode": "reduce-overhead"}
    loops: dict[str, Loop] = {"plain": case.plain(copy.deepcopy(case.model))}
    for name, chosen in switches.items():
        loops[name] = TrainerLoop(copy.deepcopy(case.model), case.data, case.batch_size, device, case.stage,
                                  **chosen)
    return loops


def one_process(name: str, args: argparse.Namespace, device: torch.device) -> None:
    case = build_case(name, args, device)
    loops = loops_for(case, args, device)
    seconds = interleaved_seconds(loops, args.steps, args.blocks, args.warmup, device)
    flops = step_flops(loops["plain"]) if args.peak_tflops else 0.0
    print(f"device: {device_name(device)}; torch {torch.__version__}; {case.label}; batch {case.batch_size}; "
          f"median of {args.blocks} interleaved blocks x {args.steps} steps after {args.warmup} warm-up")
    if flops:
        print(f"  {flops / 1e9:.1f} GFLOP per step (counted, fp32 plain loop); MFU against {args.peak_tflops} TFLOP/s")
    for loop, value in seconds.items():
        mfu = f"  {flops / value / 1e12:7.1f} TFLOP/s  MFU {flops / value / 1e12 / args.peak_tflops:6.1%}" if flops else ""
        print(f"  {loop:<15} {case.batch_size / value:10.1f} samples/s  {value * 1e3:9.1f} ms/step  "
              f"x{seconds['plain'] / value:.2f} of plain{mfu}")


def scaled_rate(rank: int, world: int, name: str, args: argparse.Namespace) -> float:
    """Samples/s of the trainer on `world` gloo processes at the same global batch (run by harness.on_gloo)."""
    case = build_case(name, args, torch.device("cpu"))
    model = convert_sync_batchnorm(case.model)
    loop = TrainerLoop(model, case.data, case.batch_size, torch.device("cpu"), case.stage, rank, world)
    dist.barrier()
    seconds = interleaved_seconds({"ddp": loop}, args.steps, args.blocks, args.warmup, torch.device("cpu"))
    return case.batch_size / seconds["ddp"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="dcgan", help=f"one of {', '.join(MODELS)}, comma-separated, or all")
    parser.add_argument("--device", default="cpu")
    add_case_arguments(parser)
    parser.add_argument("--steps", type=int, default=10, help="steps per timed block")
    parser.add_argument("--blocks", type=int, default=3, help="timed blocks per loop (interleaved)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per loop first (compilation)")
    parser.add_argument("--peak-tflops", type=float, default=0.0, help="chip peak for MFU (0: not printed)")
    parser.add_argument("--skip-compile", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    args = parser.parse_args()
    names = MODELS if args.model == "all" else tuple(args.model.split(","))
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        parser.error(f"--model {','.join(unknown)}: expected one of {', '.join(MODELS)} or all")
    device = torch.device(args.device)
    for name in names:
        one_process(name, args, device)
        batch = args.batch_size or DEFAULT_BATCH[name]
        if args.skip_scaling or device.type != "cpu":
            continue
        if batch % 2:
            print(f"  gloo scaling skipped: global batch {batch} does not split over 2 processes")
            continue
        one, two = on_gloo(1, scaled_rate, name, args), on_gloo(2, scaled_rate, name, args)
        print(f"  gloo, 1 thread per process, global batch {batch}: 1 process {one:.1f} samples/s, "
              f"2 processes {two:.1f} samples/s; scaling efficiency {two / (2 * one):.2f}")


if __name__ == "__main__":
    main()
