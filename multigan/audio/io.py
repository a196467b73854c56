"""Audio files in and out: decode to mono float at one sample rate, fit to the model length, write PCM16 WAVs.

Decoding uses `soundfile` (libsndfile: WAV, FLAC, OGG, AIFF ... at any bit depth) and falls back to `librosa`
(audioread) for formats libsndfile lacks. Resampling is librosa's (soxr, high quality). Every conversion that
changes the data (resampling, downmixing, cropping, skipping silent files) is counted by `Conversions` and said
once per dataset, not once per file.
"""
from __future__ import annotations

import logging
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile
import soxr

from multigan.core.data import DataError
from multigan.core.files import atomic_path

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".aiff", ".aif", ".au", ".mp3", ".m4a", ".opus")
PCM16_SCALE = 32768.0
SILENCE_PEAK = 1e-4  # a clip whose peak stays below this (-80 dBFS) is silent


class AudioFileError(DataError):
    """One audio file that cannot be used (unreadable, empty, truncated); the message names it."""


def is_audio(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in AUDIO_EXTENSIONS and not path.name.startswith(".")


def _truncated_wav(info: soundfile._SoundFileInfo) -> bool:
    """libsndfile reads a WAV whose data chunk is cut short without an error; its header report says
    `data : <declared> (should be <present>)` then."""
    match = re.search(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", info.extra_info or "", re.MULTILINE)
    return bool(match) and int(match.group(2)) < int(match.group(1))


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """One file -> (frames, channels) float32 in [-1, 1] and its sample rate; AudioFileError names the file."""
    try:
        info = soundfile.info(str(path))
        if _truncated_wav(info):
            raise AudioFileError(f"audio file {path} is truncated (its header promises more samples than it holds)")
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except AudioFileError:
        raise
    except soundfile.LibsndfileError as err:
        data, rate = _read_with_librosa(path, err)
    except OSError as err:
        raise AudioFileError(f"cannot read audio file {path}: {err.strerror or err}") from err
    if data.shape[0] == 0:
        raise AudioFileError(f"audio file {path} is empty (0 samples)")
    if not np.isfinite(data).all():
        raise AudioFileError(f"audio file {path} holds NaN/inf samples")
    return data, int(rate)


def _read_with_librosa(path: Path, sndfile_error: Exception) -> tuple[np.ndarray, int]:
    """Formats libsndfile lacks (MP3 on old builds, M4A ...) through librosa/audioread; else one line."""
    import librosa

    try:
        with warnings.catch_warnings():  # librosa warns that soundfile failed, which we know
            warnings.simplefilter("ignore")
            data, rate = librosa.load(str(path), sr=None, mono=False)
    except Exception as err:  # audioread raises many unrelated types (NoBackendError, EOFError ...)
        reason = str(sndfile_error).removeprefix(f"Error opening {str(path)!r}: ")
        raise AudioFileError(f"cannot decode audio file {path}: {reason}; remove or replace it "
                             f"(or set data.skip_bad: true)") from err
    data = np.atleast_2d(data).T.astype(np.float32)  # librosa gives (channels, frames)
    return data, int(rate)


@dataclass
class Conversions:
    """What loading did to the files, said once at the end (`report`)."""

    resampled: Counter = field(default_factory=Counter)  # source rate -> files
    downmixed: Counter = field(default_factory=Counter)  # channels -> files
    cropped: int = 0
    padded: int = 0
    silent: list[Path] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)  # one-line reasons of skipped files

    def report(self, where: Path, rate: int, length: int, crop: str) -> None:
        if self.resampled:
            rates = ", ".join(f"{n} at {r} Hz" for r, n in sorted(self.resampled.items()))
            log.warning("%s: resampled %d files to %d Hz (%s)", where, sum(self.resampled.values()), rate, rates)
        if self.downmixed:
            channels = ", ".join(f"{n} with {c} channels" for c, n in sorted(self.downmixed.items()))
            log.warning("%s: downmixed %d multichannel files to mono (%s)", where, sum(self.downmixed.values()),
                        channels)
        if self.cropped:
            log.warning("%s: %d clips longer than %d samples were cropped (crop: %s)", where, self.cropped, length,
                        crop)
        if self.silent:
            log.warning("%s: skipped %d silent files (peak below %.0e), e.g. %s", where, len(self.silent),
                        SILENCE_PEAK, self.silent[0])
        if self.bad:
            log.warning("%s: skipped %d bad files (data.skip_bad), e.g. %s", where, len(self.bad), self.bad[0])


def to_mono(data: np.ndarray) -> np.ndarray:
    """(frames, channels) -> (frames,) by averaging the channels (what downmixing to mono means)."""
    return data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]


def resample(wave: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """(frames,) at `source_rate` -> at `target_rate` with soxr's HQ band-limited resampler: what librosa's
    default `resample(res_type="soxr_hq")` calls, without librosa's 2 s first-call start-up."""
    if source_rate == target_rate:
        return wave
    return soxr.resample(wave, source_rate, target_rate, quality="HQ").astype(np.float32)


def normalize(wave: np.ndarray, how: str, rms_target: float = 0.1) -> np.ndarray:
    """`peak`: max |x| = 1; `rms`: root mean square = `rms_target`, clipped to [-1, 1]; `none`: as decoded."""
    if how == "peak":
        return wave / np.abs(wave).max()
    if how == "rms":
        return np.clip(wave * (rms_target / np.sqrt(np.mean(wave.astype(np.float64) ** 2))), -1.0, 1.0)
    return wave


def fit_length(wave: np.ndarray, length: int, crop: str, rng: np.random.Generator) -> np.ndarray:
    """Zero-pad at the end, or crop to `length`: from the `start`, the `center`, or a `random` offset."""
    if len(wave) < length:
        return np.pad(wave, (0, length - len(wave)))
    excess = len(wave) - length
    offset = {"start": 0, "center": excess // 2}.get(crop)
    if offset is None:
        offset = int(rng.integers(0, excess + 1))
    return wave[offset : offset + length]


def to_pcm16(waves: np.ndarray) -> np.ndarray:
    """Floats in [-1, 1] -> int16 (the WAV grid; 1.0 saturates to 32767)."""
    return np.clip(np.round(waves * PCM16_SCALE), -32768, 32767).astype(np.int16)


def write_wav(path: Path, wave: np.ndarray, rate: int) -> None:
    """(frames,) float in [-1, 1] -> a mono 16-bit PCM WAV at `path`, atomically."""
    with atomic_path(path) as temporary:
        soundfile.write(str(temporary), to_pcm16(np.asarray(wave)), rate, subtype="PCM_16", format="WAV")
