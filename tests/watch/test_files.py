"""Reading a run that is still being written: metrics.jsonl tailed by byte offset (a partial last line waits for its
newline, a replaced file starts over), the progress and ETA, previews of every modality, and the events a page
gets from them."""
from __future__ import annotations

import json
import os

import pytest
from watch_support import append, eval_json, preview_png, preview_txt, preview_wav, train_line, write_run

from multigan.watch.previews import preview_groups
from multigan.watch.progress import SILENT_AFTER, progress, run_summary, stage_plan
from multigan.watch.runs import RunIndex
from multigan.watch.stream import RunStream
from multigan.watch.tail import MetricsTail


def test_a_partial_last_line_waits_for_its_newline(tmp_path):
    run = write_run(tmp_path / "run")
    tail = MetricsTail(run / "metrics.jsonl")
    assert tail.read() == ([], False)
    line = json.dumps(train_line(10))
    append(run, partial=line[:17])
    assert tail.read() == ([], False) and tail.offset == 0
    append(run, partial=line[17:] + "\n" + json.dumps(train_line(20))[:5])
    records, restarted = tail.read()
    assert [r["step"] for r in records] == [10] and not restarted
    assert tail.offset == len(line) + 1
    append(run, partial=json.dumps(train_line(20))[5:] + "\n")
    assert [r["step"] for r in tail.read()[0]] == [20]
    assert tail.read() == ([], False)


def test_bad_lines_are_skipped_and_nonfinite_values_stay_strings(tmp_path):
    run = write_run(tmp_path / "run")
    with open(run / "metrics.jsonl", "a") as handle:
        handle.write('not json\n[1, 2]\n\n{"step": 5, "kind": "train", "loss_D": NaN, "loss_G": "inf"}\n')
    tail = MetricsTail(run / "metrics.jsonl")
    records, _ = tail.read()
    assert records == [{"step": 5, "kind": "train", "loss_D": "nan", "loss_G": "inf"}] and tail.skipped == 2


def test_a_replaced_or_truncated_file_starts_over(tmp_path):
    run = write_run(tmp_path / "run")
    append(run, train_line(10), train_line(20))
    tail = MetricsTail(run / "metrics.jsonl")
    assert len(tail.read()[0]) == 2
    (run / "metrics.jsonl").write_text(json.dumps(train_line(5)) + "\n")  # shorter: `train --overwrite`
    records, restarted = tail.read()
    assert restarted and [r["step"] for r in records] == [5]
    replacement = run / "new.jsonl"
    replacement.write_text("".join(json.dumps(train_line(s)) + "\n" for s in (1, 2, 3)))
    os.replace(replacement, run / "metrics.jsonl")  # a new file (another inode), longer than the old
    records, restarted = tail.read()
    assert restarted and [r["step"] for r in records] == [1, 2, 3]


def test_stages_total_and_eta():
    seqgan = {"model": {"name": "seqgan"}, "data": {"name": "coco"}, "train": {"log_every": 10, "stages": [
        {"name": "pretrain_g", "steps": 100}, {"name": "pretrain_d", "steps": 50}, {"name": "adversarial"}]}}
    assert stage_plan(seqgan) == [{"name": "pretrain_g", "steps": 100}, {"name": "pretrain_d", "steps": 50},
                                  {"name": "adversarial", "steps": 1000}]  # StageConfig's default
    assert stage_plan({}) == [{"name": "adversarial", "steps": 2000}]  # TrainConfig's default
    summary = run_summary(seqgan)
    assert summary["total_steps"] == 1150 and summary["model"] == "seqgan"
    lines = [train_line(110 + 10 * i, "pretrain_d", sec_per_step=s) for i, s in enumerate([9.0, 0.2, 0.4, 0.2, 0.4,
                                                                                          0.3])]
    status = progress(summary, lines, silent_seconds=1.0)
    assert (status.state, status.step, status.stage, status.stage_number, status.stage_count) == \
        ("training", 160, "pretrain_d", 2, 3)
    assert status.sec_per_step == pytest.approx(0.3)  # the last five lines only
    assert status.eta_seconds == pytest.approx((1150 - 160) * 0.3)
    assert progress(summary, lines, silent_seconds=SILENT_AFTER + 3 * 0.3 * 10 + 1).state == "silent"
    assert progress(summary, [], 0.0).state == "starting"
    done = progress(summary, [train_line(1150)], 500.0)
    assert (done.state, done.eta_seconds) == ("finished", 0.0)


