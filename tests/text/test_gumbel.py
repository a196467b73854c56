import pytest
import torch
import torch.nn.functional as F

from multigan.text.generators import GeneratorConfig, LSTMGenerator
from multigan.text.gumbel import (
    GumbelGAN,
    RelGANDiscriminatorConfig,
    exponential_beta,
    gumbel_generate,
    gumbel_softmax,
    rsgan,
)

from .conftest import text_info
from .test_seqgan import run_steps


def test_hard_gumbel_softmax_is_one_hot_forward_with_gradients():
    logits = torch.randn(5, 7, requires_grad=True)
    weights = torch.randn(7)
    sample, token = gumbel_softmax(logits, beta=2.0, hard=True, generator=torch.Generator().manual_seed(0))
    assert torch.equal(sample, F.one_hot(token, 7).float())  # exact one-hots forward
    (sample * weights).sum().backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0  # relaxed gradients backward


def test_soft_gumbel_softmax_is_a_distribution_peaked_at_the_token():
    logits = torch.randn(4, 6)
    sample, token = gumbel_softmax(logits, beta=5.0, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(sample.sum(dim=1), torch.ones(4))
    assert torch.equal(sample.argmax(dim=1), token)


def test_gumbel_max_tokens_follow_the_softmax():
    probs = torch.tensor([0.6, 0.1, 0.3])
    _, tokens = gumbel_softmax(probs.log().expand(60_000, 3), 1.0, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(torch.bincount(tokens, minlength=3) / 60_000, probs, atol=0.01, rtol=0)


def test_higher_inverse_temperature_sharpens():
    logits = torch.randn(3, 8)
    soft, _ = gumbel_softmax(logits, 1.0, generator=torch.Generator().manual_seed(3))
    sharp, _ = gumbel_softmax(logits, 100.0, generator=torch.Generator().manual_seed(3))
    assert (sharp.max(dim=1).values > soft.max(dim=1).values).all()


def test_exponential_schedule():
    assert exponential_beta(100.0, 0, 11) == 1.0
    assert exponential_beta(100.0, 5, 11) == pytest.approx(10.0)
    assert exponential_beta(100.0, 10, 11) == pytest.approx(100.0)


def test_gumbel_generate_gradients_reach_the_generator():
    torch.manual_seed(0)
    policy = LSTMGenerator(9, 4, 5)
    relaxed, tokens = gumbel_generate(policy, 3, 4, 0, beta=1.0, hard=False, device=torch.device("cpu"))
    assert relaxed.shape == (3, 4, 9) and tokens.shape == (3, 4)
    relaxed[..., 5].sum().backward()
    assert policy.output.weight.grad.abs().sum() > 0


def test_rsgan_loss_is_bce_of_the_margin():
    margin = torch.tensor([0.5, -1.0, 2.0])
    expected = F.binary_cross_entropy_with_logits(margin, torch.ones(3))
    torch.testing.assert_close(rsgan(margin), expected)


def tiny_gumbel(**kwargs) -> GumbelGAN:
    torch.manual_seed(0)
    config = GumbelGAN.Config(
        generator=GeneratorConfig(embed_dim=8, hidden_dim=8),
        discriminator=RelGANDiscriminatorConfig(embed_dim=4, num_rep=3, filter_sizes=[2, 3], num_filters=[5, 6],
                                                hidden=7),
        d_steps=2, max_inverse_temperature=10.0, **kwargs,
    )
    return GumbelGAN(config, text_info(vocab_size=12, max_len=6))


@pytest.mark.parametrize("backbone", ["lstm", "transformer"])
def test_adversarial_steps_train_each_player_alone(backbone):
    model = tiny_gumbel()
    if backbone == "transformer":
        model = GumbelGAN(
            GumbelGAN.Config(generator=GeneratorConfig(backbone="transformer", embed_dim=8, num_heads=2),
                             discriminator=model.config.discriminator, d_steps=2),
            text_info(vocab_size=12, max_len=6),
        )
    data = torch.tensor([[4, 5, 6, 7, 2, 0]]).repeat(16, 1)
    generator_before = [p.detach().clone() for p in model.generator.parameters()]
    discriminator_before = [p.detach().clone() for p in model.discriminator.parameters()]
    logs = run_steps(model, "adversarial", 3, data)
    assert [entry["phase"] for entry in logs] == ["G", "D", "D"] * 3
    assert logs[-1]["d_margin"] == logs[-1]["d_margin"]  # finite
    changed = lambda before, net: any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))  # noqa: E731
    assert changed(generator_before, model.generator) and changed(discriminator_before, model.discriminator)
    assert model.beta == pytest.approx(model.config.max_inverse_temperature)


def test_discriminator_alone_leaves_the_generator_unchanged():
    model = tiny_gumbel()
    data = torch.tensor([[4, 5, 6, 7, 2, 0]]).repeat(16, 1)
    before = [p.detach().clone() for p in model.generator.parameters()]
    optimizer = model.optimizers()["discriminator"]
    for name, net in model.networks().items():
        net.requires_grad_(name == "discriminator")
    loss, _ = model.loss("D", {"tokens": data[:8]})
    loss.backward()
    optimizer.step()
    assert all(torch.equal(a, b) for a, b in zip(before, model.generator.parameters()))


def test_mle_stage_and_discriminator_output_per_representation():
    model = tiny_gumbel()
    data = torch.tensor([[4, 5, 6, 7, 2, 0]]).repeat(16, 1)
    logs = run_steps(model, "pretrain_g", 30, data)
    assert logs[-1]["loss"] < logs[0]["loss"]
    assert model.discriminator(F.one_hot(data[:2], 12).float()).shape == (2 * 3, 1)
