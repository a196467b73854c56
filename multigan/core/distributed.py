"""Process-level setup: device and AMP selection, seeding, RNG state capture, rank helpers (torchrun-ready)."""
from __future__ import annotations

import os
import random
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Iterator

import numpy as np
import torch


def rank() -> int:
    """This process's global rank under torchrun (RANK), 0 otherwise."""
    return int(os.environ.get("RANK", "0"))


def is_main_process() -> bool:
    return rank() == 0


def select_device(name: str = "auto") -> torch.device:
    """"auto": this rank's CUDA device when CUDA is available, else the CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"train.device is '{name}' but CUDA is not available on this machine")
    return device


def autocast(device: torch.device, amp: str) -> AbstractContextManager[Any]:
    """bf16 autocast when asked for (no loss scaling needed: bf16 has fp32's exponent range)."""
    if amp == "none":
        return nullcontext()
    if amp == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    raise ValueError(f"train.amp must be 'none' or 'bf16', got '{amp}'")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def rng_state() -> dict[str, Any]:
    """Every global RNG's state, in types `torch.load(weights_only=True)` accepts."""
    version, internal, gauss = random.getstate()
    np_kind, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": [version, list(internal), gauss],
        "numpy": [np_kind, torch.from_numpy(np_keys.astype(np.int64)), np_pos, np_has_gauss, np_gauss],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, gauss_np = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss_np))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@contextmanager
def preserved_rng() -> Iterator[None]:
    """Run a block without moving any global RNG: evaluation (which builds feature networks and samples) must not
    change the training that follows it, whether its caches were warm or cold."""
    state = rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
