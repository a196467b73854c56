"""Real-world image files never crash a run: every unreadable, empty, truncated or foreign file gives one line
naming it (or is skipped and counted with skip_bad), and other modes are converted and said once per dataset —
for ImageFolder, paired and unpaired folders alike. Fixtures are made here, not committed."""
import io
import logging

import numpy as np
import pytest
import torch
from PIL import Image

from multigan.core.data import DataError
from multigan.images.decoding import decode_file
from multigan.images.folder import ImageFolderDataset
from multigan.images.paired import PairedFolder
from multigan.images.unpaired import UnpairedFolder
from tests.images.conftest import write_image


def jpeg_bytes(array, **options):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", **options)
    return buffer.getvalue()


BAD_FILES = {
    "empty.png": (b"", "empty file (0 bytes)"),
    "truncated.jpg": (jpeg_bytes(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))[:300],
                      "cannot decode it"),
    "text.png": (b"hello, I am not a picture", "not an image file PIL can identify"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_file_gives_one_line_naming_it(tmp_path, name):
    data, reason = BAD_FILES[name]
    (tmp_path / name).write_bytes(data)
    with pytest.raises(DataError) as caught:
        decode_file(tmp_path / name, 3)
    message = str(caught.value)
    assert "\n" not in message and str(tmp_path / name) in message and reason in message
    assert "data.skip_bad: true" in message


def test_truncated_png_is_named(tmp_path):
    write_image(tmp_path / "full.png", np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    raw = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match=r"image .*cut\.png: cannot decode it"):
        decode_file(tmp_path / "cut.png", 3)


def test_modes_are_converted_faithfully(tmp_path):
    Image.new("CMYK", (4, 4), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg", quality=100)  # pure red in CMYK
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 1], rgba[:2, ..., 3] = 200, 255  # top half opaque green, bottom half transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(np.full((4, 4, 3), (0, 0, 255), np.uint8)).convert("P").save(tmp_path / "palette.png")
    Image.fromarray(np.full((4, 4), 65535 // 2, np.uint16)).save(tmp_path / "deep.png")  # 16-bit grey
    red = decode_file(tmp_path / "cmyk.jpg", 3)
    assert red.source_mode == "CMYK" and red.image[0].float().mean() > 240 and red.image[1:].float().mean() < 15
    green = decode_file(tmp_path / "rgba.png", 3).image
    assert green[:, :2].tolist() == torch.tensor([0, 200, 0]).view(3, 1, 1).expand(3, 2, 4).tolist()
    assert torch.all(green[:, 2:] == 255)  # transparent pixels over white
    assert decode_file(tmp_path / "palette.png", 3).image[2].float().mean() > 250
    deep = decode_file(tmp_path / "deep.png", 1)
    assert deep.source_mode.startswith("I") and int(deep.image.max()) in (127, 128)  # scaled, not clipped to 255


def test_image_folder_skips_bad_files_and_says_conversions_once(tmp_path, caplog):
    folder = tmp_path / "photos"
    write_image(folder / "good.png", np.zeros((8, 8, 3), np.uint8))
    Image.new("CMYK", (8, 8)).save(folder / "print.jpg")
    Image.fromarray(np.zeros((8, 8, 4), np.uint8), "RGBA").save(folder / "logo.png")
    (folder / "empty.png").write_bytes(b"")
    config = ImageFolderDataset.Config(path=str(folder), resolution=8)
    with pytest.raises(DataError, match=r"empty\.png: empty file"):
        ImageFolderDataset(config, tmp_path, "train")
    config.skip_bad = True
    with caplog.at_level(logging.WARNING):
        data = ImageFolderDataset(config, tmp_path, "train")
    assert len(data) == 3
    lines = [r.getMessage() for r in caplog.records]
    assert sum("converted 2 image(s)" in line and "CMYK->RGB" in line and "RGBA->RGB" in line for line in lines) == 1
    assert sum("skipped 1 unreadable image(s)" in line and "empty.png" in line for line in lines) == 1


def test_paired_and_unpaired_folders_name_bad_files_and_skip_them(tmp_path, paired_folder, unpaired_folder):
    (paired_folder / "train" / "zero.png").write_bytes(b"")
    with pytest.raises(DataError, match=r"zero\.png: empty file"):
        PairedFolder(PairedFolder.Config(path=str(paired_folder)), tmp_path, "train")
    assert len(PairedFolder(PairedFolder.Config(path=str(paired_folder), skip_bad=True), tmp_path, "train")) == 6
    (unpaired_folder / "trainB" / "junk.jpg").write_bytes(b"\xff\xd8\xff garbage")
    with pytest.raises(DataError, match=r"junk\.jpg"):
        UnpairedFolder(UnpairedFolder.Config(path=str(unpaired_folder)), tmp_path, "train")
    data = UnpairedFolder(UnpairedFolder.Config(path=str(unpaired_folder), skip_bad=True), tmp_path, "train")
    assert data.info.extra["sizes"] == {"a": 5, "b": 7}


def test_a_folder_of_only_bad_files_says_so(tmp_path):
    (tmp_path / "only" / "a.png").parent.mkdir()
    (tmp_path / "only" / "a.png").write_bytes(b"")
    config = ImageFolderDataset.Config(path=str(tmp_path / "only"), resolution=8, skip_bad=True)
    with pytest.raises(DataError, match="none of the 1 images"):
        ImageFolderDataset(config, tmp_path, "train")
