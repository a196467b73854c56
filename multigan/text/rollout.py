"""SeqGAN's Monte-Carlo rollouts, batched: every continuation of every prefix of a batch goes through the policy
network together, one time step per call.

For a batch x (B, L), R rollouts and every prefix length t = 1..L-1, a rollout keeps x_1..x_t and samples the rest.
All rows that are being continued have consumed the same number of inputs at any time step, so they share one
batched state (LSTM h/c or a transformer's key/value cache): the teacher-forced pass over x runs alongside, and at
step t the R*B rows of prefix length t branch off it — the prefix is never recomputed. Total work is
R*B*L*(L-1)/2 row-steps in L calls, against R*(L-1) full passes of L steps for a loop over prefixes.

The reward of token t is the mean over rollouts of D's P(real) of the completed sequences (the full sequence's
own P(real) for t = L), as in Yu et al. 2017, eq. 4. A CNN discriminator scores them without re-convolving the
prefixes they share (rewards.py).
"""
from __future__ import annotations

import torch
from torch import Tensor

from multigan.text.discriminators import CNNDiscriminator
from multigan.text.generators import Policy, sample_step, sample_tokens
from multigan.text.rewards import shared_prefix_rewards, supports_shared_prefix


@torch.no_grad()
def rollout(policy: Policy, tokens: Tensor, num_rollouts: int, bos_id: int,
            generator: torch.Generator | None = None) -> Tensor:
    """Completions (L-1, R, B, L): [t-1, r, b] is tokens[b, :t] followed by a sampled continuation."""
    batch, length = tokens.shape
    branch = torch.arange(batch, device=tokens.device).repeat(num_rollouts)  # row r*B + b copies row b
    out = tokens[None, None].expand(length - 1, num_rollouts, batch, length).clone()
    tf_input = torch.full((batch,), bos_id, dtype=torch.long, device=tokens.device)
    tf_state = rollout_state = rollout_token = None
    for position in range(length):  # the token being produced, 0-based
        tf_logits, tf_state = policy.step(tf_input, tf_state)  # (B, V): distribution of x[position]
        if position > 0:
            # rows of prefix length t = position branch off the teacher-forced pass here: R draws per row
            joining = sample_tokens(tf_logits, num_rollouts, generator).T.reshape(-1)  # (R*B,), row r*B + b
            joining_state = policy.select_state(tf_state, branch)
            if rollout_state is None:
                rollout_state, rollout_token = joining_state, joining
            else:
                continuing, rollout_state = sample_step(policy, rollout_token, rollout_state, generator)
                rollout_state = policy.concat_states([rollout_state, joining_state])
                rollout_token = torch.cat([continuing, joining])
            # rollout_token: (position*R*B,), prefix groups t = 1..position in order
            out[:position, :, :, position] = rollout_token.view(position, num_rollouts, batch)
        tf_input = tokens[:, position]
    return out


@torch.no_grad()
def rollout_loop(policy: Policy, tokens: Tensor, num_rollouts: int, bos_id: int,
                 generator: torch.Generator | None = None) -> Tensor:
    """The reference's schedule, for tests and the benchmark: one full pass of the policy per prefix length
    (all rollouts of that prefix batched), recomputing the prefix each time. Same output layout as `rollout`."""
    batch, length = tokens.shape
    repeated = tokens.repeat(num_rollouts, 1)  # (R*B, L), row r*B + b
    out = tokens[None, None].expand(length - 1, num_rollouts, batch, length).clone()
    for given in range(1, length):
        token = torch.full((len(repeated),), bos_id, dtype=torch.long, device=tokens.device)
        state = None
        for position in range(length):
            if position < given:
                _, state = policy.step(token, state)
                token = repeated[:, position]
            else:
                token, state = sample_step(policy, token, state, generator)
                out[given - 1, :, :, position] = token.view(num_rollouts, batch)
    return out


@torch.no_grad()
def rollout_rewards(discriminator: CNNDiscriminator, completions: Tensor, tokens: Tensor,
                    shared_prefix: bool | None = None) -> Tensor:
    """Q (B, L): mean P(real) over rollouts for t < L, P(real) of the sequence itself at t = L. On a CPU a CNN
    discriminator on token ids is scored with the shared-prefix rewrite (rewards.py: same values to float
    rounding; 2.2x faster there); on a GPU, where D's plain forward over all 19,456 completions takes 20 ms and the
    rewrite's many small kernels 40 ms (H200, seqgan_oracle shapes), every completion is scored in full, as with
    `shared_prefix=False` or any other discriminator with `prob_real`."""
    if shared_prefix is None:
        shared_prefix = tokens.device.type == "cpu"
    if shared_prefix and supports_shared_prefix(discriminator, tokens):
        return shared_prefix_rewards(discriminator, completions, tokens)
    prefixes, num_rollouts, batch, length = completions.shape
    scores = discriminator.prob_real(completions.reshape(-1, length)).view(prefixes, num_rollouts, batch)
    final = discriminator.prob_real(tokens)  # (B,)
    return torch.cat([scores.mean(dim=1), final[None]]).T  # (B, L)
