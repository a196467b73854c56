"""The recipe's `eval:` section."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class EvalConfig:
    every: int = 0  # training steps between evaluations; 0: only `multigan eval` and the end of training
    metrics: list[str] = field(default_factory=list)  # registered names, e.g. [fid, kid, is] or [bleu, self_bleu]
    n_samples: int = 10000  # generated samples per evaluation
    seed: int = 12345  # the evaluation samples' seed: fixed, so successive evaluations are comparable
    # how `seed` seeds them: stream (one generator through every batch: what the README's numbers used),
    # per_batch (batch i from its own seed: the same set for any number of processes, which share the work),
    # auto (stream on one process, per_batch under torchrun)
    sample_seeds: str = "auto"
    reference_split: str = "test"  # real split the generated samples are compared with
    batch_size: int = 250  # generation and feature-extraction batch size
    self_bleu_samples: int = 1000  # self-BLEU scores this many generated sentences, each against the others
    best: str = ""  # metric (key in the results) that selects the `best` checkpoint; "" keeps none
    features: str = "classifier"  # feature extractor (FEATURES): classifier (offline) | inception-fid | vggish
    inception_weights: str = ""  # path of pt_inception-2015-12-05-6726825d.pth; "" reads $MULTIGAN_INCEPTION_WEIGHTS
    vggish_weights: str = ""  # path of vggish-10086976.pth (torchvggish); "" reads $MULTIGAN_VGGISH_WEIGHTS
    classifier_epochs: int = 3  # training epochs of the domain classifier (cached per dataset fingerprint)
    classifier_embedding_dim: int = 0  # its embedding size; 0: the modality's default (images 256, audio 64)
    real_floor: bool = True  # also score real train vs reference data with each feature metric (cached)
