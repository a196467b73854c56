"""SpecGAN's spectrogram front end and networks (Donahue et al. 2019, "Adversarial Audio Synthesis", Sec. 4).

Front end: a clip of T samples -> |STFT| with a 256-point Hann window and hop T / 128 (the paper: 16 ms windows,
8 ms hop at 16 kHz, T = 16384) -> drop the Nyquist bin and the last frame -> (128 bins, 128 frames) -> log ->
each frequency bin normalised with its train-set mean and std -> clipped at 3 std -> scaled to [-1, 1]. Back: the
inverse of each step, then Griffin-Lim (16 iterations in the paper) for the phase.

Networks: DCGAN's with 5x5 kernels (the paper's SpecGAN is WaveGAN's design in 2-D): G z -> dense (4 x 4 x 16d) ->
five 5x5 transposed convs of stride 2 (ReLU, tanh last) -> (B, 1, 128, 128); D the mirror (LeakyReLU 0.2) -> dense
-> one score, conditional by projection.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
import torchaudio
from torch import Tensor, nn

from multigan.audio.wavegan_nets import tf_init

SIZE = 128  # frequency bins and frames of the model's spectrograms
N_FFT = 2 * SIZE  # 129 bins, the Nyquist one dropped
CLIP = 3.0  # standard deviations kept per bin


class SpectrogramCodec(nn.Module):
    """Waveforms (B, 1, T) <-> normalised log-magnitude spectrograms (B, 1, 128, 128) in [-1, 1]. The per-bin
    statistics are buffers, set once from the train split (`fit`), so checkpoints carry them."""

    def __init__(self, length: int, griffin_lim_iters: int = 16):
        super().__init__()
        if length % SIZE or length // SIZE > N_FFT:
            raise ValueError(f"SpecGAN needs a clip length that divides into {SIZE} frames of at most {N_FFT} "
                             f"samples (e.g. 8192, 16384, 32768), got {length}")
        self.length, self.hop = length, length // SIZE
        self.register_buffer("window", torch.hann_window(N_FFT), persistent=False)
        self.register_buffer("bin_mean", torch.zeros(SIZE, 1))
        self.register_buffer("bin_std", torch.ones(SIZE, 1))
        # phase starts at 0, not random: a sample depends only on its own generator's draws
        self.griffin_lim = torchaudio.transforms.GriffinLim(n_fft=N_FFT, hop_length=self.hop, power=1.0,
                                                            n_iter=griffin_lim_iters, length=length, rand_init=False)

    def log_magnitude(self, audio: Tensor) -> Tensor:
        """(B, 1, T) -> log |STFT| (B, 128, 128): bins x frames, Nyquist bin and last frame dropped."""
        spectrum = torch.stft(audio[:, 0].float(), N_FFT, self.hop, window=self.window, return_complex=True)
        return torch.log(spectrum.abs()[:, :SIZE, :SIZE] + 1e-6)

    @torch.no_grad()
    def fit(self, audio: Tensor, batch_size: int = 256) -> None:
        """The per-bin mean and std of the log magnitudes of every clip in `audio` (N, 1, T)."""
        total = torch.zeros(SIZE, 1, dtype=torch.float64)
        squares = torch.zeros(SIZE, 1, dtype=torch.float64)
        count = 0
        for chunk in audio.split(batch_size):
            logs = self.log_magnitude(chunk.to(self.window.device)).double().cpu()  # (b, bins, frames)
            total += logs.sum(dim=(0, 2))[:, None]
            squares += logs.square().sum(dim=(0, 2))[:, None]
            count += logs.shape[0] * logs.shape[2]
        mean = total / count
        self.bin_mean.copy_(mean.float())
        self.bin_std.copy_((squares / count - mean.square()).clamp(min=1e-12).sqrt().float())

    def encode(self, audio: Tensor) -> Tensor:
        """(B, 1, T) -> (B, 1, 128, 128) in [-1, 1]."""
        normalised = (self.log_magnitude(audio) - self.bin_mean) / self.bin_std
        return (normalised.clamp(-CLIP, CLIP) / CLIP)[:, None].to(audio.dtype)

    def magnitude(self, spectrogram: Tensor) -> Tensor:
        """(B, 1, 128, 128) in [-1, 1] -> |STFT| (B, 129, 129): the Nyquist bin silent, the last frame repeated."""
        logs = spectrogram[:, 0].float() * CLIP * self.bin_std + self.bin_mean
        magnitude = (logs.exp() - 1e-6).clamp(min=0)
        magnitude = F.pad(magnitude, (0, 0, 0, 1))  # the Nyquist bin: zero
        return torch.cat([magnitude, magnitude[:, :, -1:]], dim=2)

    def decode(self, spectrogram: Tensor) -> Tensor:
        """(B, 1, 128, 128) -> waveforms (B, 1, T) in [-1, 1], the phase estimated by Griffin-Lim."""
        audio = self.griffin_lim(self.magnitude(spectrogram))  # (B, T)
        return audio[:, None].clamp(-1, 1)


class SpecGANGenerator(nn.Module):
    def __init__(self, latent_dim: int, model_dim: int, num_classes: int = 0, kernel: int = 5):
        super().__init__()
        widths = [model_dim * 2 ** (4 - i) for i in range(5)]  # 16d, 8d, 4d, 2d, d
        self.embed = nn.Embedding(num_classes, latent_dim) if num_classes else None
        self.dense = nn.Linear(latent_dim * (2 if num_classes else 1), widths[0] * 16)
        layers: list[nn.Module] = []
        for i, width in enumerate(widths):
            out = widths[i + 1] if i + 1 < len(widths) else 1
            layers += [nn.ConvTranspose2d(width, out, kernel, 2, kernel // 2, output_padding=1),
                       nn.ReLU() if i + 1 < len(widths) else nn.Tanh()]
        self.upsample = nn.Sequential(*layers)
        self.width = widths[0]
        tf_init(self)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.embed is not None:
            if labels is None:
                raise ValueError("a conditional generator needs labels")
            z = torch.cat([z, self.embed(labels)], dim=1)
        x = F.relu(self.dense(z)).view(len(z), self.width, 4, 4)  # (B, 16d, 4, 4)
        return self.upsample(x)  # (B, 1, 128, 128) in [-1, 1]


class SpecGANDiscriminator(nn.Module):
    def __init__(self, model_dim: int, num_classes: int = 0, kernel: int = 5, channels: int = 1):
        super().__init__()  # channels: m for PacGAN's packs of m spectrograms
        widths = [model_dim * 2**i for i in range(5)]  # d ... 16d
        layers: list[nn.Module] = []
        for width in widths:
            layers += [nn.Conv2d(channels, width, kernel, 2, kernel // 2), nn.LeakyReLU(0.2)]
            channels = width
        self.features = nn.Sequential(*layers)  # (B, 16d, 4, 4)
        self.head = nn.Linear(channels * 16, 1)
        self.embed = nn.Embedding(num_classes, channels * 16) if num_classes else None
        tf_init(self)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.features(x).flatten(1)  # (B, 16d * 16)
        scores = self.head(h)[:, 0]
        if self.embed is not None:
            if labels is None:
                raise ValueError("a conditional discriminator needs labels")
            scores = scores + (self.embed(labels) * h).sum(dim=1)  # projection
        return scores
