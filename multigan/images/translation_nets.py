"""Networks of the image-to-image translation models (pix2pix, CycleGAN), written once:

- `UNetGenerator` (Isola et al. 2017): an encoder of stride-2 4x4 convs down to 1x1 and a mirrored decoder whose
  every layer also sees the encoder features of its size (skip connections); dropout 0.5 in three inner decoder
  layers is the model's only noise. 8 levels for 256 px, 7 for 128 px.
- `ResnetGenerator` (Johnson et al. 2016, as CycleGAN uses it): 7x7 conv, two stride-2 downsamplings, 6 or 9
  residual blocks with reflection padding, two transposed-conv upsamplings, 7x7 conv, tanh.
- `PatchDiscriminator`: a fully convolutional critic whose every output logit judges one 70x70 patch (n_layers 3);
  `receptive_field` computes that size from the layers.

Initialisation: N(0, 0.02) convs, N(1, 0.02) BatchNorm scales (`dcgan_init`), as both papers' code does.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from multigan.images.blocks import dcgan_init, norm_layer


def translation_norm(kind: str, channels: int) -> nn.Module:
    """batch | instance | none. Instance norm without affine parameters or running statistics, as in Zhu et al."""
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if kind not in ("batch", "none"):
        raise ValueError(f"norm must be batch, instance or none, got '{kind}'")
    return norm_layer(kind, channels)


def conv_bias(norm: str) -> bool:
    """BatchNorm has its own shift, so the conv before it needs no bias; affine-free instance norm does."""
    return norm != "batch"


class UNetGenerator(nn.Module):
    """(B, C_in, S, S) -> (B, C_out, S, S) in [-1, 1], S = 2 ** levels. Encoder widths: width x 1, 2, 4, 8, 8 ...

    Skips carry LeakyReLU(encoder output): the original Torch code and junyanz's port both apply the next layer's
    in-place LeakyReLU to the tensor they also concatenate, so that is the published network."""

    def __init__(self, in_channels: int, out_channels: int, levels: int = 8, width: int = 64, norm: str = "batch",
                 dropout: bool = True):
        super().__init__()
        if levels < 5:
            raise ValueError(f"a U-Net needs at least 5 levels (32 px), got {levels}")
        bias = conv_bias(norm)
        widths = [width * min(2**k, 8) for k in range(levels)]  # 256 px, width 64: 64 128 256 512 512 512 512 512
        self.levels = levels
        self.down = nn.ModuleList()
        for k in range(levels):
            conv = nn.Conv2d(in_channels if k == 0 else widths[k - 1], widths[k], 4, 2, 1, bias=bias)
            has_norm = 0 < k < levels - 1  # neither the outermost nor the innermost encoder layer is normalised
            self.down.append(nn.Sequential(conv, translation_norm(norm, widths[k])) if has_norm else conv)
        self.up = nn.ModuleList()
        for k in range(levels):
            in_width = widths[k] if k == levels - 1 else 2 * widths[k]  # decoder input + the skip of its size
            if k == 0:
                layers = [nn.ReLU(), nn.ConvTranspose2d(in_width, out_channels, 4, 2, 1), nn.Tanh()]
            else:
                layers = [nn.ReLU(), nn.ConvTranspose2d(in_width, widths[k - 1], 4, 2, 1, bias=bias),
                          translation_norm(norm, widths[k - 1])]
                if dropout and 4 <= k < levels - 1:  # the 8x-wide layers next to the bottleneck (3 of them at 256 px)
                    layers.append(nn.Dropout(0.5))
            self.up.append(nn.Sequential(*layers))
        self.activation = nn.LeakyReLU(0.2)
        dcgan_init(self)

    def forward(self, x: Tensor) -> Tensor:
        h = self.down[0](x)  # (B, w0, S/2, S/2)
        skips = []
        for down in self.down[1:]:
            h = self.activation(h)
            skips.append(h)
            h = down(h)  # halves the size; innermost: (B, w_last, 1, 1)
        for k in reversed(range(self.levels)):
            h = self.up[k](h)  # doubles the size
            if k > 0:
                h = torch.cat([skips[k - 1], h], dim=1)  # (B, 2 w_{k-1}, ., .)
        return h


class ResnetBlock(nn.Module):
    """x + conv(relu(norm(conv(x)))) with reflection padding, so borders are not dark."""

    def __init__(self, channels: int, norm: str, dropout: bool = False):
        super().__init__()
        bias = conv_bias(norm)
        layers = [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), translation_norm(norm, channels),
                  nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(0.5))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), translation_norm(norm, channels)]
        self.block = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.block(x)


class ResnetGenerator(nn.Module):
    """(B, C_in, S, S) -> (B, C_out, S, S) in [-1, 1]; S must be a multiple of 4."""

    def __init__(self, in_channels: int, out_channels: int, blocks: int = 9, width: int = 64,
                 norm: str = "instance", dropout: bool = False):
        super().__init__()
        bias = conv_bias(norm)
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, width, 7, bias=bias),
                                   translation_norm(norm, width), nn.ReLU()]
        for k in range(2):  # (B, w, S, S) -> (B, 4w, S/4, S/4)
            w = width * 2**k
            layers += [nn.Conv2d(w, 2 * w, 3, 2, 1, bias=bias), translation_norm(norm, 2 * w), nn.ReLU()]
        layers += [ResnetBlock(4 * width, norm, dropout) for _ in range(blocks)]
        for k in reversed(range(2)):  # back to (B, w, S, S)
            w = width * 2**k
            layers += [nn.ConvTranspose2d(2 * w, w, 3, 2, 1, output_padding=1, bias=bias), translation_norm(norm, w),
                       nn.ReLU()]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, out_channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


class PatchDiscriminator(nn.Module):
    """(B, C, S, S) -> (B, 1, S', S') logits, one per overlapping patch: 4x4 convs, `n_layers` of stride 2, then
    two of stride 1; widths 64, 128, 256, 512 (capped at 8x). n_layers 3: 70x70 patches, 30x30 logits at 256 px."""

    def __init__(self, in_channels: int, width: int = 64, n_layers: int = 3, norm: str = "batch"):
        super().__init__()
        bias = conv_bias(norm)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        w = width
        for k in range(1, n_layers + 1):
            w_next = width * min(2**k, 8)
            stride = 2 if k < n_layers else 1
            layers += [nn.Conv2d(w, w_next, 4, stride, 1, bias=bias), translation_norm(norm, w_next), nn.LeakyReLU(0.2)]
            w = w_next
        layers.append(nn.Conv2d(w, 1, 4, 1, 1))
        self.model = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


def receptive_field(network: nn.Module) -> int:
    """Side of the input region one output pixel sees, from the conv layers in order: r <- (r - 1) * stride + kernel,
    walked from the output back to the input. Assumes a plain chain of convolutions (true of PatchDiscriminator)."""
    convs = [m for m in network.modules() if isinstance(m, nn.Conv2d)]
    size = 1
    for conv in reversed(convs):
        size = (size - 1) * conv.stride[0] + conv.kernel_size[0]
    return size
