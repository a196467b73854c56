"""The runner: finished runs are skipped (an interrupted bench resumes), a crashed run is recorded and the others go
on, and an output folder holds one suite's runs only. Runs are inline here (same process) to stay fast."""
import io
import json

import pytest

from multigan.bench.commands import bench_report
from multigan.bench.runner import BenchFolderError, run_suite
from multigan.bench.suite import SuiteError, load_suite
from tests.bench.conftest import TINY_DCGAN, image_suite


def bench(path, out):
    suite, planned = load_suite(str(path))
    stream = io.StringIO()
    outcome = run_suite(suite, planned, out, inline=True, stream=stream)
    return outcome, stream.getvalue()


@pytest.mark.slow
def test_finished_runs_are_skipped_and_an_interrupted_one_resumes(write_suite, tmp_path):
    path, out = write_suite(image_suite()), tmp_path / "out"
    outcome, progress = bench(path, out)
    assert outcome == {"dcgan-s0": "done", "dcgan-s1": "done", "dcgan-s2": "done"}
    assert "bench [1/3] dcgan-s0: done in" in progress and "ETA" in progress
    record = json.loads((out / "runs" / "dcgan-s1" / "bench_run.json").read_text())
    assert record["status"] == "done" and record["step"] == 2 and "fd_norm" in record["metrics"]
    assert record["cost"]["samples_per_s"] > 0 and record["cost"]["peak_memory_mib"] > 0

    (out / "runs" / "dcgan-s1" / "bench_run.json").unlink()  # as if killed after its last checkpoint
    outcome, progress = bench(path, out)
    assert outcome == {"dcgan-s0": "skipped", "dcgan-s1": "done", "dcgan-s2": "skipped"}
    assert "dcgan-s1: resuming 2 steps" in progress and "dcgan-s0: already complete, skipped" in progress


@pytest.mark.slow
def test_a_crashed_run_is_recorded_and_the_others_go_on(write_suite, tmp_path):
    runs = [{"name": "broken", "recipe": "dcgan_digits", "set": [*TINY_DCGAN, "data.resolution=30"]},
            {"name": "dcgan", "recipe": "dcgan_digits", "set": TINY_DCGAN}]
    path, out = write_suite(image_suite(runs=runs)), tmp_path / "out"
    outcome, progress = bench(path, out)
    assert [outcome[f"broken-s{s}"] for s in range(3)] == ["failed"] * 3
    assert [outcome[f"dcgan-s{s}"] for s in range(3)] == ["done"] * 3
    assert "broken-s0: FAILED (" in progress
    assert (out / "runs" / "broken-s0" / "bench_error.txt").read_text().startswith("Traceback")
    bench_report(out, *load_suite(str(path)))
    report = (out / "report.md").read_text()
    broken_row = next(line for line in report.splitlines() if line.startswith("| broken"))
    assert "| — |" in broken_row and "| 0/3 |" in broken_row and " 0 " not in broken_row  # never 0 for missing
    assert "Runs that did not finish" in report and "broken-s2" in report
    assert json.loads((out / "report.json").read_text())["runs"]["broken-s1"]["status"] == "failed"


def test_a_folder_of_another_suite_or_not_a_bench_is_refused(write_suite, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    suite, planned = load_suite(str(write_suite(image_suite())))
    with pytest.raises(BenchFolderError, match="not a bench folder"):
        run_suite(suite, planned, out, inline=True)
    (out / "notes.txt").unlink()
    (out / "suite.json").write_text(json.dumps({"suite": "other"}))
    with pytest.raises(BenchFolderError, match="holds the runs of suite 'other'"):
        run_suite(suite, planned, out, inline=True)
    assert sorted(p.name for p in out.iterdir()) == ["suite.json"]  # nothing written


def test_a_finished_run_with_other_settings_is_listed_not_mixed_in(write_suite, tmp_path):
    suite, planned = load_suite(str(write_suite(image_suite())))
    out = tmp_path / "out"
    for run in planned[:2]:
        (out / "runs" / run.run_id).mkdir(parents=True)
        (out / "runs" / run.run_id / "bench_run.json").write_text(json.dumps({"status": "done", "digest": "old"}))
    (out / "suite.json").write_text(json.dumps({"suite": "unit"}))
    with pytest.raises(SuiteError) as caught:
        run_suite(suite, planned, out, inline=True)
    assert [p.split()[0] for p in caught.value.problems[:2]] == ["runs/dcgan-s0", "runs/dcgan-s1"]
