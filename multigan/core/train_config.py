"""The recipe's `train:` section: the loop's settings (stages, batch, devices and speed switches, cadences).
The trainer (core/trainer.py) runs them."""
from __future__ import annotations

from dataclasses import dataclass, field


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
    data_fraction: float = 1.0  # train on this class-balanced share of the train split (data-efficiency studies);
    #                             evaluation still uses the whole splits
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    amp: str = "none"  # none | bf16 (autocast) | fp16 (autocast + loss scaling, CUDA only) | auto (bf16 where native)
    channels_last: bool = False  # NHWC memory layout for 4-D inputs and conv weights (faster convs on GPU)
    compile: bool = False  # torch.compile every network
    # torch.compile's mode: default | reduce-overhead (CUDA graphs: one launch replays a whole forward, for small
    # nets whose steps are launch-bound) | max-autotune | max-autotune-no-cudagraphs
    compile_mode: str = "default"
    cudnn_benchmark: bool = True  # CUDA: time each convolution shape's algorithms once, keep the fastest
    fused_adam: bool = True  # rebuild the models' Adam/AdamW with fused=True where the device has the kernel
    sync_batchnorm: bool = True  # under torchrun, BatchNorm statistics over the global batch (core/sync_batchnorm)
    threads: int = 0  # CPU intra-op threads; 0: OMP_NUM_THREADS if set, else the physical cores per process
    grad_clip: float = 0.0  # max global grad norm per phase; 0 disables
    ema: float = 0.0  # EMA decay of the generator's weights (e.g. 0.999); 0 disables
    ema_start: int = 0  # before this global step the EMA copy just follows the weights
    # StyleGAN2-ADA's ramp-up: the EMA half-life (in images) is at most ema_rampup x the images seen (its cifar
    # preset: 0.05), so a short run's average is not its first weights; 0: the constant `ema` decay
    ema_rampup: float = 0.0
    log_every: int = 50
    sample_every: int = 500  # preview grid cadence (steps); 0: only at the end
    preview_samples: int = 64
    checkpoint_every: int = 500  # 0: only at the end
    keep_checkpoints: int = 3  # newest step checkpoints kept; `best` is kept separately
    # wall-clock seconds of training per launch; when they are up the run ends as at its last step (evaluated,
    # previewed, checkpointed), and `--resume` would go on towards `steps`. 0: no limit. Checked after every step
    # (under torchrun at the log cadence, where all ranks decide together)
    time_limit: float = 0.0
    time_clock: str = "wall"  # wall | cpu: this process's CPU seconds, which other work on the cores does not eat into

    def stage_list(self) -> list[StageConfig]:
        return list(self.stages) or [StageConfig("adversarial", self.steps)]
