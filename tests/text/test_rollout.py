import pytest
import torch
from torch import nn

from multigan.text.generators import GeneratorConfig, LSTMGenerator, TransformerGenerator, build_generator, generate
from multigan.text.rollout import rollout, rollout_loop, rollout_rewards


class NextTokenPolicy(nn.Module):
    """Deterministic: its n-th input (0-based) k makes it emit (k + n) % V with probability 1. The output depends on
    the state (the input count), so a continuation from a wrong or misaligned state gives other tokens."""

    def __init__(self, vocab: int = 7):
        super().__init__()
        self.vocab = vocab

    def step(self, token, state):
        count = torch.zeros_like(token) if state is None else state[0] + 1
        logits = torch.full((len(token), self.vocab), -1e9)
        logits[torch.arange(len(token)), (token + count) % self.vocab] = 0.0
        return logits, (count,)

    def select_state(self, state, index):
        return (state[0][index],)

    def concat_states(self, states):
        return (torch.cat([s[0] for s in states]),)


def tiny_lstm():
    torch.manual_seed(0)
    return LSTMGenerator(9, 6, 8, init_std=0.5)


def tiny_transformer():
    torch.manual_seed(0)
    return TransformerGenerator(9, 5, 8, 1, 2, 0.0, bos_id=0, eos_id=None).eval()


def tiny_relational():
    torch.manual_seed(0)
    return build_generator(GeneratorConfig(backbone="relational", embed_dim=6, head_size=4), 9, 5, 0, None)


@pytest.mark.parametrize("make", [tiny_lstm, tiny_transformer, tiny_relational],
                         ids=["lstm", "transformer", "relational"])
def test_rollouts_are_full_length_and_keep_their_prefix(make):
    policy = make()
    tokens = generate(policy, 4, 5, 0, torch.Generator().manual_seed(0))
    completions = rollout(policy, tokens, 3, 0, torch.Generator().manual_seed(1))
    assert completions.shape == (4, 3, 4, 5)  # (L-1 prefixes, R rollouts, B, L)
    for t in range(1, 5):
        prefix = completions[t - 1, :, :, :t]
        assert torch.equal(prefix, tokens[None, :, :t].expand_as(prefix))
    assert completions.min() >= 0 and completions.max() < 9


def test_deterministic_policy_gives_the_loop_result():
    policy, tokens = NextTokenPolicy(), torch.tensor([[3, 3, 3, 3, 3], [6, 0, 2, 2, 5]])
    batched = rollout(policy, tokens, 2, bos_id=0)
    assert torch.equal(batched, rollout_loop(policy, tokens, 2, bos_id=0))
    # prefix [6, 0] of row 1: inputs BOS, 6, 0 (n = 0, 1, 2) -> emits 2; then 2 (n = 3) -> 5; then 5 (n = 4) -> 2
    assert batched[1, 0, 1].tolist() == [6, 0, 2, 5, 2]


def test_batched_rollouts_sample_the_policy_like_the_loop():
    """Same policy, same prefixes: the continuation tokens have the same distribution under both schedules."""
    policy = tiny_lstm()
    tokens = generate(policy, 2, 4, 0, torch.Generator().manual_seed(0))
    batched = rollout(policy, tokens, 3000, 0, torch.Generator().manual_seed(1))
    looped = rollout_loop(policy, tokens, 3000, 0, torch.Generator().manual_seed(2))
    for t in range(1, 4):  # distribution of the first sampled token after each prefix, per row
        for row in range(2):
            a = torch.bincount(batched[t - 1, :, row, t], minlength=9) / 3000
            b = torch.bincount(looped[t - 1, :, row, t], minlength=9) / 3000
            torch.testing.assert_close(a, b, atol=0.04, rtol=0)


class CountingDiscriminator(nn.Module):
    """P(real) = fraction of tokens equal to 1 (two-class logits log(1-p), log p)."""

    def prob_real(self, tokens):
        return (tokens == 1).float().mean(dim=1)


def test_rewards_average_rollouts_and_score_the_full_sequence():
    tokens = torch.tensor([[1, 1, 0]])
    completions = torch.tensor([
        [[[1, 0, 0]], [[1, 1, 1]]],  # prefix length 1: P(real) 1/3 and 3/3 -> mean 2/3
        [[[1, 1, 0]], [[1, 1, 1]]],  # prefix length 2: 2/3 and 3/3 -> 5/6
    ])
    rewards = rollout_rewards(CountingDiscriminator(), completions, tokens)
    torch.testing.assert_close(rewards, torch.tensor([[2 / 3, 5 / 6, 2 / 3]]))
