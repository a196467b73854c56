"""The recipe's `eval:` section."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class EvalConfig:
    every: int = 0  # training steps between evaluations; 0: only `multigan eval` and the end of training
    metrics: list[str] = field(default_factory=list)  # registered names, e.g. [fid, kid, is] or [bleu, self_bleu]
    n_samples: int = 10000  # generated samples per evaluation
    seed: int = 12345  # the evaluation samples' seed: fixed, so successive evaluations are comparable
    reference_split: str = "test"  # real split the generated samples are compared with
    batch_size: int = 250  # generation and feature-extraction batch size
    best: str = ""  # metric (key in the results) that selects the `best` checkpoint; "" keeps none
