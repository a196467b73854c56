"""Paired and unpaired folders on tiny fixtures: layouts, directions, jitter on the device, views for metrics,
and one clear line for each layout mistake."""
import shutil

import numpy as np
import pytest
import torch

from multigan.core.data import BatchLoader, DataError
from multigan.images.paired import PairedFolder
from multigan.images.translation_data import random_jitter
from multigan.images.unpaired import UnpairedFolder
from tests.images.conftest import write_image


def paired(root, split="train", **options):
    return PairedFolder(PairedFolder.Config(path=str(root), **options), root.parent, split)


def unpaired(root, split="train", **options):
    return UnpairedFolder(UnpairedFolder.Config(path=str(root), **options), root.parent, split)


@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_side_by_side_pairs_split_into_source_and_target(paired_folder, direction):
    data = paired(paired_folder, direction=direction, resolution=16, names=("photo", "labels"))
    assert len(data) == 6 and data.info.shape == (3, 16, 16) and data.info.extra["layout"] == "side_by_side"
    batch = data.gather(torch.arange(6))
    dark, bright = (batch["source"], batch["target"]) if direction == "AtoB" else (batch["target"], batch["source"])
    assert dark.mean() < -0.5 < 0.5 < bright.mean()
    assert data.info.extra["domains"]["source"] == ("photo" if direction == "AtoB" else "labels")
    assert len(paired(paired_folder, "test")) == 3


def test_folder_pairs_match_by_name(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(3):
        write_image(tmp_path / "p" / "train" / "A" / f"{i}.png", np.full((20, 30, 3), 10 * i, np.uint8))
        write_image(tmp_path / "p" / "train" / "B" / f"{i}.jpg", rng.integers(0, 256, (20, 30, 3), dtype=np.uint8))
    data = paired(tmp_path / "p", resolution=8)
    assert data.info.extra["layout"] == "folders" and len(data) == 3
    means = data.gather(torch.arange(3))["source"].mean(dim=(1, 2, 3))
    assert torch.all(means[1:] > means[:-1])  # A/0, A/1, A/2 in order, so the pairs line up


def test_unmatched_folder_names_are_listed(tmp_path):
    for name in ("x", "y", "z"):
        write_image(tmp_path / "p" / "train" / "A" / f"{name}.png", np.zeros((8, 8, 3), np.uint8))
    write_image(tmp_path / "p" / "train" / "B" / "x.png", np.zeros((8, 8, 3), np.uint8))
    write_image(tmp_path / "p" / "train" / "B" / "w.png", np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(DataError, match=r"do not match: 2 only in A \(y, z\), 1 only in B \(w\)"):
        paired(tmp_path / "p", resolution=8)


def test_a_pair_file_that_is_not_twice_as_wide_is_named(paired_folder):
    write_image(paired_folder / "train" / "odd.png", np.zeros((32, 50, 3), np.uint8))
    with pytest.raises(DataError, match=r"paired image .*odd\.png is 50x32 pixels, not exactly twice as wide"):
        paired(paired_folder)
    assert len(paired(paired_folder, skip_bad=True)) == 6


def test_missing_split_and_bad_options(paired_folder, tmp_path):
    shutil.rmtree(paired_folder / "test")
    (paired_folder / "stray").mkdir()
    with pytest.raises(DataError, match=r"no test/ subfolder of side-by-side A\|B images"):
        paired(paired_folder, "test")
    with pytest.raises(DataError, match="data.direction must be AtoB or BtoA"):
        paired(paired_folder, direction="AB")
    with pytest.raises(DataError, match="does not exist"):
        paired(tmp_path / "nowhere")


def test_paired_jitter_crops_source_and_target_alike(paired_folder):
    data = paired(paired_folder, resolution=16, load_size=20)
    same = {"source": data.gather(torch.arange(4))["source"]}
    same["target"] = same["source"].clone()
    torch.manual_seed(0)
    out = data.augment(same)
    assert out["source"].shape == (4, 3, 16, 16) and torch.equal(out["source"], out["target"])


def test_jitter_is_a_crop_of_the_upscaled_image_or_its_mirror():
    torch.manual_seed(0)
    images = torch.randn(64, 2, 8, 8)
    flipped = random_jitter(images, 8, flip=True)  # no upscaling: each output is the input or its mirror
    mirrored = torch.tensor([torch.equal(o, i.flip(-1)) and not torch.equal(o, i) for o, i in zip(flipped, images)])
    kept = torch.tensor([torch.equal(o, i) for o, i in zip(flipped, images)])
    assert torch.all(mirrored | kept) and 16 < int(mirrored.sum()) < 48
    crops = random_jitter(images, 12, flip=False)
    big = torch.nn.functional.interpolate(images, size=(12, 12), mode="bilinear", align_corners=False)
    for out, whole in zip(crops[:8], big[:8]):
        windows = whole.unfold(1, 8, 1).unfold(2, 8, 1)  # (C, 5, 5, 8, 8): every 8x8 crop
        assert any(torch.equal(out, windows[:, r, c]) for r in range(5) for c in range(5))


def test_unpaired_domains_views_and_independent_draws(unpaired_folder):
    data = unpaired(unpaired_folder, resolution=16, names=("summer", "winter"))
    assert len(data) == 7 and data.info.extra["sizes"] == {"a": 5, "b": 7}
    torch.manual_seed(0)
    loader = BatchLoader(data, 4, seed=0)
    batch = loader.next_batch()
    assert batch["a"].shape == batch["b"].shape == (4, 3, 16, 16)
    assert batch["a"].mean() < 0 < batch["b"].mean()
    domains = data.labelled_domains(("a", "b"))
    assert domains.labels.tolist() == [0] * 5 + [1] * 7 and domains.info.class_names == ["summer", "winter"]
    assert len(data.domain("b")) == 7 and data.domain("a").fingerprint != data.domain("b").fingerprint
    assert set(data.preview_batch(3)) == {"a", "b"}


def test_unpaired_folder_without_trainB_says_what_it_found(unpaired_folder):
    shutil.rmtree(unpaired_folder / "trainB")
    with pytest.raises(DataError, match=r"has no trainB/ \(found testA/, testB/, trainA/\); expected trainA/ trainB/"):
        unpaired(unpaired_folder)


def test_unpaired_limit_reads_only_the_first_files(unpaired_folder):
    data = unpaired(unpaired_folder, resolution=8, limit=2)
    assert data.info.extra["sizes"] == {"a": 2, "b": 2}
