"""SeqGAN's rollout rewards from a CNN discriminator without re-convolving the shared prefixes.

Completion [t-1, r, b] of a rollout batch (L-1, R, B, L) is tokens[b, :t] followed by a sampled tail. The CNN
discriminator pools each filter as max_s relu(a[s]), a[s] = bias + sum_j W_j e(x_{s+j}) over the windows s of its
width k. Two exact rewrites of that pooling:

1. A window that ends inside the prefix (s <= t - k) is a window of the sampled sequence itself: the max over those
   is a running max (cummax over s) of the B sampled sequences' activations, shared by the R rollouts of prefix t
   and read off for every t. Only the windows that reach into the tail (s >= t - k + 1) are computed per
   completion, and the pooled feature is the max of the two parts (both are >= 0 after the ReLU).
2. Those windows are gather-sums from the table T[v, j] = W_j e(v) (V, k, n_k), built once per call from the
   vocabulary actually used (V * E * sum_k k n_k multiply-adds): each window costs k row additions instead of a
   (k E) x n_k product. Sums run in another order than the convolution's, so features agree to float rounding.

The discriminator's own `head` (highway, dropout, output) then scores the pooled features, so the module's mode
is honoured exactly as in the plain path (eval: no dropout). The head is a dense (F x F) highway per completion
and is not shared: after these rewrites it is most of what remains (see benchmarks/seqgan_step.py).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from multigan.text.discriminators import CNNDiscriminator

HEAD_ROWS = 4096  # completions scored per head call: bounds the (rows, 2F) highway activations


def supports_shared_prefix(discriminator: object, tokens: Tensor) -> bool:
    """The rewrite needs token ids and one embedded representation (SeqGAN's discriminator)."""
    return (isinstance(discriminator, CNNDiscriminator) and discriminator.num_rep == 1
            and tokens.dtype in (torch.long, torch.int))


@torch.no_grad()
def shared_prefix_pool(discriminator: CNNDiscriminator, completions: Tensor, tokens: Tensor) -> Tensor:
    """`discriminator.pool` of every completion (L-1, R, B, F), computed as the module docstring says."""
    prefixes, rollouts, batch, length = completions.shape
    # the vocabulary in use, renumbered 0..U-1, so the tables stay small for large vocabularies
    used, inverse = torch.unique(torch.cat([completions.reshape(-1), tokens.reshape(-1)]), return_inverse=True)
    completion_ids = inverse[: completions.numel()].view_as(completions)  # (L-1, R, B, L)
    base_ids = inverse[completions.numel():].view_as(tokens)  # (B, L)
    embedded = discriminator.embedding[used]  # (U, E)
    widths = [conv.kernel_size[0] for conv in discriminator.convs]
    total = sum(conv.out_channels for conv in discriminator.convs)
    out = embedded.new_empty(prefixes, rollouts, batch, total)
    offset = 0
    for conv, k in zip(discriminator.convs, widths):
        n = conv.out_channels
        # row u * k + j of the table: W_j e(u), the contribution of token u at offset j of a window (U * k, n)
        table = (embedded @ conv.weight.permute(1, 2, 0).reshape(-1, k * n)).view(-1, n)
        shift = torch.arange(k, device=tokens.device)

        def window_sums(ids: Tensor) -> Tensor:
            """(N, l) renumbered ids -> (N, l - k + 1, n) window activations without the bias."""
            index = ids.unfold(-1, k, 1) * k + shift  # (N, windows, k)
            return F.embedding_bag(index.reshape(-1, k), table, mode="sum").view(*index.shape[:-1], n)

        # relu(max + bias) = max(relu(. + bias)): both are monotone, so pooling first is exact
        prefix_max = F.relu(window_sums(base_ids) + conv.bias).cummax(dim=1).values  # (B, L-k+1, n): windows <= s
        for t in range(1, length):  # prefix length
            first = max(0, t - k + 1)  # first window that reaches into the tail
            tail = completion_ids[t - 1, :, :, first:].reshape(rollouts * batch, length - first)
            pooled = F.relu(window_sums(tail).amax(dim=1) + conv.bias).view(rollouts, batch, n)
            if t >= k:  # windows 0..t-k lie inside the prefix
                pooled = torch.maximum(pooled, prefix_max[None, :, t - k])
            out[t - 1, :, :, offset : offset + n] = pooled
        offset += n
    return out


@torch.no_grad()
def shared_prefix_rewards(discriminator: CNNDiscriminator, completions: Tensor, tokens: Tensor) -> Tensor:
    """Q (B, L) as rollout.rollout_rewards: mean P(real) over rollouts for t < L, the sequence's own at t = L."""
    prefixes, rollouts, batch, _ = completions.shape
    pooled = shared_prefix_pool(discriminator, completions, tokens).flatten(0, 2)  # (L-1 * R * B, F)
    scores = torch.cat([prob_real(discriminator, chunk) for chunk in pooled.split(HEAD_ROWS)])
    final = prob_real(discriminator, discriminator.pool(tokens))  # (B,)
    return torch.cat([scores.view(prefixes, rollouts, batch).mean(dim=1), final[None]]).T  # (B, L)


def prob_real(discriminator: CNNDiscriminator, pooled: Tensor) -> Tensor:
    """P(real) (N,) from pooled features (N, F), as CNNDiscriminator.prob_real. In eval mode (dropout off) the
    highway's two (F x F) products run as one (F x 2F) product with its elementwise tail in place, the same
    y = t * relu(W_h x) + (1 - t) * x written as x + t * (relu(W_h x) - x); in train mode the module's own head."""
    if discriminator.training:
        return torch.softmax(discriminator.head(pooled).float(), dim=-1)[:, 1]
    highway, features = discriminator.highway, pooled.shape[1]
    weight = torch.cat([highway.gate.weight, highway.transform.weight]).T  # (F, 2F)
    bias = torch.cat([highway.gate.bias + highway.gate_bias, highway.transform.bias])
    both = torch.addmm(bias, pooled, weight)  # (N, 2F): gate and transform pre-activations
    gate, transform = both[:, :features].sigmoid_(), both[:, features:].relu_()
    mixed = transform.sub_(pooled).mul_(gate).add_(pooled)  # (N, F); dropout is the identity in eval mode
    logits = discriminator.output(discriminator.hidden(mixed))
    return torch.softmax(logits.float(), dim=-1)[:, 1]
