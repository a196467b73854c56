"""Gumbel-softmax text GAN in the style of RelGAN (Nie et al. 2019).

The generator's output at each step is a relaxed one-hot softmax(beta * (o_t + g_t)), g_t ~ Gumbel(0, 1), fed to a
CNN discriminator that embeds one-hots by a matmul, so D's gradient reaches G without policy gradients. The next
input token is argmax(o_t + g_t) (an exact sample of softmax(o_t)). The inverse temperature beta grows
exponentially, beta_n = beta_max ** (n / N), over the N adversarial steps. Loss: relativistic standard GAN,
    D: BCE(D(x_real) - D(x_fake), 1)        G: BCE(D(x_fake) - D(x_real), 1)

Stages: pretrain_g (MLE, Adam 1e-2) then adversarial (G 1 step, D `d_steps` steps, Adam 1e-4 both).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from multigan.core.phases import Batch, DataInfo, Phase
from multigan.registry import MODELS
from multigan.text.base import TextGAN, TextGANConfig, evaluating
from multigan.text.discriminators import CNNDiscriminator
from multigan.text.generators import Policy, TextModelError


def gumbel_noise(shape: torch.Size, device: torch.device, generator: torch.Generator | None = None) -> Tensor:
    """Gumbel(0, 1) = -log(Exp(1)) samples."""
    return -torch.empty(shape, device=device).exponential_(generator=generator).log()


def gumbel_softmax(logits: Tensor, beta: float, hard: bool = False,
                   generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """(relaxed one-hot (N, V), sampled token (N,)). With `hard`, the forward value is the exact one-hot of the
    sampled token and the gradient is the relaxed one's (straight-through)."""
    perturbed = logits + gumbel_noise(logits.shape, logits.device, generator)
    token = perturbed.argmax(dim=-1)
    soft = torch.softmax(beta * perturbed, dim=-1)
    if hard:
        one_hot = F.one_hot(token, logits.shape[-1]).to(soft.dtype)
        soft = one_hot - soft.detach() + soft
    return soft, token


def gumbel_generate(policy: Policy, n: int, length: int, bos_id: int, beta: float, hard: bool,
                    device: torch.device) -> tuple[Tensor, Tensor]:
    """Relaxed one-hots (n, L, V) with gradients to the policy, and their tokens (n, L). Each step's input is the
    previous hard token: gradients flow through the outputs, as in RelGAN."""
    token = torch.full((n,), bos_id, dtype=torch.long, device=device)
    state, relaxed, tokens = None, [], []
    for _ in range(length):
        logits, state = policy.step(token, state)
        soft, token = gumbel_softmax(logits, beta, hard)
        relaxed.append(soft)
        tokens.append(token)
    return torch.stack(relaxed, dim=1), torch.stack(tokens, dim=1)


def exponential_beta(beta_max: float, step: int, total: int) -> float:
    """RelGAN's 'exp' schedule: 1 at the first adversarial step, beta_max at the last."""
    return beta_max ** (step / max(1, total - 1))


@dataclass
class RelGANDiscriminatorConfig:
    embed_dim: int = 64  # per representation
    num_rep: int = 64  # RelGAN: 64 embedded representations
    filter_sizes: list[int] = field(default_factory=lambda: [2, 3, 4, 5])
    num_filters: list[int] = field(default_factory=lambda: [300, 300, 300, 300])
    dropout: float = 0.25
    hidden: int = 100


@MODELS.register("gumbel_gan")
class GumbelGAN(TextGAN):
    @dataclass
    class Config(TextGANConfig):  # RelGAN's rates (MLE 1e-2, G and D 1e-4) and its 5 D updates per G update
        discriminator: RelGANDiscriminatorConfig = field(default_factory=RelGANDiscriminatorConfig)
        max_inverse_temperature: float = 100.0  # beta_max; RelGAN(100) / RelGAN(1000)
        straight_through: bool = False  # D sees exact one-hots forward, relaxed gradients backward

    stages = ("pretrain_g", "adversarial")

    def __init__(self, config: Config, info: DataInfo):
        super().__init__(config, info)
        d = config.discriminator
        try:
            self.discriminator = CNNDiscriminator(
                self.vocab_size, self.max_len, d.embed_dim, d.filter_sizes, d.num_filters, d.dropout,
                num_rep=d.num_rep, hidden=d.hidden, num_outputs=1,
            )
        except ValueError as err:
            raise TextModelError(f"model.discriminator: {err}") from None
        self.beta = 1.0

    def networks(self) -> dict[str, torch.nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator, "flags": self.flags}

    def phases(self, stage: str) -> list[Phase]:
        if stage == "pretrain_g":
            return [Phase("G_mle", ("generator",), "generator")]
        if stage == "adversarial":
            return [
                Phase("G", ("generator",), "generator_adv"),
                Phase("D", ("discriminator",), "discriminator", repeat=self.config.d_steps),
            ]
        raise TextModelError(f"gumbel_gan has no stage '{stage}'; stages: {', '.join(self.stages)}")

    def on_step(self, stage: str, step: int, total: int) -> None:
        super().on_step(stage, step, total)
        if stage == "adversarial":
            self.beta = exponential_beta(self.config.max_inverse_temperature, step, total)

    def loss(self, phase: str, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        if phase == "G_mle":
            loss = self.mle_loss(batch["tokens"])
            return loss, {"nll_train": loss.detach()}
        real = batch["tokens"]  # (B, L) ids: D embeds them by lookup, equal to one-hot @ embedding and cheaper
        if phase == "G":
            fake, _ = gumbel_generate(self.generator, len(real), self.max_len, self.bos_id, self.beta,
                                      self.config.straight_through, self.device)
            margin = self.discriminator(fake) - self.discriminator(real)  # (B*R, 1): per representation
            return rsgan(margin), {"beta": torch.tensor(self.beta, device=self.device)}
        if phase == "D":
            with torch.no_grad(), evaluating(self.generator):
                fake, _ = gumbel_generate(self.generator, len(real), self.max_len, self.bos_id, self.beta,
                                          self.config.straight_through, self.device)
            margin = self.discriminator(real) - self.discriminator(fake)
            return rsgan(margin), {"d_margin": margin.detach().mean()}
        raise KeyError(f"gumbel_gan has no phase '{phase}'")


def rsgan(margin: Tensor) -> Tensor:
    """Relativistic standard loss BCE(margin, 1) = softplus(-margin), averaged."""
    return F.softplus(-margin.float()).mean()

