"""The translation networks: U-Net skip wiring and range, ResNet generators, the PatchGAN's 70x70 receptive field
(computed from the layers and measured by back-propagation)."""
import pytest
import torch

from multigan.images.translation_nets import PatchDiscriminator, ResnetGenerator, UNetGenerator, receptive_field


def test_unet_shapes_range_and_widths():
    net = UNetGenerator(3, 3, levels=6, width=8)  # 64 px
    out = net(torch.randn(2, 3, 64, 64) * 3)
    assert out.shape == (2, 3, 64, 64) and out.abs().max() <= 1
    # the innermost decoder layer sees only the bottleneck; every other one its input plus the skip of its size
    in_widths = [seq[1].in_channels for seq in net.up]
    assert in_widths == [16, 32, 64, 128, 128, 64]
    dropouts = [k for k, seq in enumerate(net.up) if any(isinstance(m, torch.nn.Dropout) for m in seq)]
    assert dropouts == [4]  # the 8x-wide decoder layers beside the bottleneck


def test_unet_256_has_a_one_pixel_bottleneck_and_three_dropout_layers():
    net = UNetGenerator(3, 3, levels=8, width=4)
    sizes = []
    hook = net.down[-1].register_forward_hook(lambda m, i, o: sizes.append(o.shape[-1]))
    net(torch.randn(1, 3, 256, 256))
    hook.remove()
    assert sizes == [1]
    assert sum(isinstance(m, torch.nn.Dropout) for m in net.modules()) == 3


def test_unet_skips_carry_the_input_past_a_dead_bottleneck():
    torch.manual_seed(0)
    net = UNetGenerator(1, 1, levels=5, width=4, norm="none", dropout=False).eval()
    with torch.no_grad():
        net.down[-1].weight.zero_()  # the 1x1 code is now the same for every input
        net.down[-1].bias.zero_()
    x = torch.randn(1, 1, 32, 32)
    x2 = x.clone()
    x2[..., :8, :8] += 1.0
    with torch.no_grad():
        delta = (net(x) - net(x2)).abs()
    assert delta[..., :8, :8].sum() > 0  # only the skips can carry the change through


@pytest.mark.parametrize("blocks", [6, 9])
def test_resnet_generator(blocks):
    net = ResnetGenerator(3, 3, blocks=blocks, width=8)
    assert sum(type(m).__name__ == "ResnetBlock" for m in net.modules()) == blocks
    out = net(torch.randn(2, 3, 48, 48) * 3)
    assert out.shape == (2, 3, 48, 48) and out.abs().max() <= 1


def test_patchgan_receptive_field_is_70_by_the_layers_and_by_gradients():
    net = PatchDiscriminator(3, width=8, n_layers=3, norm="none")
    assert receptive_field(net) == 70
    x = torch.randn(1, 3, 128, 128, requires_grad=True)
    logits = net(x)
    assert logits.shape == (1, 1, 14, 14)
    logits[0, 0, 7, 7].backward()
    rows, cols = torch.nonzero(x.grad[0].abs().sum(0), as_tuple=True)
    assert (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) == (70, 70)


def test_patchgan_depth_sets_the_patch_size():
    assert receptive_field(PatchDiscriminator(3, n_layers=1)) == 16
    assert receptive_field(PatchDiscriminator(3, n_layers=5)) == 286


def test_instance_norm_is_affine_free_and_convs_before_it_keep_their_bias():
    net = PatchDiscriminator(3, width=8, norm="instance")
    norms = [m for m in net.modules() if isinstance(m, torch.nn.InstanceNorm2d)]
    assert norms and all(not m.affine and not m.track_running_stats for m in norms)
    assert all(m.bias is not None for m in net.modules() if isinstance(m, torch.nn.Conv2d))
    batch = PatchDiscriminator(3, width=8, norm="batch")
    assert [m.bias is None for m in batch.modules() if isinstance(m, torch.nn.Conv2d)] == [False, True, True, True, False]
