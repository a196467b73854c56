"""The two-player game, written once for every modality: a generator `G(z, labels) -> x` and a discriminator
`D(x, labels) -> (B,)` logits, trained in two phases per step.

    D x d_steps: minimise  L_D(D(x), D(G(z)))  [+ gp_weight * GP(x, G(z))]  [+ r1_gamma / 2 * R1(x)]
    G:           minimise  L_G(D(G(z)))        (relativistic losses: L_G(D(G(z)), D(x)), so G's phase reads data)

The loss family (nonsaturating, minimax, hinge, wasserstein, lsgan, relativistic: core/losses.py), one-sided label
smoothing, spectral norm on D, the WGAN-GP gradient penalty, R1 and the number of D updates are options of the
game, not models: `wgan_gp_fashion` is DCGAN's networks with `loss: wasserstein` and a penalty. A subclass names
its data field (`data_key`: "image", "audio" ...), builds its two networks, and may change how z is drawn; the
game reads only the fields `GameConfig` declares.

PacGAN (Lin et al. 2018), `pack: m`: D judges m examples at once, all real or all generated, concatenated along the
first non-batch dimension: images (B, C, H, W) -> (B/m, m*C, H, W), points (B, 2) -> (B/m, 2m). The subclass builds
D for m times the channels (`packed_channels`); the gradient penalty interpolates whole packs and R1 is the squared
norm of D's gradient per pack, as for any D on the packed input. pack = 1 is the plain game, computed as before.
"""
from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import Tensor, nn

from multigan.core.augmentation import AugmentConfig, Augmenter
from multigan.core.losses import get_loss
from multigan.core.phases import Batch, ClassConditional, DataInfo, Discriminating, GANModel, Phase, player_adams
from multigan.core.regularizers import apply_spectral_norm, gradient_penalty, r1_penalty
from multigan.errors import UserError


class ModelConfigError(UserError, ValueError):
    """A model section whose values do not fit together or do not fit the data."""


@dataclass
class GameConfig:
    """The game's settings; a model's Config adds its network sizes (and may change these defaults)."""

    latent_dim: int = 100
    conditional: bool = False  # labels into G and D (how D sees them is the networks' choice)
    loss: str = "nonsaturating"  # nonsaturating | minimax | hinge | wasserstein | lsgan | relativistic
    real_label: float = 1.0  # < 1: one-sided label smoothing (Salimans et al. 2016 use 0.9)
    spectral_norm: bool = False  # spectral normalisation on every D layer (Miyato et al. 2018)
    gp_weight: float = 0.0  # WGAN-GP lambda (10 in Gulrajani et al. 2017); needs a per-example D
    r1_gamma: float = 0.0  # R1 penalty weight gamma (Mescheder et al. 2018)
    drift: float = 0.0  # + drift * E[D(x)^2]: keeps a critic's outputs near 0 (PGGAN: 0.001)
    d_steps: int = 1  # discriminator updates per generator update
    pack: int = 1  # PacGAN: D judges packs of this many examples (2-4 in the paper); must divide the batch
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)  # beta1 = 0.5 stabilises GAN training (DCGAN paper, sec. 4)
    augment: AugmentConfig = field(default_factory=AugmentConfig)  # what D sees: DiffAugment / ADA


