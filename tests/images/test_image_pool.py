"""The image pool: it fills first, then returns a past fake with probability 1/2, and its state round-trips
through a checkpoint so a resumed run draws the same fakes."""
import torch

from multigan.core.checkpoint import load_networks, save_checkpoint
from multigan.images.image_pool import ImagePool


def fakes(start, n=1):
    return torch.arange(start, start + n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 2, 2).clone()


def test_filling_returns_the_new_fakes_and_stores_them():
    pool = ImagePool(3, (1, 2, 2))
    out = pool(fakes(0, 2))
    assert torch.equal(out, fakes(0, 2)) and int(pool.count) == 2
    assert torch.equal(pool(fakes(2)), fakes(2)) and int(pool.count) == 3
    assert sorted(pool.images[:, 0, 0, 0].tolist()) == [0.0, 1.0, 2.0]


def test_a_full_pool_returns_a_past_fake_half_of_the_time():
    torch.manual_seed(0)
    pool = ImagePool(50, (1, 2, 2))
    pool(fakes(0, 50))
    seen = set(range(50))
    past, n = 0, 4000
    for step in range(n):
        value = 1000 + step
        out = float(pool(fakes(value))[0, 0, 0, 0])
        if out != value:
            assert int(out) in seen  # it came from the pool ...
            past += 1
        seen = set(int(v) for v in pool.images[:, 0, 0, 0].tolist())  # ... and the new fake took its place
        assert value in seen or out == value
    assert abs(past / n - 0.5) < 0.03


def test_pool_of_size_zero_is_the_identity():
    assert torch.equal(ImagePool(0, (1, 2, 2))(fakes(5, 3)), fakes(5, 3))


def test_pool_state_round_trips_through_a_checkpoint(tmp_path):
    torch.manual_seed(1)
    pool = ImagePool(4, (1, 2, 2))
    for i in range(6):
        pool(fakes(10 * i, 2))
    save_checkpoint(tmp_path / "ck", {"pool_b": pool.state_dict()}, {}, {})
    restored = ImagePool(4, (1, 2, 2))
    restored.load_state_dict(load_networks(tmp_path / "ck")["pool_b"])
    assert torch.equal(restored.images, pool.images) and int(restored.count) == int(pool.count) == 4
    state = torch.get_rng_state()
    expected = pool(fakes(99, 3))
    torch.set_rng_state(state)
    assert torch.equal(restored(fakes(99, 3)), expected)
