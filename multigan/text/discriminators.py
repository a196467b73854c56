"""CNN text discriminators (Kim-style convolutions + max-over-time + highway + dropout).

SeqGAN: token ids, embedding 64, filter sizes 1..10, 15, 20 with [100, 200, 200, 200, 200, 100 x 5, 160, 160]
filters, one highway layer, dropout keep 0.75, a 2-class softmax trained with cross-entropy + 0.2 * L2 of the last
layer. RelGAN: (relaxed) one-hot input (B, L, V) embedded by a matmul, `num_rep` embedded representations each
convolved by shared filters, highway, dropout, 100 hidden units, one logit per representation.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

SEQGAN_FILTER_SIZES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20)
SEQGAN_NUM_FILTERS = (100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160)


class Highway(nn.Module):
    """y = t * relu(W_h x) + (1 - t) * x with transform gate t = sigmoid(W_t x + gate_bias)."""

    def __init__(self, size: int, gate_bias: float = 0.0):
        super().__init__()
        self.transform = nn.Linear(size, size)
        self.gate = nn.Linear(size, size)
        self.gate_bias = gate_bias

    def forward(self, x: Tensor) -> Tensor:
        gate = torch.sigmoid(self.gate(x) + self.gate_bias)
        return gate * F.relu(self.transform(x)) + (1.0 - gate) * x


class CNNDiscriminator(nn.Module):
    def __init__(
        self,
        vocab_size: int,
        max_len: int,
        embed_dim: int = 64,
        filter_sizes: Sequence[int] = SEQGAN_FILTER_SIZES,
        num_filters: Sequence[int] = SEQGAN_NUM_FILTERS,
        dropout: float = 0.25,
        num_rep: int = 1,
        hidden: int = 0,
        num_outputs: int = 2,
    ):
        super().__init__()
        if len(filter_sizes) != len(num_filters) or not filter_sizes:
            raise ValueError(f"filter_sizes {list(filter_sizes)} and num_filters {list(num_filters)} must pair up")
        if max(filter_sizes) > max_len:
            raise ValueError(f"filter size {max(filter_sizes)} is longer than the sequences ({max_len} tokens)")
        self.embed_dim, self.num_rep = embed_dim, num_rep
        self.embedding = nn.Parameter(torch.empty(vocab_size, embed_dim * num_rep).uniform_(-1.0, 1.0))  # (V, E*R)
        self.convs = nn.ModuleList(nn.Conv1d(embed_dim, n, k) for k, n in zip(filter_sizes, num_filters))
        features = sum(num_filters)
        self.highway = Highway(features)
        self.dropout = nn.Dropout(dropout)
        self.hidden = nn.Linear(features, hidden) if hidden else nn.Identity()
        self.output = nn.Linear(hidden or features, num_outputs)
        for conv in self.convs:  # SeqGAN: truncated N(0, 0.1) filters, bias 0.1
            nn.init.trunc_normal_(conv.weight, std=0.1, a=-0.2, b=0.2)
            nn.init.constant_(conv.bias, 0.1)

    def embed(self, x: Tensor) -> Tensor:
        """Token ids (B, L) or (relaxed) one-hots (B, L, V) -> (B, L, E*R)."""
        if x.dtype in (torch.long, torch.int):
            return F.embedding(x, self.embedding)
        return x @ self.embedding

    def pool(self, x: Tensor) -> Tensor:
        """Max-over-time of every filter's ReLU activations (B*R, F), filters in `convs` order."""
        emb = self.embed(x)  # (B, L, E*R)
        batch, length = emb.shape[:2]
        emb = emb.view(batch, length, self.num_rep, self.embed_dim).permute(0, 2, 3, 1)  # (B, R, E, L)
        emb = emb.reshape(batch * self.num_rep, self.embed_dim, length)  # every representation, shared filters
        return torch.cat([F.relu(conv(emb)).amax(dim=-1) for conv in self.convs], dim=1)  # (B*R, F)

    def head(self, pooled: Tensor) -> Tensor:
        """Pooled features (N, F) -> logits (N, num_outputs): highway, dropout (off in eval mode), hidden, output.
        The shared-prefix rewards (rewards.py) call this on features pooled their own way."""
        return self.output(self.hidden(self.dropout(self.highway(pooled))))

    def forward(self, x: Tensor) -> Tensor:
        """Logits (B*R, num_outputs): SeqGAN's 2-class scores (R = 1), or RelGAN's one logit per representation."""
        return self.head(self.pool(x))

    def l2_penalty(self) -> Tensor:
        """SeqGAN's L2 term, tf.nn.l2_loss (sum of squares / 2) of the output layer's weight and bias."""
        return 0.5 * (self.output.weight.square().sum() + self.output.bias.square().sum())

    @torch.no_grad()
    def prob_real(self, tokens: Tensor, batch_size: int = 4096) -> Tensor:
        """P(real) (N,) of token sequences under the 2-class head, in chunks (rollouts score ~20k sequences)."""
        out = [torch.softmax(self(chunk).float(), dim=-1)[:, 1] for chunk in tokens.split(batch_size)]
        return torch.cat(out)
