"""`multigan augment-eval`: a tiny study end to end (table, JSON, plot), resume that skips finished cells, and every
bad study input as one line with exit status 1 and nothing written."""
import json
from pathlib import Path

import pytest
import yaml

from multigan.augment.commands import augment_eval
from multigan.augment import cells
from multigan.augment.study import StudyConfig, load_study

from cli_support import one_error_line, run_cli

TINY_GAN = ["model.conditional=true", "model.generator_width=8", "model.discriminator_width=8",
            "model.latent_dim=16", "data.train_size=80", "data.test_size=40", "train.steps=2", "train.batch_size=8",
            "train.checkpoint_every=2", "train.sample_every=2", "train.preview_samples=8", "eval.metrics=[]"]
TINY_STUDY = {"gan": {"recipe": "dcgan_digits", "set": TINY_GAN}, "budgets": [0.25, 1.0], "seeds": 2,
              "synthetic": {"ratios": [1, 2], "only_size": 40, "batch_size": 16},
              "classifier": {"steps": 3, "batch_size": 8, "width": 4, "embedding_dim": 8}, "device": "cpu"}


def write_study(folder: Path, **changes) -> Path:
    study = {**TINY_STUDY, **changes}
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(study))
    return path


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    folder = tmp_path_factory.mktemp("study")
    out = folder / "out"
    return write_study(folder), out, augment_eval(write_study(folder), out, progress=False)


@pytest.mark.slow
def test_tiny_study_writes_its_table_json_and_plot(finished):
    _, out, summary = finished
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["plot.png", "results.json", "results.md",
                                                                     "stages.json"]
    # 2 budgets x (real + 2 ratios) x 2 seeds + 2 synthetic-only cells
    assert len(list((out / "cells").glob("*.json"))) == 14 and len(summary["cells"]) == 14
    saved = json.loads((out / "results.json").read_text())
    rows = {(r["kind"], r["budget"], r["ratio"]): r for r in saved["rows"]}
    assert len(rows) == 7 and all(len(r["accuracies"]) == 2 and 0 <= r["mean"] <= 1 for r in rows.values())
    # class-balanced: the digits split has 8 of each class; budget 0.25 -> 2 per class, ratio 2 -> 4 synthetic
    assert rows[("real", 0.25, None)]["n_real"] == 20 and rows[("mixed", 0.25, 2.0)]["n_synthetic"] == 40
    assert rows[("synthetic", None, None)]["n_real"] == 0 and rows[("synthetic", None, None)]["n_synthetic"] == 40
    # the pool is one export through `multigan sample` (manifest.json), as large as the largest cell needs
    manifest = json.loads((Path(saved["synthetic"]["folder"]) / "manifest.json").read_text())
    assert manifest["counts"] == {str(d): 16 for d in range(10)} and manifest["step"] == 2
    table = (out / "results.md").read_text()
    assert "| 25 % (20) |" in table and "+ 2× synthetic" in table and "Synthetic only" in table
    assert (out / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "gan" / "checkpoints" / "step-0000002").is_dir()


@pytest.mark.slow
def test_rerun_skips_finished_cells_and_redoes_missing_ones(finished, caplog):
    study, out, first = finished
    (out / "cells" / "real-b1-s1.json").unlink()  # as if killed during that cell
    before = {p.name: p.stat().st_mtime_ns for p in (out / "cells").glob("*.json")}
    with caplog.at_level("INFO", logger="multigan"):
        second = augment_eval(study, out, progress=False)
    ran = [r.getMessage() for r in caplog.records if r.getMessage().startswith("cell ")]
    assert len(ran) == 1 and "real-b1-s1" in ran[0]
    assert {p.name: p.stat().st_mtime_ns for p in (out / "cells").glob("*.json") if p.name in before} == before
    assert any("already trained" in r.getMessage() for r in caplog.records)  # the GAN is not trained again
    assert second["rows"] == first["rows"]  # the redone cell gives the same accuracy: seeded throughout


