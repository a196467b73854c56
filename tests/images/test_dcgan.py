"""DCGAN: shapes for every size/channel/conditional combination, gradients flow to the trained player only,
and a short run on real digits lowers the discriminator's loss."""
import itertools

import pytest
import torch

from multigan.core.phases import DataInfo
from multigan.images.dcgan import DCGAN, DCGANConfig, ModelConfigError


def make(resolution=32, channels=1, conditional=False, **kw):
    info = DataInfo("image", (channels, resolution, resolution), num_classes=10, class_names=list("0123456789"))
    config = DCGANConfig(generator_width=8, discriminator_width=8, latent_dim=16, conditional=conditional, **kw)
    return DCGAN(config, info)


@pytest.mark.parametrize(
    "resolution,channels,conditional,condition",
    [(r, c, cond, how) for r, c, (cond, how) in itertools.product(
        (28, 32, 64), (1, 3), ((False, "projection"), (True, "projection"), (True, "concat")))],
)
def test_shapes(resolution, channels, conditional, condition):
    model = make(resolution, channels, conditional, condition=condition)
    batch = {"image": torch.rand(4, channels, resolution, resolution) * 2 - 1, "label": torch.arange(4)}
    out = model.sample(4, torch.Generator().manual_seed(0))
    assert out["image"].shape == (4, channels, resolution, resolution)
    assert out["image"].min() >= -1 and out["image"].max() <= 1
    assert ("label" in out) == conditional
    labels = batch["label"] if conditional else None
    assert model.discriminator(batch["image"], labels).shape == (4,)
    for phase in ("D", "G"):
        loss, _ = model.loss(phase, batch)
        assert loss.dim() == 0 and torch.isfinite(loss)


def test_sampling_is_deterministic_by_seed_and_class_ordered():
    model = make(conditional=True).eval()
    a = model.sample(12, torch.Generator().manual_seed(3))
    b = model.sample(12, torch.Generator().manual_seed(3))
    torch.testing.assert_close(a["image"], b["image"])
    assert a["label"].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]


@pytest.mark.parametrize("phase,trained,frozen", [("D", "discriminator", "generator"), ("G", "generator", "discriminator")])
def test_gradients_reach_only_the_trained_player(phase, trained, frozen):
    model = make(conditional=True, spectral_norm=True)
    nets = model.networks()
    for name, net in nets.items():
        net.requires_grad_(name == trained)  # what the trainer does for this phase
    batch = {"image": torch.rand(4, 1, 32, 32) * 2 - 1, "label": torch.arange(4)}
    loss, _ = model.loss(phase, batch)
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in nets[trained].parameters())
    assert all(p.grad is None for p in nets[frozen].parameters())


@pytest.mark.parametrize("loss", ["nonsaturating", "minimax", "hinge", "lsgan", "relativistic"])
def test_every_loss_choice_builds_and_runs(loss):
    model = make(loss=loss)
    batch = {"image": torch.rand(4, 1, 32, 32) * 2 - 1}
    for phase in model.phases("adversarial"):
        value, _ = model.loss(phase.name, batch if phase.uses_data else {})
        assert torch.isfinite(value)


def test_wgan_gp_and_r1_add_their_penalties():
    model = make(loss="wasserstein", gp_weight=10.0, discriminator_norm="layer", r1_gamma=1.0)
    _, scalars = model.loss("D", {"image": torch.rand(4, 1, 32, 32) * 2 - 1})
    assert scalars["gradient_penalty"] > 0 and scalars["r1"] >= 0


def test_inconsistent_configs_are_refused():
    with pytest.raises(ModelConfigError, match="discriminator_norm"):
        make(gp_weight=10.0)
    with pytest.raises(ModelConfigError, match="no class labels"):
        DCGAN(DCGANConfig(conditional=True), DataInfo("image", (1, 32, 32)))
    with pytest.raises(ModelConfigError, match="dcgan builds 28, 32, 64 px images, the data gives 48 px"):
        make(resolution=48)


def test_a_resolution_dcgan_cannot_build_is_one_line():
    with pytest.raises(ModelConfigError, match="dcgan builds 28, 32, 64 px images, the data gives 128 px"):
        DCGAN(DCGANConfig(), DataInfo("image", (3, 128, 128)))
