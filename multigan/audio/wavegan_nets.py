"""WaveGAN networks (Donahue, McAuley & Puckette 2019, "Adversarial Audio Synthesis"), in 1-D.

Generator: z (B, latent) -> dense -> (B, 16 d 2^(L-5), 16) -> L transposed 1-D convs (kernel 25, stride 4, ReLU
between, the widths halving down to d, then 1 channel) -> tanh (B, 1, T). T = 16384 has L = 5 (the paper's
figure 2), T = 65536 has L = 6; a length with one factor 2 left over (8192, 32768) ends with a stride-2 layer, as
the authors' code does for 32768.
Discriminator: the mirror, with strided convs, LeakyReLU(0.2) and phase shuffle after every layer but the last,
then a dense layer from the flattened (16 d 2^(L-5), 16) features to one score.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

BASE_LENGTH = 16  # time steps after the dense layer


def strides_for(length: int) -> list[int]:
    """Upsampling strides from 16 time steps to `length`: 4s, then at most one 2 (16384 -> [4, 4, 4, 4, 4])."""
    steps, remaining = [], length
    if remaining % BASE_LENGTH:
        raise ValueError(f"WaveGAN lengths are 16 * 4^k (or twice that), e.g. 4096, 8192, 16384, 65536; got {length}")
    remaining //= BASE_LENGTH
    while remaining % 4 == 0 and remaining > 1:
        steps.append(4)
        remaining //= 4
    if remaining == 2:
        steps.append(2)
    elif remaining != 1 or len(steps) < 2:
        raise ValueError(f"WaveGAN lengths are 16 * 4^k (or twice that), e.g. 4096, 8192, 16384, 65536; got {length}")
    return steps


def widths_for(model_dim: int, layers: int) -> list[int]:
    """Channels from the dense layer down: d=64, 5 layers -> [1024, 512, 256, 128, 64] (then 1 channel)."""
    return [model_dim * 2 ** (layers - 1 - i) for i in range(layers)]


def padding_for(kernel: int, stride: int) -> tuple[int, int]:
    """(padding, output_padding) for which a transposed conv multiplies the length exactly by `stride` and the
    strided conv divides it exactly: TensorFlow's 'same' padding."""
    total = kernel - stride  # (in - 1) s - 2p + k + op = s in  <=>  2p - op = k - s
    return (total + 1) // 2, (total + 1) // 2 * 2 - total


class PhaseShuffle(nn.Module):
    """Shift each example's activations (B, C, T) by its own k ~ U{-n..n} samples, reflection-padded, so the
    discriminator cannot key on the periodic checkerboard phase of transposed convolutions (paper, sec. 3.3).
    The identity for n = 0 and in eval mode; draws from the global RNG, so a resumed run shuffles identically."""

    def __init__(self, shift: int):
        super().__init__()
        self.shift = shift

    def forward(self, x: Tensor, shifts: Tensor | None = None) -> Tensor:
        n = self.shift
        if n == 0 or not self.training:
            return x
        if shifts is None:
            shifts = torch.randint(-n, n + 1, (x.shape[0],), device=x.device)  # (B,)
        length = x.shape[-1]
        padded = F.pad(x, (n, n), mode="reflect")  # (B, C, T + 2n): padded[n + t] = x[t]
        windows = padded.unfold(2, length, 1)  # (B, C, 2n + 1, T) view: windows[:, :, s] = padded[s : s + T]
        # out[t] = x[t - k] = padded[n - k + t]: the window that starts at n - k
        return windows[torch.arange(x.shape[0], device=x.device), :, n - shifts]  # (B, C, T)


def tf_init(module: nn.Module) -> None:
    """Glorot-uniform weights and zero biases: TensorFlow's defaults, which the paper's models were trained with."""
    for m in module.modules():
        if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d, nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class WaveGANGenerator(nn.Module):
    def __init__(self, latent_dim: int, model_dim: int, length: int, kernel: int = 25, num_classes: int = 0,
                 post_filter: int = 0):
        super().__init__()
        strides = strides_for(length)
        widths = widths_for(model_dim, len(strides))
        self.embed = nn.Embedding(num_classes, latent_dim) if num_classes else None  # label concatenated to z
        self.dense = nn.Linear(latent_dim * (2 if num_classes else 1), widths[0] * BASE_LENGTH)
        layers: list[nn.Module] = []
        for i, stride in enumerate(strides):
            out = widths[i + 1] if i + 1 < len(widths) else 1
            padding, output_padding = padding_for(kernel, stride)
            layers.append(nn.ConvTranspose1d(widths[i], out, kernel, stride, padding, output_padding))
            layers.append(nn.ReLU() if i + 1 < len(strides) else nn.Tanh())
        self.upsample = nn.Sequential(*layers)
        # learned FIR filter on the waveform (paper, sec. 3.2: length 512) that can remove the checkerboard tones
        self.post_filter = nn.Conv1d(1, 1, post_filter, padding="same", bias=False) if post_filter else None
        tf_init(self)
        self.width = widths[0]

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.embed is not None:
            if labels is None:
                raise ValueError("a conditional generator needs labels")
            z = torch.cat([z, self.embed(labels)], dim=1)  # (B, 2 latent)
        x = F.relu(self.dense(z)).view(z.shape[0], self.width, BASE_LENGTH)  # (B, 16d, 16)
        x = self.upsample(x)  # (B, 1, T) in [-1, 1]
        return self.post_filter(x) if self.post_filter is not None else x


class WaveGANDiscriminator(nn.Module):
    """Scores (B,). Conditional: projection (Miyato & Koyama 2018), logit += <embed(y), flattened features>."""

    def __init__(self, model_dim: int, length: int, kernel: int = 25, phase_shuffle: int = 2, num_classes: int = 0,
                 channels: int = 1):  # channels: m for PacGAN's packs of m mono clips
        super().__init__()
        strides = strides_for(length)
        widths = widths_for(model_dim, len(strides))[::-1]  # d, 2d, ... 16d
        layers: list[nn.Module] = []
        for i, (stride, width) in enumerate(zip(strides[::-1], widths)):
            padding, _ = padding_for(kernel, stride)
            layers += [nn.Conv1d(channels, width, kernel, stride, padding), nn.LeakyReLU(0.2)]
            if i + 1 < len(strides):
                layers.append(PhaseShuffle(phase_shuffle))
            channels = width
        self.features = nn.Sequential(*layers)  # (B, 16d, 16)
        self.head = nn.Linear(channels * BASE_LENGTH, 1)
        self.embed = nn.Embedding(num_classes, channels * BASE_LENGTH) if num_classes else None
        tf_init(self)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.features(x).flatten(1)  # (B, 16d * 16)
        scores = self.head(h).flatten()  # (B,)
        if self.embed is not None:
            if labels is None:
                raise ValueError("a conditional discriminator needs labels")
            scores = scores + (self.embed(labels) * h).sum(dim=1)
        return scores
