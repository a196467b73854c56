"""StyleGAN2: its layers' maths, style mixing, truncation around w_avg, lazy regularisation phases, bad settings."""
import pytest
import torch

from multigan.core.game import ModelConfigError
from multigan.core.phases import DataInfo
from multigan.images.style_blocks import ModulatedConv2d, minibatch_stddev
from multigan.images.stylegan2 import StyleGAN2, StyleGAN2Config
from multigan.images.stylegan2_nets import SynthesisLayer

INFO = DataInfo("image", (1, 16, 16), 10)


def tiny(**changes) -> StyleGAN2:
    torch.manual_seed(0)
    config = StyleGAN2Config(latent_dim=16, w_dim=16, mapping_layers=2, channel_base=256, channel_max=16,
                             **changes)
    model = StyleGAN2(config, INFO)
    model.batch_size = 4
    return model


def test_demodulation_gives_unit_output_std_for_unit_input():
    torch.manual_seed(0)
    conv = ModulatedConv2d(256, 256, 3, 32)
    y = conv(torch.randn(8, 256, 32, 32), torch.randn(8, 32) * 3)  # any style scale: demodulation undoes it
    assert float(y[:, :, 1:-1, 1:-1].std()) == pytest.approx(1.0, abs=0.05)


def test_grouped_and_activation_scaling_formulations_agree():
    torch.manual_seed(0)
    conv = ModulatedConv2d(8, 12, 3, 16, up=True)
    x, w = torch.randn(4, 8, 8, 8), torch.randn(4, 16)
    plain = conv(x, w)
    conv.grouped = True
    assert torch.allclose(plain, conv(x, w), atol=1e-5)


def test_minibatch_stddev_appends_one_map_that_is_zero_for_identical_samples():
    out = minibatch_stddev(torch.ones(8, 3, 4, 4), group_size=4)
    assert out.shape == (8, 4, 4, 4) and float(out[:, 3].max()) < 1e-3


def test_psi_zero_gives_w_avg_and_psi_one_the_plain_w():
    model = tiny()
    model.generator.mapping.w_avg.normal_()
    z = torch.randn(5, 16)
    ws = model.generator.ws(z, None, psi=0.0)
    assert torch.allclose(ws, model.generator.mapping.w_avg.expand_as(ws))
    assert torch.equal(model.generator.ws(z, None, psi=1.0)[:, 0], model.generator.mapping(z))


def test_a_mixed_sample_takes_its_styles_from_both_latents_at_the_crossover():
    model = tiny(style_mixing=1.0)
    z = torch.randn(4, 16)
    torch.manual_seed(3)
    mixed = model.mixed_ws(z, None)
    first = model.generator.ws(z, None)
    from_first = (mixed == first).all(dim=2).all(dim=0)  # (num_ws,): layers whose w is z's
    crossover = int(from_first.float().argmin())
    assert 1 <= crossover < mixed.shape[1]
    assert from_first[:crossover].all() and not from_first[crossover:].any()
    assert (mixed[:, crossover:] == mixed[:, -1:]).all()  # one second w for every later layer


def test_training_tracks_w_avg_and_sampling_does_not():
    model = tiny()
    model.loss("G", {})
    tracked = model.generator.mapping.w_avg.clone()
    assert tracked.abs().sum() > 0
    model.eval()
    model.sample(4, torch.Generator().manual_seed(0))
    assert torch.equal(model.generator.mapping.w_avg, tracked)


def test_phases_regularise_lazily_and_adam_is_rescaled():
    model = tiny(r1_gamma=1.0, pl_weight=2.0)
    assert [(p.name, p.every) for p in model.phases("adversarial")] == [("D", 1), ("D_reg", 16), ("G", 1),
                                                                       ("G_reg", 4)]
    optimizers = model.optimizers()
    assert optimizers["discriminator"].param_groups[0]["lr"] == pytest.approx(0.0025 * 16 / 17)
    assert optimizers["generator"].param_groups[0]["betas"][1] == pytest.approx(0.99 ** 0.8)
    unregularised = tiny(r1_gamma=0.0, pl_weight=0.0)
    assert [p.name for p in unregularised.phases("adversarial")] == ["D", "G"]
    # the reference rescales by the intervals whatever the weights (its cifar preset: G's lr x 0.8, no path length)
    assert unregularised.optimizers()["generator"].param_groups[0]["lr"] == pytest.approx(0.0025 * 0.8)


def test_every_phase_passes_gradients_to_its_player_and_conditional_samples_follow_labels():
    model = StyleGAN2(StyleGAN2Config(latent_dim=16, w_dim=16, mapping_layers=2, channel_base=256, channel_max=16,
                                      conditional=True), INFO)
    model.batch_size = 4
    batch = {"image": torch.rand(4, 1, 16, 16) * 2 - 1, "label": torch.tensor([0, 1, 2, 3])}
    for phase in model.phases("adversarial"):
        player = model.networks()[phase.trains[0]]
        player.zero_grad()
        loss, _ = model.loss(phase.name, batch if phase.uses_data else {})
        loss.backward()
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in player.parameters()), phase.name
    model.eval()
    samples = model.sample(6, torch.Generator().manual_seed(0), psi=0.7)
    assert samples["image"].shape == (6, 1, 16, 16) and samples["label"].tolist() == [0, 1, 2, 3, 4, 5]


def test_the_same_seed_gives_the_same_samples_noise_included():
    model = tiny()
    with torch.no_grad():
        for layer in model.generator.modules():
            if isinstance(layer, SynthesisLayer):
                layer.noise_strength.fill_(1.0)
    model.eval()
    a = model.sample(3, torch.Generator().manual_seed(7))["image"]
    b = model.sample(3, torch.Generator().manual_seed(7))["image"]
    assert torch.equal(a, b)


@pytest.mark.parametrize("shape, message", [((1, 24, 24), "power-of-two"), ((1, 2, 2), "at least 4 px"),
                                            ((1, 16, 32), "square")])
def test_a_resolution_it_cannot_build_is_one_line(shape, message):
    with pytest.raises(ModelConfigError, match=message):
        StyleGAN2(StyleGAN2Config(), DataInfo("image", shape))


def test_a_negative_psi_is_refused():
    model = tiny()
    with pytest.raises(ModelConfigError, match="psi must be 0 or more"):
        model.sample(2, torch.Generator(), psi=-0.5)


def test_psi_travels_from_an_export_request_to_the_model_and_is_refused_elsewhere(tmp_path):
    from multigan.export import ExportRequest
    from multigan.export.request import ExportError, sampling_arguments

    assert sampling_arguments(tiny(), ExportRequest(psi=0.7)) == {"psi": 0.7}
    with pytest.raises(ExportError, match="`psi` applies to style-based models"):
        from multigan.images.dcgan import DCGAN, DCGANConfig
        sampling_arguments(DCGAN(DCGANConfig(), DataInfo("image", (1, 28, 28))), ExportRequest(psi=0.7))
    with pytest.raises(ExportError, match="`psi` must be 0 or more"):
        ExportRequest(psi=-1.0).check()
