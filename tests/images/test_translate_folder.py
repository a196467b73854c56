"""`multigan sample RUN --input DIR --out DIR`: one PNG per input with its name and size, comparison.png, and one
clear line (nothing written) for every bad input."""
import json

import numpy as np
import pytest
from PIL import Image

from tests.images.conftest import write_image
from tests.test_cli import one_error_line, run

TINY = ["model.generator_width=4", "model.discriminator_width=4", "data.resolution=32", "data.load_size=36",
        "train.steps=1", "train.batch_size=2", "train.sample_every=1", "train.checkpoint_every=1",
        "train.preview_samples=2", "eval.metrics=[]"]


@pytest.fixture
def pix2pix_run(tmp_path, paired_folder, capsys):
    code, _, err = run(capsys, "train", "pix2pix_facades", "--out", tmp_path / "p2p", "--quiet", "--set", *TINY,
                       f"data.path={paired_folder}")
    assert code == 0, err
    return tmp_path / "p2p"


@pytest.fixture
def cyclegan_run(tmp_path, unpaired_folder, capsys):
    code, _, err = run(capsys, "train", "cyclegan_summer2winter", "--out", tmp_path / "cyc", "--quiet", "--set",
                       *TINY, "model.generator=resnet_6", f"data.path={unpaired_folder}", "model.pool_size=2")
    assert code == 0, err
    return tmp_path / "cyc"


def test_translate_keeps_names_and_sizes(cyclegan_run, tmp_path, capsys):
    inputs = tmp_path / "inputs"
    write_image(inputs / "wide.jpg", np.zeros((30, 70, 3), np.uint8))
    write_image(inputs / "nested" / "small.png", np.zeros((9, 13, 3), np.uint8))
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(inputs / "grey.bmp")
    code, out, err = run(capsys, "sample", cyclegan_run, "--input", inputs, "--out", tmp_path / "out",
                         "--direction", "BtoA")
    assert code == 0, err
    assert "translated 3 image(s)" in out and "BtoA (winter -> summer)" in out
    sizes = {str(p.relative_to(tmp_path / "out")): Image.open(p).size for p in (tmp_path / "out").rglob("*.png")}
    assert sizes.pop("comparison.png")[0] == 2 * 32 + 3 * 2  # input | output columns, 2-px padding
    assert sizes == {"wide.png": (70, 30), "nested/small.png": (13, 9), "grey.png": (20, 20)}
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["model"] == "cyclegan" and manifest["inputs"] == 3 and len(manifest["checkpoint_sha256"]) == 64


def test_side_by_side_inputs_are_translated_and_compared_with_their_targets(pix2pix_run, paired_folder, tmp_path,
                                                                            capsys):
    code, out, err = run(capsys, "sample", pix2pix_run, "--input", paired_folder / "test", "--out", tmp_path / "o")
    assert code == 0, err
    assert "side-by-side A|B pairs" in out
    assert Image.open(tmp_path / "o" / "0.png").size == (32, 32)  # the source half's size
    assert Image.open(tmp_path / "o" / "comparison.png").size == (3 * 32 + 4 * 2, 3 * 32 + 4 * 2)  # 3 rows x 3 cols


def test_bad_translation_inputs_are_one_line_and_write_nothing(pix2pix_run, cyclegan_run, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "sample", cyclegan_run, "--input", empty, "--out", tmp_path / "o1")
    assert code == 1 and "holds no images" in one_error_line(err) and not (tmp_path / "o1").exists()
    inputs = tmp_path / "in"
    write_image(inputs / "ok.png", np.zeros((8, 8, 3), np.uint8))
    code, _, err = run(capsys, "sample", pix2pix_run, "--input", inputs, "--out", tmp_path / "o2", "--direction", "BtoA")
    assert code == 1 and "translates one way only" in one_error_line(err)
    (inputs / "zero.png").write_bytes(b"")
    code, _, err = run(capsys, "sample", cyclegan_run, "--input", inputs, "--out", tmp_path / "o3")
    assert code == 1 and "zero.png: empty file" in one_error_line(err)
    assert not (tmp_path / "o3").exists() and not list(tmp_path.glob(".o3.*"))  # the staging folder is gone too
    code, _, err = run(capsys, "sample", cyclegan_run, "--n", "4", "--out", tmp_path / "o4")
    assert code == 1 and "--input DIR (the images to translate) into --out DIR" in one_error_line(err)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("mine")
    (inputs / "zero.png").unlink()
    code, _, err = run(capsys, "sample", cyclegan_run, "--input", inputs, "--out", tmp_path / "taken")
    assert code == 1 and "already exists" in one_error_line(err)
    write_image(inputs / "ok.jpg", np.zeros((8, 8, 3), np.uint8))
    code, _, err = run(capsys, "sample", cyclegan_run, "--input", inputs, "--out", tmp_path / "o5")
    assert code == 1 and "would both be written as ok.png" in one_error_line(err)


def test_direction_needs_input(cyclegan_run, tmp_path, capsys):
    code, _, err = run(capsys, "sample", cyclegan_run, "--out", tmp_path / "x", "--direction", "AtoB")
    assert code == 1 and "--direction only applies with --input" in one_error_line(err)
