"""The trainer's checkpoints: what `Trainer.save` writes (weights, EMA, optimisers, schedulers, scalers, loader,
stage position, best value, every rank's RNG) and `Trainer.restore` reads back, so a resumed run continues
bit-exactly on the same world size. A mixin of core/trainer.py's Trainer, whose attributes it reads."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from multigan.core import checkpoint as ckpt
from multigan.core.distributed import gather_objects, restore_rank_rng, rng_state, world_size

log = logging.getLogger("multigan")


class Checkpointing:
    def save(self, folder: Path) -> None:
        """Every rank calls this (its RNG state joins the checkpoint); rank 0 writes it."""
        self._check_finite()
        rngs = gather_objects(rng_state())  # rank order; None off rank 0
        if not self.main:
            return
        networks = {name: net.state_dict() for name, net in self.networks.items()}
        if self.ema is not None:
            networks[f"ema:{self.model.ema_network}"] = self.ema.state_dict()
        state = {
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "schedulers": {k: s.state_dict() for k, s in self.schedulers.items()},
            "rng": rngs[0],
            "rng_ranks": rngs[1:],  # ranks 1.. of a torchrun launch
            "scalers": self.updater.state_dict(),
            "loader": self.loader.state_dict(),
            "position": [self.stage_index, self.stage_step, self.global_step],
            "best_value": self.best_value,
            "clock_spent": self.clock_used(),  # train.time_limit's budget spent: a resume gets the rest
        }
        stage = self.stages[min(self.stage_index, len(self.stages) - 1)].name
        meta = {**self.meta, "global_step": self.global_step, "stage": stage}
        ckpt.save_checkpoint(folder, networks, state, meta)

    def restore(self, folder: Path) -> None:
        networks = ckpt.load_networks(folder)
        for name, net in self.networks.items():
            net.load_state_dict(networks[name])
        if self.ema is not None:
            self.ema.load_state_dict(networks[f"ema:{self.model.ema_network}"])
        state = ckpt.load_train_state(folder)
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
        for name, scheduler in self.schedulers.items():
            scheduler.load_state_dict(state["schedulers"][name])
        self.loader.load_state_dict(state["loader"])
        self.stage_index, self.stage_step, self.global_step = (int(x) for x in state["position"])
        self.best_value = state["best_value"]
        self.clock_spent = float(state.get("clock_spent", 0.0))  # checkpoints older than it: a whole budget
        self.updater.load_state_dict(state.get("scalers", {}))
        self._restore_rng(state, folder)

    def _restore_rng(self, state: dict[str, Any], folder: Path) -> None:
        saved = [state["rng"], *state.get("rng_ranks", [])]
        if not restore_rank_rng(saved, self.config.seed + self.global_step) and self.main:
            log.warning(f"{folder} was saved by {len(saved)} process(es) and resumes on {world_size()}: same "
                        "weights, optimiser state and data order; the random streams of new ranks are reseeded")

