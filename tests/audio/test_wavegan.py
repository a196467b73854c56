"""WaveGAN: phase shuffle, network shapes, the gradient penalty on waveforms, and bit-exact resume."""
import pytest
import torch

from multigan import api
from multigan.audio.wavegan import WaveGAN, WaveGANConfig
from multigan.core.game import ModelConfigError
from multigan.audio.wavegan_nets import PhaseShuffle, WaveGANDiscriminator, WaveGANGenerator, strides_for
from multigan.core import checkpoint as ckpt
from multigan.core.phases import DataInfo
from multigan.core.regularizers import gradient_penalty
from multigan.core.trainer import Trainer
from multigan.recipe import from_dict


def test_phase_shuffle_shifts_by_at_most_n_with_reflection():
    x = torch.arange(2 * 3 * 10, dtype=torch.float32).view(2, 3, 10)  # (B, C, T)
    layer = PhaseShuffle(2).train()
    for k in range(-2, 3):
        out = layer(x, shifts=torch.tensor([k, -k]))
        for b, shift in enumerate((k, -k)):
            reflected = torch.nn.functional.pad(x[b : b + 1], (2, 2), mode="reflect")[0]  # (C, T + 4)
            assert torch.equal(out[b], reflected[:, 2 - shift : 2 - shift + 10])  # out[t] = x[t - shift]
            if shift > 0:
                assert torch.equal(out[b, :, shift:], x[b, :, :-shift])
                assert torch.equal(out[b, :, 0], x[b, :, shift])  # reflection, not zeros or wrap-around
    drawn = layer(torch.randn(64, 1, 50).cumsum(-1))
    assert drawn.shape == (64, 1, 50)


def test_phase_shuffle_draws_every_shift_in_range_and_nothing_more():
    x = torch.arange(20.0).expand(400, 1, 20)
    out = PhaseShuffle(2).train()(x)
    shifts = (x[:, 0, 5] - out[:, 0, 5]).long()  # inside the clip, out[t] = x[t - k]
    assert set(shifts.tolist()) == {-2, -1, 0, 1, 2}


def test_phase_shuffle_is_the_identity_for_zero_and_in_eval_mode():
    x = torch.randn(4, 2, 30)
    assert torch.equal(PhaseShuffle(0).train()(x), x)
    assert torch.equal(PhaseShuffle(2).eval()(x), x)


@pytest.mark.parametrize("length,layers", [(16384, 5), (65536, 6), (8192, 5), (4096, 4)])
def test_generator_and_discriminator_shapes(length, layers):
    assert len(strides_for(length)) == layers
    generator = WaveGANGenerator(latent_dim=100, model_dim=4, length=length)
    discriminator = WaveGANDiscriminator(model_dim=4, length=length)
    audio = generator(torch.rand(3, 100) * 2 - 1)
    assert audio.shape == (3, 1, length) and audio.abs().max() <= 1
    assert discriminator(audio).shape == (3,)
    assert generator.width == 4 * 2 ** (layers - 1)  # d=64, 16384: 1024 channels after the dense layer


def test_paper_widths_at_16384():
    generator = WaveGANGenerator(100, 64, 16384)
    convs = [m for m in generator.modules() if isinstance(m, torch.nn.ConvTranspose1d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [
        (1024, 512, 25, 4), (512, 256, 25, 4), (256, 128, 25, 4), (128, 64, 25, 4), (64, 1, 25, 4)]


def test_conditional_and_post_filter():
    generator = WaveGANGenerator(8, 4, 4096, num_classes=3, post_filter=512)
    discriminator = WaveGANDiscriminator(4, 4096, num_classes=3)
    labels = torch.tensor([0, 2])
    audio = generator(torch.rand(2, 8), labels)
    assert audio.shape == (2, 1, 4096) and discriminator(audio, labels).shape == (2,)
    with pytest.raises(ValueError, match="needs labels"):
        generator(torch.rand(2, 8))


def test_gradient_penalty_on_waveforms():
    # a linear critic D(x) = <w, x> has gradient w everywhere: the penalty is (|w| - 1)^2 exactly
    weight = torch.randn(1, 1, 64)
    critic = lambda x: (x * weight).sum(dim=(1, 2))  # noqa: E731
    penalty = gradient_penalty(critic, torch.randn(8, 1, 64), torch.randn(8, 1, 64))
    assert penalty.item() == pytest.approx((weight.norm() - 1).item() ** 2, rel=1e-5)
    discriminator = WaveGANDiscriminator(4, 4096)
    penalty = gradient_penalty(discriminator, torch.randn(4, 1, 4096), torch.randn(4, 1, 4096))
    penalty.backward()
    assert penalty.item() > 0
    assert all(p.grad is not None for n, p in discriminator.named_parameters() if n.endswith("weight"))


def test_bad_lengths_and_unlabelled_conditional_are_one_line():
    with pytest.raises(ModelConfigError, match="data.length: WaveGAN lengths are 16"):
        WaveGAN(WaveGANConfig(), DataInfo("audio", (1, 10000)))
    with pytest.raises(ModelConfigError, match="no class labels"):
        WaveGAN(WaveGANConfig(conditional=True), DataInfo("audio", (1, 4096)))
    with pytest.raises(ModelConfigError, match="mono audio"):
        WaveGAN(WaveGANConfig(), DataInfo("image", (1, 28, 28)))


def tiny_config(folder, steps, conditional=False):
    return from_dict({
        "model": {"name": "wavegan", "model_dim": 2, "latent_dim": 8, "d_steps": 2, "conditional": conditional},
        "data": {"name": "audio_folder", "path": str(folder), "sample_rate": 8000, "length": 4096,
                 "label_pattern": r"^(\d+)_"},
        "train": {"steps": steps, "batch_size": 4, "log_every": 2, "sample_every": 0, "checkpoint_every": 2,
                  "preview_samples": 6},
    })


@pytest.mark.parametrize("conditional", [False, True])
def test_n_steps_resume_n_steps_equals_2n_bit_for_bit(tmp_path, digit_folder, monkeypatch, conditional):
    config = tiny_config(digit_folder, 4, conditional)
    straight = api.train(config, out=tmp_path / "straight", progress=False)
    original = Trainer._train_step

    def crash_after_2(self, *args):
        if self.global_step == 3:
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(Trainer, "_train_step", crash_after_2)
    with pytest.raises(KeyboardInterrupt):
        api.train(config, out=tmp_path / "resumed", progress=False)
    monkeypatch.setattr(Trainer, "_train_step", original)
    api.train(config, resume=tmp_path / "resumed", progress=False)
    a, b = (ckpt.load_networks(ckpt.latest_checkpoint(run)) for run in (straight, tmp_path / "resumed"))
    assert a.keys() == b.keys() == {"generator", "discriminator"}
    for network in a:
        assert all(torch.equal(a[network][k], b[network][k]) for k in a[network]), network
    samples = sorted(p.name for p in (straight / "samples").iterdir())
    assert samples == ["step-0000004.png", "step-0000004.wav"]
