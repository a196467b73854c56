"""Every bad input gives one clear line on stderr, exit status 1, and leaves nothing half-written."""
import gzip
import json
import shutil

import pytest

from multigan.cli import main

from cli_support import one_error_line, run_cli as run

TINY = ["model.generator_width=8", "model.discriminator_width=8", "model.latent_dim=16", "data.train_size=64",
        "data.test_size=16", "train.steps=2", "train.batch_size=8", "train.sample_every=2",
        "train.checkpoint_every=2", "train.preview_samples=8", "eval.metrics=[]"]


def test_train_sample_and_recipes(tmp_path, capsys):
    code, out, _ = run(capsys, "train", "dcgan_digits", "--out", str(tmp_path / "run"), "--quiet", "--set", *TINY)
    assert code == 0 and "run finished" in out
    code, out, _ = run(capsys, "sample", str(tmp_path / "run"), "--n", "20", "--out", str(tmp_path / "samples"))
    assert code == 0
    assert len(list((tmp_path / "samples").rglob("*.png"))) == 20 and (tmp_path / "samples" / "manifest.json").is_file()
    code, out, _ = run(capsys, "sample", str(tmp_path / "run"), "--n", "16", "--out", str(tmp_path / "g.png"), "--grid")
    assert code == 0 and (tmp_path / "g.png").is_file()
    code, out, _ = run(capsys, "recipes")
    assert code == 0 and "dcgan_fashion" in out and "dcgan_digits" in out
    studies, suites = out.split("multigan augment-eval STUDY:")[1].split("multigan bench SUITE --out DIR:")
    assert "fashion_dcgan_cond" in studies and "text_vs_image" in suites and "dcgan_digits" not in studies + suites


def test_unknown_recipe_key_names_section_and_valid_keys(capsys):
    code, _, err = run(capsys, "train", "dcgan_digits", "--dry-run", "--set", "model.ngff=32")
    line = one_error_line(err)
    assert code == 1 and "unknown key 'ngff'" in line and "model (dcgan)" in line and "generator_width" in line


def test_wrong_type_names_the_key(capsys):
    code, _, err = run(capsys, "train", "dcgan_digits", "--dry-run", "--set", "train.steps=lots")
    assert code == 1 and "train.steps must be an integer, got 'lots'" in one_error_line(err)


def test_missing_dataset_says_where_it_looked(tmp_path, capsys):
    code, _, err = run(capsys, "train", "dcgan_fashion", "--data-root", str(tmp_path), "--out", str(tmp_path / "r"))
    line = one_error_line(err)
    assert code == 1 and str(tmp_path) in line and "train-images-idx3-ubyte" in line
    assert not (tmp_path / "r").exists()


