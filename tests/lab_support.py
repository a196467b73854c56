"""What the lab tests share (tests/ is on sys.path, like watch_support.py): a tiny points recipe (a few ms a
step), the next frame of a session."""
from __future__ import annotations

import json

# toygan_ring at toy size: 400 points, 16-wide networks, batches of 20 (fast on a busy CPU)
TINY = ["data.n_train=400", "data.n_test=100", "model.generator_widths=[16,16]", "model.discriminator_widths=[16]",
        "model.maxout=2", "train.batch_size=20", "train.steps=40", "train.log_every=5", "train.sample_every=0",
        "train.checkpoint_every=0", "eval.metrics=[]"]


def frame_after(session, version: int, timeout: float = 30.0) -> tuple[int, dict]:
    """The first frame newer than `version` (the session publishes one per command), as the page reads it."""
    newer, event = session.wait_frame(version, timeout)
    assert newer > version, "no new frame in time"
    return newer, json.loads(event)
