"""What every text GAN shares: a generator built from `model.generator`, MLE pre-training, free-running samples,
and the per-token negative log-likelihood that NLL-gen reports.

Token layout (see vocab.py): fixed-length (B, L) ids; the generator reads BOS first and learns EOS/PAD as ordinary
tokens, so MLE is cross-entropy over all L positions, as in SeqGAN, Texygen and TextGAN-PyTorch.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from multigan.core import checkpoint as ckpt
from multigan.core.phases import Batch, DataInfo, GANModel, TokenScorer
from multigan.text.generators import (
    GeneratorConfig,
    TextModelError,
    build_generator,
    generate,
    teacher_inputs,
)


class TrainingFlags(nn.Module):
    """One-time events of a run as boolean buffers, so checkpoints carry them and a resumed run skips them. Each is
    read from its buffer once (on a GPU a read is a host sync, and `on_step` asks every step), then from memory;
    loading a state forgets what was read."""

    def __init__(self, *names: str):
        super().__init__()
        for name in names:
            self.register_buffer(name, torch.tensor(False))
        self._read: dict[str, bool] = {}

    def is_set(self, name: str) -> bool:
        if name not in self._read:
            self._read[name] = bool(self.get_buffer(name))
        return self._read[name]

    def set(self, name: str) -> None:
        self.get_buffer(name).fill_(True)
        self._read[name] = True

    def _load_from_state_dict(self, *args, **kwargs) -> None:
        self._read.clear()
        super()._load_from_state_dict(*args, **kwargs)


@dataclass
class TextGANConfig:
    """What every text GAN's Config has: the generator, three learning rates and an optional warm start. The
    rates are named as in every other model (lr_g the adversarial generator, lr_d the discriminator), plus lr_g_mle
    for MLE pre-training; SeqGAN's and TextGAN-PyTorch's names are accepted in recipes."""

    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    lr_g_mle: float = 1e-2  # MLE pre-training
    lr_g: float = 1e-4  # adversarial generator updates (their own Adam state, as both SeqGAN references)
    lr_d: float = 1e-4
    d_steps: int = 5  # D updates per adversarial step
    init_generator: str = ""  # checkpoint or run folder whose generator starts this run (skip pretrain_g)

    ALIASES: ClassVar[dict[str, str | tuple[str, ...]]] = {"g_lr": "lr_g_mle", "g_adv_lr": "lr_g", "d_lr": "lr_d"}


class TextGAN(GANModel, TokenScorer):
    modality = "text"
    sampling_options = ("temperature",)

    def __init__(self, config: TextGANConfig, info: DataInfo):
        super().__init__(config, info)
        if info.modality != "text":
            raise ValueError(f"{type(self).__name__} trains on text data, got {info.modality} data")
        self.vocab_size = len(info.extra["vocab"])
        self.max_len = int(info.shape[0])
        self.bos_id = int(info.extra["bos_id"])
        self.batch_size = 64  # the trainer sets train.batch_size; phases without data generate this many
        self.generator = self._build_generator(config.generator)
        self.flags = TrainingFlags("generator_loaded")

    def _build_generator(self, config: GeneratorConfig) -> nn.Module:
        return build_generator(config, self.vocab_size, self.max_len, self.bos_id, self.info.extra.get("eos_id"))

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Adam for MLE and for adversarial G updates kept apart (as both SeqGAN references), and D's."""
        c = self.config
        return {
            "generator": torch.optim.Adam(self.generator.parameters(), lr=c.lr_g_mle),
            "generator_adv": torch.optim.Adam(self.generator.parameters(), lr=c.lr_g),
            "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=c.lr_d),
        }

    def on_step(self, stage: str, step: int, total: int) -> None:
        # at the first training step, not at construction: sampling from a finished run never needs the source
        if self.config.init_generator and not self.flags.is_set("generator_loaded"):
            self.load_generator(Path(self.config.init_generator).expanduser())
            self.flags.set("generator_loaded")

    def load_generator(self, source: Path) -> None:
        """Generator weights from a checkpoint folder, or a run folder's latest checkpoint (e.g. a finished MLE
        run), as TextGAN-PyTorch's pretrained_gen_path. The vocabulary must be the same."""
        folder = source if (source / ckpt.META_FILE).is_file() else ckpt.latest_checkpoint(source)
        vocab = ckpt.read_meta(folder).get("info", {}).get("extra", {}).get("vocab")
        if vocab != self.info.extra["vocab"]:
            raise TextModelError(f"model.init_generator: {folder} was trained on another vocabulary")
        try:
            self.generator.load_state_dict(ckpt.load_networks(folder)["generator"])
        except (KeyError, RuntimeError) as err:
            first = str(err).strip().splitlines()[0]
            raise TextModelError(
                f"model.init_generator: {folder}: its generator does not fit model.generator ({first})"
            ) from None

    def mle_loss(self, tokens: Tensor) -> Tensor:
        """Mean cross-entropy of the teacher-forced generator over all (B, L) positions."""
        logits = self.generator(teacher_inputs(tokens, self.bos_id))  # (B, L, V)
        return F.cross_entropy(logits.flatten(0, 1).float(), tokens.flatten())

    @torch.no_grad()
    def token_nll(self, tokens: Tensor, batch_size: int = 1000, temperature: float = 1.0) -> float:
        """Mean per-token -log p of `tokens` (N, L) under p = softmax(logits / temperature), the distribution
        `sample(temperature=...)` draws from: NLL-gen on the test split at 1, NLL-test of a temperature sweep."""
        check_temperature(temperature)
        total = 0.0
        with evaluating(self.generator):
            for chunk in tokens.split(batch_size):
                chunk = chunk.to(self.device)
                logits = self.generator(teacher_inputs(chunk, self.bos_id)).float() / temperature  # (B, L, V)
                total += F.cross_entropy(logits.flatten(0, 1), chunk.flatten(), reduction="sum").item()
        return total / tokens.numel()

    def fake_tokens(self, n: int) -> Tensor:
        """`n` free-running samples (n, L) from the current generator, no gradient (global RNG)."""
        with evaluating(self.generator):
            return generate(self.generator, n, self.max_len, self.bos_id, device=self.device)

    def sample(self, n: int, generator: torch.Generator, condition: Tensor | None = None,
               temperature: float = 1.0) -> Batch:
        check_temperature(temperature)
        tokens = generate(self.generator, n, self.max_len, self.bos_id, generator, self.device, temperature)
        return {"tokens": tokens}


def check_temperature(temperature: float) -> None:
    """softmax(logits / T) needs T > 0: T = 0 divides by zero, T < 0 inverts the ranking of the tokens."""
    if not temperature > 0:
        raise TextModelError(f"temperature must be > 0 (softmax(logits / T)), got {temperature}")


@contextmanager
def evaluating(*modules: nn.Module) -> Iterator[None]:
    """Eval mode (no dropout) inside the block, each module's previous mode restored after."""
    modes = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        yield
    finally:
        for m, mode in zip(modules, modes):
            m.train(mode)