class AdversarialGame(GANModel, ClassConditional, Discriminating):
    """Subclasses set `Config`, `modality` and `data_key`, and implement `build_networks`; the rest is the game."""

    data_key: ClassVar[str]  # the Batch field of real examples: "image" (B, C, H, W), "audio" (B, 1, T) ...

    def __init__(self, config: GameConfig, info: DataInfo):
        super().__init__(config, info)
        if config.conditional and info.num_classes < 2:
            raise ModelConfigError("model.conditional is true but the dataset has no class labels")
        if not isinstance(config.pack, int) or config.pack < 1:
            raise ModelConfigError(f"model.pack must be a whole number >= 1 (1: no packing), got {config.pack!r}")
        if config.pack > 1 and config.conditional:
            raise ModelConfigError(f"model.pack: {config.pack} with model.conditional: true is not supported (a pack "
                                   "of examples has no single label); set one of them back")
        blocker = self.gradient_penalty_blocker()
        if config.gp_weight > 0 and blocker:
            raise ModelConfigError(f"model.gp_weight > 0 needs {blocker}")
        self.adversarial = get_loss(config.loss, config.real_label)
        self.num_classes = info.num_classes if config.conditional else 0
        self.generator, self.discriminator = self.build_networks(info, self.num_classes)
        if config.spectral_norm:
            apply_spectral_norm(self.discriminator)
        self.augmenter = Augmenter(config.augment, self.modality)

    @abstractmethod
    def build_networks(self, info: DataInfo, num_classes: int) -> tuple[nn.Module, nn.Module]:
        """(generator, discriminator) for examples of `info.shape`; `num_classes` > 0 makes both conditional."""

    def packed_channels(self, channels: int) -> int:
        """D's input channels (features) for examples of `channels`: m times as many under PacGAN's `pack: m`."""
        return channels * self.config.pack

    def check_batch_size(self, batch_size: int, world: int = 1) -> None:
        pack, share = self.config.pack, batch_size // max(world, 1)
        if share % pack:
            where = f"train.batch_size ({batch_size})" if world == 1 else \
                f"each process's share of train.batch_size ({batch_size} over {world} processes: {share})"
            raise ModelConfigError(f"model.pack ({pack}) must divide {where}: D judges packs of {pack} examples, "
                                   f"all real or all generated; use a multiple of {pack}")

    def real_view(self, real: Tensor) -> Tensor:
        """Real examples as the players train on them (PGGAN pools them to the level it has grown to)."""
        return real

    def fake(self, z: Tensor, labels: Tensor | None) -> Tensor:
        """The generated batch the players train on (StyleGAN2 mixes styles here); sampling uses `sample`."""
        return self.generator(z, labels)

    def r1_every_d_step(self) -> bool:
        """Whether R1 joins every D loss (False: a model that regularises lazily, in a phase of its own)."""
        return True

    def gradient_penalty_blocker(self) -> str:
        """What the config must change before a per-example gradient penalty is valid ("" when it is)."""
        return ""

    def draw_latent(self, n: int, generator: torch.Generator | None = None,
                    truncation: float | None = None) -> Tensor:
        """z (n, latent_dim) ~ N(0, I); with `truncation` T, the truncation trick (Brock et al. 2019): every
        |z_i| > T is redrawn until all lie in [-T, T]."""
        z = torch.randn(n, self.config.latent_dim, device=self.device, generator=generator)  # (B, latent)
        if truncation is not None:
            outside = z.abs() > truncation
            while outside.any():
                z[outside] = torch.randn(int(outside.sum()), device=self.device, generator=generator)
                outside = z.abs() > truncation
        return z

    def networks(self) -> dict[str, nn.Module]:
        networks = {"generator": self.generator, "discriminator": self.discriminator}
        if self.augmenter.active:  # ADA's p and statistics travel with the checkpoint
            networks["augment"] = self.augmenter
        return networks

    def on_step(self, stage: str, step: int, total: int) -> None:
        if self.augmenter.adjusts_at(step, self.config.d_steps):
            self.augmenter.adjust()

    def judge(self, x: Tensor, labels: Tensor | None) -> Tensor:
        """D's logits for `x` as D sees it: through the augmentation when one is configured, then in packs of
        `pack` consecutive examples: (B,) logits, (B / pack,) under PacGAN."""
        x = self.augmenter(x) if self.augmenter.active else x
        return self.discriminator(self.pack_examples(x) if self.config.pack > 1 else x, labels)

    def pack_examples(self, x: Tensor) -> Tensor:
        """(B, C, ...) -> (B/m, m*C, ...): examples i*m ... i*m + m - 1 concatenated along dimension 1."""
        pack = self.config.pack
        if x.shape[0] % pack:
            raise ModelConfigError(f"model.pack ({pack}) does not divide the batch of {x.shape[0]} examples D judges "
                                   "(train.batch_size, or a dataset smaller than one batch)")
        return x.reshape(x.shape[0] // pack, pack * x.shape[1], *x.shape[2:])

    @torch.no_grad()
    def decision(self, x: Tensor) -> Tensor | None:
        """D's logits (N,) on the CPU for single examples `x` (N, ...), without augmentation; under PacGAN each
        example is judged as a pack of m copies of itself. None for a conditional D (it needs a label too)."""
        if self.num_classes:
            return None
        x = x.to(self.device)
        repeats = (1, self.config.pack) + (1,) * (x.dim() - 2)
        return self.discriminator(x.repeat(*repeats) if self.config.pack > 1 else x, None).float().cpu()

    def finish_samples(self, x: Tensor) -> Tensor:
        """Generated examples as `sample` returns them: clamped to the data's range [-1, 1] (a post filter, as
        WaveGAN's, may overshoot); a modality whose data is not bounded (2-D points) returns them as they are."""
        return x.float().clamp(-1, 1)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        return player_adams(self.generator, self.discriminator, c.lr_g, c.lr_d, c.betas)

    def phases(self, stage: str) -> list[Phase]:
        relativistic = self.config.loss == "relativistic"  # its G loss compares with real logits
        return [
            Phase("D", ("discriminator",), "discriminator", repeat=self.config.d_steps),
            Phase("G", ("generator",), "generator", uses_data=relativistic),
        ]

    def _noise(self, n: int, generator: torch.Generator | None = None,
               truncation: float | None = None) -> tuple[Tensor, Tensor | None]:
        z = self.draw_latent(n, generator, truncation)  # (B, latent)
        labels = None
        if self.num_classes:
            labels = torch.randint(self.num_classes, (n,), device=self.device, generator=generator)  # (B,)
        return z, labels

    def loss(self, phase: str, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        if phase == "D":
            return self._discriminator_loss(batch)
        if phase == "G":
            return self._generator_loss(batch)
        raise KeyError(f"{type(self).__name__} has no phase '{phase}'")

    def _discriminator_loss(self, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        real = self.real_view(batch[self.data_key])  # (B, ...) in [-1, 1]
        labels = batch.get("label") if self.num_classes else None  # fakes get the real batch's labels
        z, _ = self._noise(real.shape[0])
        fake = self.fake(z, labels)  # G is frozen in this phase: no graph is built through it
        r1_here = self.config.r1_gamma > 0 and self.r1_every_d_step()
        if r1_here:  # R1 differentiates through the augmentation, w.r.t. the data (as ADA does)
            real = real.detach().requires_grad_(True)
        d_real, d_fake = self.judge(real, labels), self.judge(fake, labels)
        loss = self.adversarial.discriminator(d_real, d_fake, self.config.real_label)
        scalars = {"d_real": d_real.mean().detach(), "d_fake": d_fake.mean().detach()}
        self.augmenter.observe(d_real, real.shape[0])
        if self.augmenter.adaptive:
            scalars["ada_p"] = self.augmenter.p.detach().clone()
        if self.config.drift > 0:
            loss = loss + self.config.drift * d_real.float().square().mean()
        if self.config.gp_weight > 0:
            gp = gradient_penalty(lambda x: self.judge(x, labels), real, fake, group=self.config.pack)
            loss = loss + self.config.gp_weight * gp
            scalars["gradient_penalty"] = gp.detach()
        if r1_here:
            r1 = r1_penalty(d_real, real, group=self.config.pack)
            loss = loss + 0.5 * self.config.r1_gamma * r1
            scalars["r1"] = r1.detach()
        return loss, scalars

    def _generator_loss(self, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        n = batch[self.data_key].shape[0] if self.data_key in batch else self.batch_size
        z, labels = self._noise(n)
        if "label" in batch and self.num_classes:
            labels = batch["label"]
        d_fake = self.judge(self.fake(z, labels), labels)
        d_real = self.judge(self.real_view(batch[self.data_key]), labels) if self.data_key in batch else None
        return self.adversarial.generator(d_fake, d_real), {}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, condition: Tensor | None = None, **sampling: float) -> Batch:
        z, labels = self._noise(n, generator, **sampling)
        if self.num_classes:
            # class-ordered rows make preview grids readable: 0 1 2 ... 9 0 1 ...
            labels = condition if condition is not None else torch.arange(n, device=self.device) % self.num_classes
        samples = self.finish_samples(self.generator(z, labels))
        return {self.data_key: samples, "label": labels} if labels is not None else {self.data_key: samples}
