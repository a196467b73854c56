import pytest
import torch

import multigan.text.generators as generators
from multigan.text.discriminators import CNNDiscriminator
from multigan.text.generators import LSTMGenerator, generate
from multigan.text.rewards import shared_prefix_pool, shared_prefix_rewards
from multigan.text.rollout import rollout, rollout_rewards

VOCAB, LENGTH = 13, 7


def rollout_batch(seed: int = 0, vocab: int = VOCAB):
    """A (L-1, R, B, L) rollout of a tiny LSTM and the sequences it continues."""
    torch.manual_seed(seed)
    policy = LSTMGenerator(vocab, 6, 8, init_std=0.5)
    tokens = generate(policy, 5, LENGTH, 0, torch.Generator().manual_seed(seed))
    return rollout(policy, tokens, 4, 0, torch.Generator().manual_seed(seed + 1)), tokens


def discriminator(hidden: int = 0, dropout: float = 0.25, vocab: int = VOCAB) -> CNNDiscriminator:
    """Widths below, at and above a prefix length, up to the whole sequence; a gate bias as in the highway paper."""
    torch.manual_seed(1)
    d = CNNDiscriminator(vocab, LENGTH, embed_dim=5, filter_sizes=[1, 2, 3, 5, LENGTH], num_filters=[3, 4, 2, 3, 2],
                         dropout=dropout, hidden=hidden)
    d.highway.gate_bias = -1.0
    return d


def test_pooled_features_equal_the_discriminators_own_for_every_completion():
    completions, tokens = rollout_batch()
    d = discriminator().eval()
    fast = shared_prefix_pool(d, completions, tokens)  # (L-1, R, B, F)
    plain = d.pool(completions.reshape(-1, LENGTH)).view_as(fast)
    torch.testing.assert_close(fast, plain, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("hidden", [0, 6], ids=["seqgan-head", "hidden-layer"])
def test_shared_prefix_rewards_equal_the_plain_path_in_eval_mode(hidden):
    completions, tokens = rollout_batch()
    d = discriminator(hidden=hidden).eval()  # dropout 0.25, off in eval mode in both paths
    plain = rollout_rewards(d, completions, tokens, shared_prefix=False)
    fast = rollout_rewards(d, completions, tokens)
    assert fast.shape == (5, LENGTH)
    torch.testing.assert_close(fast, plain, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(shared_prefix_rewards(d, completions, tokens), fast)
    assert not d.training  # the mode is the caller's


def test_train_mode_runs_the_modules_own_head():
    completions, tokens = rollout_batch(2)
    d = discriminator(dropout=0.0).train()  # without dropout, train mode is deterministic: same rewards
    torch.testing.assert_close(rollout_rewards(d, completions, tokens),
                               rollout_rewards(d, completions, tokens, shared_prefix=False), atol=1e-6, rtol=1e-5)
    noisy = discriminator(dropout=0.5).train()  # with dropout, two calls differ: dropout is applied, as in D's forward
    assert not torch.equal(rollout_rewards(noisy, completions, tokens), rollout_rewards(noisy, completions, tokens))


def test_a_large_vocabulary_with_few_tokens_in_use_gives_the_same_rewards():
    completions, tokens = rollout_batch(3)
    d = discriminator(vocab=5000).eval()  # tables are built for the ~13 tokens in use, not 5000
    torch.testing.assert_close(rollout_rewards(d, completions * 37, tokens * 37),
                               rollout_rewards(d, completions * 37, tokens * 37, shared_prefix=False),
                               atol=1e-6, rtol=1e-5)


class WithoutAdvance(torch.nn.Module):
    """An LSTM seen through `step` only: sample_step chunks whole steps, as before `advance` existed."""

    def __init__(self, policy):
        super().__init__()
        self.policy = policy

    def step(self, token, state):
        return self.policy.step(token, state)

    def select_state(self, state, index):
        return self.policy.select_state(state, index)

    def concat_states(self, states):
        return self.policy.concat_states(states)


def test_rollouts_draw_the_same_tokens_as_the_one_level_sampler_for_a_seed(monkeypatch):
    """Same uniforms in the same order, same inverse-CDF rule: the tokens agree except where a uniform falls within
    float rounding of a CDF boundary (rare: 35,200 draws here)."""
    torch.manual_seed(0)
    policy = LSTMGenerator(300, 8, 16, init_std=0.5)  # 300 tokens: blocks of 100
    tokens = generate(policy, 20, 11, 0, torch.Generator().manual_seed(0))
    fast = rollout(policy, tokens, 32, 0, torch.Generator().manual_seed(1))
    monkeypatch.setattr(generators, "_invert_cdf", generators._invert_cdf_reference)
    monkeypatch.setattr(generators, "CPU_CHUNK_ROWS", 256)
    before = rollout(WithoutAdvance(policy), tokens, 32, 0, torch.Generator().manual_seed(1))
    assert (fast == before).float().mean() > 0.9999
