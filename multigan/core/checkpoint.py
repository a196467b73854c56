"""Atomic checkpoints and exact resume.

A checkpoint is a folder `checkpoints/step-0000500/` written as a temp folder and renamed into place, so it
either exists whole or not at all:
    networks.safetensors   every network's weights ("generator.main.0.weight", ...) and EMA copies ("ema.*")
    train_state.pt         optimisers, LR schedulers, RNG states, data position; read with weights_only=True
    meta.json              model name, step, stage, resolved config, data info, metric values
Loading never executes code: safetensors and `torch.load(weights_only=True)` only.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from multigan.errors import UserError

NETWORKS_FILE = "networks.safetensors"
STATE_FILE = "train_state.pt"
META_FILE = "meta.json"
_STEP_DIR = re.compile(r"^step-(\d+)$")


class CheckpointError(UserError, RuntimeError):
    """No usable checkpoint, or one that does not belong to this run/model."""


def _flatten(groups: dict[str, dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    # safetensors refuses tensors that share memory; contiguous clones are independent
    return {f"{group}.{key}": t.detach().cpu().contiguous().clone() for group, sd in groups.items() for key, t in sd.items()}


def _unflatten(flat: dict[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    groups: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in flat.items():
        group, _, rest = key.partition(".")
        groups.setdefault(group, {})[rest] = tensor
    return groups


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


def latest_checkpoint(run_dir: Path) -> Path:
    found = list_checkpoints(run_dir / "checkpoints")
    if not found:
        raise CheckpointError(f"{run_dir}: no checkpoint found under {run_dir / 'checkpoints'} (expected step-NNNNNNN/)")
    return found[-1]


def read_meta(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / META_FILE).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{folder / META_FILE}: unreadable checkpoint metadata ({err})") from None


def load_networks(folder: Path) -> dict[str, dict[str, torch.Tensor]]:
    return _unflatten(load_file(str(folder / NETWORKS_FILE)))


def load_train_state(folder: Path) -> dict[str, Any]:
    return torch.load(folder / STATE_FILE, weights_only=True, map_location="cpu")
