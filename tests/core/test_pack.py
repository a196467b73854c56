"""PacGAN's packing as an option of the game, for every model on it: D is built for m times the channels and judges
(B/m, m*C, ...) packs; the gradient penalty and R1 on packs equal those of D on its packed input; pack = 1 changes
nothing."""
import pytest
import torch
from torch import nn

from multigan.core.phases import DataInfo
from multigan.core.regularizers import gradient_penalty, r1_penalty
from multigan.images.dcgan import DCGAN, DCGANConfig
from multigan.registry import MODELS

IMAGE = DataInfo("image", (1, 32, 32))
SMALL = {
    "dcgan": {"generator_width": 4, "discriminator_width": 4, "latent_dim": 8, "discriminator_norm": "layer"},
    "mlp": {"generator_widths": (8,), "discriminator_widths": (8,), "latent_dim": 8},
    "stylegan2": {"latent_dim": 8, "w_dim": 8, "mapping_layers": 1, "channel_base": 64, "channel_max": 8,
                  "mbstd_group": 2, "pl_weight": 0.0},
    "pggan": {"latent_dim": 8, "channel_base": 64, "channel_max": 8, "mbstd_group": 2},
}


def first_input_channels(network: nn.Module) -> int:
    layer = next(m for m in network.modules() if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear)) or
                 type(m).__name__ == "EqualConv2d")
    return layer.weight.shape[1]


@pytest.mark.parametrize("name", sorted(SMALL))
def test_every_image_model_on_the_game_judges_packs_of_m_images(name):
    model = MODELS.get(name)(MODELS.get(name).Config(pack=2, **SMALL[name]), IMAGE)
    model.batch_size = 8
    assert first_input_channels(model.discriminator) in (2, 2 * 32 * 32)  # conv: 2 channels; MLP: 2 flattened images
    seen = []
    judge = model.discriminator.forward
    model.discriminator.forward = lambda x, labels=None: seen.append(x.shape) or judge(x, labels)
    loss, _ = model.loss("D", {"image": torch.rand(8, 1, 32, 32) * 2 - 1})
    loss.backward()
    assert seen[0][:2] == (4, 2) and torch.isfinite(loss)


@pytest.mark.parametrize("name, shape", [("wavegan", (1, 16384)), ("specgan", (1, 16384))])
def test_audio_models_judge_packs_of_clips_as_channels(name, shape):
    cls = MODELS.get(name)
    config = cls.Config(pack=2, model_dim=4, latent_dim=8)
    model = cls(config, DataInfo("audio", shape, extra={"sample_rate": 16000}))
    assert first_input_channels(model.discriminator) == 2


def test_dcgan_with_pack_1_is_the_plain_game():
    torch.manual_seed(0)
    model = DCGAN(DCGANConfig(**SMALL["dcgan"]), IMAGE)
    x = torch.rand(6, 1, 32, 32)
    assert first_input_channels(model.discriminator) == 1
    assert torch.equal(model.judge(x, None), model.discriminator(x, None))


def test_the_gradient_penalty_on_packs_is_the_penalty_of_d_on_its_packed_input():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 1))
    real, fake = torch.randn(12, 2), torch.randn(12, 2)
    packed_critic = lambda x: critic(x.reshape(4, 6)).squeeze(1)  # noqa: E731: points (12, 2) -> packs (4, 6)
    got = gradient_penalty(packed_critic, real, fake, torch.Generator().manual_seed(1), group=3)
    alpha = torch.rand((4, 1), generator=torch.Generator().manual_seed(1))  # one a per pack
    mixed = (alpha * real.reshape(4, 6) + (1 - alpha) * fake.reshape(4, 6)).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed)
    assert got.item() == pytest.approx(((grad.norm(dim=1) - 1) ** 2).mean().item(), rel=1e-6)


def test_r1_on_packs_is_the_squared_gradient_norm_per_pack():
    critic = nn.Linear(4, 1)
    real = torch.randn(6, 2, requires_grad=True)
    r1 = r1_penalty(critic(real.reshape(3, 4)).squeeze(1), real, group=2)
    assert r1.item() == pytest.approx(critic.weight.square().sum().item(), rel=1e-6)  # grad of a pack is W
