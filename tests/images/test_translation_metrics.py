"""Translation metrics: SSIM/PSNR are torchmetrics' and equal scikit-image's; the paired, FID/KID and success
metrics of a run carry their protocols, floors and classifier accuracy; the translations are made once."""
import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from multigan import api
from multigan.images import translation_metrics
from multigan.images.translation_metrics import paired_scores
from multigan.recipe import from_dict
from tests.images.conftest import write_image


def test_paired_scores_equal_scikit_image():
    rng = np.random.default_rng(0)
    truth = rng.random((3, 3, 48, 48)).astype(np.float32)
    outputs = np.clip(truth + rng.normal(0, 0.1, truth.shape), 0, 1).astype(np.float32)
    ours = paired_scores(torch.from_numpy(outputs), torch.from_numpy(truth))
    ssim = [structural_similarity(o.transpose(1, 2, 0), t.transpose(1, 2, 0), channel_axis=2, data_range=1.0,
                                  gaussian_weights=True, sigma=1.5, use_sample_covariance=False) for o, t in
            zip(outputs, truth)]
    psnr = [peak_signal_noise_ratio(t, o, data_range=1.0) for o, t in zip(outputs, truth)]
    assert ours["ssim"] == pytest.approx(np.mean(ssim), abs=2e-3)  # border handling differs by a few 1e-4
    assert ours["psnr"] == pytest.approx(np.mean(psnr), rel=1e-5)
    assert ours["l1"] == pytest.approx(np.abs(outputs - truth).mean(), rel=1e-5)
    same = paired_scores(torch.from_numpy(truth), torch.from_numpy(truth))
    assert same["ssim"] == pytest.approx(1.0) and same["l1"] == 0


@pytest.fixture
def two_domains(tmp_path):
    """80 red-ish and 80 blue-ish 32-px images per split: enough for 64-d classifier features."""
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for side, channel in (("A", 0), ("B", 2)):
            for i in range(80):
                image = rng.integers(0, 80, (32, 32, 3)).astype(np.uint8)
                image[..., channel] += 170
                write_image(tmp_path / "d" / f"{split}{side}" / f"{i}.png", image)
    return tmp_path / "d"


def test_cyclegan_run_scores_success_fid_kid_with_floors(two_domains, tmp_path, monkeypatch):
    config = from_dict({
        "model": {"name": "cyclegan", "generator": "resnet_6", "generator_width": 4, "discriminator_width": 4},
        "data": {"name": "unpaired_folder", "path": str(two_domains), "resolution": 32, "load_size": 36},
        "train": {"steps": 1, "batch_size": 4, "sample_every": 0, "checkpoint_every": 1},
        "eval": {"metrics": ["translation_success", "translation_fid"], "classifier_epochs": 2, "batch_size": 64},
    })
    calls = []
    original = translation_metrics.translated

    def counted(*args):
        calls.append(args[2:4])
        return original(*args)

    monkeypatch.setattr(translation_metrics, "translated", counted)
    run = api.train(config, out=tmp_path / "run", progress=False)
    metrics = api.evaluate(run)["metrics"]
    assert set(metrics) == {"success_ab", "success_ba", "fid_ab", "kid_ab", "fid_ba", "kid_ba"}
    success = metrics["success_ab"]["protocol"]
    assert success["classifier_accuracy"] > 0.9 and success["real_vs_real"] > 0.9 and success["n_translated"] == 80
    fid = metrics["fid_ab"]["protocol"]
    assert fid["extractor"] == "classifier" and fid["n_generated"] == 80 and fid["real_vs_real"] is not None
    assert metrics["fid_ab"]["value"] > fid["real_vs_real"]  # one step of training is far from the target domain
    per_evaluation = [c for c in calls]
    assert sorted(set(per_evaluation)) == [("AtoB", "a"), ("BtoA", "b")]


def test_pix2pix_run_scores_l1_psnr_ssim_with_a_baseline(paired_folder, tmp_path):
    config = from_dict({
        "model": {"name": "pix2pix", "generator_width": 4, "discriminator_width": 4},
        "data": {"name": "paired_folder", "path": str(paired_folder), "resolution": 32, "load_size": 36},
        "train": {"steps": 1, "batch_size": 2, "sample_every": 0, "checkpoint_every": 1},
        "eval": {"metrics": ["paired"]},
    })
    run = api.train(config, out=tmp_path / "run", progress=False)
    metrics = api.evaluate(run)["metrics"]
    assert set(metrics) == {"l1", "psnr", "ssim"}
    protocol = metrics["ssim"]["protocol"]
    assert protocol["n_pairs"] == 3 and protocol["split"] == "test" and "torchmetrics" in protocol["ssim"]
    assert set(protocol["baseline_mean_target"]) == {"l1", "psnr", "ssim"}
    assert metrics["l1"]["higher_is_better"] is False and metrics["psnr"]["higher_is_better"] is True


def test_translation_metrics_refuse_a_generator_model(tmp_path):
    from multigan.metrics.frechet import MetricError

    config = from_dict({"model": {"name": "dcgan", "generator_width": 8, "discriminator_width": 8},
                        "data": {"name": "digits", "train_size": 64, "test_size": 16},
                        "train": {"steps": 1, "batch_size": 8, "sample_every": 0, "checkpoint_every": 1}})
    run = api.train(config, out=tmp_path / "run", progress=False)
    with pytest.raises(MetricError, match="translation metrics need a translation model"):
        api.evaluate(run, {"metrics": ["paired"]})


def test_inception_features_give_kid_and_say_why_fid_is_left_out(unpaired_folder, tmp_path, monkeypatch):
    """The user's Inception weights (here a random state dict with its hash accepted): KID of each direction with
    its floor; FID needs more than 2048 images per side, so it is left out and the protocol says why."""
    import multigan.images.inception as inception
    from tests.images.test_inception import random_fid_state, save_with_hash

    weights = tmp_path / inception.WEIGHTS_FILE
    monkeypatch.setattr(inception, "WEIGHTS_SHA256_PREFIX", save_with_hash(random_fid_state(), weights)[:8])
    config = from_dict({
        "model": {"name": "cyclegan", "generator": "resnet_6", "generator_width": 4, "discriminator_width": 4},
        "data": {"name": "unpaired_folder", "path": str(unpaired_folder), "resolution": 32, "load_size": 36},
        "train": {"steps": 1, "batch_size": 2, "sample_every": 0, "checkpoint_every": 1},
        "eval": {"metrics": ["translation_fid"], "features": "inception-fid", "inception_weights": str(weights)},
    })
    run = api.train(config, out=tmp_path / "run", progress=False)
    metrics = api.evaluate(run)["metrics"]
    assert set(metrics) == {"kid_ab", "kid_ba"}
    protocol = metrics["kid_ab"]["protocol"]
    assert protocol["extractor"] == "inception-fid" and protocol["real_vs_real"] is not None
    assert "only 3 translated images for 2048-d features" in protocol["fid_skipped"]
