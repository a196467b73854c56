"""SpecGAN: the spectrogram codec round-trips a real clip, the statistics come from the train split and travel in
checkpoints, D sees spectrograms, samples are waveforms, bad lengths are one line."""
import pytest
import torch

from multigan.audio.specgan import SpecGAN, SpecGANConfig
from multigan.audio.specgan_nets import SpectrogramCodec
from multigan.core.game import ModelConfigError
from multigan.core.phases import DataInfo
from multigan.registry import DATASETS

INFO = DataInfo("audio", (1, 8192), 10, extra={"sample_rate": 8000})


@pytest.fixture
def fsdd(data_root):
    config = DATASETS.get("fsdd").Config(sample_rate=8000, length=8192, normalize="peak")
    return DATASETS.get("fsdd")(config, data_root, "train")


def test_a_real_clip_survives_spectrogram_griffin_lim_spectrogram(fsdd):
    codec = SpectrogramCodec(8192)
    codec.fit(fsdd.gather(torch.arange(0, len(fsdd), 10))["audio"])
    clip = fsdd.gather(torch.tensor([3, 500]))["audio"]
    spectrogram = codec.encode(clip)  # (2, 1, 128, 128)
    assert spectrogram.shape == (2, 1, 128, 128) and spectrogram.abs().max() <= 1
    again = codec.encode(codec.decode(spectrogram))
    assert float((again - spectrogram).abs().mean()) < 0.03  # the phase is estimated, the magnitude kept


def test_fitting_normalises_each_frequency_bin_of_the_train_split():
    codec = SpectrogramCodec(8192)
    torch.manual_seed(0)
    audio = torch.randn(64, 1, 8192) * torch.linspace(0.01, 1, 8192)  # louder towards the end
    codec.fit(audio)
    logs = (codec.log_magnitude(audio) - codec.bin_mean) / codec.bin_std
    assert torch.allclose(logs.mean(dim=(0, 2)), torch.zeros(128), atol=1e-4)
    assert torch.allclose(logs.std(dim=(0, 2), unbiased=False), torch.ones(128), atol=1e-3)


def test_d_judges_spectrograms_g_gets_gradients_and_samples_are_waveforms():
    torch.manual_seed(0)
    model = SpecGAN(SpecGANConfig(model_dim=2, latent_dim=8, conditional=True), INFO)
    model.batch_size = 4
    batch = {"audio": torch.rand(4, 1, 8192) * 2 - 1, "label": torch.arange(4)}
    assert model.real_view(batch["audio"]).shape == (4, 1, 128, 128)
    assert "spectrogram" in model.networks()  # the statistics are checkpointed
    model.loss("D", batch)
    loss, _ = model.loss("G", {})
    loss.backward()
    assert all(p.grad is not None for p in model.generator.parameters())
    model.eval()
    a = model.sample(3, torch.Generator().manual_seed(1))
    b = model.sample(3, torch.Generator().manual_seed(1))
    assert a["audio"].shape == (3, 1, 8192) and a["label"].tolist() == [0, 1, 2]
    assert torch.equal(a["audio"], b["audio"])  # Griffin-Lim starts from a fixed phase: the seed decides


def test_a_length_it_cannot_frame_is_one_line():
    with pytest.raises(ModelConfigError, match="data.length: SpecGAN needs a clip length"):
        SpecGAN(SpecGANConfig(), DataInfo("audio", (1, 8000)))
