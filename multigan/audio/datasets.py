"""Audio datasets, decoded once into a row cache (core/row_cache.py) that later runs map: `audio_folder` (any
folder of audio files) and `fsdd` (the Free Spoken Digit Dataset under the data root).

Every clip is decoded, downmixed to mono, resampled to `data.sample_rate`, optionally normalised, padded or cropped
to `data.length` samples and stored on the PCM16 grid in one int16 (N, T) tensor, so `gather` is one indexing op
and a cast to float (B, 1, T) in [-1, 1], and real clips sit on the same grid as exported WAVs.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from multigan.audio.io import (
    PCM16_SCALE,
    SILENCE_PEAK,
    AUDIO_EXTENSIONS,
    AudioFileError,
    Conversions,
    fit_length,
    is_audio,
    normalize,
    read_audio,
    resample,
    to_mono,
    to_pcm16,
)
from multigan.core.data import DataError, check_split, user_folder
from multigan.core.row_cache import FolderCacheOptions, RowRecipe, folder_rows
from multigan.core.row_decode import RowResult
from multigan.core.phases import Batch, DataInfo
from multigan.registry import DATASETS

log = logging.getLogger(__name__)

CROPS = ("start", "center", "random")
NORMALIZATIONS = ("none", "peak", "rms")
DECODER_VERSION = 1  # bump when decoding, resampling or cropping changes a sample: older caches then do not match


@dataclass
class ClipOptions(FolderCacheOptions):
    """What every audio dataset does to its clips (fields shared by the datasets' configs)."""

    sample_rate: int = 16000  # Hz; other rates are resampled (said once)
    length: int = 16384  # samples per clip: 16384 = 1.02 s at 16 kHz (WaveGAN); shorter clips are zero-padded
    crop: str = "start"  # longer clips: start | center | random (one seeded offset per file, at load time)
    normalize: str = "none"  # none | peak (max |x| = 1) | rms (RMS 0.1, clipped)
    skip_bad: bool = False  # unreadable, empty or truncated files: false stops naming the file, true skips and counts
    seed: int = 0  # random crops


def check_options(config: ClipOptions, dataset: str) -> None:
    if not isinstance(config.sample_rate, int) or config.sample_rate < 1000:
        raise DataError(f"data.sample_rate of '{dataset}' must be an integer >= 1000 Hz, got {config.sample_rate!r}")
    if not isinstance(config.length, int) or config.length < 256:
        raise DataError(f"data.length of '{dataset}' must be an integer >= 256 samples, got {config.length!r}")
    if config.crop not in CROPS:
        raise DataError(f"data.crop of '{dataset}' must be one of {', '.join(CROPS)}, got {config.crop!r}")
    if config.normalize not in NORMALIZATIONS:
        raise DataError(f"data.normalize of '{dataset}' must be one of {', '.join(NORMALIZATIONS)}, "
                        f"got {config.normalize!r}")


class InMemoryAudio:
    """Clips (N, T) int16 on the PCM16 grid and optional int64 labels (N,)."""

    def __init__(self, waves: Tensor, labels: Tensor | None, info: DataInfo, fingerprint: str):
        self.waves, self.labels, self.info, self.fingerprint = waves, labels, info, fingerprint

    def __len__(self) -> int:
        return self.waves.shape[0]

    def gather(self, index: Tensor) -> Batch:
        batch = {"audio": self.waves[index].unsqueeze(1).float().div_(PCM16_SCALE)}  # (B, 1, T) in [-1, 1)
        if self.labels is not None:
            batch["label"] = self.labels[index]
        return batch


def _decode_one(path: Path, config: ClipOptions, offset_seed: int) -> tuple[np.ndarray | None, dict]:
    """One file -> (length,) float32 clip (None when silent) and what was done to it."""
    data, rate = read_audio(path)
    done = {"rate": rate, "channels": data.shape[1], "frames": data.shape[0]}
    wave = resample(to_mono(data), rate, config.sample_rate)
    if np.abs(wave).max() < SILENCE_PEAK:
        return None, done
    wave = normalize(wave, config.normalize)
    done["cropped"] = len(wave) > config.length
    rng = np.random.default_rng([config.seed, offset_seed])
    return fit_length(wave, config.length, config.crop, rng), done


def clip_row(position: int, path: Path, config: ClipOptions) -> RowResult:
    """One file -> its (length,) int16 row on the PCM16 grid; silent and bad files have none (bad ones say why)."""
    try:
        wave, done = _decode_one(path, config, position)
    except AudioFileError as err:
        return RowResult(None, facts={"bad": str(err)}, error=str(err))
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    if wave is None:
        return RowResult(None, sha, {**done, "silent": True})
    return RowResult(to_pcm16(wave), sha, done)


def decode_clips(files: list[Path], base: Path, config: ClipOptions) -> tuple[np.ndarray, list[int], str]:
    """(N, length) int16 clips (a map of the folder's row cache unless data.cache is false), the indices into
    `files` that were kept, and a sha256 over every file's relative path and bytes plus the options."""
    options = {k: v for k, v in sorted(vars(config).items()) if k not in config.cache_fields()}
    recipe = RowRecipe("audio", {**options, "decoder": DECODER_VERSION}, (config.length,), "int16",
                       functools.partial(clip_row, config=config), config.skip_bad)
    rows = folder_rows(recipe, files, base, config)
    conversions = Conversions()
    digest = hashlib.sha256(repr(list(options.items())).encode())
    kept = set(rows.kept)
    for index, (path, done) in enumerate(zip(files, rows.facts)):
        if "bad" in done:
            conversions.bad.append(done["bad"])
            continue
        if done["rate"] != config.sample_rate:
            conversions.resampled[done["rate"]] += 1
        if done["channels"] > 1:
            conversions.downmixed[done["channels"]] += 1
        if index not in kept:
            conversions.silent.append(path)
            continue
        conversions.cropped += done["cropped"]
    for index, sha in zip(rows.kept, rows.sha256):
        digest.update(str(files[index].relative_to(base)).encode() + b"\0" + sha.encode())
    conversions.report(base, config.sample_rate, config.length, config.crop)
    if not rows.kept:
        raise DataError(f"no usable audio in {base}: {len(conversions.silent)} silent and {len(conversions.bad)} "
                        f"bad of {len(files)} files")
    return rows.array, rows.kept, digest.hexdigest()


def class_order(names: set[str]) -> list[str]:
    """Sorted class names; numerically when every name is an integer ('2' before '10')."""
    return sorted(names, key=int) if all(n.isdigit() for n in names) else sorted(names)


def labels_from_pattern(files: list[Path], pattern: str, folder: Path) -> tuple[list[int], list[str]]:
    """Group 1 (or the whole match) of `pattern` searched in each file name is its class."""
    try:
        regex = re.compile(pattern)
    except re.error as err:
        raise DataError(f"data.label_pattern {pattern!r} is not a valid regular expression: {err}") from None
    names = []
    for path in files:
        match = regex.search(path.name)
        if match is None:
            matched = sum(regex.search(p.name) is not None for p in files)
            what = "no file name" if not matched else f"{len(files) - matched} of {len(files)} file names, e.g."
            raise DataError(f"data.label_pattern {pattern!r} matches {what} {path.name!r} in {folder}")
        names.append(match.group(1) if regex.groups else match.group(0))
    classes = class_order(set(names))
    lookup = {name: i for i, name in enumerate(classes)}
    return [lookup[name] for name in names], classes


@dataclass
class AudioFolderConfig(ClipOptions):
    path: str = ""  # the folder: absolute, or relative to the data root; audio files at any depth
    label_pattern: str = ""  # regex on file names, group 1 = class (FSDD: '^(\d+)_'); "" = sub-folder names, if any
    test_every: int = 0  # no train/ and test/ sub-folders: every k-th file (sorted) is test; 0: both splits use all


LAYOUT = ("<path>/<class>/**/<audio> (labelled by folder), <path>/**/<audio> (unlabelled, or labelled by "
          "data.label_pattern), optionally under train/ and test/")


def list_audio(folder: Path, pattern: str) -> tuple[list[Path], list[int], list[str]]:
    """(files, labels, class names) below `folder`; labels [] when unlabelled."""
    files = sorted(p for p in folder.rglob("*") if is_audio(p))
    if not files:
        raise DataError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in {folder}; expected {LAYOUT}")
    if pattern:
        return files, *labels_from_pattern(files, pattern, folder)
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        return files, [], []
    loose = [p for p in files if p.parent == folder]
    if loose:
        log.warning("%d audio files directly in %s are ignored: it has class sub-folders", len(loose), folder)
    files = [p for p in files if p.parent != folder]
    lookup = {name: i for i, name in enumerate(classes)}
    return files, [lookup[p.relative_to(folder).parts[0]] for p in files], classes


def build_audio(files: list[Path], labels: list[int], classes: list[str], base: Path, config: ClipOptions,
                name: str, split_note: str) -> tuple[Tensor, Tensor | None, DataInfo, str]:
    waves, kept, content = decode_clips(files, base, config)
    info = DataInfo(modality="audio", shape=(1, config.length), num_classes=len(classes), class_names=classes,
                    extra={"sample_rate": config.sample_rate, "split": split_note,
                           "data_check": config.data_check()})
    fingerprint = hashlib.sha256(f"{name}:{content}".encode()).hexdigest()
    label_tensor = torch.tensor([labels[i] for i in kept], dtype=torch.int64) if labels else None
    return torch.from_numpy(waves), label_tensor, info, fingerprint


@DATASETS.register("audio_folder")
class AudioFolderDataset(InMemoryAudio):
    """A user's folder of audio files (layouts: see `LAYOUT`)."""

    Config = AudioFolderConfig

    def __init__(self, config: AudioFolderConfig, root: Path, split: str):
        check_split(split, "audio_folder")
        check_options(config, "audio_folder")
        folder = user_folder(config.path, root, "audio_folder", "audio folder", f"a folder laid out as {LAYOUT}")
        if (folder / "train").is_dir() and (folder / "test").is_dir():
            folder, note = folder / split, f"{split}/ sub-folder"
            files, labels, classes = list_audio(folder, config.label_pattern)
        else:
            files, labels, classes = list_audio(folder, config.label_pattern)
            files, labels, note = every_kth_split(files, labels, config.test_every, split)
        super().__init__(*build_audio(files, labels, classes, folder, config, "audio_folder", note))


def every_kth_split(files: list[Path], labels: list[int], every: int, split: str
                    ) -> tuple[list[Path], list[int], str]:
    if every <= 0:
        return files, labels, f"no train/ and test/ sub-folders and data.test_every 0: the {split} split uses all files"
    keep = [(i % every == every - 1) == (split == "test") for i in range(len(files))]
    chosen = [f for f, k in zip(files, keep) if k]
    if not chosen:
        raise DataError(f"data.test_every {every} leaves no {split} files of {len(files)}")
    return chosen, [l for l, k in zip(labels, keep) if k] if labels else [], f"every {every}th file is test"


FSDD_NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")
FSDD_SOURCE = ("git clone https://github.com/Jakobovski/free-spoken-digit-dataset and copy its recordings/ folder "
               "to <data root>/fsdd/recordings")


@dataclass
class FSDDConfig(ClipOptions):
    sample_rate: int = 8000  # the recordings' own rate
    length: int = 8192  # 1.02 s at 8 kHz; the longest take (2.28 s) is cropped
    split: str = "index"  # index: takes 0-4 of each speaker and digit are test (the dataset's README) | speaker
    test_speakers: list[str] = field(default_factory=lambda: ["theo"])  # split: speaker holds these out


@DATASETS.register("fsdd")
class FSDDDataset(InMemoryAudio):
    """Free Spoken Digit Dataset: 3,000 recordings of digits 0-9 by 6 speakers (50 takes each), 8 kHz mono."""

    Config = FSDDConfig

    def __init__(self, config: FSDDConfig, root: Path, split: str):
        check_split(split, "fsdd")
        check_options(config, "fsdd")
        folder = Path(root) / "fsdd" / "recordings"
        if not folder.is_dir():
            raise DataError(f"FSDD not found: {folder} does not exist; get it with {FSDD_SOURCE}")
        files = sorted(p for p in folder.iterdir() if FSDD_NAME.match(p.name))
        if not files:
            raise DataError(f"no FSDD recordings named <digit>_<speaker>_<index>.wav in {folder}; {FSDD_SOURCE}")
        parts = [FSDD_NAME.match(p.name).groups() for p in files]
        if config.split == "index":
            is_test = [int(index) < 5 for _, _, index in parts]
        elif config.split == "speaker":
            speakers = {speaker for _, speaker, _ in parts}
            unknown = set(config.test_speakers) - speakers
            if unknown or not config.test_speakers:
                raise DataError(f"data.test_speakers {config.test_speakers} must name speakers of {folder}: "
                                f"{', '.join(sorted(speakers))}")
            is_test = [speaker in config.test_speakers for _, speaker, _ in parts]
        else:
            raise DataError(f"data.split of 'fsdd' must be index or speaker, got {config.split!r}")
        chosen = [i for i, test in enumerate(is_test) if test == (split == "test")]
        labels = [int(parts[i][0]) for i in chosen]
        note = f"fsdd {config.split} split"
        classes = [str(d) for d in range(10)]
        super().__init__(*build_audio([files[i] for i in chosen], labels, classes, folder, config, "fsdd", note))
