"""Our FID Inception equals pytorch-fid's network given the same (random) weights; the real weights are not
available offline, so layout equality is proven on a random state dict loaded into both."""
import hashlib

import pytest
import torch

import multigan.images.inception as inception
from multigan.metrics.config import EvalConfig
from multigan.images.inception import (
    WEIGHTS_FILE, WEIGHTS_URL, FIDInceptionV3, InceptionFIDExtractor, InceptionWeightsError, load_fid_inception,
    resolve_weights_path,
)

pytorch_fid_inception = pytest.importorskip("pytorch_fid.inception", reason="pytorch-fid is the reference (dev extra)")


def random_fid_state() -> dict[str, torch.Tensor]:
    """Default-initialised convolutions plus randomised batch-norm affine and running statistics, so a mix-up of
    any two layers or pooling kinds changes the output."""
    torch.manual_seed(0)
    state = FIDInceptionV3().state_dict()
    for name, value in state.items():
        if name.endswith("running_var"):
            state[name] = torch.rand_like(value) + 0.5
        elif name.endswith(("running_mean", "bn.bias")):
            state[name] = 0.1 * torch.randn_like(value)
        elif name.endswith("bn.weight"):
            state[name] = 1 + 0.1 * torch.randn_like(value)
        elif name.startswith("fc."):
            state[name] = 0.05 * torch.randn_like(value)
    return state


@pytest.fixture(scope="module")
def state():
    return random_fid_state()


@pytest.fixture(scope="module")
def ours(state):
    model = FIDInceptionV3()
    model.load_state_dict(state)
    return model.eval()


@pytest.fixture(scope="module")
def reference_models(state):
    """pytorch-fid's InceptionV3 (pool3 block) and its full fid_inception_v3, with the download patched out."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pytorch_fid_inception, "load_state_dict_from_url", lambda *args, **kwargs: state)
        pool3 = pytorch_fid_inception.InceptionV3([3], resize_input=True, normalize_input=True,
                                                  use_fid_inception=True).eval()
        full = pytorch_fid_inception.fid_inception_v3().eval()
    return pool3, full


def unit_images(n: int, channels: int, size: int, seed: int) -> torch.Tensor:
    """(N, C, size, size) in [0, 1] on the 8-bit grid."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, channels, size, size), generator=generator).float() / 255


@pytest.mark.slow
@torch.no_grad()
def test_pool3_features_equal_pytorch_fid(ours, reference_models):
    images = unit_images(2, 3, 40, seed=1)
    expected = reference_models[0](images)[0].flatten(1)  # (2, 2048)
    features = ours(images)
    assert features.shape == (2, 2048)
    assert float(features.std()) > 1e-3  # not a degenerate all-zero comparison
    torch.testing.assert_close(features, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
@torch.no_grad()
def test_logits_equal_fid_inception_v3(ours, reference_models, state):
    images = unit_images(1, 3, 299, seed=2)  # at 299 px the resize is the identity
    expected = reference_models[1](2 * images - 1)  # torchvision-style forward: (1, 1008) with the fc bias
    features = ours(images)
    torch.testing.assert_close(ours.logits(features), expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours.logits(features, bias=False), features @ state["fc.weight"].T)


@pytest.mark.slow
@torch.no_grad()
def test_grayscale_extractor_equals_pytorch_fid_on_rgb_copy(ours, reference_models):
    extractor = InceptionFIDExtractor(ours, weights_sha256="0" * 64)
    grey = unit_images(1, 1, 28, seed=3) * 2 - 1  # generator-style input: [-1, 1]
    extracted = extractor.extract([grey])
    expected = reference_models[0](((grey + 1) / 2).repeat(1, 3, 1, 1))[0].flatten(1)
    torch.testing.assert_close(extracted.features, expected, rtol=1e-5, atol=1e-5)
    assert extracted.logits.shape == (1, 1008)
    described = extractor.describe_input((1, 28, 28))
    assert described["channels"] == "grayscale repeated to RGB"
    assert described["resize"] == "bilinear 28x28 -> 299x299 (align_corners=False)"


def test_other_channel_counts_rejected(ours):
    with pytest.raises(ValueError, match="1- or 3-channel"):
        InceptionFIDExtractor(ours, "0" * 64).extract([torch.zeros(1, 4, 8, 8)])


def test_missing_weights_name_the_file_and_where_to_get_it(monkeypatch, tmp_path):
    monkeypatch.delenv("MULTIGAN_INCEPTION_WEIGHTS", raising=False)
    with pytest.raises(InceptionWeightsError) as err:
        resolve_weights_path("")
    assert WEIGHTS_FILE in str(err.value) and WEIGHTS_URL in str(err.value) and "--inception-weights" in str(err.value)
    with pytest.raises(InceptionWeightsError, match="does not exist"):
        resolve_weights_path(str(tmp_path / "nowhere.pth"))


def test_wrong_file_is_rejected_by_its_hash(tmp_path):
    path = tmp_path / WEIGHTS_FILE
    path.write_bytes(b"not the inception weights")
    with pytest.raises(InceptionWeightsError, match="expected one starting with 6726825d"):
        load_fid_inception(path)


def save_with_hash(state: dict, path) -> str:
    torch.save(state, path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_weights_file_loads_through_config_env_and_folder(state, ours, tmp_path, monkeypatch):
    # an older file without BatchNorm's num_batches_tracked must load too
    legacy = {name: value for name, value in state.items() if not name.endswith("num_batches_tracked")}
    sha256 = save_with_hash(legacy, tmp_path / WEIGHTS_FILE)
    monkeypatch.setattr(inception, "WEIGHTS_SHA256_PREFIX", sha256[:8])
    model, digest = load_fid_inception(resolve_weights_path(str(tmp_path)))  # a folder holding the file
    assert digest == sha256
    for name, value in ours.state_dict().items():
        if not name.endswith("num_batches_tracked"):
            assert torch.equal(model.state_dict()[name], value), name
    monkeypatch.setenv("MULTIGAN_INCEPTION_WEIGHTS", str(tmp_path / WEIGHTS_FILE))
    assert resolve_weights_path(EvalConfig().inception_weights) == tmp_path / WEIGHTS_FILE


def test_state_dict_of_another_network_is_rejected(tmp_path):
    sha256 = save_with_hash({"weight": torch.zeros(2)}, tmp_path / "other.pth")
    with pytest.raises(InceptionWeightsError, match="not an FID Inception state dict"):
        load_fid_inception(tmp_path / "other.pth", expected_prefix=sha256[:8])

