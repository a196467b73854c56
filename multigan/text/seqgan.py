"""SeqGAN (Yu et al. 2017): the generator is a policy, the discriminator's P(real) of Monte-Carlo completions is
its reward, and REINFORCE updates it.

Stages (train.stages in the recipe):
    pretrain_g   G_mle: maximum likelihood on real sequences (Adam 0.01)
    pretrain_d   D: real batch vs a fresh generated batch, cross-entropy + 0.2 * L2 of the output layer (Adam 1e-4)
    adversarial  G_pg: sample a batch, 16 rollouts per prefix from the delayed rollout network, rewards from D,
                       minimise -sum_t log G(y_t | y_<t) Q(y_<t, y_t); then the rollout network moves 20% of the
                       way to the generator (update rate 0.8); then `d_steps` D updates

Reference hyper-parameters (LantaoYu/SeqGAN sequence_gan.py, TextGAN-PyTorch run_seqgan.py) are the defaults.
Note: in the TF reference the rollout "copy" reads the live generator variables, so its delay is in effect 0;
here the delay is real, and `rollout_update_rate: 0` reproduces the reference's behaviour.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from multigan.core.phases import Batch, DataInfo, Phase
from multigan.registry import MODELS
from multigan.text.base import TextGAN, TextGANConfig, evaluating
from multigan.text.discriminators import (
    SEQGAN_FILTER_SIZES,
    SEQGAN_NUM_FILTERS,
    CNNDiscriminator,
)
from multigan.text.generators import TextModelError, sequence_log_probs
from multigan.text.rollout import rollout, rollout_rewards


@dataclass
class SeqGANDiscriminatorConfig:
    embed_dim: int = 64
    filter_sizes: list[int] = field(default_factory=lambda: list(SEQGAN_FILTER_SIZES))
    num_filters: list[int] = field(default_factory=lambda: list(SEQGAN_NUM_FILTERS))
    dropout: float = 0.25  # keep probability 0.75
    l2_reg: float = 0.2  # weight of the output layer's L2 term


@MODELS.register("seqgan")
class SeqGAN(TextGAN):
    @dataclass
    class Config(TextGANConfig):
        discriminator: SeqGANDiscriminatorConfig = field(default_factory=SeqGANDiscriminatorConfig)
        num_rollouts: int = 16
        rollout_update_rate: float = 0.8  # rollout <- rate * rollout + (1 - rate) * generator after each G step
        lr_g: float = 0.01  # policy gradient: the references' Adam 0.01 (MLE too: lr_g_mle)
        # d_steps 5: D updates per adversarial step (the paper: 5 x 3 epochs over 10k + 10k sequences)

    stages = ("pretrain_g", "pretrain_d", "adversarial")

    def __init__(self, config: Config, info: DataInfo):
        super().__init__(config, info)
        d = config.discriminator
        try:
            self.discriminator = CNNDiscriminator(
                self.vocab_size, self.max_len, d.embed_dim, d.filter_sizes, d.num_filters, d.dropout
            )
        except ValueError as err:
            raise TextModelError(f"model.discriminator: {err}") from None
        self.rollout_network = copy.deepcopy(self.generator).requires_grad_(False)
        self.flags.register_buffer("rollout_synced", torch.tensor(False))

    def networks(self) -> dict[str, torch.nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator, "rollout": self.rollout_network,
                "flags": self.flags}

    def phases(self, stage: str) -> list[Phase]:
        d_phase = Phase("D", ("discriminator",), "discriminator")
        if stage == "pretrain_g":
            return [Phase("G_mle", ("generator",), "generator")]
        if stage == "pretrain_d":
            return [d_phase]
        if stage == "adversarial":
            pg = Phase("G_pg", ("generator",), "generator_adv", uses_data=False)
            return [pg, Phase("D", ("discriminator",), "discriminator", repeat=self.config.d_steps)]
        raise TextModelError(f"seqgan has no stage '{stage}'; stages: {', '.join(self.stages)}")

    def loss(self, phase: str, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        if phase == "G_mle":
            loss = self.mle_loss(batch["tokens"])
            return loss, {"nll_train": loss.detach()}
        if phase == "D":
            return self.discriminator_loss(batch["tokens"])
        if phase == "G_pg":
            return self.policy_gradient_loss()
        raise KeyError(f"seqgan has no phase '{phase}'")

    def discriminator_loss(self, real: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        fake = self.fake_tokens(len(real))
        logits = self.discriminator(torch.cat([real, fake]))  # (2B, 2)
        labels = torch.cat([torch.ones_like(real[:, 0]), torch.zeros_like(fake[:, 0])])
        loss = F.cross_entropy(logits.float(), labels)
        accuracy = (logits.argmax(dim=1) == labels).float().mean()
        penalty = self.config.discriminator.l2_reg * self.discriminator.l2_penalty()
        return loss + penalty, {"d_accuracy": accuracy.detach(), "d_ce": loss.detach()}

    def policy_gradient_loss(self) -> tuple[Tensor, dict[str, Tensor]]:
        tokens = self.fake_tokens(self.batch_size)  # (B, L)
        with evaluating(self.rollout_network, self.discriminator):
            completions = rollout(self.rollout_network, tokens, self.config.num_rollouts, self.bos_id)
            rewards = rollout_rewards(self.discriminator, completions, tokens)  # (B, L)
        log_probs = sequence_log_probs(self.generator, tokens, self.bos_id)  # (B, L)
        loss = pg_loss(log_probs, rewards)
        return loss, {"reward": rewards.mean(), "reward_final": rewards[:, -1].mean()}

    def on_step(self, stage: str, step: int, total: int) -> None:
        super().on_step(stage, step, total)
        if stage == "adversarial" and not self.flags.is_set("rollout_synced"):  # the rollout copy starts at the MLE G
            self.rollout_network.load_state_dict(self.generator.state_dict())
            self.flags.set("rollout_synced")

    def after_phase(self, phase: str) -> None:
        if phase == "G_pg":
            update_delayed(self.rollout_network, self.generator, self.config.rollout_update_rate)


def pg_loss(log_probs: Tensor, rewards: Tensor) -> Tensor:
    """REINFORCE: -(1/B) sum_b sum_t log G(y_bt | y_b<t) * Q_bt (the references sum over the batch too; Adam
    makes the 1/B irrelevant)."""
    return -(log_probs * rewards.detach()).sum(dim=1).mean()


@torch.no_grad()
def update_delayed(delayed: torch.nn.Module, source: torch.nn.Module, rate: float) -> None:
    """delayed <- rate * delayed + (1 - rate) * source, parameter by parameter."""
    for slow, fast in zip(delayed.parameters(), source.parameters()):
        slow.mul_(rate).add_(fast.detach(), alpha=1.0 - rate)
