"""The adversarial training loop, written once: stages -> steps -> phases -> optimiser updates.

The model says which networks each phase trains and what the loss is (core/phases.py); this loop does the rest:
freezing, zero_grad, autocast, backward, clipping, step, NaN checks, EMA, LR schedules, and the
log / sample / eval / checkpoint cadence. Host syncs happen only at that cadence, never per step.

Under torchrun every rank runs this loop on its shard of each global batch (core/data.py) and the phase's
gradients are averaged across ranks before the step (core/update.py), so all ranks hold the same weights. Rank 0
alone writes logs, previews, evaluations and checkpoints; collectives (NaN checks, log means, the RNG gather of a
checkpoint) happen at the cadence, where every rank is at the same step.
"""
from __future__ import annotations

import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import Tensor

from multigan.core import checkpoint as ckpt
from multigan.core.data import BatchLoader
from multigan.core.distributed import (
    any_rank, barrier, broadcast_module, broadcast_object, gather_objects, is_main_process, mean_over_ranks,
    preserved_rng, restore_rank_rng, rng_state, world_size,
)
from multigan.core.ema import EMA
from multigan.core.files import write_json_atomic
from multigan.core.logging import DeviceScalars, RunLogger
from multigan.core.phases import GANModel, Phase
from multigan.core.speed import autocast, check_amp, compile_networks, configure_cudnn, fuse_optimizers
from multigan.core.update import Updater
from multigan.errors import UserError


@dataclass
class StageConfig:
    name: str = "adversarial"  # one of the model's `stages`
    steps: int = 1000
    eval_every: int = 0  # evaluations every N steps of this stage (0: eval.every); MLE and PG need their own


@dataclass
class TrainConfig:
    steps: int = 2000  # steps of the single "adversarial" stage, used when `stages` is empty
    stages: list[StageConfig] = field(default_factory=list)  # e.g. SeqGAN: pretrain_g, pretrain_d, adversarial
    batch_size: int = 64  # global: split evenly across torchrun's processes (must divide by their number)
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    amp: str = "none"  # none | bf16 (autocast) | fp16 (autocast + loss scaling, CUDA only)
    channels_last: bool = False  # NHWC memory layout for 4-D inputs and conv weights (faster convs on GPU)
    compile: bool = False  # torch.compile every network
    cudnn_benchmark: bool = True  # CUDA: time each convolution shape's algorithms once, keep the fastest
    fused_adam: bool = True  # rebuild the models' Adam/AdamW with fused=True where the device has the kernel
    sync_batchnorm: bool = True  # under torchrun, BatchNorm statistics over the global batch (core/sync_batchnorm)
    threads: int = 0  # CPU intra-op threads; 0: OMP_NUM_THREADS if set, else the physical cores per process
    grad_clip: float = 0.0  # max global grad norm per phase; 0 disables
    ema: float = 0.0  # EMA decay of the generator's weights (e.g. 0.999); 0 disables
    ema_start: int = 0  # before this global step the EMA copy just follows the weights
    log_every: int = 50
    sample_every: int = 500  # preview grid cadence (steps); 0: only at the end
    preview_samples: int = 64
    checkpoint_every: int = 500  # 0: only at the end
    keep_checkpoints: int = 3  # newest step checkpoints kept; `best` is kept separately
    # wall-clock seconds of training per launch; when they are up the run ends as at its last step (evaluated,
    # previewed, checkpointed), and `--resume` would go on towards `steps`. 0: no limit. Checked after every step
    # (under torchrun at the log cadence, where all ranks decide together)
    time_limit: float = 0.0

    def stage_list(self) -> list[StageConfig]:
        return list(self.stages) or [StageConfig("adversarial", self.steps)]


class NonFiniteLossError(UserError, RuntimeError):
    """A loss became NaN or inf; the run stopped and its last good checkpoint is kept."""

    same_on_every_rank = True  # under torchrun every rank stops at the same check; rank 0 reports it


log = logging.getLogger("multigan")
Evaluator = Callable[[GANModel], dict[str, Any]]  # -> {name: MetricValue(value, higher_is_better, protocol)}


