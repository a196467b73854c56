"""`multigan cache`: lists what the cache holds by kind (a row cache with its dataset and shape) and clears all of
it or one kind; an unknown kind is one line."""
import numpy as np
from PIL import Image

from multigan.images.folder import ImageFolderDataset

from cli_support import one_error_line, run_cli as run


def test_cache_lists_and_clears_by_kind(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MULTIGAN_CACHE", str(tmp_path / "cache"))
    for i in range(3):
        (tmp_path / "pics").mkdir(exist_ok=True)
        Image.fromarray(np.full((9, 9, 3), 40 * i, np.uint8)).save(tmp_path / "pics" / f"{i}.png")
    ImageFolderDataset(ImageFolderDataset.Config(path=str(tmp_path / "pics"), resolution=8), tmp_path, "train")
    (tmp_path / "cache" / "classifiers").mkdir()
    (tmp_path / "cache" / "classifiers" / "toy-cnn-1-abc.safetensors").write_bytes(b"x" * 2048)
    code, out, _ = run(capsys, "cache")
    assert code == 0 and f"cache: {tmp_path / 'cache'}" in out
    assert "image_folder: 3 rows of [3, 8, 8] uint8 (channels 3, resolution 8)" in out
    assert "toy-cnn-1-abc.safetensors  2.0 KiB" in out
    code, out, _ = run(capsys, "cache", "clear", "rows")
    assert code == 0 and "removed 1 cache entries (" in out
    assert not list((tmp_path / "cache" / "rows").iterdir()) or all(p.name.startswith(".") for p in
                                                                    (tmp_path / "cache" / "rows").iterdir())
    assert (tmp_path / "cache" / "classifiers" / "toy-cnn-1-abc.safetensors").is_file()
    code, _, err = run(capsys, "cache", "clear", "rowz")
    assert code == 1 and "unknown cache kind rowz; the kinds are classifiers, reference_stats, rows, text" in \
        one_error_line(err)
    code, out, _ = run(capsys, "cache", "clear")
    assert code == 0 and "removed 1 cache entries (2.0 KiB)" in out


def test_verify_data_flag_reaches_a_folder_dataset_and_is_one_line_elsewhere(capsys):
    code, out, _ = run(capsys, "train", "dcgan_yosemite", "--dry-run", "--verify-data")
    assert code == 0 and "  verify_data: true" in out.splitlines()
    code, _, err = run(capsys, "train", "dcgan_digits", "--dry-run", "--verify-data")
    assert code == 1 and "unknown key 'verify_data' in section 'data (digits)'" in one_error_line(err)
