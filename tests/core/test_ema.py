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
