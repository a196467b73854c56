"""Run a reference implementation's training script unmodified, in this process, and sample its generator at marks
of training wall time: the sampling adapter of time_to_quality.py.

    python benchmarks/reference_runner.py --script dcgan/main.py --generator netG --latent-shape 100,1,1 \
        --marks 150,300,600 --n 10000 --out DIR -- --dataset mnist --dataroot DATA --manualSeed 0

How it works, and all that is adapted: a global optimizer post-step hook (torch.optim's public
`register_optimizer_step_post_hook`) sees every `optimizer.step()` the script makes. The training clock starts at
the first one (data loading and model building before it are not counted, as multigan's train.time_limit counts
from its first step). After each step, once the clock has passed the next mark, the hook finds the generator by
evaluating `--generator` (e.g. `netG`, `self.generator`) in the script's frame that called `step()`, deep-copies
it (so its BatchNorm buffers stay the script's) and draws `--n` samples from N(0, 1) latents of `--latent-shape`
with a fixed seed, in the module mode the script leaves it in (these scripts make their own previews in train
mode, with batch statistics), in batches of `--batch`. The sampling time is taken off the clock. After the last
mark the script is stopped. Where a reference is configured by editing a Python module (wavegan-pytorch's
params.py), `--module-set params.window_length=16384` sets the value on the imported module before the script's
`from params import *`; `--librosa-compat` gives back two librosa functions removed since the reference was
written (librosa.output.write_wav as soundfile.write, librosa.display.waveplot as waveshow). Each mark is written
as `mark-SSSSSS.SSSs.pt` (samples as float32 on the CPU, the seconds and optimizer steps it had), through a
temporary file and a rename.
"""
from __future__ import annotations

import argparse
import ast
import copy
import importlib
import os
import runpy
import sys
import time
import types
from pathlib import Path

import torch
from torch.optim.optimizer import register_optimizer_step_post_hook


class MarksReached(Exception):
    """Raised from the hook after the last mark: ends the script's training loop."""


class MarkSampler:
    """The post-step hook: the training clock, the marks, the samples at each."""

    def __init__(self, script: Path, args: argparse.Namespace):
        self.script = str(script.resolve())
        self.args = args
        self.marks = sorted(args.marks)
        self.origin: float | None = None  # perf_counter at the first step, moved later by each sampling's time
        self.steps = 0

    def __call__(self, optimizer, args, kwargs) -> None:
        now = time.perf_counter()
        if self.origin is None:
            self.origin = now
        self.steps += 1
        if now - self.origin < self.marks[0]:
            return
        mark = self.marks.pop(0)
        started = time.perf_counter()
        self.save(mark, now - self.origin, self.sample(self.generator()))
        self.origin += time.perf_counter() - started  # the mark's sampling is not training time
        if not self.marks:
            raise MarksReached

    def generator(self) -> torch.nn.Module:
        """`--generator` evaluated in the script's innermost frame on the stack (the one that called step())."""
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename != self.script:
            frame = frame.f_back
        if frame is None:
            raise RuntimeError(f"no frame of {self.script} on the stack at optimizer.step()")
        return eval(self.args.generator, frame.f_globals, frame.f_locals)  # noqa: S307  (our own flag)

    @torch.no_grad()
    def sample(self, generator: torch.nn.Module) -> torch.Tensor:
        net = copy.deepcopy(generator)
        device = next(net.parameters()).device
        noise = torch.Generator().manual_seed(self.args.seed)
        parts = []
        for start in range(0, self.args.n, self.args.batch):
            count = min(self.args.batch, self.args.n - start)
            z = torch.randn((count, *self.args.latent_shape), generator=noise).to(device)
            parts.append(net(z).float().cpu())
        return torch.cat(parts)

    def save(self, mark: float, seconds: float, samples: torch.Tensor) -> None:
        out = Path(self.args.out)
        target = out / f"mark-{mark:010.3f}s.pt"  # sorts by name
        temporary = target.with_suffix(".tmp")
        torch.save({"samples": samples, "seconds": seconds, "steps": self.steps, "mark": mark}, temporary)
        os.replace(temporary, target)
        print(f"[reference_runner] mark {mark:g} s: {self.steps} optimizer steps, {tuple(samples.shape)} samples "
              f"-> {target}", flush=True)


def arguments(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--script", type=Path, required=True, help="the reference's training script")
    parser.add_argument("--generator", required=True,
                        help="expression for G in the script's frame: netG, self.generator")
    parser.add_argument("--latent-shape", required=True, type=lambda s: tuple(int(v) for v in s.split(",")),
                        help="one latent's shape, e.g. 100 or 100,1,1")
    parser.add_argument("--marks", required=True, type=lambda s: [float(v) for v in s.split(",")],
                        help="seconds of training wall time at which to sample, e.g. 150,300,600")
    parser.add_argument("--n", type=int, default=10000, help="samples per mark")
    parser.add_argument("--batch", type=int, default=64, help="sampling batch")
    parser.add_argument("--seed", type=int, default=0, help="the latents' seed (the same at every mark)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--module-set", nargs="+", default=[], metavar="MODULE.NAME=LITERAL",
                        help="values set on the script's configuration module before it runs")
    parser.add_argument("--librosa-compat", action="store_true", help="librosa.output.write_wav, display.waveplot")
    if "--" in argv:
        split = argv.index("--")
        return parser.parse_args(argv[:split]), argv[split + 1:]
    return parser.parse_args(argv), []


def set_module_values(settings: list[str]) -> None:
    """`params.window_length=16384`: imported once here, the script's `from params import *` then copies it."""
    for setting in settings:
        target, _, literal = setting.partition("=")
        module_name, _, name = target.rpartition(".")
        setattr(importlib.import_module(module_name), name, ast.literal_eval(literal))


def librosa_compat() -> None:
    import librosa
    import librosa.display
    import soundfile

    if not hasattr(librosa, "output"):
        librosa.output = types.SimpleNamespace(write_wav=lambda path, y, sr, **_: soundfile.write(path, y, sr))
    if not hasattr(librosa.display, "waveplot"):
        librosa.display.waveplot = librosa.display.waveshow


def main() -> None:
    args, script_args = arguments(sys.argv[1:])
    args.out.mkdir(parents=True, exist_ok=True)
    script = args.script.resolve()
    hook = register_optimizer_step_post_hook(MarkSampler(script, args))
    sys.argv = [str(script), *script_args]
    sys.path.insert(0, str(script.parent))  # its own imports (models.py, params.py) as when run from its folder
    set_module_values(args.module_set)
    if args.librosa_compat:
        librosa_compat()
    try:
        runpy.run_path(str(script), run_name="__main__")
        print("[reference_runner] the script ended before the last mark", flush=True)
    except MarksReached:
        print("[reference_runner] every mark sampled; the script was stopped", flush=True)
    finally:
        hook.remove()


if __name__ == "__main__":
    main()
