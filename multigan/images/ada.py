"""ADA's `bgc` augmentation pipeline (Karras et al. 2020, "Training Generative Adversarial Networks with Limited
Data", Sec. 2.2 and Appendix B): blit, geometric and colour transforms, each applied to a sample with probability
p, all differentiable w.r.t. the images. Strengths as in the paper's appendix:

    blit:      x-flip, rotation by a multiple of 90 degrees, integer translation U(-0.125, 0.125) x size
    geometric: isotropic scale 2^N(0, 0.2), rotation U(-180, 180) degrees (before and after the anisotropic scale,
               each with probability 1 - sqrt(1 - p) so that some rotation happens with probability p), anisotropic
               scale 2^N(0, 0.2), fractional translation N(0, 0.125) x size
    colour:    brightness + N(0, 0.2), contrast x 2^N(0, 0.5), luma flip, hue rotation U(-180, 180) degrees,
               saturation x 2^N(0, 1)

The geometric transforms compose into one affine map per sample, resampled once with bilinear interpolation and
reflection padding (the paper filters with a wavelet before resampling to avoid aliasing; we do not). Colour
transforms compose into one 4x4 matrix on homogeneous RGB in [-1, 1] (mid-grey at the origin), the luma axis
(1, 1, 1)/sqrt(3). A sample that draws no transform of a group is returned bit for bit, so p = 0 is the identity.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from multigan.core.augmentation import AugmentPolicy
from multigan.registry import AUGMENT_POLICIES


def _fires(batch: int, p: Tensor, device: torch.device) -> Tensor:
    """(B,) bool: which samples get a transform that fires with probability p."""
    return torch.rand(batch, device=device) < p


def _eye(batch: int, size: int, device: torch.device) -> Tensor:
    return torch.eye(size, device=device).repeat(batch, 1, 1)  # (B, size, size)


def _planar(batch: int, device: torch.device, a=1.0, b=0.0, c=0.0, d=1.0, tx=0.0, ty=0.0) -> Tensor:
    """(B, 3, 3) affine maps [[a, b, tx], [c, d, ty], [0, 0, 1]]; each entry a number or a (B,) tensor."""
    m = _eye(batch, 3, device)
    for (i, j), value in {(0, 0): a, (0, 1): b, (1, 0): c, (1, 1): d, (0, 2): tx, (1, 2): ty}.items():
        m[:, i, j] = value
    return m


def _rotation(theta: Tensor) -> Tensor:
    return _planar(len(theta), theta.device, theta.cos(), -theta.sin(), theta.sin(), theta.cos())


def _gated(matrix: Tensor, fires: Tensor) -> Tensor:
    """`matrix` where the transform fires, the identity elsewhere."""
    return torch.where(fires[:, None, None], matrix, _eye(len(matrix), matrix.shape[1], matrix.device))


def geometric_inverse(batch: int, height: int, width: int, p: Tensor, device: torch.device) -> tuple[Tensor, Tensor]:
    """The inverse (output pixel -> input pixel, centred pixel units) of each sample's composed blit and geometric
    transforms (B, 3, 3), and which samples drew any (B,)."""
    inverse, any_fired = _eye(batch, 3, device), torch.zeros(batch, dtype=torch.bool, device=device)
    # output = T_n(...T_1(x)), so input = T_1^-1(...T_n^-1(output)): right-multiply each inverse in order
    steps = []
    flip = 1 - 2 * torch.randint(0, 2, (batch,), device=device).float()  # x-flip: its own inverse
    steps.append((_planar(batch, device, a=flip), _fires(batch, p, device)))
    quarter = torch.randint(0, 4, (batch,), device=device).float() * (math.pi / 2)
    steps.append((_rotation(-quarter), _fires(batch, p, device)))
    shift = (torch.rand(batch, 2, device=device) * 2 - 1) * 0.125
    steps.append((_planar(batch, device, tx=-(shift[:, 0] * width).round(), ty=-(shift[:, 1] * height).round()),
                  _fires(batch, p, device)))
    scale = torch.exp2(torch.randn(batch, device=device) * 0.2)
    steps.append((_planar(batch, device, a=1 / scale, d=1 / scale), _fires(batch, p, device)))
    p_rotate = 1 - torch.sqrt((1 - p).clamp(min=0))
    steps.append((_rotation(-(torch.rand(batch, device=device) * 2 - 1) * math.pi), _fires(batch, p_rotate, device)))
    aniso = torch.exp2(torch.randn(batch, device=device) * 0.2)
    steps.append((_planar(batch, device, a=1 / aniso, d=aniso), _fires(batch, p, device)))
    steps.append((_rotation(-(torch.rand(batch, device=device) * 2 - 1) * math.pi), _fires(batch, p_rotate, device)))
    frac = torch.randn(batch, 2, device=device) * 0.125
    steps.append((_planar(batch, device, tx=-frac[:, 0] * width, ty=-frac[:, 1] * height), _fires(batch, p, device)))
    for matrix, fires in steps:
        inverse = inverse @ _gated(matrix, fires)
        any_fired |= fires
    return inverse, any_fired


def resample(x: Tensor, inverse: Tensor) -> Tensor:
    """x (B, C, H, W) warped by the inverse maps (B, 3, 3) in centred pixel units; reflection padding."""
    _, _, height, width = x.shape
    to_pixels = torch.diag(torch.tensor([width / 2, height / 2, 1.0], device=x.device))
    to_unit = torch.diag(torch.tensor([2 / width, 2 / height, 1.0], device=x.device))
    theta = (to_unit @ inverse @ to_pixels)[:, :2, :].float()  # normalised [-1, 1] coordinates
    grid = F.affine_grid(theta, [x.shape[0], 1, height, width], align_corners=False)  # (B, H, W, 2): x, y
    return bilinear_reflect(x, grid)


def bilinear_reflect(x: Tensor, grid: Tensor) -> Tensor:
    """`F.grid_sample(x, grid, "bilinear", "reflection", align_corners=False)` written with gathers, so that it can
    be differentiated twice w.r.t. x (R1 through the augmentation; PyTorch's grid_sample backward cannot be).
    The grid carries no gradient. x (B, C, H, W), grid (B, H', W', 2) -> (B, C, H', W')."""
    batch, channels, height, width = x.shape
    cols = _reflect(((grid[..., 0] + 1) * width - 1) / 2, width)  # (B, H', W') source pixel coordinates
    rows = _reflect(((grid[..., 1] + 1) * height - 1) / 2, height)
    col0, row0 = cols.floor(), rows.floor()
    wcol, wrow = (cols - col0).to(x.dtype), (rows - row0).to(x.dtype)  # weight of the right / lower neighbour
    col0, row0 = col0.long(), row0.long()
    col1, row1 = (col0 + 1).clamp(max=width - 1), (row0 + 1).clamp(max=height - 1)
    flat = x.flatten(2)  # (B, C, H*W)

    def tap(r: Tensor, c: Tensor) -> Tensor:
        index = (r * width + c).flatten(1)[:, None, :].expand(-1, channels, -1)  # (B, C, H'*W')
        return flat.gather(2, index).view(batch, channels, *grid.shape[1:3])

    top = tap(row0, col0) * (1 - wcol)[:, None] + tap(row0, col1) * wcol[:, None]
    bottom = tap(row1, col0) * (1 - wcol)[:, None] + tap(row1, col1) * wcol[:, None]
    return top * (1 - wrow)[:, None] + bottom * wrow[:, None]


def _reflect(coordinate: Tensor, size: int) -> Tensor:
    """Pixel coordinates reflected at the image's outer edges (-0.5 and size - 0.5), then kept inside the pixel
    centres [0, size - 1], as grid_sample's reflection padding does."""
    period = 2 * size
    folded = torch.remainder(coordinate + 0.5, period)
    folded = torch.where(folded >= size, period - folded, folded) - 0.5
    return folded.clamp(0, size - 1)


LUMA = 1 / math.sqrt(3)  # each component of the unit luma axis


def colour_matrix(batch: int, p: Tensor, device: torch.device) -> tuple[Tensor, Tensor]:
    """Each sample's composed colour transform (B, 4, 4) on homogeneous RGB, and which samples drew any (B,)."""
    luma = torch.full((3,), LUMA, device=device)
    outer = _eye(batch, 4, device)
    outer[:, :3, :3] = torch.outer(luma, luma)  # projection on the luma axis (and the homogeneous 1)
    matrix, any_fired = _eye(batch, 4, device), torch.zeros(batch, dtype=torch.bool, device=device)
    steps = []
    brightness = _eye(batch, 4, device)
    brightness[:, :3, 3] = torch.randn(batch, 1, device=device) * 0.2
    steps.append(brightness)
    contrast = _eye(batch, 4, device)
    contrast[:, :3, :3] *= torch.exp2(torch.randn(batch, 1, 1, device=device) * 0.5)
    steps.append(contrast)
    flip = _eye(batch, 4, device) - 2 * outer * torch.randint(0, 2, (batch, 1, 1), device=device)
    flip[:, 3, 3] = 1.0  # the projection's homogeneous entry is not part of the reflection
    steps.append(flip)
    steps.append(_hue_rotation((torch.rand(batch, device=device) * 2 - 1) * math.pi, luma))
    saturation = torch.exp2(torch.randn(batch, 1, 1, device=device))
    steps.append(outer + (_eye(batch, 4, device) - outer) * saturation)  # chroma scaled, luma kept
    for step in steps:  # each transform applies after the previous ones: left-multiply
        fires = _fires(batch, p, device)
        matrix = _gated(step, fires) @ matrix
        any_fired |= fires
    return matrix, any_fired


def _hue_rotation(theta: Tensor, axis: Tensor) -> Tensor:
    """(B, 4, 4) rotations by `theta` about the luma `axis` (3,) through the origin (Rodrigues' formula)."""
    k = LUMA  # axis = (k, k, k): K v = axis x v, built from the constant (no read back from the device)
    cross = torch.tensor([[0, -k, k], [k, 0, -k], [-k, k, 0]], device=theta.device)
    c, s = theta.cos()[:, None, None], theta.sin()[:, None, None]
    rotation = _eye(len(theta), 4, theta.device)
    rotation[:, :3, :3] = c * torch.eye(3, device=theta.device) + s * cross + (1 - c) * torch.outer(axis, axis)
    return rotation


def recolour(x: Tensor, matrix: Tensor) -> Tensor:
    """RGB images (B, 3, H, W) through (B, 4, 4) homogeneous colour matrices."""
    rgb = x.flatten(2)  # (B, 3, HW)
    return (matrix[:, :3, :3].to(x.dtype) @ rgb + matrix[:, :3, 3:].to(x.dtype)).view_as(x)


def bgc(x: Tensor, p: Tensor) -> Tensor:
    """ADA's pipeline on images (B, C, H, W) in [-1, 1]. C a multiple of 3: stacked RGB images (pix2pix's source
    and target: C = 6) transformed alike; otherwise each channel is a grey image, recoloured as RGB and averaged
    back."""
    batch, channels, height, width = x.shape
    p = p.to(x.device)
    inverse, moved = geometric_inverse(batch, height, width, p, x.device)
    x = torch.where(moved[:, None, None, None], resample(x, inverse), x)
    matrix, recoloured = colour_matrix(batch, p, x.device)
    if channels % 3:
        greys = x.reshape(batch * channels, 1, height, width).expand(-1, 3, -1, -1)  # each channel as RGB
        changed = recolour(greys, matrix.repeat_interleave(channels, dim=0)).mean(dim=1).view_as(x)
    else:
        groups = x.reshape(batch * (channels // 3), 3, height, width)  # each RGB image of a stack
        changed = recolour(groups, matrix.repeat_interleave(channels // 3, dim=0)).view_as(x)
    return torch.where(recoloured[:, None, None, None], changed, x)


AUGMENT_POLICIES.register("bgc")(AugmentPolicy("image", bgc, adaptive=True))
