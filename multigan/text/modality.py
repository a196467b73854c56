"""The text modality: generated token ids -> sentences (detokenised from `DataInfo` alone) in text files and
TensorBoard. Exports are one file: `samples.txt` (one sentence per line, what corpus readers take) or
`samples.jsonl` ({"text", "label"} per line)."""
from __future__ import annotations

import json
from pathlib import Path

from multigan.core.files import OutputExistsError, staged_folder, write_text_atomic  # noqa: F401
from multigan.core.phases import Batch, DataInfo
from multigan.registry import MODALITIES
from multigan.text.tokenizers import decode


@MODALITIES.register("text")
class TextModality:
    """Stateless: call the methods on the class or on an instance."""

    name = "text"
    preview_suffix = ".txt"

    @classmethod
    def save_samples(cls, samples: Batch, path: Path, info: DataInfo) -> Path:
        """One generated sentence per line at `path`."""
        path = Path(path)
        write_text_atomic(path, "".join(f"{line}\n" for line in decode(samples["tokens"], info.extra)))
        return path

    @classmethod
    def log_samples(cls, writer, tag: str, samples: Batch, step: int, info: DataInfo) -> None:
        """The sentences as one TensorBoard text entry (a Markdown code block keeps them one per line)."""
        lines = decode(samples["tokens"], info.extra)
        writer.add_text(tag, "\n".join(f"    {line}" for line in lines), global_step=step)

    export_formats = ("txt", "jsonl")
    EXPORT_FILES = {"txt": "samples.txt", "jsonl": "samples.jsonl"}

    @classmethod
    def save_examples(cls, samples: Batch, folder: Path, info: DataInfo, fmt: str = "txt") -> Path:
        """`folder/samples.txt` (or `samples.jsonl` with fmt="jsonl"), built beside `folder`, renamed into place."""
        with staged_folder(folder) as staging:
            cls.finish_export(staging, cls.write_batch(samples, staging, info, 0, 0, fmt), info, fmt)
        return Path(folder)

    @staticmethod
    def write_batch(samples: Batch, folder: Path, info: DataInfo, first: int, width: int, fmt: str) -> list[dict]:
        """No file per sentence: the rows {"text", "label"} are the batch; `finish_export` writes them out."""
        labels = samples["label"].tolist() if "label" in samples else None
        lines = decode(samples["tokens"], info.extra)
        return [{"text": line, "label": None if labels is None else labels[i]} for i, line in enumerate(lines)]

    @classmethod
    def finish_export(cls, folder: Path, rows: list[dict], info: DataInfo, fmt: str) -> None:
        if fmt == "jsonl":
            body = "".join(json.dumps({"text": r["text"], "label": r["label"]}, ensure_ascii=False) + "\n"
                           for r in rows)
        else:
            body = "".join(f"{row['text']}\n" for row in rows)
        write_text_atomic(folder / cls.EXPORT_FILES[fmt], body)
