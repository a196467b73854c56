"""PGGAN: the growth schedule, fade-in continuity, reals pooled to the current level, the schedule in checkpoints."""
import pytest
import torch
import torch.nn.functional as F

from multigan.core.game import ModelConfigError
from multigan.core.phases import DataInfo
from multigan.images.pggan import PGGAN, PGGANConfig, level_and_alpha

INFO = DataInfo("image", (1, 16, 16), 10)


def tiny(**changes) -> PGGAN:
    torch.manual_seed(0)
    settings = {"latent_dim": 8, "channel_base": 128, "channel_max": 16, "images_per_phase": 32, **changes}
    model = PGGAN(PGGANConfig(**settings), INFO)
    model.batch_size = 8
    return model


def test_the_schedule_trains_each_level_stable_then_fades_the_next_in_linearly():
    table = [level_and_alpha(images, 100, 2) for images in range(0, 700, 50)]
    assert table == [(0, 1.0), (0, 1.0), (1, 0.0), (1, 0.5), (1, 1.0), (1, 1.0), (2, 0.0), (2, 0.5), (2, 1.0),
                     (2, 1.0), (2, 1.0), (2, 1.0), (2, 1.0), (2, 1.0)]


def grown(model, level, alpha, z):
    model.generator.level, model.generator.alpha = level, alpha
    return model.generator(z)


def test_at_alpha_zero_a_grown_generator_equals_the_previous_level_upsampled_and_is_continuous_in_alpha():
    model = tiny()
    z = torch.randn(4, 8)
    with torch.no_grad():
        previous = grown(model, 1, 1.0, z)  # (4, 1, 8, 8)
        faded_in = grown(model, 2, 0.0, z)  # (4, 1, 16, 16)
        assert torch.allclose(faded_in, F.interpolate(previous, scale_factor=2, mode="nearest"))
        outputs = [grown(model, 2, alpha, z) for alpha in (0.5, 0.5 + 1e-4)]
    assert float((outputs[0] - outputs[1]).abs().max()) < 1e-3


def test_at_alpha_zero_the_discriminator_judges_the_downsampled_input_as_the_previous_level():
    model = tiny()
    x = torch.randn(4, 1, 16, 16)
    d = model.discriminator
    with torch.no_grad():
        d.level, d.alpha = 2, 0.0
        fading = d(x)
        d.level, d.alpha = 1, 1.0
        previous = d(F.avg_pool2d(x, 2))
    assert torch.allclose(fading, previous, atol=1e-5)


def test_reals_are_pooled_and_faded_to_the_level_being_trained():
    model = tiny()
    real = torch.rand(8, 1, 16, 16)
    model.on_step("adversarial", 0, 100)  # level 0: 4x4
    assert model.real_view(real).shape == (8, 1, 4, 4)
    model.on_step("adversarial", 6, 100)  # 48 images: level 1, half faded in
    assert (model.generator.level, model.generator.alpha) == (1, 0.5) and model.real_view(real).shape[-1] == 8
    _, scalars = model.loss("D", {"image": real * 2 - 1})
    assert float(scalars["level"]) == 1 and float(scalars["alpha"]) == 0.5


def test_the_protocol_of_its_samples_names_the_level_they_were_drawn_at():
    model = tiny()
    model.on_step("adversarial", 6, 100)  # level 1 of 2 (8 px), half faded in
    assert model.sample_protocol() == {"growth_level": 1, "growth_levels": 2, "growth_alpha": 0.5,
                                       "sampled_resolution": 8, "upsampled_to": [16, 16]}
    model.on_step("adversarial", 99, 100)  # past the schedule: full size
    assert model.sample_protocol()["sampled_resolution"] == 16 and model.sample_protocol()["upsampled_to"] is None


def test_samples_come_at_the_data_resolution_at_every_level():
    model = tiny()
    model.on_step("adversarial", 0, 100)
    model.eval()
    assert model.sample(3, torch.Generator().manual_seed(0))["image"].shape == (3, 1, 16, 16)


def test_a_loaded_checkpoint_draws_at_the_level_and_alpha_it_grew_to():
    trained = tiny()
    trained.on_step("adversarial", 6, 100)  # level 1, half faded in
    loaded = tiny()
    for name, network in loaded.networks().items():
        network.load_state_dict(trained.networks()[name].state_dict())
    for network in (loaded.generator, loaded.discriminator):
        assert (network.level, network.alpha) == (1, 0.5)
    trained.eval(), loaded.eval()
    draw = [m.sample(3, torch.Generator().manual_seed(0))["image"] for m in (trained, loaded)]
    assert torch.equal(draw[0], draw[1])


def test_resuming_with_another_growth_schedule_is_refused():
    saved = tiny().networks()["growth"].state_dict()
    other = tiny(images_per_phase=64)
    with pytest.raises(ModelConfigError, match="grew with images_per_phase 32 over 2 levels; the recipe says 64"):
        other.networks()["growth"].load_state_dict(saved)


@pytest.mark.parametrize("shape", [(1, 24, 24), (1, 2, 2), (1, 16, 8)])
def test_a_resolution_it_cannot_grow_to_is_one_line(shape):
    with pytest.raises(ModelConfigError, match="pggan grows square power-of-two images from 4 px"):
        PGGAN(PGGANConfig(), DataInfo("image", shape))
