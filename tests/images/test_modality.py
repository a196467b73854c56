"""Image modality: the PNG grid equals torchvision's save_image, has the right size, is written atomically; the
TensorBoard event holds the image; exported examples round-trip through `image_folder`."""
import os

import numpy as np
import pytest
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import IMAGES, EventAccumulator
from torch.utils.tensorboard import SummaryWriter
from torchvision.utils import save_image

from multigan.core.phases import DataInfo
from multigan.images.folder import ImageFolderDataset
from multigan.core.files import OutputExistsError, folder_name
from multigan.images.modality import ImageModality
from multigan.registry import MODALITIES

FASHION = DataInfo("image", (1, 8, 8), 10, ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                            "Shirt", "Sneaker", "Bag", "Ankle boot"])


def samples(n, channels=1, size=8, labelled=False, seed=0):
    g = torch.Generator().manual_seed(seed)
    batch = {"image": torch.rand(n, channels, size, size, generator=g) * 2 - 1}
    if labelled:
        batch["label"] = torch.arange(n) % 10
    return batch


def test_folder_names():
    assert folder_name("T-shirt/top") == "T-shirt_top" and folder_name("Ankle boot") == "Ankle boot"
    assert folder_name("a:b*c?") == "a_b_c_" and folder_name("..") == "class"


def test_registered():
    assert MODALITIES.get("image") is ImageModality and ImageModality.name == "image"


@pytest.mark.parametrize("n,channels,labelled,columns", [(16, 1, False, 4), (20, 1, True, 10), (7, 3, False, 3)])
def test_grid_png(tmp_path, n, channels, labelled, columns):
    batch = samples(n, channels, labelled=labelled)
    path = ImageModality.save_samples(batch, tmp_path / "grid" / "step_000100.png", FASHION)
    rows = -(-n // columns)
    with Image.open(path) as png:
        assert png.format == "PNG" and png.size == (columns * 10 + 2, rows * 10 + 2)  # 8 px + 2 px padding
        assert png.mode == ("L" if channels == 1 else "RGB")
        ours = np.asarray(png)
    save_image(batch["image"] * 0.5 + 0.5, tmp_path / "reference.png", nrow=columns, padding=2)
    with Image.open(tmp_path / "reference.png") as png:
        reference = np.asarray(png)
    np.testing.assert_array_equal(ours, reference[:, :, 0] if channels == 1 else reference)
    assert sorted(os.listdir(path.parent)) == ["step_000100.png"]  # no temporary file left behind


def test_grid_overwrites_atomically(tmp_path):
    path = tmp_path / "latest.png"
    ImageModality.save_samples(samples(4, seed=1), path, FASHION)
    ImageModality.save_samples(samples(4, seed=2), path, FASHION)
    with Image.open(path) as png:
        first = np.asarray(png)[2:10, 2:10]
    expected = samples(4, seed=2)["image"][0, 0].add(1).mul(127.5).add(0.5).clamp(0, 255).to(torch.uint8)
    np.testing.assert_array_equal(first, expected.numpy())
    assert os.listdir(tmp_path) == ["latest.png"]


def test_tensorboard_image(tmp_path):
    writer = SummaryWriter(tmp_path)
    ImageModality.log_samples(writer, "samples/ema", samples(9, channels=3), step=42, info=FASHION)
    writer.close()
    events = EventAccumulator(str(tmp_path), size_guidance={IMAGES: 0})
    events.Reload()
    assert events.Tags()["images"] == ["samples/ema"]
    (image,) = events.Images("samples/ema")
    assert image.step == 42 and (image.width, image.height) == (3 * 10 + 2, 3 * 10 + 2)
    assert image.encoded_image_string.startswith(b"\x89PNG")


def test_examples_round_trip_through_image_folder(tmp_path):
    batch = samples(20, labelled=True)
    out = ImageModality.save_examples(batch, tmp_path / "export", FASHION)
    assert sorted(p.name for p in out.iterdir())[:3] == ["Ankle boot", "Bag", "Coat"]
    assert sorted(p.name for p in (out / "T-shirt_top").iterdir()) == ["00000.png", "00010.png"]
    dataset = ImageFolderDataset(ImageFolderDataset.Config(path=str(out), resolution=8, channels=1), tmp_path, "test")
    assert len(dataset) == 20 and dataset.info.num_classes == 10
    # folders are read back in sorted order, so compare each class's images through the class names
    for label, name in enumerate(FASHION.class_names):
        read_label = dataset.info.class_names.index(folder_name(name))
        read_back = dataset.gather(torch.nonzero(dataset.labels == read_label).squeeze(1))["image"]
        written = batch["image"][batch["label"] == label]
        torch.testing.assert_close(read_back, written, atol=1 / 127.5, rtol=0)  # 8-bit quantisation only
    assert [p.name for p in tmp_path.iterdir()] == ["export"]  # the staging folder is gone


def test_unlabelled_examples_are_flat(tmp_path):
    out = ImageModality.save_examples(samples(3, channels=3), tmp_path / "flat", DataInfo("image", (3, 8, 8)))
    assert sorted(p.name for p in out.iterdir()) == ["00000.png", "00001.png", "00002.png"]


def test_examples_never_overwrite(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    with pytest.raises(OutputExistsError, match=r"taken already exists and is not empty"):
        ImageModality.save_examples(samples(2), tmp_path / "taken", FASHION)
    (tmp_path / "empty").mkdir()  # an empty folder is fine to fill
    assert len(list(ImageModality.save_examples(samples(2), tmp_path / "empty", FASHION).iterdir())) == 2
