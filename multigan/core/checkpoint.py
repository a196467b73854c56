"""Atomic checkpoints and exact resume.

A checkpoint is a folder `checkpoints/step-0000500/` written as a temp folder and renamed into place, so it
either exists whole or not at all:
    networks.safetensors   every network's weights ("generator.main.0.weight", ...) and EMA copies ("ema.*")
    train_state.pt         optimisers, LR schedulers, RNG states, data position; read with weights_only=True
    meta.json              model name, step, stage, resolved config, data info, metric values, and `files`: the
                           sha256 and size of the two files above as they were written
Loading never executes code: safetensors and `torch.load(weights_only=True)` only. A damaged file (truncated,
changed, replaced) is a CheckpointError naming it; "latest" is the newest intact checkpoint (`latest_checkpoint`).
"""
from __future__ import annotations

import json
import logging
import os
import pickle
import re
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from multigan.core.distributed import is_main_process
from multigan.core.files import file_sha256
from multigan.errors import UserError

NETWORKS_FILE = "networks.safetensors"
STATE_FILE = "train_state.pt"
META_FILE = "meta.json"
CHECKED_FILES = (NETWORKS_FILE, STATE_FILE)  # meta.json records their sha256 and size; meta.json is checked by parsing
_STEP_DIR = re.compile(r"^step-(\d+)$")

log = logging.getLogger(__name__)


class CheckpointError(UserError, RuntimeError):
    """No usable checkpoint, a damaged one, or one that does not belong to this run/model."""