def test_corrupt_idx_file_is_named(tmp_path, capsys, data_root):
    folder = tmp_path / "fashion_mnist"
    shutil.copytree(data_root / "fashion_mnist", folder)
    payload = gzip.decompress((folder / "train-images-idx3-ubyte.gz").read_bytes())
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(payload[: len(payload) // 2]))
    code, _, err = run(capsys, "train", "dcgan_fashion", "--data-root", str(tmp_path), "--out", str(tmp_path / "r"))
    line = one_error_line(err)
    assert code == 1 and "train-images-idx3-ubyte.gz" in line


def test_existing_output_folder_needs_resume_or_overwrite(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "keep.txt").write_text("mine")
    code, _, err = run(capsys, "train", "dcgan_digits", "--out", str(tmp_path / "run"), "--set", *TINY)
    assert code == 1 and "--resume" in one_error_line(err) and (tmp_path / "run" / "keep.txt").is_file()
    # the library says `resume` and `overwrite` (api.train's parameters); the CLI says its flags
    assert f"pass --resume {tmp_path / 'run'} to continue it or --overwrite to start over" in one_error_line(err)


def test_resume_without_checkpoint(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, _, err = run(capsys, "train", "dcgan_digits", "--resume", str(tmp_path / "empty"))
    assert code == 1 and "no checkpoint" in one_error_line(err)


def test_resume_with_another_models_checkpoint(tmp_path, capsys):
    run(capsys, "train", "dcgan_digits", "--out", str(tmp_path / "run"), "--quiet", "--set", *TINY)
    code, _, err = run(capsys, "train", "dcgan_digits", "--resume", str(tmp_path / "run"), "--set", "model.name=template")
    assert code == 1 and "checkpoint of model 'dcgan'" in one_error_line(err)


def test_nan_loss_is_one_line(tmp_path, capsys):
    # an absurd learning rate with the Wasserstein loss and no normalisation blows up within a few steps
    code, _, err = run(capsys, "train", "dcgan_digits", "--out", str(tmp_path / "run"), "--quiet", "--set", *TINY,
                       "train.steps=40", "train.log_every=1", "model.loss=wasserstein", "model.lr_d=1e12",
                       "model.lr_g=1e12", "model.discriminator_norm=none")
    assert code == 1 and "became NaN/inf" in one_error_line(err)


def test_a_resolution_dcgan_cannot_build_names_the_key_and_the_choices(tmp_path, capsys):
    code, _, err = run(capsys, "train", "dcgan_digits", "--out", str(tmp_path / "run"), "--quiet", "--set", *TINY,
                       "data.resolution=128")
    line = one_error_line(err)
    assert code == 1 and "data.resolution" in line and "28, 32, 64" in line and "128" in line
    assert not (tmp_path / "run").exists()


def test_no_recipe_no_resume(capsys):
    code, _, err = run(capsys, "train")
    assert code == 1 and "RECIPE" in one_error_line(err)


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["sample", "--help"], ["watch", "--help"]])
def test_help_exits_cleanly(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0 and "multigan" in capsys.readouterr().out


def test_dcgan_accepts_the_familiar_short_names(capsys):
    code, out, _ = run(capsys, "train", "dcgan_digits", "--dry-run", "--set", "train.steps=200", "model.ngf=32")
    assert code == 0 and "generator_width: 32" in out and "steps: 200" in out


def test_eval_writes_values_with_protocols_and_prints_a_table(tmp_path, capsys):
    run(capsys, "train", "dcgan_digits", "--out", str(tmp_path / "run"), "--quiet", "--set", *TINY)
    code, out, err = run(capsys, "eval", str(tmp_path / "run"), "--metrics", "kid,is,class_coverage", "--n", "40")
    assert code == 0, err
    assert "real vs real" in out and "extractor=classifier" in out and "n_generated=40" in out
    record = json.loads((tmp_path / "run" / "eval.json").read_text())
    assert set(record["metrics"]) == {"kid", "is", "class_coverage", "class_kl"}
    kid = record["metrics"]["kid"]
    assert kid["higher_is_better"] is False and kid["protocol"]["reference_split"] == "test"
    assert "real_vs_real" in kid["protocol"] and record["step"] == 2


def test_eval_errors_are_one_line(tmp_path, capsys):
    run(capsys, "train", "dcgan_digits", "--out", str(tmp_path / "run"), "--quiet", "--set", *TINY)
    code, _, err = run(capsys, "eval", str(tmp_path / "run"), "--metrics", "fid", "--n", "40")
    assert code == 1 and "covariance is singular" in one_error_line(err)
    code, _, err = run(capsys, "eval", str(tmp_path / "run"), "--metrics", "fid", "--features", "inception-fid",
                       "--inception-weights", str(tmp_path / "missing.pth"))
    assert code == 1 and "pt_inception-2015-12-05-6726825d.pth" in one_error_line(err)
    code, _, err = run(capsys, "eval", str(tmp_path / "run"), "--metrics", "fdi")
    assert code == 1 and "did you mean 'fid'" in one_error_line(err)


def test_a_zero_byte_image_in_a_users_folder_is_one_line_naming_it(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        Image.new("RGB", (12, 12), (i * 80, 0, 0)).save(folder / f"{i}.png")
    (folder / "broken.jpg").write_bytes(b"")
    args = ["train", "dcgan_digits", "--out", str(tmp_path / "run"), "--quiet", "--set", *TINY[:3],
            "data.name=image_folder", f"data.path={folder}", "data.resolution=32", "data.channels=3",
            "train.steps=1", "train.batch_size=2", "eval.metrics=[]"]
    code, _, err = run(capsys, *args)
    assert code == 1 and "broken.jpg: empty file (0 bytes)" in one_error_line(err)
    code, out, err = run(capsys, *args, "data.skip_bad=true")
    assert code == 0 and "skipped 1 unreadable image(s)" in err
