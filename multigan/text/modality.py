"""The text modality: generated token ids -> sentences (detokenised from `DataInfo` alone) in text files and
TensorBoard. Exports are one file: `samples.txt` (one sentence per line, what corpus readers take) or
`samples.jsonl` ({"text", "label"} per line)."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from multigan.core.files import staged_folder, write_text_atomic
from multigan.core.phases import Batch, DataInfo
from multigan.metrics.bleu import texygen_tokenize
from multigan.metrics.features import FeatureInput
from multigan.registry import FEATURE_INPUTS, MODALITIES
from multigan.text.tokenizers import decode

# token ids reach extractors unchanged; the modality-agnostic measures score them in the hashed n-gram space
TEXT_INPUT = FEATURE_INPUTS.register("text")(FeatureInput(
    "tokens", "token sequences", "(B, L)", lambda tokens: tokens, lambda shape: {"max_len": shape[0]},
    agnostic_features="ngram-hash",
))


@MODALITIES.register("text")
class TextModality:
    """Stateless: call the methods on the class or on an instance."""

    name = "text"
    preview_suffix = ".txt"
    trivial_baseline = "uniform random tokens: every position i.i.d. uniform over the non-special vocabulary"

    @staticmethod
    def trivial_samples(n: int, generator: torch.Generator, info: DataInfo) -> Batch:
        """`n` full-length sequences (n, L) of uniformly random non-special tokens, drawn only from `generator`
        (CPU): the baseline that fd_norm maps to 1 (SeqGAN's "uniformly random generator")."""
        extra = info.extra
        specials = set()
        if extra.get("has_specials", True):  # the oracle's ids are all plain tokens
            specials = {extra.get(key) for key in ("pad_id", "bos_id", "eos_id", "unk_id")}
        words = torch.tensor([i for i in range(len(extra["vocab"])) if i not in specials])
        return {"tokens": words[torch.randint(len(words), (n, *info.shape), generator=generator)]}

    @staticmethod
    def sequences(samples: Batch, info: DataInfo) -> list[list[str]]:
        """Each row of samples["tokens"] (N, L) as Texygen word tokens of its detokenised text: what BLEU reads,
        and what the sequence measures (memorisation's duplicates, the n-gram feature space) compare."""
        return [texygen_tokenize(line) for line in decode(samples["tokens"], info.extra)]

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