def _flatten(groups: dict[str, dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    # safetensors refuses tensors that share memory; contiguous clones are independent
    return {f"{group}.{key}": t.detach().cpu().contiguous().clone() for group, sd in groups.items() for key, t in sd.items()}


def _unflatten(flat: dict[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    groups: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in flat.items():
        group, _, rest = key.partition(".")
        groups.setdefault(group, {})[rest] = tensor
    return groups


def file_table(folder: Path) -> dict[str, dict[str, Any]]:
    """{file: {"sha256", "bytes"}} of a checkpoint's data files, for meta.json's `files`."""
    return {name: {"sha256": file_sha256(folder / name), "bytes": (folder / name).stat().st_size}
            for name in CHECKED_FILES}


def save_checkpoint(
    folder: Path,
    networks: dict[str, dict[str, torch.Tensor]],
    train_state: dict[str, Any],
    meta: dict[str, Any],
) -> Path:
    """Write one checkpoint folder atomically; replaces an existing folder of the same name."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        save_file(_flatten(networks), str(tmp / NETWORKS_FILE))
        torch.save(train_state, tmp / STATE_FILE)
        meta = {**meta, "files": file_table(tmp)}  # hashed before the rename: the bytes this process wrote
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2, default=str))
        if folder.exists():  # e.g. `best` being replaced: move the old one aside first, then drop it
            old = folder.with_name(f".{folder.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def step_folder(checkpoints: Path, step: int) -> Path:
    return checkpoints / f"step-{step:07d}"


def list_checkpoints(checkpoints: Path) -> list[Path]:
    """Complete step checkpoints, oldest first (temp folders start with '.' and are ignored)."""
    if not checkpoints.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in checkpoints.iterdir() if (m := _STEP_DIR.match(p.name)) and p.is_dir()]
    return [p for _, p in sorted(found)]


def prune_checkpoints(checkpoints: Path, keep: int) -> None:
    for old in list_checkpoints(checkpoints)[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)


def latest_checkpoint(run_dir: Path, set_aside: bool = False) -> Path:
    """The newest intact step checkpoint. Each newer damaged one is skipped with one warning line naming its file
    and the checkpoint used instead; with none intact, a CheckpointError naming the oldest one's problem.
    `set_aside` (a resume, which writes new checkpoints) renames the skipped ones to damaged-step-N, so that pruning
    never counts them among the checkpoints it keeps."""
    found = list_checkpoints(run_dir / "checkpoints")
    if not found:
        raise CheckpointError(f"{run_dir}: no checkpoint found under {run_dir / 'checkpoints'} (expected step-NNNNNNN/)")
    skipped: list[CheckpointError] = []
    for folder in reversed(found):
        try:
            check_intact(folder)
        except CheckpointError as problem:
            skipped.append(problem)
            continue
        if is_main_process():  # under torchrun every rank walks the same folders; one says so
            for problem in skipped:
                log.warning(f"{problem}; skipping that checkpoint, using the older {folder.name} instead")
            for damaged in found[found.index(folder) + 1:] if set_aside else []:
                damaged.rename(damaged.with_name(f"damaged-{damaged.name}"))
        return folder
    raise CheckpointError(f"{run_dir}: none of its {len(found)} checkpoint(s) is intact; the oldest, "
                          f"{found[0].name}: {skipped[-1]}")


def check_intact(folder: Path) -> Path:
    """`folder` when meta.json parses and each data file has the size and sha256 it records; else a CheckpointError
    naming the first damaged file. A checkpoint saved before meta.json had `files` is intact when its files load."""
    meta = read_meta(folder)
    if "files" not in meta:  # an older multigan's checkpoint: nothing to compare with, so try it
        load_networks(folder)
        load_train_state(folder)
        return folder
    for name in CHECKED_FILES:
        size, sha256 = _recorded(meta["files"], name, folder / META_FILE)
        _check_file(folder / name, size, sha256)
    return folder


def _recorded(table: Any, name: str, meta_path: Path) -> tuple[int, str]:
    entry = table.get(name) if isinstance(table, dict) else None
    if not (isinstance(entry, dict) and isinstance(entry.get("bytes"), int) and isinstance(entry.get("sha256"), str)):
        raise CheckpointError(f"{meta_path}: its `files` table has no size and sha256 for {name}")
    return entry["bytes"], entry["sha256"]


def _check_file(path: Path, size: int, sha256: str) -> None:
    if not path.is_file():
        raise CheckpointError(f"{path}: missing")
    actual = path.stat().st_size
    if actual != size:  # cheap, and catches most damage before hashing
        raise CheckpointError(f"{path}: truncated or replaced ({actual} bytes; {size} when saved)")
    if file_sha256(path) != sha256:
        raise CheckpointError(f"{path}: content changed since it was saved (its sha256 is not the one in {META_FILE})")


def read_meta(folder: Path) -> dict[str, Any]:
    path = folder / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{path}: missing") from None
    except (OSError, ValueError) as err:  # ValueError: not JSON, or not UTF-8 text at all
        raise CheckpointError(f"{path}: unreadable checkpoint metadata ({_one_line(err)})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: unreadable checkpoint metadata (a JSON {type(meta).__name__}, not an object)")
    return meta


def load_networks(folder: Path) -> dict[str, dict[str, torch.Tensor]]:
    path = folder / NETWORKS_FILE
    try:
        return _unflatten(load_file(str(path)))
    except FileNotFoundError:
        raise CheckpointError(f"{path}: missing") from None
    except SafetensorError as err:
        raise CheckpointError(f"{path}: not a safetensors file ({_one_line(err)})") from None


def load_train_state(folder: Path) -> dict[str, Any]:
    path = folder / STATE_FILE
    try:
        with warnings.catch_warnings():  # a refused pickle's protocol number is no news to the user
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, weights_only=True, map_location="cpu")
    except FileNotFoundError:
        raise CheckpointError(f"{path}: missing") from None
    except pickle.UnpicklingError as err:  # weights_only met something other than tensors and plain containers
        raise CheckpointError(f"{path}: refused: it holds objects other than tensors and plain containers "
                              f"({_refusal(err)}); nothing in it was executed") from None
    except Exception as err:  # damaged bytes fail anywhere in the reader (EOFError, KeyError, the zip's RuntimeError)
        detail = f"{type(err).__name__}: {_one_line(err)}"
        raise CheckpointError(f"{path}: not a readable torch.save file ({detail})") from None


def _refusal(err: pickle.UnpicklingError) -> str:
    """What the weights_only unpickler refused ("Unsupported global: GLOBAL builtins.open"), from torch's long text."""
    found = re.search(r"WeightsUnpickler error:\s*(.*?)\s*(?:Check the documentation|$)", str(err), re.DOTALL)
    # its first sentence; the next ones advise allowing the global, which is the opposite of what we want here
    return re.split(r"(?<=\.)\s", _one_line(found.group(1) if found else err))[0].rstrip(".")


def _one_line(err: object, limit: int = 200) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[:limit] + "..."
