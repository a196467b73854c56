"""`image_folder`: labelled and flat layouts, train/test subfolders, resize + centre crop, grey/RGB, and one clear
error for an empty folder, a missing path or an unreadable image."""
import logging

import numpy as np
import pytest
import torch
from PIL import Image

from multigan.core.data import DataError
from multigan.images.folder import ImageFolderConfig, ImageFolderDataset
from multigan.registry import DATASETS


def save(path, array: np.ndarray):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def solid(height, width, rgb):
    return np.broadcast_to(np.array(rgb, np.uint8), (height, width, 3)).copy()


def build(path, split="train", **options):
    return ImageFolderDataset(ImageFolderDataset.Config(path=str(path), **options), root=path.parent, split=split)


@pytest.fixture
def labelled(tmp_path):
    """cats/ (3 red images, png + jpg + bmp, different sizes) and dogs/ (2 blue, one in a nested folder)."""
    root = tmp_path / "pets"
    save(root / "cats" / "a.png", solid(20, 30, (255, 0, 0)))
    save(root / "cats" / "b.jpg", solid(40, 40, (255, 0, 0)))
    save(root / "cats" / "c.bmp", solid(17, 9, (255, 0, 0)))
    save(root / "dogs" / "a.png", solid(16, 16, (0, 0, 255)))
    save(root / "dogs" / "deeper" / "b.png", solid(50, 20, (0, 0, 255)))
    (root / "dogs" / "notes.txt").write_text("not an image")
    (root / ".thumbnails").mkdir()  # hidden folders are not classes
    return root


def test_registered():
    assert DATASETS.get("image_folder") is ImageFolderDataset


def test_labelled_folder(labelled, caplog):
    with caplog.at_level(logging.INFO):
        dataset = build(labelled, resolution=8, channels=3)
    assert dataset.info.class_names == ["cats", "dogs"] and dataset.info.num_classes == 2
    assert dataset.labels.tolist() == [0, 0, 0, 1, 1]
    batch = dataset.gather(torch.arange(5))
    assert batch["image"].shape == (5, 3, 8, 8)
    red, blue = batch["image"][0], batch["image"][3]
    assert torch.allclose(red[0], torch.tensor(1.0)) and torch.allclose(red[2], torch.tensor(-1.0))
    assert torch.allclose(blue[2], torch.tensor(1.0)) and torch.allclose(blue[0], torch.tensor(-1.0))
    assert "uses all its images" in dataset.info.extra["split"] and "uses all its images" in caplog.text


def test_grey_conversion(labelled):
    dataset = build(labelled, resolution=8, channels=1)
    assert dataset.gather(torch.arange(5))["image"].shape == (5, 1, 8, 8)
    expected_red = round(0.299 * 255)  # ITU-R 601-2 luma of pure red, as PIL and torchvision convert
    assert abs(int(dataset.images[0].float().mean()) - expected_red) <= 1


def test_resize_then_centre_crop(tmp_path):
    """A 40x20 image, left half white, right half black -> shorter side to 10 (20x10), centre crop 10x10: the
    crop spans the middle, so its left half is white and its right half black."""
    image = np.zeros((20, 40, 3), np.uint8)
    image[:, :20] = 255
    save(tmp_path / "flat" / "x.png", image)
    pixels = build(tmp_path / "flat", resolution=10).images[0, 0]  # (10, 10)
    assert (pixels[:, :4] == 255).all() and (pixels[:, 6:] == 0).all()


def test_flat_folder_is_unlabelled(tmp_path):
    for i in range(3):
        save(tmp_path / "flat" / f"{i}.png", solid(12, 12, (i * 100, 0, 0)))
    dataset = build(tmp_path / "flat", resolution=4)
    assert len(dataset) == 3 and dataset.info.num_classes == 0 and dataset.info.class_names == []
    assert "label" not in dataset.gather(torch.arange(3))


def test_train_test_subfolders(tmp_path):
    for split, count in (("train", 3), ("test", 2)):
        for i in range(count):
            save(tmp_path / "data" / split / "only" / f"{i}.png", solid(8, 8, (0, 255, 0)))
    train, test = build(tmp_path / "data", "train", resolution=8), build(tmp_path / "data", "test", resolution=8)
    assert (len(train), len(test)) == (3, 2)
    assert train.info.extra["split"] == "train/ subfolder" and train.fingerprint != test.fingerprint


def test_relative_path_and_fingerprint(labelled):
    relative = ImageFolderDataset(ImageFolderDataset.Config(path="pets", resolution=8), labelled.parent, "test")
    absolute = build(labelled, "test", resolution=8)
    assert relative.fingerprint == absolute.fingerprint
    assert build(labelled, resolution=16).fingerprint != absolute.fingerprint
    save(labelled / "cats" / "a.png", solid(20, 30, (254, 0, 0)))  # one pixel value changes the data
    assert build(labelled, "test", resolution=8).fingerprint != absolute.fingerprint


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"no images \(.*\) in .*empty; expected <path>/<class>/<images>"):
        build(tmp_path / "empty")


def test_empty_class_folder(labelled):
    (labelled / "birds").mkdir()
    with pytest.raises(DataError, match=r"class folder .*birds has no images"):
        build(labelled)


def test_unreadable_image_is_named(labelled):
    (labelled / "dogs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    with pytest.raises(DataError, match=r"image .*dogs/broken\.png: not an image file"):
        build(labelled, resolution=8)


def test_missing_path(tmp_path):
    with pytest.raises(DataError, match=r"image folder .*nowhere does not exist \(data\.path='nowhere'"):
        ImageFolderDataset(ImageFolderDataset.Config(path="nowhere"), tmp_path, "train")
    with pytest.raises(DataError, match=r"data\.path of 'image_folder' is empty"):
        ImageFolderDataset(ImageFolderDataset.Config(), tmp_path, "train")


def test_split_folders_map_each_class_to_a_subfolder_per_split(tmp_path):
    rng = np.random.default_rng(0)
    for folder, count in (("trainA", 3), ("trainB", 2), ("testA", 1), ("testB", 1)):
        (tmp_path / "yosemite" / folder).mkdir(parents=True)
        for i in range(count):
            pixels = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "yosemite" / folder / f"{i}.png")
    mapping = {"train": {"summer": "trainA", "winter": "trainB"}, "test": {"summer": "testA", "winter": "testB"}}
    config = ImageFolderConfig(path="yosemite", resolution=16, split_folders=mapping)
    train = ImageFolderDataset(config, tmp_path, "train")
    assert len(train) == 5 and train.labels.tolist() == [0, 0, 0, 1, 1] and train.info.class_names == ["summer",
                                                                                                       "winter"]
    assert len(ImageFolderDataset(config, tmp_path, "test")) == 2
    with pytest.raises(DataError, match="the same class names"):
        ImageFolderDataset(ImageFolderConfig(path="yosemite", split_folders={"train": mapping["train"]}), tmp_path,
                           "train")
    missing = {"train": {"summer": "trainA", "winter": "nowhere"}, "test": mapping["test"]}
    with pytest.raises(DataError, match="data.split_folders.train.winter: no images"):
        ImageFolderDataset(ImageFolderConfig(path="yosemite", split_folders=missing), tmp_path, "train")