def test_grid_and_counts_are_class_balanced():
    study = StudyConfig(budgets=[0.1, 1.0], seeds=3)
    study.synthetic.ratios = [0.5, 2.0]
    grid = cells.grid(study)
    assert len(grid) == 2 * 3 * 3 + 3 and grid[-1].name == "synthetic-s2"
    assert cells.Cell("mixed", 1, 0.1, 2.0).name == "mixed-b0.1-r2-s1"
    sizes = [60, 40]
    assert cells.budget_counts(sizes, 0.1) == [6, 4]
    assert cells.synthetic_counts(study, cells.Cell("mixed", 0, 0.1, 0.5), sizes) == [3, 2]
    assert cells.synthetic_counts(study, cells.Cell("synthetic", 0), sizes) == [60, 40]
    assert cells.pool_size(study, sizes) == 120  # 2 x all 60 real examples of class 0


def test_study_naming_a_missing_run_fails_before_anything(tmp_path, capsys):
    study = write_study(tmp_path, gan={"run": str(tmp_path / "no_such_run")})
    code, _, err = run_cli(capsys, "augment-eval", study, "--out", tmp_path / "out")
    assert code == 1 and "tiny.yaml: gan.run:" in one_error_line(err) and "no such run folder" in err
    assert not (tmp_path / "out").exists()


def test_study_naming_a_missing_recipe_fails_before_training(tmp_path, capsys):
    study = write_study(tmp_path, gan={"recipe": "dcgan_nowhere"})
    code, _, err = run_cli(capsys, "augment-eval", study, "--out", tmp_path / "out")
    assert code == 1 and "gan.recipe: dcgan_nowhere: no such recipe file" in one_error_line(err)
    assert not (tmp_path / "out").exists()


def test_budget_that_empties_a_class_is_refused(tmp_path, capsys):
    study = write_study(tmp_path, budgets=[0.01, 1.0])
    code, _, err = run_cli(capsys, "augment-eval", study, "--out", tmp_path / "out")
    line = one_error_line(err)
    assert code == 1 and "budgets: 0.01 leaves class '0' with no examples" in line and "round(0.01 x 8" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("changes, expected", [
    ({"budget": [0.1]}, "unknown key 'budget'; did you mean 'budgets'? valid: gan, budgets, seeds, synthetic"),
    ({"synthetic": {"ratio": [1]}}, "unknown key 'ratio' in section 'synthetic'; did you mean 'ratios'?"),
    ({"classifier": {"epochs": 3}}, "unknown key 'epochs' in section 'classifier'"),
    ({"seeds": "three"}, "seeds must be an integer, got 'three'"),
    ({"budgets": [0, 0.5]}, "budgets must be shares of the train split in (0, 1]"),
    ({"synthetic": {"ratios": [1, 1.0]}}, "synthetic.ratios lists a value twice"),
    ({"gan": {"recipe": "dcgan_digits", "run": "runs/x"}}, "give exactly one of gan.recipe"),
])
def test_bad_study_keys_and_values_name_the_key(tmp_path, capsys, changes, expected):
    study = write_study(tmp_path, **changes)
    code, _, err = run_cli(capsys, "augment-eval", study, "--out", tmp_path / "out")
    line = one_error_line(err)
    assert code == 1 and expected in line and "tiny.yaml" in line, line
    assert not (tmp_path / "out").exists()


def test_unconditional_gan_is_refused(tmp_path, capsys):
    study = write_study(tmp_path, gan={"recipe": "dcgan_digits"})
    code, _, err = run_cli(capsys, "augment-eval", study, "--out", tmp_path / "out")
    assert code == 1 and "not class-conditional" in one_error_line(err)


def test_the_shipped_studies_load():
    for name in ("fashion_dcgan_cond", "fsdd_wavegan_cond", "fsdd_specgan_cond"):
        study = load_study(name)
        assert study.gan.recipe and study.seeds >= 3 and len(study.budgets) >= 2
