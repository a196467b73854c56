"""The text modality: generated token ids -> sentences (detokenised from `DataInfo` alone) in text files and
TensorBoard."""
from __future__ import annotations

import json
from pathlib import Path

from multigan.core.files import OutputExistsError, check_new_folder, write_text_atomic  # noqa: F401
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

    @classmethod
    def save_examples(cls, samples: Batch, folder: Path, info: DataInfo) -> Path:
        """`folder/samples.txt` (one sentence per line, what corpus readers take) and `folder/samples.jsonl`
        ({"index", "text", "tokens"} per line)."""
        folder = Path(folder)
        check_new_folder(folder)
        lines = decode(samples["tokens"], info.extra)
        records = (
            json.dumps({"index": i, "text": line, "tokens": ids}, ensure_ascii=False)
            for i, (line, ids) in enumerate(zip(lines, samples["tokens"].tolist()))
        )
        write_text_atomic(folder / "samples.jsonl", "".join(f"{r}\n" for r in records))
        write_text_atomic(folder / "samples.txt", "".join(f"{line}\n" for line in lines))
        return folder
