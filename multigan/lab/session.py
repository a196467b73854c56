"""One lab session: the Trainer, the one thread that trains it, and the latest frame.

Only the training thread touches the model: HTTP handlers put commands on a queue (`command`) and read the newest
frame (`wait_frame`), never waiting on training and never waited on, so a closed or hung page changes nothing.
While playing, the thread takes `speed` steps, publishes a frame, and looks at the queue again.

Commands: play, pause, step (one full step: every phase, then the run's cadence), step_D / step_G (one update
of that phase alone, outside the step count: Trainer.run_phase), speed N (steps per frame), reset (the run
started over from the same seed: the same initial weights).
"""
from __future__ import annotations

import json
import queue
import threading
from typing import Any, Callable

import torch

from multigan.core import checkpoint as ckpt
from multigan.core.trainer import Trainer
from multigan.errors import UserError
from multigan.lab.probes import Probes, frame, make_probes, setup
from multigan.watch.tail import finite

COMMANDS = ("play", "pause", "step", "step_D", "step_G", "speed", "reset")
MAX_SPEED = 100
LOSS_HISTORY = 5000  # points kept for a page that opens late


class CommandError(UserError, ValueError):
    """A command the session does not know, or a bad value."""


class LabSession:
    """`build()` makes the Trainer (`api.prepare_training`), afresh in the same run folder on reset."""

    def __init__(self, build: Callable[[], Trainer], probe_seed: int):
        self._build, self._seed = build, probe_seed
        self._commands: queue.Queue[tuple[str, int]] = queue.Queue()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="multigan-lab-training", daemon=True)
        self.playing, self.speed, self.resets = False, 1, 0
        self.version, self.event = 0, b""
        self.history: list[list[float]] = []  # [updates, loss_D, loss_G] per frame
        self.error: str | None = None
        self._stopped = False

    # --- called from any thread --------------------------------------------------------------------------------
    def start(self) -> None:
        self._open()
        self._thread.start()

    def command(self, name: str, value: Any = None) -> None:
        if name not in COMMANDS:
            raise CommandError(f"unknown command {name!r}; commands: {', '.join(COMMANDS)}")
        amount = 0
        if name == "speed":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SPEED:
                raise CommandError(f"speed is a whole number of steps per frame, 1 to {MAX_SPEED}; got {value!r}")
            amount = value
        self._commands.put((name, amount))

    def wait_frame(self, after: int, timeout: float) -> tuple[int, bytes]:
        """(version, the frame as JSON) once a frame newer than `after` exists, or the current one at timeout."""
        with self._changed:
            self._changed.wait_for(lambda: self.version > after, timeout)
            return self.version, self.event

    def setup_event(self) -> bytes:
        with self._changed:
            return json.dumps(finite({**self.fixed, "history": self.history}), allow_nan=False).encode("utf-8")

    def stop(self, save: bool) -> None:
        """Training ends after the command being run; with `save`, a checkpoint of the current step (unless the
        cadence just wrote one) so that `multigan train --resume` and `multigan watch` can open the run."""
        if self._stopped:
            return
        self._stopped = True
        self._commands.put(("stop", 0))
        self._thread.join()
        if save and self.trainer.global_step > 0:
            folder = ckpt.step_folder(self.trainer.run_dir / "checkpoints", self.trainer.global_step)
            if not folder.is_dir():
                self.trainer.save(folder)
        self.trainer.finish()

    # --- the training thread -------------------------------------------------------------------------------------
    def _open(self) -> None:
        self.trainer = self._build()
        self.trainer.start()
        model, dataset = self.trainer.model, self.trainer.loader.dataset
        real = dataset.gather(torch.arange(min(len(dataset), 1000)))["points"]  # (M, 2): the train split's first
        self.probes: Probes = make_probes(model, real, self._seed)
        self.lone = {"D": 0, "G": 0}  # phase updates run alone (step_D, step_G)
        fixed = {**setup(self.probes, model), "total_steps": self.trainer.total_steps, "resets": self.resets}
        with self._changed:  # a page connecting now reads the new setup and an empty history together
            self.fixed, self.history = fixed, []
        self._publish()

    def _run(self) -> None:
        while True:
            try:
                name, amount = self._commands.get(block=not self.playing)
            except queue.Empty:
                name, amount = "", 0
            if name == "stop":
                return
            try:
                self._apply(name, amount)
            except Exception as error:  # noqa: BLE001 (a NaN or a bad batch: say so on the page, keep serving)
                self.playing, self.error = False, f"{type(error).__name__}: {error}"
                self._publish()

    def _apply(self, name: str, amount: int) -> None:
        trainer = self.trainer
        if name == "":  # playing, no command waiting
            for _ in range(self.speed):
                if not trainer.step():
                    self.playing = False
                    break
        elif name in ("play", "pause"):
            self.playing = name == "play" and not trainer.done
        elif name == "speed":
            self.speed = amount
        elif name == "step":
            trainer.step()
        elif name in ("step_D", "step_G"):
            trainer.run_phase(name[-1])
            self.lone[name[-1]] += 1
        elif name == "reset":
            trainer.finish()
            self.resets, self.playing, self.error = self.resets + 1, False, None
            self._open()
            return
        self._publish()

    def _publish(self) -> None:
        trainer = self.trainer
        shown = frame(trainer.model, self.probes)
        updates = trainer.global_step + self.lone["D"] + self.lone["G"]
        point = [updates, shown["losses"]["loss_D"], shown["losses"]["loss_G"]]
        state = {"step": trainer.global_step, "total_steps": trainer.total_steps, "lone_updates": self.lone,
                 "updates": updates, "playing": self.playing, "speed": self.speed, "done": trainer.done,
                 "resets": self.resets, "error": self.error}
        shown["losses"] = finite(shown["losses"])  # points are finite or None already (probes.rounded)
        event = json.dumps({**finite(state), **shown}, allow_nan=False).encode("utf-8")
        with self._changed:
            self.history = (self.history + [point])[-LOSS_HISTORY:]
            self.version, self.event = self.version + 1, event
            self._changed.notify_all()
