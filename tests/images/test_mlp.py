"""The MLP vanilla GAN: the issue's layer sizes, shapes (conditional too), and one step of each phase moves the
trained player and leaves the frozen one untouched."""
import pytest
import torch
from torch import nn

from multigan.core.phases import DataInfo
from multigan.images.mlp import MLPConfig, MLPGAN
from multigan.core.game import ModelConfigError

INFO = DataInfo("image", (1, 28, 28), num_classes=10, class_names=list("0123456789"))


def linear_sizes(net):
    return [(m.in_features, m.out_features) for m in net.modules() if isinstance(m, nn.Linear)]


def test_default_networks_are_the_tutorial_vanilla_gan():
    model = MLPGAN(MLPConfig(), INFO)
    assert linear_sizes(model.generator) == [(100, 128), (128, 256), (256, 512), (512, 1024), (1024, 784)]
    assert linear_sizes(model.discriminator) == [(784, 512), (512, 256), (256, 1)]
    assert sum(isinstance(m, nn.BatchNorm1d) for m in model.generator.modules()) == 3
    assert not any(isinstance(m, nn.BatchNorm1d) for m in model.discriminator.modules())


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
@pytest.mark.parametrize("conditional", [False, True])
def test_shapes(shape, conditional):
    info = DataInfo("image", shape, num_classes=10, class_names=list("0123456789"))
    model = MLPGAN(MLPConfig(generator_widths=(16, 32), discriminator_widths=(32,), conditional=conditional), info)
    out = model.sample(6, torch.Generator().manual_seed(0))
    assert out["image"].shape == (6, *shape)
    assert out["image"].min() >= -1 and out["image"].max() <= 1
    if conditional:
        assert out["label"].tolist() == [0, 1, 2, 3, 4, 5]
    else:
        assert "label" not in out
    images, labels = torch.rand(6, *shape) * 2 - 1, torch.arange(6)
    assert model.discriminator(images, labels if conditional else None).shape == (6,)
    if conditional:
        with pytest.raises(ValueError, match="needs labels"):
            model.discriminator(images)


@pytest.mark.parametrize("conditional", [False, True])
def test_one_step_moves_the_trained_player_only(conditional):
    torch.manual_seed(0)
    model = MLPGAN(MLPConfig(generator_widths=(32, 64), discriminator_widths=(64, 32), conditional=conditional), INFO)
    optimizers = model.optimizers()
    batch = {"image": torch.rand(8, 1, 28, 28) * 2 - 1, "label": torch.arange(8) % 10}
    for phase in model.phases("adversarial"):  # what the trainer does: freeze, loss, backward, step
        before = {name: [p.detach().clone() for p in net.parameters()] for name, net in model.networks().items()}
        for name, net in model.networks().items():
            net.requires_grad_(name in phase.trains)
        loss, _ = model.loss(phase.name, batch if phase.uses_data else {})
        optimizers[phase.optimizer].zero_grad()
        loss.backward()
        optimizers[phase.optimizer].step()
        for name, net in model.networks().items():
            moved = any(not torch.equal(a, b) for a, b in zip(before[name], net.parameters()))
            assert moved == (name in phase.trains), (phase.name, name)


def test_gradient_penalty_needs_no_norm_change_and_empty_widths_are_refused():
    model = MLPGAN(MLPConfig(loss="wasserstein", gp_weight=10.0, generator_widths=(16,), discriminator_widths=(16,)),
                   INFO)
    _, scalars = model.loss("D", {"image": torch.rand(4, 1, 28, 28) * 2 - 1})
    assert scalars["gradient_penalty"] > 0
    with pytest.raises(ModelConfigError, match="one width or more"):
        MLPGAN(MLPConfig(discriminator_widths=()), INFO)
