"""The audio modality: how generated waveforms leave the program — a PNG grid of mel spectrograms plus a short WAV
montage as the preview, audio and spectrograms in TensorBoard, and one PCM16 WAV per example with manifest.csv.

Samples are a Batch {"audio": (N, 1, T) float in [-1, 1], "label": (N,) optional}; the sample rate comes from
`DataInfo.extra["sample_rate"]`. Every file is written atomically; an export folder is built beside its target
and renamed into place, so a crash never leaves half of one.
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import torch
from matplotlib import colormaps
from torch import Tensor
from torchvision.utils import make_grid

from multigan.audio.io import write_wav
from multigan.audio.spectral import LogMel, to_unit_image
from multigan.core.files import folder_name, index_width, staged_folder, write_png, write_text_atomic
from multigan.core.phases import Batch, DataInfo
from multigan.registry import MODALITIES

MONTAGE_CLIPS = 10  # clips in the preview WAV, each followed by GAP_SECONDS of silence
GAP_SECONDS = 0.25


def sample_rate(info: DataInfo) -> int:
    return int(info.extra.get("sample_rate", 16000))


def spectrogram_images(audio: Tensor, rate: int) -> Tensor:
    """(N, 1, T) -> (N, 3, bands, frames) float RGB in [0, 1] (magma colour map)."""
    unit = to_unit_image(LogMel(rate)(audio.detach().float().cpu()))[:, 0]  # (N, bands, frames)
    rgb = colormaps["magma"](unit.numpy())[..., :3]  # (N, bands, frames, 3)
    return torch.from_numpy(rgb).permute(0, 3, 1, 2).float()


def spectrogram_grid(samples: Batch, info: DataInfo) -> Tensor:
    """(3, H, W) uint8: one column per class for labelled samples of a small label set, else square-ish."""
    images = spectrogram_images(samples["audio"], sample_rate(info))
    n = len(images)
    labelled = "label" in samples and 1 < info.num_classes <= 16 and n >= info.num_classes
    columns = info.num_classes if labelled else max(1, math.ceil(math.sqrt(n)))
    grid = make_grid(images, nrow=columns, padding=2, pad_value=1.0)  # (3, H, W)
    return grid.mul(255).add_(0.5).clamp_(0, 255).to(torch.uint8)


def montage(audio: Tensor, rate: int, clips: int = MONTAGE_CLIPS) -> np.ndarray:
    """The first `clips` clips one after another, each followed by a short silence: (frames,) float32."""
    gap = np.zeros(int(GAP_SECONDS * rate), dtype=np.float32)
    parts = []
    for wave in audio[:clips, 0].detach().float().cpu().numpy():
        parts += [wave, gap]
    return np.concatenate(parts)


@MODALITIES.register("audio")
class AudioModality:
    """Stateless: call the methods on the class or on an instance."""

    name = "audio"
    preview_suffix = ".png"
    trivial_baseline = "white noise: every sample i.i.d. U(-1, 1)"

    @staticmethod
    def trivial_samples(n: int, generator: torch.Generator, info: DataInfo) -> Batch:
        """`n` full-scale white-noise clips (n, 1, T), drawn only from `generator` (CPU): fd_norm's baseline."""
        return {"audio": torch.rand((n, *info.shape), generator=generator) * 2 - 1}

    @classmethod
    def save_samples(cls, samples: Batch, path: Path, info: DataInfo) -> Path:
        """The spectrogram grid at `path` and the WAV montage beside it (same name, .wav); returns `path`."""
        path = Path(path)
        write_png(spectrogram_grid(samples, info), path)
        write_wav(path.with_suffix(".wav"), montage(samples["audio"], sample_rate(info)), sample_rate(info))
        return path

    @classmethod
    def log_samples(cls, writer, tag: str, samples: Batch, step: int, info: DataInfo) -> None:
        rate = sample_rate(info)
        writer.add_image(f"{tag}/spectrograms", spectrogram_grid(samples, info), global_step=step, dataformats="CHW")
        clip = torch.from_numpy(montage(samples["audio"], rate))[None]  # (1, frames)
        writer.add_audio(f"{tag}/audio", clip, global_step=step, sample_rate=rate)

    export_formats = ("wav",)

    @classmethod
    def save_examples(cls, samples: Batch, folder: Path, info: DataInfo) -> Path:
        """`folder/<class>/<index>.wav` when labelled (the layout `audio_folder` reads), `folder/<index>.wav` when
        not, 16-bit PCM at the data's rate, and `folder/manifest.csv` (path,label)."""
        with staged_folder(folder) as staging:
            rows = cls.write_batch(samples, staging, info, 0, index_width(len(samples["audio"])), "wav")
            cls.finish_export(staging, rows, info, "wav")
        return Path(folder)

    @staticmethod
    def write_batch(samples: Batch, folder: Path, info: DataInfo, first: int, width: int, fmt: str) -> list[dict]:
        """PCM16 WAVs `folder/<class folder>/<first + i>.wav` (or `folder/<i>.wav`); one {"path", "label"} row
        each, the label being the class name ("" when unlabelled)."""
        rate = sample_rate(info)
        waves = samples["audio"][:, 0].detach().float().cpu().numpy()  # (N, T)
        labels = samples.get("label")
        rows = []
        for offset, wave in enumerate(waves):
            relative, label = Path(f"{first + offset:0{width}d}.wav"), ""
            if labels is not None:
                value = int(labels[offset])
                label = info.class_names[value] if value < len(info.class_names) else f"class_{value}"
                relative = folder_name(label) / relative
            write_wav(folder / relative, wave, rate)
            rows.append({"path": relative.as_posix(), "label": label})
        return rows

    @staticmethod
    def finish_export(folder: Path, rows: list[dict], info: DataInfo, fmt: str) -> None:
        """`manifest.csv`: one `path,label` line per WAV, paths relative to the folder."""
        text = io.StringIO()
        table = csv.writer(text, lineterminator="\n")
        table.writerow(["path", "label"])
        table.writerows([row["path"], row["label"]] for row in rows)
        write_text_atomic(folder / "manifest.csv", text.getvalue())
