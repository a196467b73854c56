import pytest
import torch

import multigan.text.generators as generators
from multigan.text.generators import (
    GeneratorConfig,
    LSTMGenerator,
    TextModelError,
    TransformerGenerator,
    build_generator,
    categorical,
    generate,
    sample_step,
    sample_tokens,
    sequence_log_probs,
    teacher_inputs,
)


def tiny_transformer() -> TransformerGenerator:
    torch.manual_seed(0)
    return TransformerGenerator(11, 6, 16, 2, 2, 0.0, bos_id=1, eos_id=2).eval()


def tiny_relational():
    torch.manual_seed(0)
    return build_generator(GeneratorConfig(backbone="relational", embed_dim=8, num_heads=2, head_size=4, mem_slots=2),
                           11, 6, 1, 2)


def tiny_lstm() -> LSTMGenerator:
    torch.manual_seed(0)
    return LSTMGenerator(11, 8, 10, num_layers=2, init_std=0.5)


BACKBONES = pytest.mark.parametrize("make", [tiny_lstm, tiny_transformer, tiny_relational],
                                    ids=["lstm", "transformer", "relational"])


@BACKBONES
def test_step_by_step_equals_teacher_forcing(make):
    policy = make()
    tokens = torch.randint(0, 11, (3, 6), generator=torch.Generator().manual_seed(1))
    inputs = teacher_inputs(tokens, bos_id=1)
    full = policy(inputs)  # (3, 6, 11)
    state, stepped = None, []
    for t in range(6):
        logits, state = policy.step(inputs[:, t], state)
        stepped.append(logits)
    torch.testing.assert_close(torch.stack(stepped, dim=1), full, atol=1e-5, rtol=1e-5)


@BACKBONES
def test_states_can_be_gathered_and_stacked(make):
    policy = make()
    tokens = torch.tensor([3, 4, 5])
    _, state = policy.step(tokens, None)
    picked = policy.select_state(state, torch.tensor([2, 2, 0]))
    stacked = policy.concat_states([picked, policy.select_state(state, torch.tensor([1]))])
    logits, _ = policy.step(torch.tensor([6, 6, 6, 6]), stacked)
    _, alone = policy.step(torch.tensor([5, 3, 4]), None)
    expected, _ = policy.step(torch.tensor([6, 6, 6]), alone)  # rows 2, 0, 1 of the original batch
    torch.testing.assert_close(logits[[0, 2, 3]], expected, atol=1e-5, rtol=1e-5)


def test_teacher_inputs_shift_right_after_bos():
    assert teacher_inputs(torch.tensor([[5, 6, 7]]), bos_id=1).tolist() == [[1, 5, 6]]


def test_categorical_follows_the_softmax():
    probs = torch.tensor([0.5, 0.0, 0.2, 0.3])
    logits = probs.log().expand(100_000, 4)
    counts = torch.bincount(categorical(logits, torch.Generator().manual_seed(0)), minlength=4) / 100_000
    torch.testing.assert_close(counts, probs, atol=0.01, rtol=0)
    assert counts[1] == 0  # a zero-probability token is never drawn


def test_many_draws_per_row_are_seeded_and_independent_of_chunking(monkeypatch):
    logits = torch.randn(300, 9)
    first = sample_tokens(logits, 3, torch.Generator().manual_seed(4))
    assert first.shape == (300, 3) and torch.equal(first, sample_tokens(logits, 3, torch.Generator().manual_seed(4)))
    monkeypatch.setattr("multigan.text.generators.CPU_CHUNK_ROWS", 7)
    assert torch.equal(first, sample_tokens(logits, 3, torch.Generator().manual_seed(4)))


@BACKBONES
def test_chunked_sample_step_equals_one_step_and_draw(make, monkeypatch):
    policy = make()
    token = torch.randint(0, 11, (10,), generator=torch.Generator().manual_seed(5))
    _, state = policy.step(token, None)
    logits, expected_state = policy.step(token.flip(0), state)
    expected = categorical(logits, torch.Generator().manual_seed(6))
    monkeypatch.setattr("multigan.text.generators.CPU_CHUNK_ROWS", 3)  # 4 chunks of at most 3 rows
    drawn, new_state = sample_step(policy, token.flip(0), state, torch.Generator().manual_seed(6))
    assert torch.equal(drawn, expected)
    for a, b in zip(new_state, expected_state):
        torch.testing.assert_close(a, b)


