"""StyleGAN2 (Karras et al. 2020) on the game of core/game.py, in plain PyTorch (networks: stylegan2_nets.py).

Phases, with lazy regularisation (Sec. 4 of the paper): the regularisers run on their own every few steps, their
loss multiplied by the interval, and Adam's rate and betas rescaled by c = interval / (interval + 1):

    D       x d_steps   softplus(D(G(z))) + softplus(-D(x))                 (the game's non-saturating loss)
    D_reg   every 16    gamma / 2 * |grad_x D(x)|^2 * 16                     (R1; `r1_gamma`)
    G                   softplus(-D(G(z))), with style mixing: two w's, a random crossover layer, p = 0.9
    G_reg   every 4     (|J_w^T y| - a)^2 * 4, y ~ N(0, I) / sqrt(HW), a the running mean of the lengths (path length)

Sampling: `psi` (the truncation trick on w, around the tracked w_avg; `multigan sample --psi 0.7`), and per-layer
noise drawn from the sampling generator, so a seed gives the same images.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from multigan.core.game import GameConfig, ModelConfigError
from multigan.core.phases import Batch, DataInfo, Phase
from multigan.core.regularizers import r1_penalty
from multigan.images.gan import ImageGAN
from multigan.images.style_blocks import ModulatedConv2d
from multigan.images.stylegan2_nets import StyleDiscriminator, StyleGenerator
from multigan.registry import MODELS


@dataclass
class StyleGAN2Config(GameConfig):
    """Defaults: stylegan2-ada-pytorch's settings for 64-256 px ("auto"/paper256: mapping 8, mixing 0.9, path
    length 2, R1 every 16); its `cifar` preset is recipes/stylegan2_fashion.yaml's diff."""

    latent_dim: int = 512
    w_dim: int = 512
    mapping_layers: int = 8
    channel_base: int = 16384  # feature maps at resolution r: min(channel_base / r, channel_max)
    channel_max: int = 512
    mbstd_group: int = 4  # minibatch-stddev group; must divide the per-rank batch (the whole batch if smaller)
    style_mixing: float = 0.9  # probability that a G batch mixes two w's at a random layer
    r1_gamma: float = 10.0  # the paper's gamma at 256 px; 0.01 at 32 px (cifar); ADA's heuristic 0.0002 R^2 / B
    r1_interval: int = 16
    pl_weight: float = 2.0  # path-length weight; 0 disables (cifar)
    pl_interval: int = 4
    pl_batch_shrink: int = 2  # the path-length batch is the G batch / this
    pl_decay: float = 0.01
    lr_g: float = 0.0025
    lr_d: float = 0.0025
    betas: tuple[float, float] = (0.0, 0.99)
    grouped_conv: bool = False  # modulated convs as one grouped conv (the reference's inference path) instead of
    #                             scaling activations (its training path); the same values, other speeds


