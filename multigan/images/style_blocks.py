"""Layers shared by the progressive and style-based generators (PGGAN, StyleGAN2), in plain PyTorch: no compiled
ops, so they run wherever PyTorch does.

- Equalized learning rate (Karras et al. 2018, Sec. 4.1): weights are stored as N(0, 1) and scaled at run time by
  He's constant 1/sqrt(fan_in), so Adam's per-parameter step sizes mean the same for every layer.
- Pixel norm (PGGAN) and the minibatch standard deviation feature (PGGAN Sec. 3, StyleGAN2's D epilogue).
- FIR resampling with the binomial filter [1, 3, 3, 1] (StyleGAN2's up/down-sampling), as depthwise convolutions.
- Modulated convolution with demodulation (StyleGAN2 Sec. 2.2), written as one grouped convolution per batch.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LRELU_GAIN = math.sqrt(2)  # keeps the activations' magnitude through leaky ReLU(0.2) (StyleGAN's def_gain)


def lrelu(x: Tensor) -> Tensor:
    return F.leaky_relu(x, 0.2) * LRELU_GAIN


class EqualLinear(nn.Module):
    """y = x (W * lr_mul / sqrt(in))^T + b * lr_mul, W ~ N(0, 1 / lr_mul^2). lr_mul < 1 slows a layer down (the
    mapping network's 0.01); `activate` applies the gained leaky ReLU."""

    def __init__(self, in_features: int, out_features: int, bias_init: float = 0.0, lr_mul: float = 1.0,
                 activate: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init) / lr_mul))
        self.weight_gain = lr_mul / math.sqrt(in_features)
        self.lr_mul, self.activate = lr_mul, activate

    def forward(self, x: Tensor) -> Tensor:
        y = F.linear(x, self.weight * self.weight_gain, self.bias * self.lr_mul)
        return lrelu(y) if self.activate else y


class EqualConv2d(nn.Module):
    """A same-padded convolution with equalized LR; `down` FIR-filters and halves the resolution first (the
    filter-then-stride-2 of StyleGAN2's discriminator); `activate` adds the gained leaky ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True,
                 down: bool = False, activate: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size**2)
        self.down, self.activate = down, activate

    def forward(self, x: Tensor) -> Tensor:
        weight = self.weight * self.weight_gain
        if self.down:
            x = blur(x, pad=(self.weight.shape[-1] - 1) // 2 + 1)  # (B, C, H+1, W+1) filtered
            x = F.conv2d(x, weight, self.bias, stride=2)  # (B, C', H/2, W/2)
        else:
            x = F.conv2d(x, weight, self.bias, padding=self.weight.shape[-1] // 2)
        return lrelu(x) if self.activate else x


def fir_kernel(device: torch.device, dtype: torch.dtype) -> Tensor:
    """The separable binomial low-pass [1, 3, 3, 1] as a normalised (4, 4) kernel."""
    taps = torch.tensor([1.0, 3.0, 3.0, 1.0], device=device, dtype=dtype)
    kernel = torch.outer(taps, taps)
    return kernel / kernel.sum()


def blur(x: Tensor, pad: int) -> Tensor:
    """x (B, C, H, W) low-passed by the 4x4 FIR, padded by `pad` on each side: (B, C, H + 2 pad - 3, ...)."""
    channels = x.shape[1]
    kernel = fir_kernel(x.device, x.dtype)[None, None].expand(channels, 1, 4, 4)
    return F.conv2d(F.pad(x, (pad, pad, pad, pad)), kernel, groups=channels)


def upsample2x(x: Tensor) -> Tensor:
    """(B, C, H, W) -> (B, C, 2H, 2W): zeros inserted between pixels, then the FIR with gain 4 (the filter spreads
    each pixel over the four of its 2x2 block, keeping the mean)."""
    channels = x.shape[1]
    kernel = (fir_kernel(x.device, x.dtype) * 4)[None, None].expand(channels, 1, 4, 4)
    return F.conv_transpose2d(x, kernel, stride=2, padding=1, groups=channels)


def downsample2x(x: Tensor) -> Tensor:
    """(B, C, H, W) -> (B, C, H/2, W/2): FIR low-pass, then every second pixel."""
    return blur(x, pad=1)[:, :, ::2, ::2]


def pixel_norm(x: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Each feature vector scaled to unit root-mean-square along `dim` (PGGAN's pixel norm; StyleGAN's z norm)."""
    return x * (x.square().mean(dim=dim, keepdim=True) + eps).rsqrt()


