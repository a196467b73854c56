"""Autoregressive generators behind one small interface, so MLE, SeqGAN rollouts and Gumbel-softmax training
work with every backbone:

    forward(inputs (B, T)) -> logits (B, T, V)        teacher forcing from the start state
    step(token (N,), state) -> logits (N, V), state   one token in, next-token logits out; state None at start
    select_state(state, index) / concat_states(states)  gather rows (index or slice) / stack row sets in order

Inputs are [BOS, x_1, ..., x_{T-1}] for targets [x_1, ..., x_T]. A state is a tuple of tensors whose dim 0 or 1
is the row, so rollouts can branch many continuations off one prefix without recomputing it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence, runtime_checkable

import torch
from torch import Tensor, nn

from multigan.errors import UserError

State = tuple[Tensor, ...]
BACKBONES = ("lstm", "transformer", "relational")


class TextModelError(UserError, ValueError):
    """A text model's config that cannot work (unknown backbone, filters longer than the sequences ...)."""


@dataclass
class GeneratorConfig:
    """The recipe's `model.generator:` section."""

    backbone: str = "lstm"  # lstm | transformer (GPT-2 config, from scratch) | relational (RelGAN's memory)
    embed_dim: int = 32  # SeqGAN oracle: 32
    hidden_dim: int = 32  # LSTM state size; SeqGAN oracle: 32
    num_layers: int = 1  # LSTM or transformer layers
    num_heads: int = 2  # transformer, relational
    head_size: int = 256  # relational (RelGAN: 2 heads of 256)
    mem_slots: int = 1  # relational
    dropout: float = 0.0  # transformer
    init_std: float = 0.1  # LSTM: every weight ~ N(0, init_std) as SeqGAN; 0 keeps PyTorch's init


class Policy(Protocol):
    def forward(self, inputs: Tensor) -> Tensor: ...

    def step(self, token: Tensor, state: State | None) -> tuple[Tensor, State]: ...

    def select_state(self, state: State, index: Tensor) -> State: ...

    def concat_states(self, states: Sequence[State]) -> State: ...


@runtime_checkable
class SplitPolicy(Protocol):
    """A policy whose step splits into the recurrent part (`advance`, all rows at once) and the output layer
    (`head`, chunked on the CPU): the LSTM."""

    def advance(self, token: Tensor, state: State | None) -> tuple[Tensor, State]: ...

    def head(self, hidden: Tensor) -> Tensor: ...


class LSTMGenerator(nn.Module):
    """SeqGAN's generator: embedding -> LSTM -> linear to vocabulary logits (emb 32, hidden 32 on the oracle).
    nn.LSTM's gates equal SeqGAN's equations, so the oracle is this class with the oracle's weights."""

    def __init__(self, vocab_size: int, embed_dim: int, hidden_dim: int, num_layers: int = 1, init_std: float = 0.1):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, num_layers, batch_first=True)
        self.output = nn.Linear(hidden_dim, vocab_size)
        if init_std > 0:  # SeqGAN draws every weight and bias from N(0, 0.1)
            for parameter in self.parameters():
                nn.init.normal_(parameter, std=init_std)

    def forward(self, inputs: Tensor) -> Tensor:
        hidden, _ = self.lstm(self.embedding(inputs))  # (B, T, H)
        return self.output(hidden)  # (B, T, V)

    def step(self, token: Tensor, state: State | None) -> tuple[Tensor, State]:
        hidden, state = self.advance(token, state)
        return self.head(hidden), state

    def advance(self, token: Tensor, state: State | None) -> tuple[Tensor, State]:
        """`step` without the output layer: the top layer's output (N, H) and the new state; sample_step advances
        all rows at once with it and chunks only the (N, V) output layer."""
        hidden, (h, c) = self.lstm(self.embedding(token)[:, None], state)  # h, c: (layers, N, H)
        return hidden[:, 0], (h, c)

    def head(self, hidden: Tensor) -> Tensor:
        """Next-token logits (N, V) from `advance`'s output (N, H)."""
        return self.output(hidden)

    def select_state(self, state: State, index: Tensor | slice) -> State:
        return tuple(s[:, index] for s in state)

    def concat_states(self, states: Sequence[State]) -> State:
        return tuple(torch.cat(parts, dim=1) for parts in zip(*states))


