"""Each adversarial loss equals its textbook formula written with sigmoid and log."""
import pytest
import torch

from multigan.core.losses import LOSSES, get_loss

torch.manual_seed(0)
REAL, FAKE = torch.randn(64) * 3, torch.randn(64) * 3
D = torch.sigmoid


def test_nonsaturating():
    loss = get_loss("nonsaturating")
    expected_d = -(torch.log(D(REAL)).mean() + torch.log(1 - D(FAKE)).mean())
    torch.testing.assert_close(loss.discriminator(REAL, FAKE), expected_d)
    torch.testing.assert_close(loss.generator(FAKE), -torch.log(D(FAKE)).mean())


def test_minimax_generator_minimises_log_one_minus_d():
    loss = get_loss("minimax")
    torch.testing.assert_close(loss.generator(FAKE), torch.log(1 - D(FAKE)).mean())


def test_one_sided_label_smoothing_uses_soft_real_target():
    loss = get_loss("nonsaturating", real_label=0.9)
    expected = -(0.9 * torch.log(D(REAL)) + 0.1 * torch.log(1 - D(REAL))).mean() - torch.log(1 - D(FAKE)).mean()
    torch.testing.assert_close(loss.discriminator(REAL, FAKE, 0.9), expected)


def test_hinge():
    loss = get_loss("hinge")
    expected = torch.clamp(1 - REAL, min=0).mean() + torch.clamp(1 + FAKE, min=0).mean()
    torch.testing.assert_close(loss.discriminator(REAL, FAKE), expected)
    torch.testing.assert_close(loss.generator(FAKE), -FAKE.mean())


def test_wasserstein():
    loss = get_loss("wasserstein")
    torch.testing.assert_close(loss.discriminator(REAL, FAKE), FAKE.mean() - REAL.mean())
    torch.testing.assert_close(loss.generator(FAKE), -FAKE.mean())


def test_least_squares():
    loss = get_loss("lsgan")
    expected = 0.5 * ((REAL - 1) ** 2).mean() + 0.5 * (FAKE**2).mean()
    torch.testing.assert_close(loss.discriminator(REAL, FAKE), expected)
    torch.testing.assert_close(loss.generator(FAKE), 0.5 * ((FAKE - 1) ** 2).mean())


def test_relativistic_standard():
    loss = get_loss("relativistic")
    torch.testing.assert_close(loss.discriminator(REAL, FAKE), -torch.log(D(REAL - FAKE)).mean())
    torch.testing.assert_close(loss.generator(FAKE, REAL), -torch.log(D(FAKE - REAL)).mean())
    with pytest.raises(ValueError, match="real logits"):
        loss.generator(FAKE)


def test_losses_are_stable_for_extreme_logits():
    big = torch.full((4,), 200.0)
    for name in LOSSES.names():
        value = LOSSES.get(name).discriminator(big, -big)
        assert torch.isfinite(value), name


def test_label_smoothing_rejected_where_meaningless():
    with pytest.raises(ValueError, match="hinge"):
        get_loss("hinge", real_label=0.9)
