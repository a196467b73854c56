"""Seconds per DCGAN training iteration of pytorch/examples' dcgan/main.py and of multigan, on the same folder of
real photos, 64 px RGB, batch 64, the same CPU, one after the other in one run (rounds alternate the two sides).

    python benchmarks/dcgan_vs_pytorch_examples.py --examples /path/to/pytorch-examples --data-root ../shared/data
    python benchmarks/dcgan_vs_pytorch_examples.py --examples ... --amp bf16 --channels-last     # our CPU switches

pytorch/examples is not bundled: pass a checkout or a bare git mirror. Its main.py runs unmodified (`--dataset
folder`, its default 2 loader workers and its per-iteration progress line, which times it); its networks are the
DCGAN paper's at ngf = ndf = 64, as ours (`dcgan`, width 64, latent 100). Both read the Yosemite photos (the 1,200
train and test images of summer2winter_yosemite, resized to 64 and centre-cropped): theirs decodes JPEGs in its
loader workers every epoch, ours decodes once into memory — that difference is part of what is compared, as it is
what a user of either gets. Ours: fused Adam, D frozen in the G update; --amp / --channels-last are ours only.
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

PROGRESS = rb"\]\[\d+/\d+\] Loss_D"  # "[epoch/niter][i/len] Loss_D: ..." once per iteration


def their_main(examples: Path, work: Path) -> Path:
    """dcgan/main.py from a checkout or a bare mirror, copied under `work`."""
    reference_files(examples, ["dcgan/main.py"], work)
    return work / "dcgan"


def time_theirs(folder: Path, photos: Path, args: argparse.Namespace) -> list[float]:
    command = [sys.executable, "main.py", "--dataset", "folder", "--dataroot", str(photos), "--imageSize", "64",
               "--batchSize", str(args.batch_size), "--niter", "100", "--manualSeed", "0", "--outf", str(folder / "out")]
    count = args.warmup + args.iterations
    return line_intervals(command, folder, args.threads, PROGRESS, count)[args.warmup:]


def time_ours(photos: Path, args: argparse.Namespace) -> list[float]:
    overrides = ["data.name=image_folder", f"data.path={photos}", "data.resolution=64", "data.channels=3",
                 f"train.batch_size={args.batch_size}", f"train.amp={args.amp}",
                 f"train.channels_last={str(args.channels_last).lower()}"]
    return recipe_step_seconds("dcgan_fashion", overrides, args.data_root, args.threads, args.iterations, args.warmup)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=Path, required=True, help="pytorch/examples checkout or bare git mirror")
    parser.add_argument("--data-root", type=Path, default=Path(os.environ.get("MULTIGAN_DATA", "data")))
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads of each side (2 cores here)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--amp", default="none", choices=["none", "bf16"], help="ours only")
    parser.add_argument("--channels-last", action="store_true", help="ours only")
    parser.add_argument("--iterations", type=int, default=20, help="timed iterations per side and round")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2, help="theirs, ours, theirs, ours ...: slow spells hit both")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    photos = (args.data_root / "summer2winter_yosemite").resolve()
    if not photos.is_dir():
        parser.error(f"--data-root: {photos} not found (summer2winter_yosemite/ under the data root)")
    print(f"device: {device_name(torch.device('cpu'))}; torch {torch.__version__}; DCGAN 64 px RGB, batch "
          f"{args.batch_size}; {photos} (4 folders, 1,200 photos); ours: amp={args.amp}, "
          f"channels_last={args.channels_last}")
    theirs, ours = [], []
    with tempfile.TemporaryDirectory() as work:
        folder = their_main(args.examples, Path(work))
        for _ in range(args.rounds):
            theirs += time_theirs(folder, photos, args)
            ours += time_ours(photos, args)
    t, o = statistics.median(theirs), statistics.median(ours)
    print(f"pytorch/examples dcgan {t:.3f} s/iter, multigan {o:.3f} s/iter -> multigan is {t / o:.2f}x their speed "
          f"(medians of {args.rounds} x {args.iterations} iterations after {args.warmup} warm-up each)")


if __name__ == "__main__":
    main()
