"""What one open page is told: the events of one run, found by polling its files.

Each `poll` returns the events whose content changed since the previous one (all of them the first time):

    runs      {"runs": [{"id", "model", "data", "updated"}], "now"}    the runs under the watched folder
    run       {"id", summary (model, data, stages, total_steps)}       a (new) run starts: the page clears
    metrics   {"records": [...]}                                     new metrics.jsonl lines, train and eval
    eval      {"step", "metrics": {name: {value, higher_is_better, floor, protocol}}}   eval.json
    previews  {"groups": [{"step", "files": [{"name", "kind", "url"}]}]}                samples/
    status    Progress (progress.py)                                 stage, step, ETA, state

A page that names no run (or one no longer there) gets the run whose metrics.jsonl changed last.
"""
from __future__ import annotations

import os
import time
from typing import Any

from multigan.watch.previews import preview_groups
from multigan.watch.progress import progress, read_config, run_summary
from multigan.watch.runs import Run, RunIndex, inside
from multigan.watch.tail import ChangedFile, MetricsTail, finite

Event = tuple[str, dict[str, Any]]
RECENT_TRAIN_LINES = 20  # kept for the speed estimate and the stage; the page keeps the whole history
STATUS_HEARTBEAT = 5.0  # seconds between status events when nothing else changed ("no line for N s" ticks on)


def modified(path) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def floor_of(value: dict[str, Any]) -> Any:
    """The metric's real-vs-real level, where its protocol records one."""
    protocol = value.get("protocol")
    return protocol.get("real_vs_real") if isinstance(protocol, dict) else None


def eval_event(record: Any) -> dict[str, Any]:
    """eval.json as the page reads it: each metric with its floor beside its protocol."""
    if not isinstance(record, dict) or not isinstance(record.get("metrics"), dict):
        return {"step": None, "metrics": {}}
    metrics = {name: {"value": value.get("value"), "higher_is_better": value.get("higher_is_better"),
                      "floor": floor_of(value), "protocol": value.get("protocol")}
               for name, value in record["metrics"].items() if isinstance(value, dict)}
    return finite({"step": record.get("step"), "metrics": metrics})


class RunStream:
    def __init__(self, index: RunIndex, run_id: str | None):
        self.index = index
        self.asked = run_id
        self.run: Run | None = None
        self.listed: list[dict[str, Any]] | None = None
        self.status_sent: tuple[dict[str, Any], float] | None = None  # (status without its clock, when sent)
        self.summaries: dict[str, tuple[float | None, dict[str, Any]]] = {}  # run id -> (config.yaml's time, summary)

    def poll(self) -> list[Event]:
        events = self._runs_event()
        if self.run is None or self.index.get(self.run.id) is None:
            run = self.index.get(self.asked) or self.index.newest()
            if run is None:
                return events
            self._open(run)
            events.append(("run", {"id": run.id, **self.summary}))
        return events + self._run_events()

    def _runs_event(self) -> list[Event]:
        listed = []
        for run in self.index.runs():
            summary = self._summary(run)
            listed.append({"id": run.id, "model": summary["model"], "data": summary["data"],
                           "updated": modified(run.path / "metrics.jsonl")})
        if listed == self.listed:
            return []
        self.listed = listed
        return [("runs", {"runs": listed, "now": time.time()})]

    def _summary(self, run: Run) -> dict[str, Any]:
        """run_summary of its config.yaml, parsed again only when the file changed."""
        version = modified(run.path / "config.yaml")
        if run.id not in self.summaries or self.summaries[run.id][0] != version:
            self.summaries[run.id] = (version, self._read_summary(run))
        return self.summaries[run.id][1]

    def _read_summary(self, run: Run) -> dict[str, Any]:
        config = inside(self.index.root, run.path / "config.yaml")
        return run_summary(read_config(config) if config is not None else {})

    def _open(self, run: Run) -> None:
        self.run, self.asked = run, run.id
        self.summary = self._read_summary(run)  # read afresh: a new run may be in the folder
        self.tail = MetricsTail(run.path / "metrics.jsonl")
        self.eval_file = ChangedFile(run.path / "eval.json")
        self.train_lines: list[dict[str, Any]] = []
        self.groups: list[dict[str, Any]] | None = None
        self.status_sent = None

    def _run_events(self) -> list[Event]:
        root, run = self.index.root, self.run
        events: list[Event] = []
        if inside(root, self.tail.path) is not None:
            records, restarted = self.tail.read()
            if restarted:  # the folder holds a new run now: start the page over
                self._open(run)
                return [("run", {"id": run.id, **self.summary})] + self._run_events()
            self.train_lines = (self.train_lines + [r for r in records if r.get("kind") == "train"])[
                -RECENT_TRAIN_LINES:]
            if records:
                events.append(("metrics", {"records": records}))
        if self.eval_file.changed():
            readable = inside(root, self.eval_file.path) is not None
            events.append(("eval", eval_event(self.eval_file.read_json() if readable else None)))
        groups = preview_groups(root, run.path)
        if groups != self.groups:
            self.groups = groups
            events.append(("previews", {"groups": groups}))
        return events + self._status_event()

    def _status_event(self) -> list[Event]:
        updated = modified(self.tail.path)
        silent = max(time.time() - updated, 0.0) if updated is not None else 0.0
        status = progress(self.summary, self.train_lines, silent).to_json()
        steady = {key: value for key, value in status.items() if key != "silent_seconds"}
        if self.status_sent is not None and self.status_sent[0] == steady and \
                time.monotonic() - self.status_sent[1] < STATUS_HEARTBEAT:
            return []
        self.status_sent = (steady, time.monotonic())
        return [("status", finite(status))]