def minibatch_stddev(x: Tensor, group_size: int, channels: int = 1) -> Tensor:
    """Appends `channels` feature maps holding the standard deviation of each feature over groups of
    `group_size` samples (PGGAN Sec. 3): D can then see a lack of variety. (B, C, H, W) -> (B, C + channels, H, W).
    The batch must divide by the group (the whole batch when it is smaller)."""
    batch, c, h, w = x.shape
    group = min(group_size, batch)
    if batch % group:
        raise ValueError(f"minibatch stddev: batch {batch} does not divide into groups of {group}")
    y = x.reshape(group, -1, channels, c // channels, h, w)  # (G, B/G, F, C/F, H, W)
    y = (y - y.mean(dim=0)).square().mean(dim=0).add(1e-8).sqrt()  # (B/G, F, C/F, H, W): std over each group
    y = y.mean(dim=(2, 3, 4))[:, :, None, None]  # (B/G, F, 1, 1): averaged over features and pixels
    y = y.repeat(group, 1, h, w)  # (B, F, H, W)
    return torch.cat([x, y], dim=1)


class ModulatedConv2d(nn.Module):
    """StyleGAN2's convolution: the style s = A(w) scales the weight's input channels, demodulation rescales each
    output channel to unit expected std (Sec. 2.2):

        w'_ijk = s_i w_ijk;   w''_ijk = w'_ijk / sqrt(sum_ik w'_ijk^2 + eps)

    Two exact formulations, as in the reference: `grouped` builds every sample's weight and runs one grouped
    convolution (batch = groups); otherwise the input activations are scaled by s, one shared convolution runs,
    and the outputs are scaled by the demodulation coefficients (the reference trains this way: it is the faster
    one for batches of many samples, on a CPU by far)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, style_dim: int,
                 demodulate: bool = True, up: bool = False):
        super().__init__()
        self.affine = EqualLinear(style_dim, in_channels, bias_init=1.0)  # styles start at 1: the plain conv
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size**2)
        self.demodulate, self.up = demodulate, up
        self.grouped = False  # set by the owner: True for the grouped-convolution formulation

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        styles = self.affine(w)  # (B, in)
        weight = self.weight * self.weight_gain  # (out, in, k, k)
        if self.grouped:
            return self._grouped(x, weight, styles)
        y = _convolve(x * styles[:, :, None, None].to(x.dtype), weight.to(x.dtype), self.up)
        if self.demodulate:  # 1 / sqrt(sum_ik (s_i w_ijk)^2): (B, out) from the weight's squared norms per (j, i)
            coefficients = (styles.square() @ weight.square().sum(dim=(2, 3)).T + 1e-8).rsqrt()
            y = y * coefficients[:, :, None, None].to(y.dtype)
        return y  # (B, out, H, W)

    def _grouped(self, x: Tensor, weight: Tensor, styles: Tensor) -> Tensor:
        batch, in_channels = x.shape[:2]
        weight = weight[None] * styles[:, None, :, None, None]  # (B, out, in, k, k)
        if self.demodulate:
            weight = weight * (weight.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8).rsqrt()
        out_channels, k = weight.shape[1], weight.shape[-1]
        x = x.reshape(1, batch * in_channels, *x.shape[2:])  # the batch becomes groups of one convolution
        weight = weight.reshape(batch * out_channels, in_channels, k, k).to(x.dtype)
        y = _convolve(x, weight, self.up, groups=batch)
        return y.reshape(batch, out_channels, *y.shape[2:])  # (B, out, H, W)


def _convolve(x: Tensor, weight: Tensor, up: bool, groups: int = 1) -> Tensor:
    """A same-padded convolution with `weight` (out, in / groups, k, k); with `up`, the 2x-upsampling one of the
    reference: a stride-2 transposed convolution on the coarse grid (a quarter of the multiply-adds of convolving
    the upsampled map), then the FIR low-pass with gain 4. (B, in, H, W) -> (B, out, 2H, 2W)."""
    if not up:
        return F.conv2d(x, weight, padding=weight.shape[-1] // 2, groups=groups)
    out_per_group, k = weight.shape[0] // groups, weight.shape[-1]
    # (out, in/g, k, k) -> (in, out/g, k, k): the transposed convolution's layout, group by group
    transposed = weight.reshape(groups, out_per_group, -1, k, k).transpose(1, 2).reshape(-1, out_per_group, k, k)
    y = F.conv_transpose2d(x, transposed, stride=2, groups=groups)  # (B, out, 2H + k - 2, ...)
    channels = y.shape[1]
    kernel = (fir_kernel(y.device, y.dtype) * 4)[None, None].expand(channels, 1, 4, 4)
    pad = (k - 1) // 2  # the low-pass takes 3 off: 2H + k - 2 + 2 pad - 3 = 2H for odd k >= 3
    return F.conv2d(F.pad(y, (pad, pad, pad, pad)), kernel, groups=channels)
