"""`toygan`: the MLP GAN of the 2-D mode-collapse experiments, on the game of core/game.py (every loss family, GP,
R1, spectral norm, class conditioning, EMA and PacGAN's `pack` come with it).

Defaults are PacGAN's 2-D networks and optimiser (Lin et al. 2018, following VEEGAN; the settings of the authors'
code, synthetic_data_experiments/2DGrid_GAN&PacGAN and 2DRing_GAN&PacGAN):
    G  z (B, 2) ~ N(0, I) -> 4 x [Linear 400 (no bias) -> BatchNorm -> ReLU] -> Linear 2        (B, 2), unbounded
    D  x (B, 2m) -> 3 x [LinearMaxout 200 units x 5 pieces] -> Linear 1                           (B,) logits
    weights ~ N(0, 0.02^2), biases 0; Adam lr 1e-4, beta1 0.8; the non-saturating loss; batch 100 (packs)
The paper's text describes D's hidden units as maxout; `maxout: 1` gives the plain ReLU D (3 x 200 ReLU) that
many re-implementations use. Conditional (Mirza & Osindero 2014): a label embedding is concatenated to z in G and
to the point in D.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from multigan.core.game import AdversarialGame, GameConfig, ModelConfigError
from multigan.core.phases import DataInfo
from multigan.registry import MODELS

NORMS = ("batch", "none")


@dataclass
class ToyGANConfig(GameConfig):
    latent_dim: int = 2  # PacGAN: z ~ N(0, I) in 2-D
    generator_widths: tuple[int, ...] = (400, 400, 400, 400)  # hidden layers of G, input side first
    discriminator_widths: tuple[int, ...] = (200, 200, 200)  # hidden units of D, input side first
    generator_norm: str = "batch"  # batch (PacGAN: BatchNorm before every ReLU) | none
    maxout: int = 5  # pieces per D hidden unit (PacGAN's LinearMaxout); 1: ReLU units
    init_std: float = 0.02  # weights ~ N(0, init_std^2), biases 0 (PacGAN); 0: PyTorch's default initialisation
    label_dim: int = 8  # size of the label embedding fed to G and D when conditional
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    betas: tuple[float, float] = (0.8, 0.999)  # PacGAN's beta1 = 0.8 (beta2: Adam's default)


class Maxout(nn.Module):
    """Linear to `width * pieces`, then the max over each unit's pieces: (B, in) -> (B, width)."""

    def __init__(self, in_dim: int, width: int, pieces: int):
        super().__init__()
        self.width, self.pieces = width, pieces
        self.linear = nn.Linear(in_dim, width * pieces)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x).view(x.shape[0], self.width, self.pieces).amax(dim=2)  # (B, width)


class ToyGenerator(nn.Module):
    def __init__(self, latent_dim: int, widths: tuple[int, ...], norm: str, num_classes: int = 0, label_dim: int = 8):
        super().__init__()
        self.embed = nn.Embedding(num_classes, label_dim) if num_classes else None
        in_dim = latent_dim + (label_dim if num_classes else 0)
        layers: list[nn.Module] = []
        for width in widths:  # BatchNorm's shift is the bias, as in PacGAN's decoder (use_bias=False)
            layers += [nn.Linear(in_dim, width, bias=norm == "none")]
            layers += [nn.BatchNorm1d(width)] if norm == "batch" else []
            layers += [nn.ReLU()]
            in_dim = width
        self.main = nn.Sequential(*layers, nn.Linear(in_dim, 2))

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.embed is not None:
            if labels is None:
                raise ValueError("a conditional generator needs labels")
            z = torch.cat([z, self.embed(labels)], dim=1)  # (B, latent + label_dim)
        return self.main(z)  # (B, 2)


class ToyDiscriminator(nn.Module):
    def __init__(self, in_dim: int, widths: tuple[int, ...], pieces: int, num_classes: int = 0, label_dim: int = 8):
        super().__init__()
        self.embed = nn.Embedding(num_classes, label_dim) if num_classes else None
        in_dim += label_dim if num_classes else 0
        layers: list[nn.Module] = []
        for width in widths:
            layers += [Maxout(in_dim, width, pieces)] if pieces > 1 else [nn.Linear(in_dim, width), nn.ReLU()]
            in_dim = width
        self.main = nn.Sequential(*layers, nn.Linear(in_dim, 1))

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.embed is not None:
            if labels is None:
                raise ValueError("a conditional discriminator needs labels")
            x = torch.cat([x, self.embed(labels)], dim=1)  # (B, 2m + label_dim)
        return self.main(x).squeeze(1)  # (B,) logits


def gaussian_init(module: nn.Module, std: float) -> None:
    """Every Linear weight ~ N(0, std^2) and bias 0 (PacGAN's IsotropicGaussian(0.02), Constant(0))."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, std)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


@MODELS.register("toygan")
class ToyGAN(AdversarialGame):
    Config = ToyGANConfig
    modality = "points"
    data_key = "points"  # (B, 2)

    def __init__(self, config: ToyGANConfig, info: DataInfo):
        if info.modality != "points" or tuple(info.shape) != (2,):
            raise ModelConfigError(f"toygan trains on 2-D points (data.name: ring, grid, spiral, moons or "
                                   f"points_csv), the data gives {info.modality} of shape {tuple(info.shape)}")
        if config.generator_norm not in NORMS:
            raise ModelConfigError(f"model.generator_norm must be one of {', '.join(NORMS)}, got "
                                   f"{config.generator_norm!r}")
        if not config.generator_widths or not config.discriminator_widths or config.maxout < 1:
            raise ModelConfigError("model.generator_widths and model.discriminator_widths need one width or more, "
                                   f"and model.maxout >= 1 (got {config.maxout})")
        super().__init__(config, info)

    def build_networks(self, info: DataInfo, num_classes: int) -> tuple[nn.Module, nn.Module]:
        c = self.config
        generator = ToyGenerator(c.latent_dim, c.generator_widths, c.generator_norm, num_classes, c.label_dim)
        discriminator = ToyDiscriminator(self.packed_channels(2), c.discriminator_widths, c.maxout, num_classes,
                                         c.label_dim)  # PacGAN: a pack of m points is one (2m,) input
        if c.init_std > 0:
            gaussian_init(generator, c.init_std)
            gaussian_init(discriminator, c.init_std)
        return generator, discriminator

    def finish_samples(self, x: Tensor) -> Tensor:
        return x.float()  # points are not bounded: no clamp
