import torch
from torch import nn

from multigan.core.ema import EMA


def test_ema_follows_the_exponential_average_and_swaps_back():
    net = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    ema = EMA(net, decay=0.9)
    start = {k: v.clone() for k, v in net.state_dict().items()}
    with torch.no_grad():
        net[0].weight.add_(1.0)
    net(torch.randn(8, 3))  # changes BN running stats and its integer counter
    ema.update(net)
    expected = 0.9 * start["0.weight"] + 0.1 * net[0].weight.detach()
    torch.testing.assert_close(ema.shadow["0.weight"], expected)
    assert ema.shadow["1.num_batches_tracked"].item() == 1  # integer buffers are copied, not averaged
    current = net[0].weight.detach().clone()
    with ema.swapped(net):
        torch.testing.assert_close(net[0].weight.detach(), expected)
    torch.testing.assert_close(net[0].weight.detach(), current)


def test_ema_state_round_trip():
    net = nn.Linear(2, 2)
    ema = EMA(net, 0.99)
    other = EMA(nn.Linear(2, 2), 0.99)
    other.load_state_dict(ema.state_dict())
    for key in ema.shadow:
        torch.testing.assert_close(other.shadow[key], ema.shadow[key])


def test_rampup_starts_as_a_copy_and_reaches_the_configured_decay():
    ema = EMA(nn.Linear(2, 2), 0.999, rampup=0.05, batch=64)
    assert ema.decay_at(0) == 0.0  # no image seen: the average is the weights
    decays = [ema.decay_at(step) for step in (1, 10, 100, 1000, 100_000)]
    assert decays == sorted(decays) and decays[-1] == 0.999 and decays[0] < 0.9
    assert EMA(nn.Linear(2, 2), 0.999).decay_at(5) == 0.999  # no rampup: the constant decay, as before


def test_before_ema_start_the_average_follows_the_weights():
    net = nn.Linear(2, 2)
    ema = EMA(net, 0.9, start=3)
    with torch.no_grad():
        net.weight.add_(1.0)
    ema.step(net, 2)
    assert torch.equal(ema.shadow["weight"], net.weight)
    with torch.no_grad():
        net.weight.add_(1.0)
    ema.step(net, 3)
    assert not torch.equal(ema.shadow["weight"], net.weight)
