"""Audio loading: resampling, downmixing, pad/crop, labels, splits, and every bad input with its one line."""
import logging

import numpy as np
import pytest
import soundfile
import torch

from multigan.audio.datasets import AudioFolderConfig, AudioFolderDataset, FSDDConfig, FSDDDataset
from multigan.audio.io import resample
from multigan.core.data import DataError


def load(folder, split="train", **options):
    config = AudioFolderConfig(path=str(folder), **{"sample_rate": 8000, "length": 4096, **options})
    return AudioFolderDataset(config, folder.parent, split)


def test_labels_from_a_file_name_pattern_and_every_kth_split(digit_folder):
    train = load(digit_folder, label_pattern=r"^(\d+)_", test_every=4)
    test = load(digit_folder, "test", label_pattern=r"^(\d+)_", test_every=4)
    assert (len(train), len(test)) == (18, 6)
    assert train.info.class_names == ["0", "1", "2"] and train.info.shape == (1, 4096)
    batch = train.gather(torch.arange(4))
    assert batch["audio"].shape == (4, 1, 4096) and batch["audio"].dtype == torch.float32
    assert batch["label"].tolist() == [0, 0, 0, 0]
    assert train.fingerprint != test.fingerprint


def test_labels_from_sub_folders_and_unlabelled(tmp_path, audio_writer, make_tone):
    for name in ("kick", "snare"):
        audio_writer(tmp_path / "kit" / name / "deep" / "a.wav", make_tone(0.1, 8000), 8000)
    assert load(tmp_path / "kit").info.class_names == ["kick", "snare"]
    audio_writer(tmp_path / "flat" / "a.flac", make_tone(0.1, 8000), 8000)
    flat = load(tmp_path / "flat")
    assert flat.info.num_classes == 0 and "label" not in flat.gather(torch.arange(1))