class Trainer:
    def __init__(
        self,
        model: GANModel,
        loader: BatchLoader,
        config: TrainConfig,
        run_dir: Path,
        save_preview: Callable[[dict[str, Tensor], int, Any], None],
        meta: dict[str, Any],
        evaluator: Evaluator | None = None,
        eval_every: int = 0,
        best_metric: str = "",
        progress: bool = True,
    ):
        self.model, self.loader, self.config, self.run_dir = model, loader, config, run_dir
        self.save_preview, self.meta = save_preview, meta
        self.evaluator, self.eval_every, self.best_metric = evaluator, eval_every, best_metric
        self.evaluating = broadcast_object(evaluator is not None)  # rank 0 alone holds the evaluator
        self.device = model.device
        check_amp(config.amp, self.device)
        configure_cudnn(self.device, config.cudnn_benchmark)
        self.main = is_main_process()  # rank 0: the one process that writes files
        model.batch_size = config.batch_size // world_size()  # phases without data generate this rank's share
        self.stages = config.stage_list()
        self.networks = model.networks()
        optimizers = model.optimizers()
        self.optimizers = fuse_optimizers(optimizers) if config.fused_adam else optimizers
        self.schedulers = model.lr_schedulers(self.optimizers, sum(s.steps for s in self.stages))
        self.updater = Updater(self.networks, self.optimizers, config.amp, config.grad_clip, self.device)
        self.ema = EMA(self.networks[model.ema_network], config.ema) if config.ema and model.ema_network else None
        self.stage_index = self.stage_step = self.global_step = 0
        self.best_value: float | None = None
        self._trainable: tuple[str, ...] | None = None
        self.scalars = DeviceScalars()
        self._checked_step = 0  # losses were finite up to this step
        self._progress = progress and self.main
        if config.compile:
            compile_networks(self.networks, self.device)

    # --- the loop ----------------------------------------------------------------------------------------------
    def fit(self) -> None:
        total = sum(s.steps for s in self.stages)
        for net in self.networks.values():  # every rank starts from rank 0's weights, as DDP does
            broadcast_module(net)
        self.logger = RunLogger(self.run_dir, total, self.global_step, progress=self._progress, write=self.main)
        self._last_log_time, self._last_log_step = time.perf_counter(), self.global_step
        try:
            self._run_stages(total)
        finally:
            self.logger.close()
        barrier()  # the files are complete when any rank returns

    def _run_stages(self, total: int) -> None:
        deadline = time.perf_counter() + self.config.time_limit if self.config.time_limit > 0 else None
        while self.stage_index < len(self.stages):
            stage = self.stages[self.stage_index]
            self.logger.set_stage(stage.name)
            phases = self.model.phases(stage.name)
            while self.stage_step < stage.steps:
                self._train_step(stage, phases)
                out_of_time = self._out_of_time(deadline)
                self._cadence(stage.name, last=self.global_step == total or out_of_time)
                if out_of_time and self.global_step < total:
                    self.logger.message(f"train.time_limit ({self.config.time_limit:g} s) reached at step "
                                        f"{self.global_step} of {total}; the run ends here")
                    return
            self.stage_index, self.stage_step = self.stage_index + 1, 0

    def _out_of_time(self, deadline: float | None) -> bool:
        """train.time_limit is up. One process decides after each step; several decide together at the log cadence,
        so no step pays a collective."""
        if deadline is None:
            return False
        if world_size() == 1:
            return time.perf_counter() >= deadline
        if self.global_step % max(1, self.config.log_every):
            return False
        return any_rank(time.perf_counter() >= deadline, self.device)

    def _train_step(self, stage: StageConfig, phases: list[Phase]) -> None:
        self.model.train()
        self.model.on_step(stage.name, self.stage_step, stage.steps)
        for phase in phases:
            if self.stage_step % phase.every == 0:
                for _ in range(phase.repeat):
                    self._run_phase(phase)
        if self.ema is not None:
            network = self.networks[self.model.ema_network]
            if self.global_step < self.config.ema_start:
                self.ema.shadow = {k: v.detach().clone() for k, v in network.state_dict().items()}
            else:
                self.ema.update(network)
        for scheduler in self.schedulers.values():
            scheduler.step()
        self.stage_step += 1
        self.global_step += 1
        self.logger.advance()

    def _run_phase(self, phase: Phase) -> None:
        self._set_trainable(phase.trains)
        self.optimizers[phase.optimizer].zero_grad(set_to_none=True)
        batch = self._prepare(self.loader.next_batch()) if phase.uses_data else {}
        with autocast(self.device, self.config.amp):
            loss, scalars = self.model.loss(phase.name, batch)
        scalars = {**scalars, **self.updater.step(phase, loss)}
        self.model.after_phase(phase.name)
        self.scalars.add(phase.name, loss, scalars)

    def _prepare(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        if not self.config.channels_last:
            return batch
        return {k: v.contiguous(memory_format=torch.channels_last) if v.dim() == 4 else v for k, v in batch.items()}

    def _set_trainable(self, names: tuple[str, ...]) -> None:
        """Only the phase's networks get gradients; toggled only when the set changes."""
        if names == self._trainable:
            return
        unknown = set(names) - set(self.networks)
        if unknown:
            raise KeyError(f"phase trains unknown networks {sorted(unknown)}; networks: {sorted(self.networks)}")
        for name, net in self.networks.items():
            net.requires_grad_(name in names)
        self._trainable = names

    # --- cadence -----------------------------------------------------------------------------------------------
    def _due(self, every: int, last: bool) -> bool:
        return last or (every > 0 and self.global_step % every == 0)

    def _cadence(self, stage: str, last: bool) -> None:
        cfg = self.config
        if self._due(cfg.log_every, last) and self.scalars:
            self._flush_logs(stage)
        if self._due(cfg.sample_every, last):
            self._check_finite()
            if self.main:
                with self._sampling_weights():
                    self.save_preview(self._preview(), self.global_step, self.logger.writer)
        stage_every = self.stages[self.stage_index].eval_every
        due = (last or self.stage_step % stage_every == 0) if stage_every > 0 else self._due(self.eval_every, last)
        if self.evaluating and due:
            self._evaluate()
        if self._due(cfg.checkpoint_every, last):
            self.save(ckpt.step_folder(self.run_dir / "checkpoints", self.global_step))
            if self.main:
                ckpt.prune_checkpoints(self.run_dir / "checkpoints", cfg.keep_checkpoints)

    def _flush_logs(self, stage: str) -> None:
        self._check_finite()
        values = mean_over_ranks(self.scalars.means(), self.device)  # every rank's losses, not rank 0's alone
        now = time.perf_counter()
        steps = self.global_step - self._last_log_step
        if steps > 0:
            values["sec_per_step"] = (now - self._last_log_time) / steps
        self._last_log_time, self._last_log_step = now, self.global_step
        self.logger.log(self.global_step, values, "train", stage)

    def _check_finite(self) -> None:
        bad = self.scalars.nonfinite_phases()
        if any_rank(bool(bad), self.device):  # every rank stops together, none waits at a collective
            bad = bad or ["(on another rank)"]
            kept = ckpt.list_checkpoints(self.run_dir / "checkpoints")
            where = f"last good checkpoint: {kept[-1]}" if kept else "no checkpoint was written before it"
            steps = f"step {self.global_step}" if self.global_step - self._checked_step <= 1 else (
                f"between steps {self._checked_step + 1} and {self.global_step}")
            raise NonFiniteLossError(
                f"the loss of phase '{bad[0]}' became NaN/inf at {steps}; training stopped ({where}); "
                "lower the learning rates or set train.grad_clip"
            )
        self._checked_step = self.global_step

    def _sampling_weights(self):
        """Generator weights to sample with: the EMA copy when there is one; networks in eval mode."""
        self.model.eval()
        if self.ema is None:
            return nullcontext()
        return self.ema.swapped(self.networks[self.model.ema_network])

    @torch.no_grad()
    def _preview(self) -> dict[str, Tensor]:
        generator = torch.Generator(self.device).manual_seed(self.config.seed + 1)  # same noise every preview
        samples = self.model.sample(self.config.preview_samples, generator, self._preview_inputs())
        return {k: v.cpu() for k, v in samples.items()}

    def _preview_inputs(self) -> dict[str, Tensor] | None:
        """Fixed real inputs for models that translate rather than sample from noise: the dataset's
        `preview_batch(n)` when it has one (paired/unpaired images), else None."""
        preview_batch = getattr(self.loader.dataset, "preview_batch", None)
        if preview_batch is None:
            return None
        return {k: v.to(self.device) for k, v in preview_batch(self.config.preview_samples).items()}

    def _evaluate(self) -> None:
        """Rank 0 generates and scores (the others wait at the next collective); the decision to keep a `best`
        checkpoint is broadcast, since saving gathers every rank's RNG state."""
        self._check_finite()
        better = False
        if self.main:
            better = self._evaluate_main()
        if broadcast_object(better):
            self.save(self.run_dir / "checkpoints" / "best")

    def _evaluate_main(self) -> bool:
        with self._sampling_weights(), preserved_rng():
            results = self.evaluator(self.model)
        record = {"step": self.global_step, "metrics": {k: v.to_json() for k, v in results.items()}}
        write_json_atomic(self.run_dir / "eval.json", record)
        self.logger.log(self.global_step, {k: v.value for k, v in results.items()}, "eval")
        self.meta["metrics"] = record["metrics"]
        best = results.get(self.best_metric) if self.best_metric else None
        if best is not None:
            better = self.best_value is None or (
                best.value > self.best_value if best.higher_is_better else best.value < self.best_value
            )
            if better:
                self.best_value = best.value
                return True
        return False

    # --- checkpoints -------------------------------------------------------------------------------------------
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
        self.updater.load_state_dict(state.get("scalers", {}))
        self._restore_rng(state, folder)

    def _restore_rng(self, state: dict[str, Any], folder: Path) -> None:
        saved = [state["rng"], *state.get("rng_ranks", [])]
        if not restore_rank_rng(saved, self.config.seed + self.global_step) and self.main:
            log.warning(f"{folder} was saved by {len(saved)} process(es) and resumes on {world_size()}: same "
                        "weights, optimiser state and data order; the random streams of new ranks are reseeded")