def test_generate_is_deterministic_for_a_seed():
    policy = tiny_lstm()
    a = generate(policy, 4, 6, 1, torch.Generator().manual_seed(3))
    b = generate(policy, 4, 6, 1, torch.Generator().manual_seed(3))
    assert a.shape == (4, 6) and torch.equal(a, b)


def test_sequence_log_probs_are_log_softmax_of_the_targets():
    policy = tiny_lstm()
    tokens = torch.tensor([[4, 5, 6]])
    logits = policy(teacher_inputs(tokens, 1))
    expected = torch.log_softmax(logits, -1)[0, torch.arange(3), tokens[0]]
    torch.testing.assert_close(sequence_log_probs(policy, tokens, 1)[0], expected)


def test_lstm_init_is_seqgans_normal():
    torch.manual_seed(0)
    weights = torch.cat([p.flatten() for p in LSTMGenerator(500, 32, 32, init_std=0.1).parameters()])
    assert weights.std().item() == pytest.approx(0.1, rel=0.02) and abs(weights.mean().item()) < 0.002


def test_build_generator_checks_its_config():
    assert isinstance(build_generator(GeneratorConfig(), 20, 5, 1, 2), LSTMGenerator)
    transformer = build_generator(GeneratorConfig(backbone="transformer", embed_dim=8, num_heads=2), 20, 5, 1, 2)
    assert transformer.model.config.n_positions == 5 and transformer.model.config.vocab_size == 20
    with pytest.raises(TextModelError, match="backbone: expected one of lstm, transformer, relational"):
        build_generator(GeneratorConfig(backbone="gru"), 20, 5, 1, 2)
    with pytest.raises(TextModelError, match="multiple of num_heads"):
        build_generator(GeneratorConfig(backbone="transformer", embed_dim=10, num_heads=4), 20, 5, 1, 2)


def test_relational_memory_shapes_and_gradients():
    policy = tiny_relational()
    assert policy.memory.initial_memory(3, torch.device("cpu")).shape == (3, 2, 8)
    logits = policy(teacher_inputs(torch.tensor([[4, 5, 6]]), 1))
    assert logits.shape == (1, 3, 11)
    logits.sum().backward()
    assert all(p.grad is not None for p in policy.parameters())


@pytest.mark.parametrize("vocab", [5000, 4999], ids=["blocks-of-100", "prime-padded"])
def test_two_level_inverse_cdf_draws_what_the_one_level_one_draws(vocab):
    """Same uniforms, same rule (first token whose cumulative probability exceeds u): identical tokens except where
    u falls within float rounding of a boundary, which 16,384 draws over 5000 tokens essentially never hit."""
    logits = 3 * torch.randn(256, vocab, generator=torch.Generator().manual_seed(0))
    u = torch.rand(256, 64, generator=torch.Generator().manual_seed(1))
    two_level = generators._invert_cdf(logits, u)
    one_level = generators._invert_cdf_reference(logits, u)
    assert two_level.shape == (256, 64) and two_level.max() < vocab
    assert (two_level == one_level).float().mean() > 0.9995


def test_two_level_inverse_cdf_never_draws_zero_probability_tokens():
    logits = torch.full((3, 130), float("-inf"))
    logits[0, [0, 5]] = 0.0  # only tokens 0 and 5: u near 1 must give 5, not a later zero-weight or padding token
    logits[1, 129] = 1.0  # only the last token
    logits[2, 64:66] = 0.0  # one block boundary inside the support
    u = torch.tensor([[0.0, 0.4999, 0.5, 1 - 2**-24]] * 3)
    drawn = generators._invert_cdf(logits, u)
    assert drawn.tolist() == [[0, 0, 5, 5], [129] * 4, [64, 64, 65, 65]]