def test_previews_of_every_modality_grouped_by_step(tmp_path):
    images, audio, text = (write_run(tmp_path / name) for name in ("images", "audio", "text"))
    preview_png(images, 10)
    preview_png(images, 20)
    (images / "samples" / ".step-0000030.png.tmp").write_bytes(b"half")  # a preview being written
    (images / "samples" / "notes.md").write_text("not a preview")
    preview_png(audio, 10)
    preview_wav(audio, 10)
    preview_txt(text, 10, ["a generated sentence"])
    root = tmp_path.resolve()
    groups = preview_groups(root, images.resolve())
    assert [g["step"] for g in groups] == [10, 20]
    assert groups[1]["files"][0]["url"].startswith("files/images/samples/step-0000020.png?v=")
    audio_files = preview_groups(root, audio.resolve())[0]["files"]
    assert [(f["name"], f["kind"]) for f in audio_files] == [("step-0000010.png", "image"),
                                                             ("step-0000010.wav", "audio")]
    assert [f["kind"] for f in preview_groups(root, text.resolve())[0]["files"]] == ["text"]
    assert preview_groups(root, (tmp_path / "nothing").resolve()) == []


def test_a_page_gets_everything_once_then_only_what_changed(tmp_path):
    run = write_run(tmp_path / "runs" / "a", steps=100)
    write_run(tmp_path / "runs" / "b")
    append(run, train_line(10), train_line(20))
    preview_png(run, 20)
    index = RunIndex((tmp_path / "runs").resolve(), rescan_seconds=0.0)
    stream = RunStream(index, "a")
    first = dict(stream.poll())
    assert [r["id"] for r in first["runs"]["runs"]] == ["a", "b"]
    assert first["run"]["id"] == "a" and first["run"]["total_steps"] == 100
    assert [r["step"] for r in first["metrics"]["records"]] == [10, 20]
    assert first["previews"]["groups"][0]["step"] == 20
    assert first["status"]["step"] == 20 and "eval" not in first
    assert [name for name, _ in stream.poll()] == []  # nothing changed, and the status is recent
    append(run, train_line(30), {"step": 30, "kind": "eval", "fid": 12.0})
    eval_json(run, 30, fid=12.0, floor=0.5)
    preview_png(run, 30)
    events = dict(stream.poll())
    assert {"eval", "metrics", "previews", "status"} <= set(events) <= {"eval", "metrics", "previews", "status",
                                                                        "runs"}  # runs: its age changed
    assert events["eval"]["metrics"]["fid"] == {"value": 12.0, "higher_is_better": False, "floor": 0.5,
                                                "protocol": {"extractor": "classifier", "real_vs_real": 0.5}}
    assert [g["step"] for g in events["previews"]["groups"]] == [20, 30]
    (run / "metrics.jsonl").write_text(json.dumps(train_line(5)) + "\n")  # the folder was trained again
    events = stream.poll()
    names = [name for name, _ in events]
    assert names.index("run") < names.index("metrics") and dict(events)["metrics"]["records"][0]["step"] == 5


def test_a_page_without_a_choice_gets_the_run_written_last(tmp_path):
    old = write_run(tmp_path / "old")
    write_run(tmp_path / "new")
    os.utime(old / "metrics.jsonl", (1, 1))
    index = RunIndex(tmp_path.resolve())
    assert dict(RunStream(index, None).poll())["run"]["id"] == "new"
    assert dict(RunStream(index, "../../etc").poll())["run"]["id"] == "new"  # only listed ids open anything
