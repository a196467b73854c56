"""The audio side of the CLI: train, sample WAVs + manifest.csv, evaluate; every bad input is one line, exit 1,
and nothing half-written."""
import csv

import pytest

from multigan.cli import main

from cli_support import one_error_line

TINY = ["model.model_dim=2", "model.latent_dim=8", "model.d_steps=1", "train.steps=2", "train.batch_size=4",
        "train.sample_every=2", "train.checkpoint_every=2", "train.preview_samples=6", "eval.metrics=[]",
        "data.name=audio_folder", "data.sample_rate=8000", "data.length=4096"]


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def train(capsys, folder, out, *extra):
    return run(capsys, "train", "wavegan_digits", "--out", str(out), "--quiet", "--set", *TINY,
               f"data.path={folder}", *extra)


def test_train_sample_and_eval(tmp_path, capsys, digit_folder):
    code, out, err = train(capsys, digit_folder, tmp_path / "run", r"data.label_pattern=^(\d+)_",
                           "model.conditional=true")
    assert code == 0, err
    code, out, err = run(capsys, "sample", str(tmp_path / "run"), "--n", "7", "--out", str(tmp_path / "wavs"))
    assert code == 0, err
    rows = list(csv.DictReader((tmp_path / "wavs" / "manifest.csv").open()))
    assert len(rows) == 7 and {r["label"] for r in rows} == {"0", "1", "2"}
    assert all((tmp_path / "wavs" / r["path"]).is_file() for r in rows)
    assert (tmp_path / "wavs" / "manifest.json").is_file()
    code, _, err = run(capsys, "sample", str(tmp_path / "run"), "--n", "4", "--out", str(tmp_path / "p.png"),
                       "--grid")
    assert code == 0 and (tmp_path / "p.png").is_file() and (tmp_path / "p.wav").is_file()
    code, _, err = run(capsys, "eval", str(tmp_path / "run"), "--metrics", "fad", "--vggish-weights",
                       str(tmp_path / "nowhere.pth"))
    line = one_error_line(err)
    assert code == 1 and "nowhere.pth does not exist" in line and "vggish-10086976.pth" in line


def bad(tmp_path, audio_writer, make_tone, name):
    folder = tmp_path / "data"
    audio_writer(folder / "0_a_0.wav", make_tone(0.2, 8000), 8000)
    if name == "truncated.wav":
        raw = (folder / "0_a_0.wav").read_bytes()
        (folder / name).write_bytes(raw[: len(raw) // 2])
    elif name:
        (folder / name).write_bytes(b"" if name == "empty.wav" else b"not audio")
    return folder


@pytest.mark.parametrize("name", ["empty.wav", "garbage.flac", "truncated.wav"])
def test_bad_audio_file_is_named_and_no_run_folder_is_left(tmp_path, capsys, caplog, audio_writer, make_tone, name):
    folder = bad(tmp_path, audio_writer, make_tone, name)
    code, _, err = train(capsys, folder, tmp_path / "run")
    assert code == 1 and name in one_error_line(err) and not (tmp_path / "run").exists()
    code, _, err = train(capsys, folder, tmp_path / "run2", "data.skip_bad=true")
    assert code == 0 and "skipped 1 bad files" in caplog.text  # a warning (on stderr outside pytest)


def test_folder_without_audio_and_a_pattern_that_matches_nothing(tmp_path, capsys, digit_folder):
    (tmp_path / "empty").mkdir()
    code, _, err = train(capsys, tmp_path / "empty", tmp_path / "run")
    assert code == 1 and "no audio files" in one_error_line(err) and not (tmp_path / "run").exists()
    code, _, err = train(capsys, digit_folder, tmp_path / "run", "data.label_pattern=^x")
    assert code == 1 and "matches no file name" in one_error_line(err)


def test_a_length_wavegan_cannot_make_is_one_line(tmp_path, capsys, digit_folder):
    code, _, err = train(capsys, digit_folder, tmp_path / "run", "data.length=5000")
    assert code == 1 and "data.length: WaveGAN lengths are 16" in one_error_line(err)
