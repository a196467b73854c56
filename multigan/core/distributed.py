"""Process-level setup: torchrun's process group, rank helpers, device selection, seeding, RNG state capture,
and the collectives the trainer needs (gradient averaging, broadcasts, gathers).

Data-parallel training here is plain all-reduce of each phase's gradients after backward (as stylegan3's training
loop does), not DistributedDataParallel wrappers: DDP synchronises only through its wrapper's forward(), and our
models also call network methods that are not forward (an LSTM policy's `step` in rollouts and Gumbel sampling, a
discriminator's `prob_real`, `l2_penalty`); through a wrapper those would either fail or silently skip the sync.
Averaging the gradients of exactly the phase's trained networks also means a frozen network is never part of a
reduction, so phases cannot trip DDP's unused-parameter checks or hang, and no `find_unused_parameters` traversal
is paid. The cost is that the all-reduce runs after backward instead of overlapping it.
"""
from __future__ import annotations

import datetime
import os
import random
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import numpy as np
import torch
import torch.distributed as dist

from multigan.errors import UserError

BUCKET_ELEMENTS = 1 << 22  # gradients are all-reduced in flat buckets of at most 4M elements (16 MB in fp32)


class LaunchError(UserError, ValueError):
    """A train setting that does not fit the launch (world size, device). Every rank raises it alike, so under
    torchrun rank 0 alone prints it."""

    same_on_every_rank = True


def distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's global rank: the process group's, else torchrun's RANK, else 0."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    return rank() == 0


@contextmanager
def process_group(device: torch.device) -> Iterator[None]:
    """Join torchrun's process group (env:// rendezvous: MASTER_ADDR/PORT, RANK, WORLD_SIZE) when launched with
    more than one process and none exists yet; leave it afterwards. gloo on CPU, nccl on CUDA."""
    if world_size() <= 1 or dist.is_initialized():
        yield
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    # long timeout: rank 0 alone builds and scores the metrics (features, classifiers) while the others wait
    dist.init_process_group(backend, timeout=datetime.timedelta(hours=2))
    try:
        yield
    finally:
        dist.destroy_process_group()


def barrier() -> None:
    if distributed():
        dist.barrier()


def broadcast_object(value: Any, source: int = 0) -> Any:
    """`value` from rank `source` on every rank (pickled; for small host-side values such as flags and errors)."""
    if not distributed():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=source)
    return box[0]


def gather_objects(value: Any) -> list[Any] | None:
    """Every rank's `value`, in rank order, on rank 0 (None elsewhere)."""
    if not distributed():
        return [value]
    out = [None] * dist.get_world_size() if is_main_process() else None
    dist.gather_object(value, out, dst=0)
    return out


@torch.no_grad()
def broadcast_module(module: torch.nn.Module) -> None:
    """Rank 0's parameters and buffers on every rank (what DDP does at construction)."""
    if not distributed():
        return
    for tensor in [*module.parameters(), *module.buffers()]:
        dist.broadcast(tensor.data, src=0)


@torch.no_grad()
def average_gradients(params: list[torch.Tensor]) -> None:
    """Mean over ranks of each parameter's gradient, in flat buckets (one all-reduce per bucket, not per tensor).
    Parameters without a gradient stay without one; every rank must agree on which those are (checked once per
    phase by `check_same_gradients`), as the set of used parameters never depends on the data in our models."""
    if not distributed():
        return
    grads = [p.grad for p in params if p.grad is not None]
    world = dist.get_world_size()
    for bucket in _buckets(grads):
        flat = torch.cat([g.reshape(-1) for g in bucket])  # (sum of numels,)
        dist.all_reduce(flat)  # gloo has no AVG: sum, then divide
        flat.div_(world)
        for grad, part in zip(bucket, flat.split([g.numel() for g in bucket])):
            grad.copy_(part.view_as(grad))


def sum_over_ranks(tensors: list[torch.Tensor]) -> None:
    """Each tensor replaced in place by its sum over the ranks (one all-reduce; nothing on one process)."""
    if not distributed():
        return
    flat = torch.cat([t.reshape(-1) for t in tensors])
    dist.all_reduce(flat)
    for tensor, part in zip(tensors, flat.split([t.numel() for t in tensors])):
        tensor.copy_(part.view_as(tensor))


def _buckets(grads: list[torch.Tensor]) -> Iterator[list[torch.Tensor]]:
    bucket: list[torch.Tensor] = []
    size = 0
    for grad in grads:
        if bucket and (grad.dtype != bucket[0].dtype or size + grad.numel() > BUCKET_ELEMENTS):
            yield bucket
            bucket, size = [], 0
        bucket.append(grad)
        size += grad.numel()
    if bucket:
        yield bucket


def check_same_gradients(params: list[torch.Tensor], phase: str) -> None:
    """One host sync, the first time a phase runs: every rank has gradients for the same parameters."""
    if not distributed() or not params:
        return
    has = torch.tensor([p.grad is not None for p in params], dtype=torch.int32, device=params[0].device)
    total = has.clone()
    dist.all_reduce(total)
    if not torch.equal(total, has * dist.get_world_size()):
        raise RuntimeError(f"phase '{phase}': some parameters got gradients on some ranks only; the networks a "
                           "phase trains must use the same parameters on every rank")


def any_rank(flag: bool, device: torch.device) -> bool:
    """True when `flag` is true on any rank (one tiny all-reduce; a host sync, so only at the log cadence)."""
    if not distributed():
        return flag
    value = torch.tensor([int(flag)], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def mean_over_ranks(values: dict[str, float], device: torch.device) -> dict[str, float]:
    """Each logged mean averaged over ranks (keys are the same on every rank: the same phases ran)."""
    if not distributed() or not values:
        return values
    keys = sorted(values)
    tensor = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return dict(zip(keys, (tensor / dist.get_world_size()).tolist()))


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


def rank_seed(seed: int, rank: int) -> int:
    """Rank 0 keeps the run's seed (a 1-process run is unchanged); other ranks draw their own noise."""
    return seed if rank == 0 else seed + 1_000_003 * rank


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


def restore_rank_rng(saved: list[dict[str, Any]], fallback_seed: int) -> bool:
    """This rank's saved RNG state (`saved` in rank order). False when the run was saved by another number of
    processes: the data order is global (the loader's state is the same on every rank), so batches, weights and
    optimiser states still continue exactly; a rank with no saved stream is reseeded from `fallback_seed`."""
    if rank() < len(saved):
        set_rng_state(saved[rank()])
    else:
        seed_everything(rank_seed(fallback_seed, rank()))
    return len(saved) == world_size()


@contextmanager
def preserved_rng() -> Iterator[None]:
    """Run a block without moving any global RNG: evaluation (which builds feature networks and samples) must not
    change the training that follows it, whether its caches were warm or cold."""
    state = rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


def on_main(fn: Callable[[], Any]) -> Any:
    """`fn()` on rank 0 alone (e.g. creating the run folder); every rank gets its result or raises its error."""
    result = error = None
    if is_main_process():
        try:
            result = fn()
        except UserError as err:
            error = err
    result, error = broadcast_object((result, error))
    if error is not None:
        error.same_on_every_rank = True  # rank 0 reports it; the other ranks exit quietly
        raise error
    return result
