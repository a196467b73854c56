"""DCGAN networks (Radford et al. 2016) for 28, 32 and 64-px images, optionally class-conditional.

Generator: z (B, latent) -> project to (B, width, b, b) with a transposed conv -> stride-2 transposed convs with
BatchNorm + ReLU, halving the width and doubling the size each time -> tanh image (B, C, H, W), with b = 7 for
28 px and 4 for 32/64 px. Discriminator: the mirror image with strided convs and LeakyReLU(0.2), no norm on the
first layer, a final b x b conv to one logit.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

RESOLUTIONS = (28, 32, 64)


def base_size(resolution: int) -> int:
    """Side of the smallest feature map: 28 -> 7 (7, 14, 28), 32/64 -> 4."""
    if resolution not in RESOLUTIONS:
        raise ValueError(f"DCGAN supports {RESOLUTIONS} px images, got {resolution}")
    return 7 if resolution == 28 else 4


def num_upsamplings(resolution: int) -> int:
    return int(math.log2(resolution // base_size(resolution)))


def dcgan_init(module: nn.Module) -> None:
    """N(0, 0.02) conv weights and N(1, 0.02) BatchNorm scales, as in the paper."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if not isinstance(m, nn.Embedding) and m.bias is not None:  # embeddings have no bias
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def norm_layer(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "layer":  # per-example, so it keeps the WGAN-GP gradient penalty valid
        return nn.GroupNorm(1, channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be batch, instance, layer or none, got '{kind}'")


class Generator(nn.Module):
    def __init__(self, latent_dim: int, width: int, channels: int, resolution: int, num_classes: int = 0):
        super().__init__()
        n_up = num_upsamplings(resolution)
        self.latent_dim = latent_dim
        # conditional: a learned label embedding is concatenated to z (Mirza & Osindero 2014)
        self.embed = nn.Embedding(num_classes, latent_dim) if num_classes else None
        in_dim = latent_dim * (2 if num_classes else 1)
        widths = [width * 2 ** (n_up - 1 - i) for i in range(n_up)]  # 64 px, width 64: 512, 256, 128, 64
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(in_dim, widths[0], base_size(resolution), 1, 0, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(True),
        ]
        for w_in, w_out in zip(widths[:-1], widths[1:]):
            layers += [nn.ConvTranspose2d(w_in, w_out, 4, 2, 1, bias=False), nn.BatchNorm2d(w_out), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.embed is not None:
            if labels is None:
                raise ValueError("a conditional generator needs labels")
            z = torch.cat([z, self.embed(labels)], dim=1)  # (B, 2 * latent)
        return self.main(z[:, :, None, None])  # (B, C, H, W) in [-1, 1]


class Discriminator(nn.Module):
    """`condition`: "projection" (Miyato & Koyama 2018: logit += <embed(y), pooled features>) or "concat"
    (one-hot label maps concatenated to the image channels)."""

    def __init__(
        self, width: int, channels: int, resolution: int, num_classes: int = 0, norm: str = "batch",
        condition: str = "projection",
    ):
        super().__init__()
        if condition not in ("projection", "concat"):
            raise ValueError(f"condition must be 'projection' or 'concat', got '{condition}'")
        n_down = num_upsamplings(resolution)
        self.num_classes, self.condition = num_classes, condition
        concat = num_classes if condition == "concat" else 0
        widths = [width * 2**i for i in range(n_down)]  # 64 px, width 64: 64, 128, 256, 512
        layers: list[nn.Module] = [nn.Conv2d(channels + concat, widths[0], 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for w_in, w_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Conv2d(w_in, w_out, 4, 2, 1, bias=False), norm_layer(norm, w_out), nn.LeakyReLU(0.2, True)]
        self.features = nn.Sequential(*layers)  # (B, widths[-1], b, b)
        self.head = nn.Conv2d(widths[-1], 1, base_size(resolution), 1, 0)
        self.embed = nn.Embedding(num_classes, widths[-1]) if num_classes and condition == "projection" else None
        dcgan_init(self)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.num_classes and labels is None:
            raise ValueError("a conditional discriminator needs labels")
        if self.num_classes and self.condition == "concat":
            maps = nn.functional.one_hot(labels, self.num_classes).to(x.dtype)[:, :, None, None]
            x = torch.cat([x, maps.expand(-1, -1, x.shape[2], x.shape[3])], dim=1)
        h = self.features(x)
        logits = self.head(h).flatten()  # (B,)
        if self.embed is not None:
            logits = logits + (self.embed(labels) * h.sum(dim=(2, 3))).sum(dim=1)
        return logits
