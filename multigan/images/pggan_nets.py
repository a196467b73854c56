"""PGGAN's networks (Karras et al. 2018, "Progressive Growing of GANs", Table 2), on style_blocks.py's layers.
Both grow from 4x4 by one resolution per level; `level` and `alpha` (set by the model from its schedule) say
how far: while a level fades in, its output is lerped with the previous level's, upsampled (G) or with the
downsampled input through the previous fromRGB (D).

    G: z -> pixel norm -> dense to 4x4 -> conv3x3 ; per level: 2x nearest -> conv3x3 -> conv3x3 (pixel norm after
       every conv) ; toRGB (1x1) at the current and the previous level
    D: fromRGB (1x1) ; per level: conv3x3 -> conv3x3 -> 2x average pool ; at 4x4: minibatch stddev -> conv3x3 ->
       dense -> dense to 1 logit [+ projection of a label embedding]
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from multigan.images.style_blocks import EqualConv2d, EqualLinear, minibatch_stddev, pixel_norm


def level_widths(levels: int, channel_base: int, channel_max: int) -> list[int]:
    """Feature maps at 4x4, 8x8, ... (levels + 1 of them): channel_base / resolution, capped at channel_max."""
    return [min(channel_base // (4 * 2**level), channel_max) for level in range(levels + 1)]


def upscale(x: Tensor) -> Tensor:
    return F.interpolate(x, scale_factor=2, mode="nearest")


class ProgressiveGenerator(nn.Module):
    def __init__(self, latent_dim: int, levels: int, image_channels: int, channel_base: int, channel_max: int,
                 num_classes: int = 0):
        super().__init__()
        widths = level_widths(levels, channel_base, channel_max)
        self.embed = nn.Embedding(num_classes, latent_dim) if num_classes else None  # label -> a second z
        in_dim = latent_dim * (2 if num_classes else 1)
        self.dense = EqualLinear(in_dim, widths[0] * 16, activate=True)
        self.base = EqualConv2d(widths[0], widths[0], 3, activate=True)
        self.blocks = nn.ModuleList(
            nn.ModuleList([EqualConv2d(a, b, 3, activate=True), EqualConv2d(b, b, 3, activate=True)])
            for a, b in zip(widths, widths[1:]))
        self.to_rgb = nn.ModuleList(EqualConv2d(w, image_channels, 1) for w in widths)
        self.widths, self.levels = widths, levels
        self.level, self.alpha = levels, 1.0  # the model sets these each step; grown fully by default

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """(B, Z) -> (B, C, 4 * 2^level, 4 * 2^level) in about [-1, 1] (no tanh, as the paper)."""
        x = pixel_norm(z)
        if self.embed is not None:
            if labels is None:
                raise ValueError("a conditional generator needs labels")
            x = torch.cat([x, pixel_norm(self.embed(labels))], dim=1)
        h = pixel_norm(self.dense(x).view(len(x), self.widths[0], 4, 4))
        h = pixel_norm(self.base(h))  # (B, C0, 4, 4)
        previous = h
        for conv_a, conv_b in self.blocks[: self.level]:
            previous = h
            h = pixel_norm(conv_b(pixel_norm(conv_a(upscale(h)))))
        rgb = self.to_rgb[self.level](h)
        if self.level > 0 and self.alpha < 1.0:  # fading in: the new level over the previous one, upsampled
            rgb = torch.lerp(upscale(self.to_rgb[self.level - 1](previous)), rgb, self.alpha)
        return rgb


class ProgressiveDiscriminator(nn.Module):
    def __init__(self, levels: int, image_channels: int, channel_base: int, channel_max: int, num_classes: int = 0,
                 mbstd_group: int = 4):
        super().__init__()
        widths = level_widths(levels, channel_base, channel_max)
        self.from_rgb = nn.ModuleList(EqualConv2d(image_channels, w, 1, activate=True) for w in widths)
        # blocks[l - 1] takes level l's maps down to level l - 1's: conv3x3 -> conv3x3 -> average pool
        self.blocks = nn.ModuleList(
            nn.ModuleList([EqualConv2d(b, b, 3, activate=True), EqualConv2d(b, a, 3, activate=True)])
            for a, b in zip(widths, widths[1:]))
        self.conv = EqualConv2d(widths[0] + 1, widths[0], 3, activate=True)
        self.dense = EqualLinear(widths[0] * 16, widths[0], activate=True)
        self.out = EqualLinear(widths[0], 1)
        self.embed = nn.Embedding(num_classes, widths[0]) if num_classes else None
        self.mbstd_group, self.level, self.alpha = mbstd_group, levels, 1.0

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """(B, C, 4 * 2^level, ...) -> (B,) logits."""
        h = self.from_rgb[self.level](x)
        for level in range(self.level, 0, -1):
            conv_a, conv_b = self.blocks[level - 1]
            h = F.avg_pool2d(conv_b(conv_a(h)), 2)
            if level == self.level and self.alpha < 1.0:  # fading in: the old path on the downsampled input
                h = torch.lerp(self.from_rgb[level - 1](F.avg_pool2d(x, 2)), h, self.alpha)
        h = self.conv(minibatch_stddev(h, self.mbstd_group))  # (B, C0, 4, 4)
        h = self.dense(h.flatten(1))
        logits = self.out(h)[:, 0]
        if self.embed is not None:
            if labels is None:
                raise ValueError("a conditional discriminator needs labels")
            logits = logits + (self.embed(labels) * h).sum(dim=1) / math.sqrt(h.shape[1])  # projection
        return logits
