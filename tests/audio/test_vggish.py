"""Our VGGish and its front end equal torchvggish's, without the real weights: a shared random state dict, and
torchvggish's download patched out."""
import numpy as np
import pytest
import torch

from multigan.audio import vggish as ours
from multigan.audio.vggish import VGGish, VGGishWeightsError, load_vggish, log_mel, to_examples
from multigan.metrics.config import EvalConfig

torchvggish = pytest.importorskip("torchvggish")


def test_front_end_equals_waveform_to_examples():
    rng = np.random.default_rng(0)
    wave = (0.3 * rng.standard_normal(16000 * 2 + 1234)).clip(-1, 1)  # 2 s + a ragged tail, at 16 kHz
    reference = torchvggish.vggish_input.waveform_to_examples(wave, 16000, return_tensor=False)  # (2, 96, 64)
    examples, per_clip = to_examples(torch.from_numpy(wave)[None, None], 16000)
    assert per_clip == 2 and examples.shape == (2, 1, 96, 64)
    np.testing.assert_allclose(examples[:, 0].numpy(), reference, rtol=1e-5, atol=1e-5)
    exact = log_mel(torch.from_numpy(wave)[None])[0].numpy()  # float64 before framing
    np.testing.assert_allclose(exact[: 2 * 96].reshape(2, 96, 64), reference, rtol=1e-10, atol=1e-10)


def test_front_end_after_resampling_from_8khz_equals_the_reference_on_the_same_16khz_signal(monkeypatch):
    # the resamplers differ (resampy in torchvggish, torchaudio's sinc here), so both get our resampled signal
    wave = torch.sin(torch.arange(8192) * 0.3).mul(0.5)[None, None]  # (1, 1, T) at 8 kHz
    import torchaudio.functional as AF

    resampled = AF.resample(wave[0, 0].float(), 8000, 16000).double().numpy()
    monkeypatch.setattr(torchvggish.vggish_input.resampy, "resample", lambda data, a, b: resampled)
    reference = torchvggish.vggish_input.waveform_to_examples(wave[0, 0].numpy().astype(np.float64), 8000, False)
    examples, _ = to_examples(wave, 8000)
    np.testing.assert_allclose(examples[:, 0].numpy(), reference, rtol=1e-5, atol=1e-5)


def test_network_equals_torchvggish_with_a_shared_random_state_dict(monkeypatch):
    torch.manual_seed(0)
    network = VGGish().eval()
    state = {k: v.clone() for k, v in network.state_dict().items()}
    hub = torchvggish.torchvggish.hub
    monkeypatch.setattr(hub, "load_state_dict_from_url", lambda *a, **k: state)  # no download
    reference = torchvggish.vggish(postprocess=False).eval()
    examples = torch.randn(3, 1, 96, 64)
    with torch.no_grad():
        torch.testing.assert_close(network(examples), reference(examples), rtol=1e-5, atol=1e-6)
        pre = network.pre_activation(examples)
        torch.testing.assert_close(pre.relu(), reference(examples), rtol=1e-5, atol=1e-6)


def test_weights_come_only_from_the_user_and_are_checked(tmp_path, monkeypatch):
    monkeypatch.delenv("MULTIGAN_VGGISH_WEIGHTS", raising=False)
    with pytest.raises(VGGishWeightsError, match="vggish-10086976.pth were not given.*--vggish-weights"):
        ours.WEIGHTS.resolve(EvalConfig().vggish_weights, VGGishWeightsError)
    with pytest.raises(VGGishWeightsError, match="does not exist"):
        ours.WEIGHTS.resolve(str(tmp_path / "missing.pth"), VGGishWeightsError)
    path = tmp_path / "vggish-10086976.pth"
    torch.save(VGGish().state_dict(), path)
    with pytest.raises(VGGishWeightsError, match="expected one starting with 10086976"):
        load_vggish(path)
    from multigan.core.files import file_sha256

    monkeypatch.setenv("MULTIGAN_VGGISH_WEIGHTS", str(tmp_path))  # a folder holding the file also works
    model, sha256 = load_vggish(ours.WEIGHTS.resolve("", VGGishWeightsError), file_sha256(path)[:8])
    assert sha256 == file_sha256(path) and not model.training
