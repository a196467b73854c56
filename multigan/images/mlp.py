"""The vanilla GAN (Goodfellow et al. 2014) as tutorials teach it: fully connected G and D on flattened images.

Generator: z (B, 100) -> 128 -> 256 -> 512 -> 1024 -> C*H*W, LeakyReLU(0.2) after every hidden layer and
BatchNorm on all but the first (BatchNorm right after the input layer normalises raw noise away), tanh output
reshaped to (B, C, H, W). Discriminator: C*H*W -> 512 -> 256 -> 1 logit, LeakyReLU(0.2), no normalisation (so a
gradient penalty stays per-example). Conditional (Mirza & Osindero 2014): a learned label embedding is
concatenated to z in G and to the flattened image in D. The game (loss, penalties, D steps) is core/game.py's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from multigan.core.phases import DataInfo
from multigan.core.game import GameConfig, ModelConfigError
from multigan.images.gan import ImageGAN
from multigan.registry import MODELS


@dataclass
class MLPConfig(GameConfig):
    generator_widths: tuple[int, ...] = (128, 256, 512, 1024)  # hidden layers of G, input side first
    discriminator_widths: tuple[int, ...] = (512, 256)  # hidden layers of D, input side first
    label_dim: int = 10  # size of the label embedding fed to G and D when conditional


def _hidden_stack(in_dim: int, widths: tuple[int, ...], batch_norm: bool) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for i, width in enumerate(widths):
        layers.append(nn.Linear(in_dim, width))
        if batch_norm and i > 0:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.LeakyReLU(0.2, inplace=True))
        in_dim = width
    return layers


class MLPGenerator(nn.Module):
    def __init__(self, latent_dim: int, widths: tuple[int, ...], shape: tuple[int, ...], num_classes: int = 0,
                 label_dim: int = 10):
        super().__init__()
        self.shape = tuple(shape)  # (C, H, W)
        self.embed = nn.Embedding(num_classes, label_dim) if num_classes else None
        in_dim = latent_dim + (label_dim if num_classes else 0)
        self.main = nn.Sequential(
            *_hidden_stack(in_dim, widths, batch_norm=True), nn.Linear(widths[-1], math.prod(self.shape)), nn.Tanh()
        )

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.embed is not None:
            if labels is None:
                raise ValueError("a conditional generator needs labels")
            z = torch.cat([z, self.embed(labels)], dim=1)  # (B, latent + label_dim)
        return self.main(z).view(z.shape[0], *self.shape)  # (B, C, H, W) in [-1, 1]


class MLPDiscriminator(nn.Module):
    def __init__(self, widths: tuple[int, ...], shape: tuple[int, ...], num_classes: int = 0, label_dim: int = 10):
        super().__init__()
        self.embed = nn.Embedding(num_classes, label_dim) if num_classes else None
        in_dim = math.prod(shape) + (label_dim if num_classes else 0)
        self.main = nn.Sequential(*_hidden_stack(in_dim, widths, batch_norm=False), nn.Linear(widths[-1], 1))

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        h = x.flatten(1)  # (B, C*H*W)
        if self.embed is not None:
            if labels is None:
                raise ValueError("a conditional discriminator needs labels")
            h = torch.cat([h, self.embed(labels)], dim=1)  # (B, C*H*W + label_dim)
        return self.main(h).squeeze(1)  # (B,) logits


@MODELS.register("mlp")
class MLPGAN(ImageGAN):
    Config = MLPConfig

    def build_networks(self, info: DataInfo, num_classes: int) -> tuple[nn.Module, nn.Module]:
        c = self.config
        if not c.generator_widths or not c.discriminator_widths:
            raise ModelConfigError("model.generator_widths and model.discriminator_widths need one width or more")
        generator = MLPGenerator(c.latent_dim, c.generator_widths, info.shape, num_classes, c.label_dim)
        packed = (self.packed_channels(info.shape[0]), *info.shape[1:])  # PacGAN: a pack of m images per input
        discriminator = MLPDiscriminator(c.discriminator_widths, packed, num_classes, c.label_dim)
        return generator, discriminator
