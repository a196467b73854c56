"""The tasks of time_to_quality.py: our recipe, the references that learn the same data, how each reference's
data folder is laid out from ours, and how its samples become a batch our metric scores.

fashion  dcgan_fashion against pytorch/examples' dcgan/main.py and PyTorch-GAN's dcgan.py; FID
fsdd     wavegan_digits against mostafaelaraby/wavegan-pytorch's train.py; FAD in the digit classifier's space
"""
from __future__ import annotations

import gzip
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

FASHION_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte")


@dataclass(frozen=True)
class Reference:
    script: str  # inside the reference's repository
    generator: str  # expression for G in the frame of the script that calls optimizer.step()
    latent_shape: str  # one latent's shape for reference_runner.py: "100" or "100,1,1"
    flags: list[str]  # the script's own flags; {data} is the prepared data folder, {out} its output folder
    prepare: Callable[[Path, Path, Path], None]  # (our data root, the side's data folder, the script's folder)
    runner: list[str] = field(default_factory=list)  # reference_runner.py options (module settings, shims)


@dataclass(frozen=True)
class Task:
    recipe: str
    metric: str
    n: int  # samples per mark (the recipe's eval.n_samples)
    references: dict[str, Reference]
    to_batch: Callable[[torch.Tensor, object], dict[str, torch.Tensor]]  # (their samples, our DataInfo) -> Batch


def fashion_as_mnist(data_root: Path, target: Path) -> None:
    """Fashion-MNIST's IDX files, decompressed, where torchvision's MNIST(root=target) looks for its own: the same
    format under MNIST's names, so an MNIST script reads Fashion-MNIST and downloads nothing."""
    raw = target / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name in FASHION_FILES:
        if not (raw / name).is_file():
            with gzip.open(data_root / "fashion_mnist" / f"{name}.gz") as source, open(raw / name, "wb") as out:
                shutil.copyfileobj(source, out)


def fsdd_train_valid(data_root: Path, data: Path, _script_folder: Path) -> None:
    """FSDD as wavegan-pytorch reads it: train/ and valid/ folders of WAVs (links), split as our fsdd dataset
    splits it (takes 0-4 of each speaker and digit are the test split: valid/)."""
    for wav in sorted((data_root / "fsdd" / "recordings").glob("*.wav")):
        split = "valid" if int(wav.stem.rsplit("_", 1)[1]) < 5 else "train"
        link = data / split / wav.name
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            link.symlink_to(wav.resolve())


def images_at_our_size(samples: torch.Tensor, info) -> dict[str, torch.Tensor]:
    """(N, C, S, S) in [-1, 1] at their size -> ours (bilinear, antialiased)."""
    size = info.shape[-2:]
    return {"image": F.interpolate(samples, size=size, mode="bilinear", antialias=True).clamp(-1, 1)}


def audio_at_our_rate(samples: torch.Tensor, info, their_rate: int = 16000) -> dict[str, torch.Tensor]:
    """(N, 1, T) at their rate -> our rate (soxr HQ), the centre `info.shape[-1]` samples, peak-normalised as our
    FSDD recipe normalises its data (theirs only clips peaks above 1)."""
    from multigan.audio.io import fit_length, normalize, resample

    rng = np.random.default_rng(0)
    waves = []
    for wave in samples[:, 0].numpy():
        wave = fit_length(resample(wave, their_rate, info.extra["sample_rate"]), info.shape[-1], "center", rng)
        waves.append(normalize(wave, "peak") if np.abs(wave).max() > 0 else wave)
    return {"audio": torch.from_numpy(np.stack(waves)).unsqueeze(1).float()}


TASKS = {
    "fashion": Task("dcgan_fashion", "fid", 10000, {
        # --imageSize 64: its networks are built for 64 px (five layers); its other flags at their defaults
        "examples": Reference("dcgan/main.py", "netG", "100,1,1",
                              ["--dataset", "mnist", "--dataroot", "{data}", "--imageSize", "64", "--manualSeed", "0",
                               "--outf", "{out}"], lambda root, data, _: fashion_as_mnist(root, data)),
        # it reads ../../data/mnist from its own folder
        "pytorch-gan": Reference("implementations/dcgan/dcgan.py", "generator", "100", [],
                                 lambda root, _, script: fashion_as_mnist(root, script.parents[1] / "data" / "mnist")),
    }, images_at_our_size),
    "fsdd": Task("wavegan_digits", "fad_classifier", 1000, {
        # params.py is its configuration: the data folder, and 16,384 samples (1.02 s at 16 kHz, the WaveGAN
        # paper's SC09 setting) instead of its 65,536 (4 s of piano); everything else at its defaults. Its
        # librosa.output.write_wav and librosa.display.waveplot (removed in librosa 0.8 / 0.10, called at its
        # first iteration) are given back as soundfile.write and waveshow.
        "wavegan-pytorch": Reference("train.py", "self.generator", "100", [], fsdd_train_valid,
                                     ["--module-set", "params.target_signals_dir='{data}'",
                                      "params.window_length=16384", "--librosa-compat"]),
    }, audio_at_our_rate),
}
