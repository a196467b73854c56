"""Plain hand-written adversarial steps for the text GANs, with the same networks as multigan's models: the
baselines of `throughput.py --model seqgan|gumbel`.

  PlainSeqGAN   what TextGAN-PyTorch's SeqGAN does per adversarial step: sample a batch, Monte-Carlo rollouts with
                the one-level inverse CDF, D's plain forward over every completion (no shared prefixes), REINFORCE,
                the delayed rollout update, then `d_steps` D updates on real vs fresh fakes.
  PlainGumbel   RelGAN's step: G through the relaxed one-hots against D (relativistic loss), then `d_steps` D
                updates on detached fakes.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from multigan.core.phases import DataInfo
from multigan.text.base import evaluating
from multigan.text.generators import generate, sequence_log_probs
from multigan.text.gumbel import gumbel_generate, rsgan
from multigan.text.rollout import rollout, rollout_rewards
from multigan.text.seqgan import SeqGAN, pg_loss, update_delayed
from seqgan_step import plain_sampling


class RandomTokens:
    """Uniform random token ids (n, L): the data of the text benchmarks (speed does not depend on the words)."""

    def __init__(self, n: int, length: int, vocab_size: int):
        g = torch.Generator().manual_seed(0)
        self.tokens = torch.randint(1, vocab_size, (n, length), generator=g)
        self.info = DataInfo("text", (length,), extra={"vocab": [str(i) for i in range(vocab_size)], "bos_id": 0,
                                                        "eos_id": None})
        self.fingerprint = "benchmark"

    def __len__(self) -> int:
        return len(self.tokens)

    def gather(self, index: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"tokens": self.tokens[index]}


class PlainTextLoop:
    def __init__(self, model, data: RandomTokens, batch_size: int, device: torch.device):
        self.G, self.D = copy.deepcopy(model.generator), copy.deepcopy(model.discriminator)
        c = model.config
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=c.lr_g)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=c.lr_d)
        self.tokens, self.batch, self.device, self.config = data.tokens, batch_size, device, c
        self.bos, self.length = model.bos_id, model.max_len

    def real_batch(self) -> torch.Tensor:
        return self.tokens[torch.randint(len(self.tokens), (self.batch,))].to(self.device)

    def steps(self, n: int) -> None:
        for _ in range(n):
            self.D.requires_grad_(False)
            self.opt_g.zero_grad(set_to_none=True)
            self.generator_loss().backward()
            self.opt_g.step()
            self.D.requires_grad_(True)
            self.G.requires_grad_(False)
            for _ in range(self.config.d_steps):
                self.opt_d.zero_grad(set_to_none=True)
                self.critic_loss(self.real_batch()).backward()
                self.opt_d.step()
            self.G.requires_grad_(True)


class PlainSeqGAN(PlainTextLoop):
    def __init__(self, model: SeqGAN, *rest):
        super().__init__(model, *rest)
        self.R = copy.deepcopy(self.G).requires_grad_(False)  # the delayed rollout network

    def sample(self) -> torch.Tensor:
        with torch.no_grad(), evaluating(self.G):
            return generate(self.G, self.batch, self.length, self.bos, device=self.device)

    def generator_loss(self) -> torch.Tensor:
        tokens = self.sample()  # (B, L)
        with torch.no_grad(), evaluating(self.R, self.D), plain_sampling():
            completions = rollout(self.R, tokens, self.config.num_rollouts, self.bos)
            rewards = rollout_rewards(self.D, completions, tokens, shared_prefix=False)  # (B, L)
        return pg_loss(sequence_log_probs(self.G, tokens, self.bos), rewards)

    def steps(self, n: int) -> None:
        for _ in range(n):
            super().steps(1)
            update_delayed(self.R, self.G, self.config.rollout_update_rate)

    def critic_loss(self, real: torch.Tensor) -> torch.Tensor:
        logits = self.D(torch.cat([real, self.sample()]))  # (2B, 2)
        labels = torch.cat([torch.ones_like(real[:, 0]), torch.zeros_like(real[:, 0])])
        return F.cross_entropy(logits, labels) + self.config.discriminator.l2_reg * self.D.l2_penalty()


class PlainGumbel(PlainTextLoop):
    beta = 1.0

    def generator_loss(self) -> torch.Tensor:
        fake, _ = gumbel_generate(self.G, self.batch, self.length, self.bos, self.beta, False, self.device)
        return rsgan(self.D(fake) - self.D(self.real_batch()))

    def critic_loss(self, real: torch.Tensor) -> torch.Tensor:
        with torch.no_grad(), evaluating(self.G):
            fake, _ = gumbel_generate(self.G, self.batch, self.length, self.bos, self.beta, False, self.device)
        return rsgan(self.D(real) - self.D(fake))

