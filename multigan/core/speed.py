"""Speed on one device: mixed precision (bf16 autocast; fp16 with loss scaling), fused Adam, torch.compile,
cuDNN's autotuner, and the CPU's intra-op thread count."""
from __future__ import annotations

import functools
import logging
import os
import platform
import time
import shutil
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from multigan.core.distributed import LaunchError

log = logging.getLogger("multigan")
AMP_MODES = ("none", "bf16", "fp16", "auto")
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")  # the CPU instructions that compute bf16 products natively


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The instruction-set flags the kernel reports for this CPU (Linux's /proc/cpuinfo; empty elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    line = next((row for row in text.splitlines() if row.startswith("flags")), "")
    return frozenset(line.partition(":")[2].split())


def native_bf16(device: torch.device, flags: frozenset[str] | None = None) -> bool:
    """Whether `device` multiplies bf16 natively: a CUDA GPU with bf16 units (Ampere and later), or a CPU with
    AVX-512-BF16 or AMX. Elsewhere bf16 autocast is emulated, and slower than fp32."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type == "cpu":
        return bool(set(BF16_CPU_FLAGS) & (cpu_flags() if flags is None else flags))
    return False


def resolve_amp(amp: str, device: torch.device, flags: frozenset[str] | None = None) -> str:
    """train.amp with `auto` decided: bf16 where the device computes it natively, none elsewhere."""
    if amp != "auto":
        return amp
    return "bf16" if native_bf16(device, flags) else "none"


# train.time_clock: how train.time_limit is counted. cpu: this process's CPU seconds (all threads), which other work
# on the same cores does not eat into (with one thread per run, the compute a run got; a bench's equal budget)
TIME_CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def training_clock(name: str) -> Callable[[], float]:
    if name not in TIME_CLOCKS:
        raise LaunchError(f"train.time_clock must be one of {', '.join(TIME_CLOCKS)}, got '{name}'")
    return TIME_CLOCKS[name]


def check_amp(amp: str, device: torch.device) -> None:
    if amp not in AMP_MODES:
        raise LaunchError(f"train.amp must be one of {', '.join(AMP_MODES)}, got '{amp}'")
    if amp == "fp16" and device.type != "cuda":
        raise LaunchError(
            f"train.amp: fp16 needs a CUDA device (its loss scaling is a GPU feature), this run is on {device.type}; "
            "use train.amp: bf16 (no scaler needed) or none")


def autocast(device: torch.device, amp: str) -> AbstractContextManager[Any]:
    """bf16 autocast needs no loss scaling (bf16 has fp32's exponent range); fp16 does (see `grad_scalers`)."""
    if amp == "none":
        return nullcontext()
    dtype = torch.bfloat16 if amp == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def configure_cudnn(device: torch.device, benchmark: bool) -> None:
    """cuDNN's autotuner: each convolution shape is timed once over the available algorithms and the fastest kept.
    GAN batches have fixed shapes, so the one-off cost buys every later step (e.g. bf16 1-D convolutions of
    WaveGAN were slower than fp32 under cuDNN's default heuristics). Process-wide, as torch's flag is."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = benchmark


def grad_scalers(amp: str, device: torch.device, names: list[str]) -> dict[str, torch.amp.GradScaler]:
    """One loss scaler per optimiser for fp16: G's and D's losses and gradients live on different scales."""
    if amp != "fp16":
        return {}
    return {name: torch.amp.GradScaler(device.type) for name in names}


def fuse_optimizers(optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, torch.optim.Optimizer]:
    """Adam/AdamW rebuilt with `fused=True` (one kernel per step over all tensors, no per-tensor Python loop; on
    CUDA it also takes fp16's scale and inf flag without a host sync). Models build plain optimisers; an
    optimiser that already has state or asked for fused/foreach itself is left as it is, as is a device
    without a fused kernel."""
    out = {}
    for name, opt in optimizers.items():
        chosen = opt.defaults.get("fused") or opt.defaults.get("foreach")
        if type(opt) not in (torch.optim.Adam, torch.optim.AdamW) or opt.state or chosen:
            out[name] = opt
            continue
        groups = [{**g, "fused": True, "foreach": None} for g in opt.param_groups]
        defaults = {k: v for k, v in opt.defaults.items() if k not in ("fused", "foreach")}
        try:
            out[name] = type(opt)(groups, **defaults, fused=True)
        except (RuntimeError, ValueError):  # no fused kernel for these tensors' device or dtype
            out[name] = opt
    return out


def check_compiler(device: torch.device) -> None:
    """torch.compile's inductor needs a C++ compiler for CPU kernels and Triton for GPU kernels; without them it
    fails at the first training step with a long trace, so say it before training starts."""
    if device.type == "cuda":
        try:
            import triton  # noqa: F401
        except ImportError:
            raise LaunchError("train.compile: true needs the 'triton' package for GPU kernels; install it or set "
                              "train.compile: false") from None
    elif not any(shutil.which(c) for c in (os.environ.get("CXX", "g++"), "g++", "clang++", "c++")):
        raise LaunchError("train.compile: true needs a C++ compiler (g++ or clang++) on the PATH for CPU kernels; "
                          "install one or set train.compile: false")


def check_compile_mode(mode: str) -> None:
    if mode not in COMPILE_MODES:
        raise LaunchError(f"train.compile_mode must be one of {', '.join(COMPILE_MODES)}, got '{mode}'")


def compile_networks(networks: dict[str, nn.Module], device: torch.device, mode: str = "default") -> None:
    """torch.compile every network's forward in place (`Module.compile` does not wrap, so checkpoint keys stay),
    in torch.compile's `mode` ("default": its own default).

    The trainer freezes a network with `requires_grad_(False)` while the other player trains. By default dynamo
    skips the tensor guards of a module's parameters while the module's parameter dict is unchanged, and
    `requires_grad_` leaves it unchanged: the generator's graph compiled in the D phase (frozen, inference-only)
    was replayed in the G phase, so G's loss had no grad_fn ("element 0 of tensors does not require grad").
    Keeping those guards costs a few microseconds per call and makes each network compile one graph per phase."""
    import torch._dynamo.config

    check_compile_mode(mode)
    check_compiler(device)
    torch._dynamo.config.skip_tensor_guards_with_matching_dict_tags = False
    for net in networks.values():
        net.compile(mode=None if mode == "default" else mode)


def device_description(device: torch.device) -> str:
    """What a wall time or a throughput was measured on, for reports and benchmarks: 'NVIDIA H200' on CUDA,
    'AMD EPYC 9454P (2 threads)' on a CPU (the model from /proc/cpuinfo where there is one)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpuinfo = Path("/proc/cpuinfo")
    text = cpuinfo.read_text() if cpuinfo.is_file() else ""
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")),
                 platform.processor() or platform.machine())
    return f"{model} ({torch.get_num_threads()} threads)"


# --- CPU threads -----------------------------------------------------------------------------------------------
_warned_busy = False


def physical_cores() -> int:
    """Physical cores among the CPUs this process may run on (hyper-thread siblings counted once)."""
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1))
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return len(allowed)
    cores, cpu, package = set(), None, "0"
    for line in text.splitlines():
        key, _, value = (part.strip() for part in line.partition(":"))
        if key == "processor":
            cpu, package = int(value), "0"
        elif key == "physical id":
            package = value
        elif key == "core id" and cpu in allowed:
            cores.add((package, value))
    return len(cores) or len(allowed)


def configure_threads(requested: int, local_processes: int = 1) -> int:
    """Intra-op threads: `train.threads` when > 0, else OMP_NUM_THREADS when set (torch reads it; torchrun sets
    1 per process), else this process's share of the physical cores — hyper-threads slow conv kernels down.
    Warns once when OMP_NUM_THREADS is unset and the machine is already busier than its cores."""
    global _warned_busy
    if requested > 0:
        threads = requested
    elif os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()
    else:
        threads = max(1, physical_cores() // max(1, local_processes))
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        if load > cpus and not _warned_busy:
            _warned_busy = True
            log.warning(f"the machine is busy (load average {load:.1f} on {cpus} CPUs) and OMP_NUM_THREADS is unset:"
                        f" {threads} training threads will compete with other jobs and run slower; set "
                        "OMP_NUM_THREADS or train.threads to the cores this run can have")
    torch.set_num_threads(threads)
    return threads
