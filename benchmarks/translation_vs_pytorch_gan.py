"""Seconds per training iteration of PyTorch-GAN's pix2pix.py / cyclegan.py and of ours, on the same CPU, data,
image size, batch size and thread count, one after the other in one run.

    python benchmarks/translation_vs_pytorch_gan.py --pytorch-gan /path/to/PyTorch-GAN --data-root ../shared/data
    python benchmarks/translation_vs_pytorch_gan.py --pytorch-gan ... --models cyclegan --threads 1 --amp bf16

PyTorch-GAN (eriklindernoren/PyTorch-GAN) is not bundled: pass a checkout, or a bare git mirror of it. Its scripts
run unmodified, from a temporary folder whose data/ links to our datasets in the layouts they read
(facades/{train,val,test}, summer2winter_yosemite/{train,test}/{A,B}), with one loader worker and sampling off;
their per-iteration times are read off their progress lines. Ours runs the same step in-process with our recipe's
networks (the paper's 70x70 PatchGAN; theirs is a lighter 16x16-output critic), our per-batch jitter on, its
D frozen in the G update. Each side reports the median of its iterations after a warm-up.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import torch

from harness import device_name, line_intervals, recipe_step_seconds, reference_files

SETTINGS = {  # model: (their script, their flags, our recipe, our overrides)
    "pix2pix": ("pix2pix", ["--dataset_name", "facades"], "pix2pix_facades",
                ["data.resolution=256", "data.load_size=286"]),
    "cyclegan": ("cyclegan", ["--dataset_name", "summer2winter_yosemite", "--n_residual_blocks", "9"],
                 "cyclegan_summer2winter", ["model.generator=resnet_9", "model.generator_width=64"]),  # theirs: 64 wide
}
BATCH = rb"\[Batch \d+/"  # one progress line per iteration


def prepare(pytorch_gan: Path, data_root: Path, work: Path) -> Path:
    """Their implementations/ and a data/ of links in their layouts, under `work`."""
    reference_files(pytorch_gan, ["implementations/pix2pix", "implementations/cyclegan"], work)
    data = work / "data"
    data.mkdir()
    (data / "facades").symlink_to((data_root / "facades").resolve())
    for split in ("train", "test"):
        for side in "AB":
            target = data / "summer2winter_yosemite" / split / side
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to((data_root / "summer2winter_yosemite" / f"{split}{side}").resolve())
    return work / "implementations"


def time_theirs(folder: Path, flags: list[str], args: argparse.Namespace) -> list[float]:
    """Seconds between consecutive progress lines of their script, after `warmup` iterations."""
    command = [sys.executable, f"{folder.name}.py", "--n_cpu", "1", "--batch_size", str(args.batch_size),
               "--img_height", str(args.size(folder.name)), "--img_width", str(args.size(folder.name)),
               "--sample_interval", "1000000", *flags]  # their default 200 epochs: we stop them
    return line_intervals(command, folder, args.threads, BATCH, args.warmup + args.iterations)[args.warmup:]


def time_ours(model_name: str, overrides: list[str], args: argparse.Namespace) -> list[float]:
    overrides = [*overrides, f"train.batch_size={args.batch_size}", f"train.amp={args.amp}",
                 f"train.channels_last={str(args.channels_last).lower()}"]
    return recipe_step_seconds(model_name, overrides, args.data_root, args.threads, args.iterations, args.warmup)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pytorch-gan", type=Path, required=True, help="PyTorch-GAN checkout or bare git mirror")
    parser.add_argument("--data-root", type=Path, default=Path(os.environ.get("MULTIGAN_DATA", "data")))
    parser.add_argument("--models", default="pix2pix,cyclegan")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--pix2pix-size", type=int, default=256)
    parser.add_argument("--cyclegan-size", type=int, default=128)
    parser.add_argument("--amp", default="none", choices=["none", "bf16"], help="ours only")
    parser.add_argument("--channels-last", action="store_true", help="ours only")
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    args.size = lambda name: args.pix2pix_size if name == "pix2pix" else args.cyclegan_size
    torch.set_num_threads(args.threads)
    print(f"device: {device_name(torch.device('cpu'))}; torch {torch.__version__}; batch {args.batch_size}; "
          f"ours: amp={args.amp}, channels_last={args.channels_last}")
    with tempfile.TemporaryDirectory() as work:
        implementations = prepare(args.pytorch_gan, args.data_root, Path(work))
        for name in args.models.split(","):
            script, flags, recipe, overrides = SETTINGS[name]
            size = args.size(name)
            overrides = [*overrides, f"data.resolution={size}", f"data.load_size={size * 286 // 256}"]
            theirs = statistics.median(time_theirs(implementations / script, flags, args))
            ours = statistics.median(time_ours(recipe, overrides, args))
            print(f"{name} {size} px: PyTorch-GAN {theirs:.3f} s/iter, multigan {ours:.3f} s/iter "
                  f"-> multigan is {theirs / ours:.2f}x their speed (median of {args.iterations} after "
                  f"{args.warmup} warm-up)")


if __name__ == "__main__":
    main()