class TransformerGenerator(nn.Module):
    """A GPT-2 decoder built from a `transformers.GPT2Config` and trained from scratch (no pretrained weights).
    The state is the key/value cache: per layer (N, heads, t, head_dim) keys and values."""

    def __init__(
        self, vocab_size: int, max_len: int, embed_dim: int, num_layers: int, num_heads: int, dropout: float,
        bos_id: int, eos_id: int | None,
    ):
        super().__init__()
        from transformers import (  # heavy import; only this backbone needs it
            GPT2Config,
            GPT2LMHeadModel,
        )

        config = GPT2Config(
            vocab_size=vocab_size, n_positions=max_len, n_embd=embed_dim, n_layer=num_layers, n_head=num_heads,
            resid_pdrop=dropout, embd_pdrop=dropout, attn_pdrop=dropout,
            bos_token_id=bos_id, eos_token_id=bos_id if eos_id is None else eos_id,
        )
        self.model = GPT2LMHeadModel(config)

    def forward(self, inputs: Tensor) -> Tensor:
        return self.model(input_ids=inputs, use_cache=False).logits  # (B, T, V)

    def step(self, token: Tensor, state: State | None) -> tuple[Tensor, State]:
        from transformers import DynamicCache

        cache = None if state is None else DynamicCache(ddp_cache_data=_pairs(state))
        out = self.model(input_ids=token[:, None], past_key_values=cache, use_cache=True)
        flat = tuple(t for layer in out.past_key_values.layers for t in (layer.keys, layer.values))
        return out.logits[:, 0], flat

    def select_state(self, state: State, index: Tensor | slice) -> State:
        return tuple(s[index] for s in state)

    def concat_states(self, states: Sequence[State]) -> State:
        return tuple(torch.cat(parts, dim=0) for parts in zip(*states))


def build_generator(config: GeneratorConfig, vocab_size: int, max_len: int, bos_id: int, eos_id: int | None
                    ) -> nn.Module:
    if config.backbone == "lstm":
        return LSTMGenerator(vocab_size, config.embed_dim, config.hidden_dim, config.num_layers, config.init_std)
    if config.backbone == "transformer":
        if config.embed_dim % config.num_heads:
            raise TextModelError(f"model.generator.embed_dim={config.embed_dim} must be a multiple of num_heads="
                                 f"{config.num_heads}")
        return TransformerGenerator(vocab_size, max_len, config.embed_dim, config.num_layers, config.num_heads,
                                    config.dropout, bos_id, eos_id)
    if config.backbone == "relational":
        from multigan.text.relational import (
            RelationalGenerator,  # it imports this module
        )

        return RelationalGenerator(vocab_size, config.embed_dim, config.mem_slots, config.num_heads, config.head_size)
    raise TextModelError(
        f"model.generator.backbone: expected one of {', '.join(BACKBONES)}, got '{config.backbone}'"
    )


def _pairs(flat: State) -> list[tuple[Tensor, Tensor]]:
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]


def teacher_inputs(tokens: Tensor, bos_id: int) -> Tensor:
    """[BOS, x_1, ..., x_{L-1}] (B, L) for targets `tokens` (B, L)."""
    bos = torch.full_like(tokens[:, :1], bos_id)
    return torch.cat([bos, tokens[:, :-1]], dim=1)


CPU_CHUNK_ROWS = 256  # rows sampled together on a CPU: 256 x V floats stay in cache through softmax and search


def sample_tokens(logits: Tensor, k: int = 1, generator: torch.Generator | None = None) -> Tensor:
    """`k` independent draws per row of softmax(logits) (N, V) -> (N, k), by inverting the cumulative distribution
    (4x faster than torch.multinomial on a CPU). The uniforms are drawn first, so the result does not depend on the
    CPU's chunking; on a GPU all rows go at once, through the one-level inverse CDF (a parallel scan there)."""
    u = torch.rand(len(logits), k, generator=generator, device=logits.device)
    if logits.is_cuda:
        return _invert_cdf_reference(logits, u)
    return torch.cat([_invert_cdf(part, v) for part, v in zip(logits.split(CPU_CHUNK_ROWS), u.split(CPU_CHUNK_ROWS))])


def _invert_cdf(logits: Tensor, u: Tensor) -> Tensor:
    """Token (n, k) = the first v with C_v > u * C_V, C the cumulative sum of softmax(logits) (n, V), found in two
    levels: the block of tokens from the block sums' cumulative sum, then the token inside that block. The same
    rule as `_invert_cdf_reference` (one sequential cumsum over V, the slowest part of a draw) with V / b + b
    sequential additions per draw; the two agree except where u * C_V falls within rounding of a boundary."""
    probs = torch.softmax(logits.detach().float(), dim=-1)  # (n, V); a draw has no gradient
    rows, vocab = probs.shape
    size = _block_size(vocab)
    if vocab % size:  # padding tokens weigh 0
        probs = torch.nn.functional.pad(probs, (0, size - vocab % size))
    blocks = probs.view(rows, -1, size)  # (n, V / b, b)
    block_cdf = blocks.sum(dim=2).cumsum_(dim=1)  # (n, V / b)
    target = u * block_cdf[:, -1:]  # (n, k)
    block = _first_above(block_cdf, target)  # (n, k)
    below = torch.nn.functional.pad(block_cdf, (1, 0)).gather(1, block)  # C just before the block (n, k)
    inner = blocks[torch.arange(rows, device=probs.device)[:, None], block].cumsum_(dim=2)  # (n, k, b)
    offset = _first_above(inner, (target - below)[..., None])[..., 0]
    return block * size + offset