def test_short_clips_are_padded_and_long_ones_cropped(tmp_path, audio_writer, make_tone, caplog):
    audio_writer(tmp_path / "clips" / "short.wav", make_tone(0.1, 8000), 8000)  # 800 samples
    long = np.linspace(-0.5, 0.5, 10000)[:, None]
    audio_writer(tmp_path / "clips" / "long.wav", long, 8000)
    for crop, first in (("start", long[0, 0]), ("center", long[(10000 - 4096) // 2, 0])):
        with caplog.at_level(logging.WARNING):
            data = load(tmp_path / "clips", crop=crop)
        waves = data.gather(torch.arange(2))["audio"][:, 0]
        assert waves[0, 0] == pytest.approx(first, abs=1e-4)  # "long" sorts first
        assert torch.all(waves[1, 800:] == 0) and waves[1, :800].abs().max() > 0.4
    assert "1 clips longer than 4096 samples were cropped (crop: center)" in caplog.text
    random = load(tmp_path / "clips", crop="random").gather(torch.arange(1))["audio"]
    assert torch.equal(random, load(tmp_path / "clips", crop="random").gather(torch.arange(1))["audio"])  # seeded


@pytest.mark.parametrize("rate", [44100, 8000])
def test_resampling_keeps_the_tone_and_is_said_once(tmp_path, audio_writer, make_tone, caplog, rate):
    for i in range(3):
        audio_writer(tmp_path / "r" / f"{i}.wav", make_tone(0.5, rate, 1000.0), rate)
    with caplog.at_level(logging.WARNING):
        data = load(tmp_path / "r", sample_rate=16000, length=8000)
    wave = data.gather(torch.arange(1))["audio"][0, 0, :8000].numpy()
    spectrum = np.abs(np.fft.rfft(wave))
    assert np.argmax(spectrum) * 16000 / 8000 == pytest.approx(1000.0, abs=2.0)  # 1 kHz stays 1 kHz
    assert np.abs(wave[100:7900]).max() == pytest.approx(0.5, abs=0.02)
    assert caplog.text.count("resampled") == 1 and f"3 at {rate} Hz" in caplog.text


def test_resample_equals_librosa():
    librosa = pytest.importorskip("librosa")
    wave = np.random.default_rng(0).standard_normal(4410).astype(np.float32)
    np.testing.assert_allclose(resample(wave, 44100, 16000),
                               librosa.resample(wave, orig_sr=44100, target_sr=16000, res_type="soxr_hq"), atol=1e-6)


def test_stereo_is_downmixed_by_averaging_and_said_once(tmp_path, audio_writer, make_tone, caplog):
    stereo = make_tone(0.2, 8000, channels=2)  # right channel = half the left
    audio_writer(tmp_path / "s" / "a.wav", stereo, 8000)
    audio_writer(tmp_path / "s" / "b.flac", stereo, 8000, subtype="PCM_24")
    with caplog.at_level(logging.WARNING):
        data = load(tmp_path / "s", length=1600)
    expected = np.round(stereo.mean(axis=1) * 32768) / 32768
    np.testing.assert_allclose(data.gather(torch.arange(2))["audio"][:, 0].numpy(), [expected] * 2, atol=2 / 32768)
    assert caplog.text.count("downmixed 2 multichannel files to mono") == 1


def test_silent_files_are_skipped_counted_and_said_once(tmp_path, audio_writer, make_tone, caplog):
    audio_writer(tmp_path / "q" / "a.wav", make_tone(0.1, 8000), 8000)
    for name in ("b.wav", "c.wav"):
        audio_writer(tmp_path / "q" / name, np.zeros((800, 1)), 8000)
    with caplog.at_level(logging.WARNING):
        assert len(load(tmp_path / "q")) == 1
    assert caplog.text.count("skipped 2 silent files") == 1


def bad_files(tmp_path, audio_writer, make_tone):
    folder = tmp_path / "bad"
    good = audio_writer(folder / "a_good.wav", make_tone(0.2, 8000), 8000)
    (folder / "b_garbage.wav").write_bytes(b"RIFF not really a wav file at all")
    (folder / "c_empty.wav").write_bytes(b"")
    audio_writer(folder / "d_zero.wav", np.zeros((0, 1)), 8000)
    raw = good.read_bytes()
    (folder / "e_truncated.wav").write_bytes(raw[: len(raw) // 2])
    return folder


@pytest.mark.parametrize("name", ["b_garbage.wav", "c_empty.wav", "d_zero.wav", "e_truncated.wav"])
def test_each_bad_file_is_named_in_one_line(tmp_path, audio_writer, make_tone, name):
    folder = bad_files(tmp_path, audio_writer, make_tone)
    for other in folder.iterdir():
        if other.name not in (name, "a_good.wav"):
            other.unlink()
    with pytest.raises(DataError) as error:
        load(folder)
    message = str(error.value)
    assert name in message and "\n" not in message


def test_skip_bad_skips_and_counts(tmp_path, audio_writer, make_tone, caplog):
    folder = bad_files(tmp_path, audio_writer, make_tone)
    with caplog.at_level(logging.WARNING):
        assert len(load(folder, skip_bad=True)) == 1
    assert "skipped 4 bad files (data.skip_bad)" in caplog.text


def test_folder_without_audio_and_pattern_that_matches_nothing(tmp_path, digit_folder):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no audio here")
    with pytest.raises(DataError, match="no audio files .* in .*empty"):
        load(tmp_path / "empty")
    with pytest.raises(DataError, match=r"label_pattern '\^\(\[a-z\]\+\)_' matches no file name '0_ann_0.wav'"):
        load(digit_folder, label_pattern=r"^([a-z]+)_")
    with pytest.raises(DataError, match="does not exist"):
        load(tmp_path / "nowhere")


def test_fsdd_splits(data_root):
    if not (data_root / "fsdd" / "recordings").is_dir():
        pytest.skip(f"fsdd not found under {data_root}")
    train, test = (FSDDDataset(FSDDConfig(), data_root, split) for split in ("train", "test"))
    assert (len(train), len(test)) == (2700, 300) and train.info.num_classes == 10
    by_speaker = FSDDDataset(FSDDConfig(split="speaker", test_speakers=["theo"]), data_root, "test")
    assert len(by_speaker) == 500
    with pytest.raises(DataError, match="must name speakers"):
        FSDDDataset(FSDDConfig(split="speaker", test_speakers=["nobody"]), data_root, "test")


def test_missing_fsdd_says_where_it_looked(tmp_path):
    with pytest.raises(DataError, match=f"{tmp_path}/fsdd/recordings does not exist"):
        FSDDDataset(FSDDConfig(), tmp_path, "train")


def test_drums_decode_every_format(data_root, caplog):
    folder = data_root / "sonic_pi_percussion" / "samples"
    if not folder.is_dir():
        pytest.skip(f"sonic_pi_percussion not found under {data_root}")
    with caplog.at_level(logging.WARNING):
        drums = AudioFolderDataset(AudioFolderConfig(path=str(folder), label_pattern=r"^([a-z]+)_"), data_root, "train")
    assert len(drums) == 123 and drums.info.num_classes == 8 and drums.info.extra["sample_rate"] == 16000
    assert "192000 Hz" in caplog.text and "downmixed 40" in caplog.text
    assert soundfile.info(str(next(folder.glob("*.flac")))).format == "FLAC"
