"""DiffAugment's image policies and ADA's bgc pipeline: identity where nothing fires, gradients, shared transforms."""
import pytest
import torch

from multigan.images.ada import bgc
from multigan.images.diffaugment import color, cutout, translation


def images(batch=8, channels=3, size=16):
    torch.manual_seed(0)
    return torch.rand(batch, channels, size, size) * 2 - 1


@pytest.mark.parametrize("policy", [color, translation, cutout, lambda x, p: bgc(x, torch.tensor(1.0))])
def test_every_policy_keeps_the_shape_and_passes_gradients(policy):
    x = images().requires_grad_(True)
    out = policy(x, None)
    assert out.shape == x.shape and not torch.equal(out, x)
    out.square().sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_translation_shifts_by_whole_pixels_within_an_eighth_and_pads_with_zeros():
    x = torch.zeros(64, 1, 16, 16)
    x[:, :, 8, 8] = 1.0  # one bright pixel
    out = translation(x)
    rows, cols = (out[:, 0] == 1).nonzero()[:, 1:].T
    assert len(rows) == 64 and ((rows - 8).abs() <= 2).all() and ((cols - 8).abs() <= 2).all()
    assert torch.unique(out).tolist() == [0.0, 1.0]
    assert len({(int(r), int(c)) for r, c in zip(rows, cols)}) > 5  # per-sample shifts


def test_cutout_zeroes_one_square_of_half_the_size():
    out = cutout(torch.ones(32, 3, 16, 16))
    holes = (out[:, 0] == 0).float().sum(dim=(1, 2))
    assert (holes <= 64).all() and (holes == 64).any() and (out[:, 0] == out[:, 1]).all()


def test_color_shifts_each_image_as_a_whole():
    x = torch.zeros(16, 3, 8, 8)  # flat grey: saturation and contrast leave it, brightness moves it
    out = color(x)
    per_image = out.flatten(1)
    assert (per_image == per_image[:, :1]).all() and (per_image[:, 0].abs() <= 0.5).all()


@pytest.mark.parametrize("channels", [1, 3, 6])
def test_bgc_at_p_zero_is_the_identity_bit_for_bit(channels):
    x = images(channels=channels)
    assert torch.equal(bgc(x, torch.tensor(0.0)), x)


def test_bgc_applies_each_transform_with_probability_p():
    x = images(batch=400)
    changed = (bgc(x, torch.tensor(0.1)) != x).flatten(1).any(dim=1).float().mean()
    # 13 draws at p = 0.1 (the two rotations at 1 - sqrt(0.9)); the blit translation and flips may be no-ops
    assert 0.5 < float(changed) < 0.85


def test_a_pix2pix_pair_gets_one_transform_for_source_and_target():
    pair = images(channels=3).repeat(1, 2, 1, 1)  # source == target, stacked on the channels
    out = bgc(pair, torch.tensor(1.0))
    assert torch.allclose(out[:, :3], out[:, 3:])
    torch.manual_seed(1)
    shifted = translation(pair)
    assert torch.equal(shifted[:, :3], shifted[:, 3:])
    torch.manual_seed(2)
    recoloured = color(pair)
    assert torch.allclose(recoloured[:, :3], recoloured[:, 3:])


def test_the_hand_written_resampler_equals_grid_sample_and_differentiates_twice():
    import torch.nn.functional as F

    from multigan.images.ada import bilinear_reflect

    torch.manual_seed(0)
    x = torch.randn(6, 3, 17, 12, requires_grad=True)
    grid = F.affine_grid(torch.randn(6, 2, 3) * 0.8, [6, 3, 17, 12], align_corners=False)  # reaches outside
    reference = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    assert torch.allclose(bilinear_reflect(x, grid), reference, atol=1e-5)
    (grad,) = torch.autograd.grad(bilinear_reflect(x, grid).square().sum(), x, create_graph=True)
    grad.square().sum().backward()  # R1 through ADA needs this; grid_sample's own backward cannot
    assert float(x.grad.abs().sum()) > 0
