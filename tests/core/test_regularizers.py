"""Gradient penalty and R1 against hand-computed gradients; spectral norm bounds the largest singular value."""
import torch
from torch import nn

from multigan.core.regularizers import apply_spectral_norm, gradient_penalty, r1_penalty


def test_gradient_penalty_of_a_linear_critic_is_constant():
    # D(x) = <w, x>: grad = w everywhere, so GP = (||w|| - 1)^2 whatever the interpolation
    w = torch.tensor([3.0, 4.0, 0.0])
    critic = lambda x: x @ w  # noqa: E731
    real, fake = torch.randn(8, 3), torch.randn(8, 3)
    torch.testing.assert_close(gradient_penalty(critic, real, fake), torch.tensor(16.0))


def test_gradient_penalty_equals_hand_computation_for_a_quadratic_critic():
    # D(x) = 1/2 ||x||^2: grad at x_hat is x_hat itself
    critic = lambda x: 0.5 * x.flatten(1).pow(2).sum(1)  # noqa: E731
    real, fake = torch.randn(6, 2, 3, 3), torch.randn(6, 2, 3, 3)
    gen = torch.Generator().manual_seed(7)
    penalty = gradient_penalty(critic, real, fake, generator=gen)
    alpha = torch.rand((6, 1, 1, 1), generator=torch.Generator().manual_seed(7))
    mixed = alpha * real + (1 - alpha) * fake
    expected = ((mixed.flatten(1).norm(dim=1) - 1) ** 2).mean()
    torch.testing.assert_close(penalty, expected)


def test_gradient_penalty_is_differentiable_wrt_critic_weights():
    critic = nn.Linear(4, 1)
    penalty = gradient_penalty(critic, torch.randn(5, 4), torch.randn(5, 4))
    penalty.backward()
    expected = 2 * (critic.weight.norm() - 1) * critic.weight / critic.weight.norm()  # d/dw (||w|| - 1)^2
    torch.testing.assert_close(critic.weight.grad, expected)


def test_r1_penalty_equals_squared_gradient_norm():
    real = torch.randn(4, 3, requires_grad=True)
    logits = (real**3).sum(1)  # grad = 3 x^2
    expected = (3 * real.detach() ** 2).pow(2).sum(1).mean()
    torch.testing.assert_close(r1_penalty(logits, real), expected)


def test_spectral_norm_bounds_every_layer():
    net = apply_spectral_norm(nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(8 * 4 * 4, 1)))
    for _ in range(30):  # power iteration converges during forward passes in train mode
        net(torch.randn(2, 3, 6, 6))
    linear = net[2]
    sigma = torch.linalg.matrix_norm(linear.weight.detach(), ord=2)
    assert abs(sigma.item() - 1.0) < 1e-2
