"""Published results beside a suite's runs: parsed and checked with the suite, carried in report.json, and laid
out as a table of our mean ± standard error next to the paper's rows."""
import json
import math

import pytest

from multigan.bench.records import Report
from multigan.bench.suite import SuiteError, load_suite
from multigan.cli import main

TINY_TOY = ["model.generator_widths=[16]", "model.discriminator_widths=[16]", "model.maxout=2", "data.n_train=500",
            "train.batch_size=20", "train.preview_samples=50"]
PACGAN_GRID = {"source": "PacGAN (Lin et al. 2018), Table 1", "note": "mean ± standard error over 10 trials",
               "rows": [{"label": "GAN", "beside": "gan", "modes_covered": [17.3, 0.8], "high_quality": [0.948, 0.007],
                         "reverse_kl": 0.70}]}


def toy_suite(**changes) -> dict:
    suite = {"suite": "toy", "budget": {"steps": 4, "evals": 1}, "seeds": [0, 1, 2],
             "metrics": {"points": ["modes_covered", "high_quality", "reverse_kl"]},
             "eval": {"points": {"n_samples": 200}},
             "runs": [{"name": "gan", "recipe": "toygan_grid", "set": TINY_TOY}], "published": [PACGAN_GRID]}
    suite.update(changes)
    return suite


def test_published_rows_are_parsed_in_our_units(write_suite):
    suite, _ = load_suite(str(write_suite(toy_suite())))
    (row,) = suite.published
    assert (row.label, row.beside, row.source) == ("GAN", "gan", "PacGAN (Lin et al. 2018), Table 1")
    assert row.values == {"modes_covered": [17.3, 0.8], "high_quality": [0.948, 0.007], "reverse_kl": [0.70, None]}


def test_every_mistake_in_the_published_rows_is_listed(write_suite):
    rows = [{"label": "GAN", "beside": "gann", "modes_covered": 1},
            {"label": "PacGAN2", "beside": "gan", "modes_coverd": [23.8, 0.7]},
            {"label": "PacGAN4", "beside": "gan", "reverse_kl": [0.04, 0.01, 3]}]
    path = write_suite(toy_suite(published=[{"source": "PacGAN", "rows": rows, "table": 1}]))
    with pytest.raises(SuiteError) as caught:
        load_suite(str(path))
    message = str(caught.value)
    assert "published[0]: unknown key(s) table" in message
    assert "published[0].rows[0].beside: 'gann' is not a run of this suite (runs: gan)" in message
    assert "published[0].rows[1].modes_coverd" in message and "modes_covered" in message  # the closest name
    assert "published[0].rows[2].reverse_kl: give [mean, standard error] or a number" in message


def test_the_report_sets_our_standard_error_beside_the_papers_rows(write_suite, tmp_path):
    out = tmp_path / "bench"
    assert main(["bench", str(write_suite(toy_suite())), "--out", str(out), "--inline"]) == 0
    data = json.loads((out / "report.json").read_text())
    assert data["suite"]["published"][0]["values"]["reverse_kl"] == [0.7, None]
    assert json.dumps(Report.from_json(data).to_json(), indent=2) == (out / "report.json").read_text()
    markdown = (out / "report.md").read_text()
    assert "Published results beside ours" in markdown
    ours = next(line for line in markdown.splitlines() if "ours (3 seeds)" in line)
    spread = data["summary"]["gan"]["metrics"]["modes_covered"]
    error = spread["std"] / math.sqrt(3)
    assert f"{spread['mean']:.3g} ± {error:.2g}" in ours
    theirs = next(line for line in markdown.splitlines() if line.startswith("| GAN, PacGAN"))
    assert "17.3 ± 0.8" in theirs and "0.948 ± 0.007" in theirs and "| 0.7 |" in theirs
    assert "PacGAN (Lin et al. 2018), Table 1: mean ± standard error over 10 trials" in markdown


def test_a_suite_without_published_rows_writes_no_key(write_suite, tmp_path):
    out = tmp_path / "bench"
    raw = toy_suite()
    del raw["published"]
    assert main(["bench", str(write_suite(raw)), "--out", str(out), "--inline"]) == 0
    assert "published" not in json.loads((out / "report.json").read_text())["suite"]
    assert "Published results" not in (out / "report.md").read_text()
