"""`multigan sample` as a dataset export: ImageFolder trees with exact counts, provenance that matches the checkpoint,
an interrupted export resumed to the same bytes, the confidence filter, and every bad input as one line."""
import hashlib
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.datasets import ImageFolder

from multigan import api, export
from multigan.cli import main
from multigan.core.files import OutputExistsError, file_sha256
from multigan.export import ExportRequest
from multigan.images.dcgan import DCGAN
from multigan.recipe import load_recipe

from cli_support import one_error_line, run_cli

TINY = ["model.generator_width=8", "model.discriminator_width=8", "model.latent_dim=16", "data.train_size=64",
        "data.test_size=32", "train.steps=2", "train.batch_size=8", "train.checkpoint_every=2",
        "train.sample_every=2", "train.preview_samples=8", "eval.metrics=[]", "eval.classifier_epochs=1"]


def train(folder, *extra):
    return api.train(load_recipe("dcgan_digits", TINY + list(extra)), out=folder, progress=False)


@pytest.fixture(scope="module")
def cond_run(tmp_path_factory):
    return train(tmp_path_factory.mktemp("runs") / "cond", "model.conditional=true", "train.ema=0.5")


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory):
    return train(tmp_path_factory.mktemp("runs") / "plain")


def contents(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_image_export_is_an_imagefolder_with_exact_counts_and_provenance(cond_run, tmp_path):
    request = ExportRequest(per_class=3, classes="1,3,7", batch_size=4, truncation=0.5)
    out = api.sample(cond_run, tmp_path / "aug", request)
    dataset = ImageFolder(str(out))
    assert dataset.classes == ["1", "3", "7"] and Counter(dataset.targets) == {0: 3, 1: 3, 2: 3}
    # the index numbers run over the whole export, so a class folder holds distinct names and the total is 9
    assert sorted(Path(path).name for path, _ in dataset.samples) == [f"{i:05d}.png" for i in range(9)]
    manifest = json.loads((out / "manifest.json").read_text())
    checkpoint = cond_run / "checkpoints" / "step-0000002"
    assert manifest["checkpoint_sha256"] == file_sha256(checkpoint / "networks.safetensors")
    assert manifest["step"] == 2 and manifest["checkpoint"] == str(checkpoint)
    assert manifest["recipe"] == json.loads((checkpoint / "meta.json").read_text())["config"]
    assert manifest["counts"] == {"1": 3, "3": 3, "7": 3} and manifest["n"] == 9 and manifest["dropped"] is None
    assert manifest["torch_version"] == torch.__version__ and manifest["multigan_version"]
    settings = manifest["settings"]
    assert (settings["seed"], settings["sampling"], settings["ema"]) == (0, {"truncation": 0.5}, True)
    assert settings["batch_size"] == 4 and settings["counts"] == [3, 3, 3] and settings["labels"] == [1, 3, 7]
    assert [p.name for p in tmp_path.iterdir()] == ["aug"]  # no staging folder left beside it


def test_truncation_redraws_every_latent_value_outside_the_bound(cond_run):
    _, model, _ = api.load_run(cond_run, device="cpu")
    z, _ = model._noise(500, torch.Generator().manual_seed(0), truncation=0.3)  # (500, 16)
    # bounded, not collapsed: N(0, 1) cut to [-0.3, 0.3] is nearly flat, std ~0.17
    assert z.abs().max() <= 0.3 and z.std() > 0.15


def test_n_is_split_evenly_and_step_n_names_a_checkpoint(cond_run, tmp_path):
    out = api.sample(cond_run, tmp_path / "aug", ExportRequest(n=23, checkpoint="step-2", ema=False))
    counts = json.loads((out / "manifest.json").read_text())["counts"]
    assert counts == {str(d): 3 if d < 3 else 2 for d in range(10)}  # 23 = 10 x 2 + 3
    assert Counter(p.parent.name for p in out.rglob("*.png")) == counts


def test_same_seed_same_files_other_seed_or_weights_other_files(cond_run, tmp_path):
    first = contents(api.sample(cond_run, tmp_path / "a", ExportRequest(n=6, batch_size=4)))
    assert contents(api.sample(cond_run, tmp_path / "b", ExportRequest(n=6, batch_size=4))) == first
    pngs = {k: v for k, v in first.items() if k.endswith(".png")}
    other_seed = contents(api.sample(cond_run, tmp_path / "c", ExportRequest(n=6, seed=1, batch_size=4)))
    raw = contents(api.sample(cond_run, tmp_path / "d", ExportRequest(n=6, ema=False, batch_size=4)))
    assert all(other_seed[k] != v and raw[k] != v for k, v in pngs.items())


class Killed(Exception):
    pass


def killing_after(monkeypatch, batches):
    """DCGAN.sample raises on call number `batches` + 1, as a kill part-way through the export would stop it."""
    calls, original = [], DCGAN.sample

    def sample(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > batches:
            raise Killed
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DCGAN, "sample", sample)


def test_a_killed_export_leaves_no_folder_and_resumes_to_the_same_bytes(cond_run, tmp_path, monkeypatch):
    whole = contents(api.sample(cond_run, tmp_path / "whole", ExportRequest(per_class=2, batch_size=3)))
    with monkeypatch.context() as patch:
        killing_after(patch, 3)
        with pytest.raises(Killed):
            api.sample(cond_run, tmp_path / "cut", ExportRequest(per_class=2, batch_size=3))
    assert not (tmp_path / "cut").exists() and (tmp_path / ".cut.partial").is_dir()
    with pytest.raises(export.ExportError, match=r"other settings \(seed was 0, now 5\)"):
        api.sample(cond_run, tmp_path / "cut", ExportRequest(per_class=2, batch_size=3, seed=5, resume=True))
    with pytest.raises(OutputExistsError, match="pass `resume`"):
        api.sample(cond_run, tmp_path / "cut", ExportRequest(per_class=2, batch_size=3))
    (tmp_path / ".cut.partial" / "0" / ".00010.png.x1y2.tmp").write_bytes(b"half a PNG")  # a kill mid-write
    resumed = api.sample(cond_run, tmp_path / "cut", ExportRequest(per_class=2, batch_size=3, resume=True))
    assert contents(resumed) == whole and len(whole) == 21  # 20 PNGs and manifest.json, byte for byte
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut", "whole"]
    # resuming a finished export of the same settings is a no-op; of other settings, an error
    assert api.sample(cond_run, tmp_path / "cut", ExportRequest(per_class=2, batch_size=3, resume=True)) == resumed
    with pytest.raises(export.ExportError, match="finished export of other settings"):
        api.sample(cond_run, tmp_path / "cut", ExportRequest(per_class=3, batch_size=3, resume=True))


def pseudo_probability(image_uint8: np.ndarray) -> float:
    """A stub classifier's p(requested class): a fixed function of the exact 8-bit pixels, spread over [0, 1)."""
    return int.from_bytes(hashlib.sha256(image_uint8.tobytes()).digest()[:4], "big") / 2 ** 32


def test_the_confidence_filter_drops_what_it_should(cond_run, tmp_path):
    from multigan.images.modality import to_uint8

    seen = []  # (label, p) of every sample the stub scored

    def score(samples):
        pixels = to_uint8(samples["image"]).numpy()  # (N, 1, H, W), exactly what the PNGs will hold
        p = torch.tensor([pseudo_probability(image[0]) for image in pixels])
        seen.extend(zip(samples["label"].tolist(), p.tolist()))
        return p

    stub = export.ConfidenceFilter(0.5, score, {"stub": "sha256 of the pixels"})
    out = api.sample(cond_run, tmp_path / "kept", ExportRequest(per_class=4, classes="0,5", batch_size=4),
                     confidence=stub)
    manifest = json.loads((out / "manifest.json").read_text())
    files = sorted(out.rglob("*.png"))
    assert Counter(p.parent.name for p in files) == {"0": 4, "5": 4}
    assert all(pseudo_probability(np.asarray(Image.open(p))) >= 0.5 for p in files)
    rejected = Counter(str(label) for label, p in seen if p < 0.5)
    assert sum(rejected.values()) > 0 and manifest["dropped"] == {"0": rejected["0"], "5": rejected["5"]}
    assert manifest["generated"] == len(seen) == 8 + sum(rejected.values())
    assert manifest["settings"]["min_confidence"] == 0.5 and manifest["settings"]["classifier"] == stub.identity


def test_the_filter_gives_up_at_its_limit_with_a_clear_error(cond_run, tmp_path):
    never = export.ConfidenceFilter(0.9, lambda samples: torch.zeros(len(samples["image"])), {"stub": "never"})
    with pytest.raises(export.ExportError, match=r"gave up after generating 12 samples.*'0' 0/2"):
        api.sample(cond_run, tmp_path / "none", ExportRequest(per_class=2, batch_size=4, max_generated=12),
                   confidence=never)
    assert not (tmp_path / "none").exists()


def test_min_confidence_with_the_domain_classifier_through_the_cli(cond_run, tmp_path, capsys):
    code, out, err = run_cli(capsys, "sample", cond_run, "--per-class", "2", "--classes", "4", "--min-confidence",
                             "0.01", "--out", tmp_path / "f", "--quiet")
    assert code == 0, err
    manifest = json.loads((tmp_path / "f" / "manifest.json").read_text())
    assert manifest["counts"] == {"4": 2} and set(manifest["dropped"]) == {"4"}
    assert len(manifest["settings"]["classifier"]["weights_sha256"]) == 16 and "wrote 2 samples" in out


@pytest.mark.parametrize("argv, message", [
    (["--per-class", "3"], "--per-class needs a class-conditional model"),
    (["--classes", "1"], "--classes needs a class-conditional model"),
    (["--n", "0"], "--n must be at least 1, got 0"),
    (["--n", "-4"], "--n must be at least 1, got -4"),
    (["--format", "jsonl"], "--format jsonl: image exports are written as png"),
    (["--temperature", "0.7"], "--temperature applies to text models"),
    (["--truncation", "0"], "--truncation must be positive"),
    (["--checkpoint", "step-99"], "step-0000099: no such checkpoint"),
    (["--ema"], "no EMA weights"),
    (["--min-confidence", "0.5"], "--min-confidence needs a class-conditional model"),
    (["--min-confidence", "1.5"], "--min-confidence must be in (0, 1], got 1.5"),
    (["--batch-size", "0"], "--batch-size must be at least 1, got 0"),
    (["--seed", "-1"], "--seed must be 0 or more, got -1"),
    (["--grid", "--classes", "1"], "--grid writes one preview file; --per-class, --classes, --format, "
                                   "--min-confidence and --resume are for exports into a folder"),
])
def test_bad_input_on_an_unconditional_run_is_one_line(plain_run, tmp_path, capsys, argv, message):
    code, _, err = run_cli(capsys, "sample", plain_run, "--out", tmp_path / "x", *argv)
    assert code == 1 and message in one_error_line(err) and not list(tmp_path.iterdir())


@pytest.mark.parametrize("asked, message", [
    (ExportRequest(n=2, per_class=2), "pass `n` (in total) or `per_class` (of each class), not both"),
    (ExportRequest(seed=-1), "`seed` must be 0 or more, got -1"),
    (ExportRequest(max_generated=0), "`max_generated` must be at least 1, got 0"),
    (ExportRequest(temperature=-1.0), "`temperature` must be positive, got -1.0"),
    (ExportRequest(min_confidence=0.0), "`min_confidence` must be in (0, 1], got 0.0"),
    (ExportRequest(grid=True, resume=True), "`grid` writes one preview file"),
])
def test_a_request_is_checked_in_the_librarys_terms_before_any_run_is_read(tmp_path, asked, message):
    with pytest.raises(export.ExportError) as caught:  # not "no such run folder": the run is never read
        api.sample(tmp_path / "no-run", tmp_path / "x", asked)
    assert message in str(caught.value) and not list(tmp_path.iterdir())


def test_bad_input_on_a_conditional_run_is_one_line(cond_run, tmp_path, capsys):
    code, _, err = run_cli(capsys, "sample", cond_run, "--out", tmp_path / "x", "--classes", "3,eleven")
    line = one_error_line(err)
    assert code == 1 and "no class 'eleven'; valid: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9" in line
    code, _, err = run_cli(capsys, "sample", cond_run, "--out", tmp_path / "x", "--per-class", "0")
    assert code == 1 and "--per-class must be at least 1, got 0" in one_error_line(err)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "mine.txt").write_text("keep")
    code, _, err = run_cli(capsys, "sample", cond_run, "--out", tmp_path / "taken", "--n", "2", "--quiet")
    assert code == 1 and "pass --overwrite" in one_error_line(err) and (tmp_path / "taken" / "mine.txt").is_file()
    code, _, err = run_cli(capsys, "sample", cond_run, "--out", tmp_path / "taken", "--n", "2", "--overwrite",
                           "--quiet")
    assert code == 0 and sorted(p.name for p in (tmp_path / "taken").iterdir())[-1] == "manifest.json"
    assert not (tmp_path / "taken" / "mine.txt").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_resume_with_other_settings_is_one_line(cond_run, tmp_path, capsys, monkeypatch):
    with monkeypatch.context() as patch:
        killing_after(patch, 1)
        with pytest.raises(Killed):
            main(["sample", str(cond_run), "--out", str(tmp_path / "e"), "--n", "8", "--batch-size", "2", "--quiet"])
    code, _, err = run_cli(capsys, "sample", cond_run, "--out", tmp_path / "e", "--n", "8", "--batch-size", "4",
                           "--resume", "--quiet")
    assert code == 1 and "batch_size was 2, now 4" in one_error_line(err) and not (tmp_path / "e").exists()
    code, out, err = run_cli(capsys, "sample", cond_run, "--out", tmp_path / "e", "--n", "8", "--batch-size", "2",
                             "--resume", "--quiet")
    assert code == 0 and "wrote 8 samples" in out and len(list((tmp_path / "e").rglob("*.png"))) == 8
