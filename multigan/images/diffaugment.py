"""DiffAugment's image policies (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN
Training", Sec. 3): colour, translation and cutout, each differentiable w.r.t. the images and drawn per sample from
the global RNG on the images' device. The strengths are the paper's:

    color:        brightness + U(-0.5, 0.5), saturation x U(0, 2), contrast x U(0.5, 1.5)
    translation:  integer shifts of up to 1/8 of the height and width, zero padded
    cutout:       one zero square of half the size per image, centred anywhere (clipped at the border)

Images are (B, C, H, W) in [-1, 1]; a 6-channel batch (pix2pix's source and target stacked) gets one transform
for both: the colour statistics are taken per 3-channel image, the geometry is shared by every channel.
"""
from __future__ import annotations

import torch
from torch import Tensor

from multigan.core.augmentation import AugmentPolicy
from multigan.registry import AUGMENT_POLICIES


def _per_image(x: Tensor) -> Tensor:
    """(B, C, H, W) -> (B, G, c, H, W) with c = 3 when C is a multiple of 3 (stacked RGB images), else c = C."""
    channels = 3 if x.shape[1] % 3 == 0 else x.shape[1]
    return x.reshape(x.shape[0], -1, channels, *x.shape[2:])


def _uniform(x: Tensor, low: float, high: float) -> Tensor:
    """One U(low, high) draw per sample, shaped to broadcast over (B, G, c, H, W)."""
    return torch.rand(x.shape[0], 1, 1, 1, 1, device=x.device, dtype=x.dtype) * (high - low) + low


def color(x: Tensor, p: Tensor | None = None) -> Tensor:
    grouped = _per_image(x)  # (B, G, c, H, W)
    grouped = grouped + _uniform(grouped, -0.5, 0.5)  # brightness
    mean = grouped.mean(dim=2, keepdim=True)  # per pixel over the colour channels
    grouped = (grouped - mean) * _uniform(grouped, 0.0, 2.0) + mean  # saturation
    mean = grouped.mean(dim=(2, 3, 4), keepdim=True)  # per image
    grouped = (grouped - mean) * _uniform(grouped, 0.5, 1.5) + mean  # contrast
    return grouped.reshape(x.shape)


def translation(x: Tensor, p: Tensor | None = None, ratio: float = 0.125) -> Tensor:
    batch, _, height, width = x.shape
    max_dy, max_dx = int(height * ratio + 0.5), int(width * ratio + 0.5)
    dy = torch.randint(-max_dy, max_dy + 1, (batch, 1, 1), device=x.device)  # (B, 1, 1)
    dx = torch.randint(-max_dx, max_dx + 1, (batch, 1, 1), device=x.device)
    rows = torch.arange(height, device=x.device)[None, :, None] - dy  # (B, H, 1): source row of each output row
    cols = torch.arange(width, device=x.device)[None, None, :] - dx  # (B, 1, W)
    inside = ((rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)).to(x.dtype)  # (B, H, W)
    # one flat gather per image from the clamped source pixel, zeroed where the source is off the image
    flat = rows.clamp(0, height - 1) * width + cols.clamp(0, width - 1)  # (B, H, W)
    index = flat.flatten(1)[:, None, :].expand(-1, x.shape[1], -1)  # (B, C, H*W)
    shifted = x.flatten(2).gather(2, index).view_as(x)
    return shifted * inside[:, None]


def cutout(x: Tensor, p: Tensor | None = None, ratio: float = 0.5) -> Tensor:
    batch, _, height, width = x.shape
    size_y, size_x = int(height * ratio + 0.5), int(width * ratio + 0.5)
    # the square's top-left corner; it may hang over the border by up to half its size
    top = torch.randint(0, height + (1 - size_y % 2), (batch, 1, 1), device=x.device) - size_y // 2
    left = torch.randint(0, width + (1 - size_x % 2), (batch, 1, 1), device=x.device) - size_x // 2
    rows = torch.arange(height, device=x.device)[None, :, None]
    cols = torch.arange(width, device=x.device)[None, None, :]
    hole = (rows >= top) & (rows < top + size_y) & (cols >= left) & (cols < left + size_x)  # (B, H, W)
    return x * (~hole).to(x.dtype)[:, None]


for _name, _apply in (("color", color), ("translation", translation), ("cutout", cutout)):
    AUGMENT_POLICIES.register(_name)(AugmentPolicy("image", _apply))
