"""The page in a real headless Chromium (driven over the DevTools protocol, with every host but 127.0.0.1 made
unresolvable): while the test writes a run's files as the trainer does, the loss plot grows, a new preview
appears, the evaluation shows its floor, a new run joins the list; audio and text runs show their players and
sentences; every request the page made went to the watch server."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from watch_support import append, eval_json, preview_png, preview_txt, preview_wav, train_line, write_run

REPO = Path(__file__).resolve().parents[2]
TINY_DCGAN = ["model.generator_width=8", "model.discriminator_width=8", "model.latent_dim=16", "data.train_size=300",
              "data.test_size=120", "train.batch_size=16", "train.preview_samples=16"]

POINTS = "Number(document.getElementById('loss-plot').dataset.points || 0)"
PREVIEW_IMAGE = """(() => { const img = document.querySelector('#preview-files img');
  return img && img.complete && img.naturalWidth > 0 ? img.getAttribute('src') : null; })()"""


def test_the_page_follows_a_run_being_written(tmp_path, serve, browser):
    runs = tmp_path / "runs"
    run = write_run(runs / "dcgan_digits", steps=200, log_every=10)
    append(run, train_line(10), train_line(20), train_line(30))
    preview_png(run, 30, shade=40)
    server = serve(runs)
    browser.command("Page.navigate", {"url": server.url + "#run=dcgan_digits"})

    assert browser.wait_for(f"{POINTS} === 6")  # loss_D and loss_G, 3 lines each
    assert "step-0000030.png" in browser.wait_for(PREVIEW_IMAGE)
    assert browser.evaluate("document.getElementById('loss-plot').dataset.series") == "loss_D,loss_G"
    assert browser.evaluate("document.getElementById('scalar-plot').dataset.series") == "d_real"
    status = browser.wait_for("document.getElementById('status-line').textContent")
    assert "step 30 / 200" in status and "0.1 s/step" in status and "ETA 17s" in status, status

    append(run, train_line(40), partial=json.dumps(train_line(50))[:20])  # a line half written
    assert browser.wait_for(f"{POINTS} === 8")
    append(run, partial=json.dumps(train_line(50))[20:] + "\n")
    assert browser.wait_for(f"{POINTS} === 10")
    preview_png(run, 50, shade=220)
    assert "step-0000050.png" in browser.wait_for(f"(() => {{ const s = {PREVIEW_IMAGE}; "
                                                  "return s && s.includes('step-0000050') ? s : null; })()")
    assert browser.evaluate("document.getElementById('previews').dataset.step") == "50"

    append(run, {"step": 50, "kind": "eval", "fid": 31.5})
    eval_json(run, 50, fid=31.5, floor=0.75)
    row = browser.wait_for("(() => { const r = document.querySelector('#eval-table tr[data-metric=fid]');"
                           " return r && r.innerText; })()")
    assert row.split("\t")[:4] == ["fid", "31.5", "0.75", "lower ↓"], row
    assert browser.wait_for("document.querySelectorAll('#eval-plots line.level').length") == 1  # the floor

    write_run(runs / "bench" / "runs" / "late-s0")  # a run that starts while the page is open
    assert browser.wait_for("document.getElementById('runs').dataset.count === '2'")
    assert browser.evaluate("document.getElementById('connection').dataset.state") == "live"
    assert browser.requests and [url for url in browser.requests if not url.startswith(server.url)] == []


def test_audio_and_text_runs_show_players_and_sentences(tmp_path, serve, browser):
    audio = write_run(tmp_path / "runs" / "wavegan_digits", model="wavegan")
    text = write_run(tmp_path / "runs" / "seqgan_coco", model="seqgan", data="coco",
                     stages=[{"name": "pretrain_g", "steps": 50}, {"name": "adversarial", "steps": 50}])
    append(audio, train_line(10))
    preview_png(audio, 10)  # the spectrogram grid
    preview_wav(audio, 10)  # the montage beside it
    append(text, train_line(10, "pretrain_g", loss_G_mle=3.0), train_line(60, "adversarial"))
    preview_txt(text, 60, ["a cat on a mat", "two dogs <unk>"])
    server = serve(tmp_path / "runs")

    browser.command("Page.navigate", {"url": server.url + "#run=wavegan_digits"})
    duration = browser.wait_for("(() => { const a = document.querySelector('#preview-files audio');"
                                " return a && a.readyState >= 1 ? a.duration : 0; })()")
    assert abs(duration - 0.5) < 0.01  # the WAV was served and decoded
    assert "step-0000010.png" in browser.wait_for(PREVIEW_IMAGE)

    browser.evaluate("location.hash = '#run=seqgan_coco'")
    sentences = browser.wait_for("(() => { const p = document.querySelector('#preview-files pre');"
                                 " return p && p.dataset.loaded ? p.textContent : null; })()")
    assert sentences == "a cat on a mat\ntwo dogs <unk>\n"
    status = browser.wait_for("(() => { const t = document.getElementById('status-line').textContent;"
                              " return t.includes('step 60') ? t : null; })()")
    assert "stage 2 of 2 (adversarial)" in status
    assert browser.wait_for("document.querySelectorAll('#loss-plot line.mark').length === 1")  # the stage change
    assert browser.evaluate("document.querySelector('#runs a[aria-current]').dataset.run") == "seqgan_coco"
    # the audio player's own icons are data: URLs, fetched from nowhere
    assert [url for url in browser.requests if not url.startswith((server.url, "data:"))] == []


@pytest.mark.slow
def test_the_page_follows_a_real_training_run(tmp_path, serve, browser):
    """`multigan train` in its own process (a tiny DCGAN on the built-in digits, no evaluation) while the page is
    open: the page sees the steps go by, then the finished run with every logged line and the last preview."""
    run = tmp_path / "runs" / "tiny"
    command = [sys.executable, "-m", "multigan", "train", "dcgan_digits", "--out", str(run), "--quiet", "--set",
               *TINY_DCGAN, "train.steps=100", "train.log_every=5", "train.sample_every=20",
               "train.checkpoint_every=0", "eval.metrics=[]"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    training = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 600  # a guard against a hang: a loaded 2-core machine took 150 s
        while not (run / "metrics.jsonl").exists() and training.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        server = serve(tmp_path / "runs")
        browser.command("Page.navigate", {"url": server.url + "#run=tiny"})
        seen = set()
        while training.poll() is None and time.monotonic() < deadline:
            seen.add(browser.evaluate("(document.getElementById('status') || {dataset: {}}).dataset.step || null"))
            time.sleep(0.1)
        _, err = training.communicate(timeout=60)
    finally:
        training.kill()
    assert training.returncode == 0, err.decode()[-2000:]
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert browser.wait_for("document.getElementById('status').dataset.state === 'finished'")
    assert browser.wait_for(f"{POINTS} === {2 * len(lines)}")  # loss_D and loss_G of every line
    assert "step-0000100.png" in browser.wait_for(f"(() => {{ const s = {PREVIEW_IMAGE}; "
                                                  "return s && s.includes('step-0000100') ? s : null; })()")
    assert len({step for step in seen if step not in (None, "100")}) >= 2, seen  # it moved while training
