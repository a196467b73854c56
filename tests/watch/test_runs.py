"""Which folders `multigan watch` shows: a run folder, a folder of runs, a bench's runs/ (nested), never a run's own
subfolders, hidden folders or links out; a path without a run is one line saying what was looked for."""
from __future__ import annotations

import pytest
from cli_support import one_error_line, run_cli
from watch_support import write_run

from multigan.errors import UserError
from multigan.watch.runs import MAX_DEPTH, RunIndex, find_runs, inside, watched_root


def ids(root) -> list[str]:
    return [run.id for run in find_runs(root.resolve())]


def test_a_run_folder_is_its_own_only_run(tmp_path):
    run = write_run(tmp_path / "dcgan_digits")
    write_run(run / "samples" / "not-a-run")  # nothing inside a run is searched
    assert ids(run) == ["."]


def test_a_folder_of_runs_and_nested_bench_runs(tmp_path):
    write_run(tmp_path / "runs" / "dcgan_digits")
    write_run(tmp_path / "runs" / "seqgan_coco")
    write_run(tmp_path / "runs" / "bench_de" / "runs" / "dcgan_1pct-s0")
    write_run(tmp_path / "runs" / "bench_de" / "runs" / "dcgan_1pct-s1")
    (tmp_path / "runs" / "bench_de" / "report.html").write_text("<html></html>")
    (tmp_path / "runs" / "half").mkdir()
    (tmp_path / "runs" / "half" / "config.yaml").write_text("model: {name: dcgan}\n")  # no metrics.jsonl yet
    write_run(tmp_path / "runs" / ".hidden")
    assert ids(tmp_path / "runs") == ["bench_de/runs/dcgan_1pct-s0", "bench_de/runs/dcgan_1pct-s1", "dcgan_digits",
                                      "seqgan_coco"]
    assert ids(tmp_path) == ["runs/" + i for i in ids(tmp_path / "runs")]


def test_the_walk_stops_at_max_depth_and_at_links(tmp_path):
    deep = tmp_path.joinpath(*[f"d{i}" for i in range(MAX_DEPTH)])
    write_run(deep)
    write_run(tmp_path.joinpath(*[f"e{i}" for i in range(MAX_DEPTH + 1)]))  # one level too deep
    outside = write_run(tmp_path / "elsewhere" / "run")
    (tmp_path / "watched").mkdir()
    (tmp_path / "watched" / "link").symlink_to(outside, target_is_directory=True)
    assert ids(tmp_path) == ["/".join(deep.relative_to(tmp_path).parts), "elsewhere/run"]
    with pytest.raises(UserError):
        watched_root(tmp_path / "watched")  # the only run is behind a link to a folder outside


def test_run_files_linked_from_outside_do_not_make_a_run(tmp_path):
    outside = write_run(tmp_path / "outside")
    run = tmp_path / "watched" / "run"
    run.mkdir(parents=True)
    (run / "config.yaml").symlink_to(outside / "config.yaml")
    (run / "metrics.jsonl").symlink_to(outside / "metrics.jsonl")
    assert ids(tmp_path / "watched") == []
    root = (tmp_path / "watched").resolve()
    assert inside(root, root / "run" / "config.yaml") is None
    assert inside(root, root / ".." / "outside" / "config.yaml") is None
    assert inside(root, root / "run") is None  # a folder is not a file


def test_new_runs_appear_in_the_index(tmp_path):
    write_run(tmp_path / "a")
    index = RunIndex(tmp_path.resolve(), rescan_seconds=0.0)
    assert [r.id for r in index.runs()] == ["a"]
    write_run(tmp_path / "b")
    assert [r.id for r in index.runs()] == ["a", "b"]
    assert index.get("b").path == (tmp_path / "b").resolve() and index.get("../etc") is None


def test_no_run_is_one_line_saying_what_was_looked_for(tmp_path, capsys):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    code, out, err = run_cli(capsys, "watch", tmp_path / "empty")
    line = one_error_line(err)
    assert code == 1 and out == ""
    assert line == (f"multigan: error: {tmp_path / 'empty'}: no run found; looked for a folder holding config.yaml "
                    f"and metrics.jsonl in {tmp_path / 'empty'} and its subfolders (down to {MAX_DEPTH} levels)")


def test_a_missing_folder_is_one_line(tmp_path, capsys):
    code, _, err = run_cli(capsys, "watch", tmp_path / "nope")
    assert code == 1
    assert one_error_line(err) == (f"multigan: error: {tmp_path / 'nope'}: no such folder; give a run folder "
                                   "(holding config.yaml and metrics.jsonl) or a folder of runs such as runs/")