@MODELS.register("stylegan2")
class StyleGAN2(ImageGAN):
    Config = StyleGAN2Config
    sampling_options = ("psi",)  # the truncation of w (not of z)

    def __init__(self, config: StyleGAN2Config, info: DataInfo):
        channels, height, width = info.shape
        levels = int(math.log2(height)) if height > 0 else 0
        if height != width or height < 4 or 2**levels != height:
            raise ModelConfigError(f"stylegan2 needs square power-of-two images of at least 4 px, the data gives "
                                   f"{height}x{width} (set data.resolution)")
        if config.loss != "nonsaturating" or config.gp_weight or config.d_steps < 1:
            raise ModelConfigError("stylegan2 plays the non-saturating game with R1 (model.r1_gamma): leave "
                                   "model.loss, model.gp_weight at their defaults, d_steps >= 1")
        for key in ("r1_interval", "pl_interval", "pl_batch_shrink"):
            if getattr(config, key) < 1:
                raise ModelConfigError(f"model.{key} must be at least 1, got {getattr(config, key)}")
        super().__init__(config, info)

    def build_networks(self, info: DataInfo, num_classes: int) -> tuple[nn.Module, nn.Module]:
        c, (channels, resolution, _) = self.config, info.shape
        generator = StyleGenerator(c.latent_dim, c.w_dim, c.mapping_layers, resolution, channels, c.channel_base,
                                   c.channel_max, num_classes)
        discriminator = StyleDiscriminator(resolution, self.packed_channels(channels), c.channel_base, c.channel_max,
                                           num_classes, c.mbstd_group)  # minibatch stddev then groups packs
        for module in generator.modules():
            if isinstance(module, ModulatedConv2d):
                module.grouped = c.grouped_conv
        return generator, discriminator

    def r1_every_d_step(self) -> bool:
        return False  # lazily, in D_reg

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        adams = {}
        # lazy regularisation: the same expected step over main + reg phases. As the reference, the rescaling
        # follows the intervals even when a regulariser's weight is 0 (its cifar preset: G x 0.8 without path length)
        for name, net, lr, interval in (("generator", self.generator, c.lr_g, c.pl_interval),
                                        ("discriminator", self.discriminator, c.lr_d, c.r1_interval)):
            ratio = interval / (interval + 1)
            adams[name] = torch.optim.Adam(net.parameters(), lr=lr * ratio, betas=(c.betas[0] ** ratio,
                                                                                  c.betas[1] ** ratio), eps=1e-8)
        return adams

    def phases(self, stage: str) -> list[Phase]:
        c = self.config
        phases = [Phase("D", ("discriminator",), "discriminator", repeat=c.d_steps)]
        if c.r1_gamma > 0:
            phases.append(Phase("D_reg", ("discriminator",), "discriminator", every=c.r1_interval))
        phases.append(Phase("G", ("generator",), "generator", uses_data=False))
        if c.pl_weight > 0:
            phases.append(Phase("G_reg", ("generator",), "generator", every=c.pl_interval, uses_data=False))
        return phases

    def loss(self, phase: str, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        if phase == "D_reg":
            return self._r1_loss(batch)
        if phase == "G_reg":
            return self._path_length_loss()
        return super().loss(phase, batch)

    def mixed_ws(self, z: Tensor, labels: Tensor | None) -> Tensor:
        """(B, num_ws, W) for training: one w per sample, and with probability `style_mixing` a second w from
        another z taking over from a random layer on (the same layer for the batch, as the reference does)."""
        ws = self.generator.ws(z, labels, track=True)
        if self.config.style_mixing > 0:
            num_ws = ws.shape[1]
            cutoff = torch.randint(1, num_ws, (), device=ws.device)
            cutoff = torch.where(torch.rand((), device=ws.device) < self.config.style_mixing, cutoff, num_ws)
            later = torch.arange(num_ws, device=ws.device)[None, :, None] >= cutoff  # (1, num_ws, 1)
            ws = torch.where(later, self.generator.ws(self.draw_latent(len(z)), labels, track=False), ws)
        return ws

    def fake(self, z: Tensor, labels: Tensor | None) -> Tensor:
        """Training fakes: mixed styles, per-layer noise from the global RNG."""
        return self.generator.synthesis(self.mixed_ws(z, labels))

    def _r1_loss(self, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        real = batch["image"].detach().requires_grad_(True)
        labels = batch.get("label") if self.num_classes else None
        r1 = r1_penalty(self.judge(real, labels), real, group=self.config.pack)
        return 0.5 * self.config.r1_gamma * r1 * self.config.r1_interval, {"r1": r1.detach()}

    def _path_length_loss(self) -> tuple[Tensor, dict[str, Tensor]]:
        c = self.config
        n = max(1, self.batch_size // c.pl_batch_shrink)
        z, labels = self._noise(n)
        ws = self.mixed_ws(z, labels)
        images = self.generator.synthesis(ws)  # (n, C, H, W)
        noise = torch.randn_like(images) / math.sqrt(images.shape[2] * images.shape[3])
        (grad,) = torch.autograd.grad((images * noise).sum(), ws, create_graph=True)  # (n, num_ws, W)
        lengths = grad.float().square().sum(dim=2).mean(dim=1).sqrt()  # (n,)
        pl_mean = self.generator.pl_mean
        pl_mean.copy_(pl_mean.lerp(lengths.detach().mean(), c.pl_decay))
        penalty = (lengths - pl_mean).square().mean()
        return penalty * c.pl_weight * c.pl_interval, {"path_length": lengths.detach().mean()}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, condition: Tensor | None = None,
               psi: float = 1.0) -> Batch:
        if psi < 0:
            raise ModelConfigError(f"psi must be 0 or more (1: no truncation, 0: the average image), got {psi}")
        z, labels = self._noise(n, generator)
        if self.num_classes:
            labels = condition if condition is not None else torch.arange(n, device=self.device) % self.num_classes
        images = self.generator.synthesis(self.generator.ws(z, labels, psi), generator).float().clamp(-1, 1)
        return {"image": images, "label": labels} if labels is not None else {"image": images}