def _block_size(vocab: int) -> int:
    """A divisor of V near sqrt(V) * 1.5 (no padding), else 64 (V=5000: 100)."""
    return next((d for d in range(64, 129) if vocab % d == 0), None) or next(
        (d for d in range(63, 31, -1) if vocab % d == 0), 64)


def _first_above(cdf: Tensor, target: Tensor) -> Tensor:
    """Index of the first entry of `cdf` (..., m) above `target` (..., k); right=True never picks a token of weight
    0. Where rounding puts the target at or above the total, the last entry of positive weight."""
    index = torch.searchsorted(cdf, target, right=True)
    return torch.minimum(index, torch.searchsorted(cdf, cdf[..., -1:].contiguous()))


def _invert_cdf_reference(logits: Tensor, u: Tensor) -> Tensor:
    """The one-level inverse CDF (softmax, cumsum over V, search): the definition `_invert_cdf` is tested
    against, and the sampler of benchmarks/seqgan_step.py's "before"."""
    cdf = torch.softmax(logits.float(), dim=-1).cumsum_(dim=-1)  # (n, V), in place
    # right=True never picks a token of zero probability; the clamp guards u * total rounding up to total
    return torch.searchsorted(cdf, u * cdf[:, -1:], right=True).clamp_max_(cdf.shape[-1] - 1)


def categorical(logits: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """One draw per row from softmax(logits) (N, V) -> (N,)."""
    return sample_tokens(logits, 1, generator)[:, 0]


def sample_step(policy: Policy, token: Tensor, state: State | None,
                generator: torch.Generator | None = None, temperature: float = 1.0) -> tuple[Tensor, State]:
    """One free-running step of N rows: the next tokens (N,) drawn from softmax(logits / temperature), and the new
    state. On a CPU the rows go through in chunks, so each chunk's logits (256 x V) stay in cache from the output
    layer to the draw (2x faster for rollouts' ~20k rows); a policy with `advance`/`head` (the LSTM) advances all
    rows in one call and only its output layer is chunked. On a GPU all rows go at once. Same draws either way."""
    u = torch.rand(len(token), 1, generator=generator, device=token.device)
    if token.is_cuda:  # one parallel scan over V beats the two-level search's extra kernels there (measured, H200)
        logits, state = policy.step(token, state)
        return _invert_cdf_reference(_tempered(logits, temperature), u)[:, 0], state
    if len(token) <= CPU_CHUNK_ROWS:
        logits, state = policy.step(token, state)
        return _invert_cdf(_tempered(logits, temperature), u)[:, 0], state
    if isinstance(policy, SplitPolicy):
        hidden, state = policy.advance(token, state)  # (N, H)
        tokens = [_invert_cdf(_tempered(policy.head(part), temperature), v)[:, 0]
                  for part, v in zip(hidden.split(CPU_CHUNK_ROWS), u.split(CPU_CHUNK_ROWS))]
        return torch.cat(tokens), state
    tokens, states = [], []
    for start in range(0, len(token), CPU_CHUNK_ROWS):
        rows = slice(start, start + CPU_CHUNK_ROWS)
        logits, part = policy.step(token[rows], None if state is None else policy.select_state(state, rows))
        tokens.append(_invert_cdf(_tempered(logits, temperature), u[rows])[:, 0])
        states.append(part)
    return torch.cat(tokens), policy.concat_states(states)


def _tempered(logits: Tensor, temperature: float) -> Tensor:
    # T < 1 sharpens the distribution towards the likeliest tokens, T > 1 flattens it; T = 1 is the model's own
    return logits if temperature == 1.0 else logits.float() / temperature


@torch.no_grad()
def generate(policy: Policy, n: int, length: int, bos_id: int, generator: torch.Generator | None = None,
             device: torch.device | None = None, temperature: float = 1.0) -> Tensor:
    """`n` free-running sequences (n, length) drawn from `policy` at `temperature`."""
    token = torch.full((n,), bos_id, dtype=torch.long, device=device)
    state, out = None, []
    for _ in range(length):
        token, state = sample_step(policy, token, state, generator, temperature)
        out.append(token)
    return torch.stack(out, dim=1)


def sequence_log_probs(policy: Policy, tokens: Tensor, bos_id: int) -> Tensor:
    """log p(x_t | x_<t) of every token (B, L), teacher-forced."""
    logits = policy(teacher_inputs(tokens, bos_id))  # (B, L, V)
    return torch.log_softmax(logits.float(), dim=-1).gather(-1, tokens[..., None])[..., 0]
