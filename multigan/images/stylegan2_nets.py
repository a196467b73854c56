"""StyleGAN2's networks (Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN"): the mapping
network, the skip-architecture synthesis network and the residual discriminator (config F's choices), on the
layers of style_blocks.py.

    mapping:   z (B, Z) -> normalise [, concat normalised label embedding] -> L x EqualLinear(lr_mul 0.01) -> w (B, W)
    synthesis: const 4x4 -> per resolution r = 4, 8, ..., R: [up] modconv3x3 + noise -> modconv3x3 + noise -> tRGB;
               the RGB outputs are summed across resolutions, each upsampled (skip generator)
    D:         fromRGB at R -> per resolution: (conv3x3, conv3x3 down) + 1x1 down skip, x 1/sqrt(2) (residual)
               -> at 4x4: minibatch stddev, conv3x3, fc, fc -> logit [+ projection of the label embedding]
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from multigan.images.style_blocks import (
    EqualConv2d, EqualLinear, ModulatedConv2d, lrelu, minibatch_stddev, pixel_norm, upsample2x,
)


def channels_at(resolution: int, channel_base: int, channel_max: int) -> int:
    """Feature maps at `resolution`: channel_base / resolution, capped at channel_max (StyleGAN2's fmaps rule)."""
    return min(channel_base // resolution, channel_max)


def block_resolutions(resolution: int) -> list[int]:
    """8, 16, ..., resolution: one synthesis (and discriminator) block each, beyond the 4x4 base."""
    return [2**i for i in range(3, int(math.log2(resolution)) + 1)]


class MappingNetwork(nn.Module):
    """z (and a label) -> w; tracks the running mean w_avg of w (a buffer) for the truncation trick."""

    def __init__(self, latent_dim: int, w_dim: int, layers: int, num_classes: int = 0, w_avg_beta: float = 0.995):
        super().__init__()
        self.embed = EqualLinear(num_classes, w_dim) if num_classes else None  # one-hot label -> embedding
        dims = [latent_dim + (w_dim if num_classes else 0)] + [w_dim] * layers
        self.layers = nn.Sequential(*(EqualLinear(a, b, lr_mul=0.01, activate=True) for a, b in zip(dims, dims[1:])))
        self.register_buffer("w_avg", torch.zeros(w_dim))
        self.num_classes, self.w_avg_beta = num_classes, w_avg_beta

    def forward(self, z: Tensor, labels: Tensor | None = None, track: bool = False) -> Tensor:
        x = pixel_norm(z)  # (B, Z) on the unit sphere's scale
        if self.embed is not None:
            if labels is None:
                raise ValueError("a conditional mapping network needs labels")
            onehot = nn.functional.one_hot(labels, self.num_classes).to(z.dtype)
            x = torch.cat([x, pixel_norm(self.embed(onehot))], dim=1)  # (B, Z + W)
        w = self.layers(x)  # (B, W)
        if track:  # training: w_avg follows the batch means (used only for truncation)
            self.w_avg.copy_(w.detach().float().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        return w

    def truncate(self, w: Tensor, psi: float) -> Tensor:
        """w' = w_avg + psi (w - w_avg): psi = 1 keeps w, psi = 0 gives the average face/garment/landscape."""
        return self.w_avg.to(w.dtype).lerp(w, psi)


class SynthesisLayer(nn.Module):
    """modulated conv -> + per-pixel noise (learned strength, starting at 0) -> + bias -> gained leaky ReLU."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, up: bool = False):
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim, up=up)
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: Tensor, w: Tensor, generator: torch.Generator | None) -> Tensor:
        x = self.conv(x, w)  # (B, C, H, W)
        noise = torch.randn(x.shape[0], 1, *x.shape[2:], device=x.device, generator=generator).to(x.dtype)
        return lrelu(x + noise * self.noise_strength + self.bias[:, None, None])


class ToRGB(nn.Module):
    """A modulated 1x1 convolution without demodulation: features -> image channels."""

    def __init__(self, in_channels: int, image_channels: int, w_dim: int):
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, image_channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(image_channels))

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        return self.conv(x, w) + self.bias[:, None, None]


class SynthesisNetwork(nn.Module):
    """ws (B, num_ws, W) -> images (B, C, R, R): one w per modulated layer, the tRGBs sharing the next layer's."""

    def __init__(self, resolution: int, image_channels: int, w_dim: int, channel_base: int, channel_max: int):
        super().__init__()
        width = channels_at(4, channel_base, channel_max)
        self.const = nn.Parameter(torch.randn(width, 4, 4))
        self.base = SynthesisLayer(width, width, w_dim)
        self.base_rgb = ToRGB(width, image_channels, w_dim)
        self.blocks = nn.ModuleList()
        for res in block_resolutions(resolution):
            out = channels_at(res, channel_base, channel_max)
            self.blocks.append(nn.ModuleList([SynthesisLayer(width, out, w_dim, up=True),
                                              SynthesisLayer(out, out, w_dim), ToRGB(out, image_channels, w_dim)]))
            width = out
        self.num_ws = 2 + 2 * len(self.blocks)  # base conv + its tRGB's w, then two convs per block (tRGB shares)

    def forward(self, ws: Tensor, generator: torch.Generator | None = None) -> Tensor:
        x = self.base(self.const[None].expand(ws.shape[0], -1, -1, -1).to(ws.dtype), ws[:, 0], generator)
        rgb = self.base_rgb(x, ws[:, 1])  # (B, C, 4, 4)
        for i, (up_layer, layer, to_rgb) in enumerate(self.blocks):
            x = up_layer(x, ws[:, 1 + 2 * i], generator)
            x = layer(x, ws[:, 2 + 2 * i], generator)
            rgb = upsample2x(rgb) + to_rgb(x, ws[:, 3 + 2 * i])  # skip: each resolution adds its detail
        return rgb


class StyleGenerator(nn.Module):
    """G(z, labels) = synthesis(mapping(z, labels) broadcast to every layer); `forward` is the plain call the game
    and the metrics use, `ws`/`synthesis` the split that style mixing, truncation and path length need."""

    def __init__(self, latent_dim: int, w_dim: int, mapping_layers: int, resolution: int, image_channels: int,
                 channel_base: int, channel_max: int, num_classes: int = 0):
        super().__init__()
        self.mapping = MappingNetwork(latent_dim, w_dim, mapping_layers, num_classes)
        self.synthesis = SynthesisNetwork(resolution, image_channels, w_dim, channel_base, channel_max)
        self.register_buffer("pl_mean", torch.zeros(()))  # the path-length regulariser's running target

    def ws(self, z: Tensor, labels: Tensor | None, psi: float = 1.0, track: bool = False) -> Tensor:
        w = self.mapping(z, labels, track=track)
        if psi != 1.0:
            w = self.mapping.truncate(w, psi)
        return w[:, None].expand(-1, self.synthesis.num_ws, -1)  # (B, num_ws, W)

    def forward(self, z: Tensor, labels: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        return self.synthesis(self.ws(z, labels, track=self.training), generator)


class ResidualBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = EqualConv2d(in_channels, in_channels, 3, activate=True)
        self.down = EqualConv2d(in_channels, out_channels, 3, down=True, activate=True)
        self.skip = EqualConv2d(in_channels, out_channels, 1, bias=False, down=True)

    def forward(self, x: Tensor) -> Tensor:
        return (self.skip(x) + self.down(self.conv(x))) * math.sqrt(0.5)  # unit variance after the sum


class StyleDiscriminator(nn.Module):
    """D(x, labels) -> (B,) logits; conditional by projection of a label embedding onto the last features."""

    def __init__(self, resolution: int, image_channels: int, channel_base: int, channel_max: int,
                 num_classes: int = 0, mbstd_group: int = 4):
        super().__init__()
        self.from_rgb = EqualConv2d(image_channels, channels_at(resolution, channel_base, channel_max), 1,
                                    activate=True)
        self.blocks = nn.Sequential(*(
            ResidualBlock(channels_at(res, channel_base, channel_max), channels_at(res // 2, channel_base, channel_max))
            for res in reversed(block_resolutions(resolution))))
        width = channels_at(4, channel_base, channel_max)
        self.mbstd_group = mbstd_group
        self.conv = EqualConv2d(width + 1, width, 3, activate=True)
        self.fc = EqualLinear(width * 16, width, activate=True)
        self.out = EqualLinear(width, 1)
        self.embed = EqualLinear(num_classes, width) if num_classes else None
        self.num_classes = num_classes

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.blocks(self.from_rgb(x))  # (B, C4, 4, 4)
        h = self.fc(self.conv(minibatch_stddev(h, self.mbstd_group)).flatten(1))  # (B, C4)
        logits = self.out(h)[:, 0]  # (B,)
        if self.embed is not None:
            if labels is None:
                raise ValueError("a conditional discriminator needs labels")
            onehot = nn.functional.one_hot(labels, self.num_classes).to(h.dtype)
            logits = logits + (self.embed(onehot) * h).sum(dim=1) / math.sqrt(h.shape[1])  # projection
        return logits
