"""RelGAN's generator backbone: a relational memory core (Santoro et al. 2018) behind the generator interface.

Each step the embedded token becomes one extra slot next to the memory M (slots, heads * head_size); multi-head
self-attention runs over [M; x], followed by residual + LayerNorm, a ReLU MLP, residual + LayerNorm; the input slot
is dropped and LSTM-like gates blend old and new memory:  M' = sigmoid(i) * tanh(M~) + sigmoid(f) * M.
The output is the flattened memory. RelGAN: 1 slot, 2 heads of 256.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from multigan.text.generators import State


class RelationalMemory(nn.Module):
    def __init__(self, input_size: int, mem_slots: int, num_heads: int, head_size: int, mlp_layers: int = 2,
                 forget_bias: float = 1.0, input_bias: float = 0.0):
        super().__init__()
        self.mem_slots, self.num_heads, self.head_size = mem_slots, num_heads, head_size
        self.mem_size = num_heads * head_size
        self.input_projection = nn.Linear(input_size, self.mem_size)
        self.qkv = nn.Linear(self.mem_size, 3 * self.mem_size)
        self.qkv_norm = nn.LayerNorm(3 * self.mem_size)
        self.attention_norm = nn.LayerNorm(self.mem_size)
        self.mlp = nn.Sequential(*[m for _ in range(mlp_layers) for m in (nn.Linear(self.mem_size, self.mem_size),
                                                                          nn.ReLU())])
        self.mlp_norm = nn.LayerNorm(self.mem_size)
        self.input_gates = nn.Linear(self.mem_size, 2 * self.mem_size)
        self.memory_gates = nn.Linear(self.mem_size, 2 * self.mem_size)
        self.forget_bias = nn.Parameter(torch.tensor(forget_bias))
        self.input_bias = nn.Parameter(torch.tensor(input_bias))

    def initial_memory(self, batch: int, device: torch.device) -> Tensor:
        """(B, slots, mem_size): each slot starts as a distinct one-hot (identity, zero-padded)."""
        eye = torch.eye(self.mem_slots, self.mem_size, device=device)
        return eye.expand(batch, -1, -1).clone()

    def attend(self, memory: Tensor) -> Tensor:
        """Multi-head self-attention over the slots (B, N, D) -> (B, N, D)."""
        batch, slots, _ = memory.shape
        qkv = self.qkv_norm(self.qkv(memory)).view(batch, slots, self.num_heads, 3 * self.head_size)
        q, k, v = qkv.transpose(1, 2).split(self.head_size, dim=-1)  # (B, H, N, head) each
        attended = F.scaled_dot_product_attention(q, k, v)  # softmax(q k^T / sqrt(head)) v
        return attended.transpose(1, 2).reshape(batch, slots, self.mem_size)

    def forward(self, x: Tensor, memory: Tensor) -> tuple[Tensor, Tensor]:
        """x (B, input_size), memory (B, S, D) -> output (B, S*D), next memory (B, S, D)."""
        projected = self.input_projection(x)[:, None]  # (B, 1, D): the input as one more slot
        slots = torch.cat([memory, projected], dim=1)  # (B, S+1, D)
        slots = self.attention_norm(slots + self.attend(slots))
        slots = self.mlp_norm(slots + self.mlp(slots))
        candidate = slots[:, :-1]  # drop the input slot
        gates = self.memory_gates(torch.tanh(memory)) + self.input_gates(projected)  # (B, S, 2D)
        input_gate, forget_gate = gates.chunk(2, dim=-1)
        memory = torch.sigmoid(input_gate + self.input_bias) * torch.tanh(candidate) \
            + torch.sigmoid(forget_gate + self.forget_bias) * memory
        return memory.flatten(1), memory


class RelationalGenerator(nn.Module):
    """Embedding -> relational memory -> linear to vocabulary logits. The state is the memory (N, S, D)."""

    def __init__(self, vocab_size: int, embed_dim: int, mem_slots: int, num_heads: int, head_size: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.memory = RelationalMemory(embed_dim, mem_slots, num_heads, head_size)
        self.output = nn.Linear(mem_slots * num_heads * head_size, vocab_size)

    def forward(self, inputs: Tensor) -> Tensor:
        state, logits = None, []
        for t in range(inputs.shape[1]):
            step_logits, state = self.step(inputs[:, t], state)
            logits.append(step_logits)
        return torch.stack(logits, dim=1)  # (B, T, V)

    def step(self, token: Tensor, state: State | None) -> tuple[Tensor, State]:
        memory = self.memory.initial_memory(len(token), token.device) if state is None else state[0]
        output, memory = self.memory(self.embedding(token), memory)
        return self.output(output), (memory,)

    def select_state(self, state: State, index: Tensor | slice) -> State:
        return (state[0][index],)

    def concat_states(self, states: Sequence[State]) -> State:
        return (torch.cat([s[0] for s in states]),)
