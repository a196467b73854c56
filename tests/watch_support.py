"""What the watch tests share (tests/ is on sys.path, like cli_support.py): run folders written by hand as the
trainer writes them (config.yaml, metrics.jsonl appended line by line, previews renamed into place), a server in
a thread, and a headless Chromium driven over the DevTools protocol on a pipe (no websocket client, no new
dependency)."""
from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from multigan.watch.runs import RunIndex, find_runs
from multigan.watch.server import WatchServer, open_server


def write_run(folder: Path, steps: int = 100, log_every: int = 10, stages: list | None = None,
              model: str = "dcgan", data: str = "digits") -> Path:
    """An empty run folder as `multigan train` starts one: the resolved recipe and an empty metrics.jsonl."""
    folder.mkdir(parents=True, exist_ok=True)
    train = {"steps": steps, "stages": stages or [], "log_every": log_every}
    (folder / "config.yaml").write_text(yaml.safe_dump({"model": {"name": model}, "data": {"name": data},
                                                        "train": train}), encoding="utf-8")
    (folder / "metrics.jsonl").touch()
    return folder


def train_line(step: int, stage: str = "adversarial", **values) -> dict:
    return {"step": step, "kind": "train", "stage": stage, "loss_D": 1.0 / step, "loss_G": 2.0 + step / 100,
            "d_real": 0.5, "sec_per_step": 0.1, **values}


def append(folder: Path, *records: dict, partial: str = "") -> None:
    """Lines appended to metrics.jsonl, and `partial` after them with no newline (a line being written)."""
    with open(folder / "metrics.jsonl", "a", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(r) + "\n" for r in records) + partial)


def atomic(path: Path, write) -> Path:
    """`write(temporary)` then a rename, as core/files.py writes previews (a hidden temporary beside it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{path.name}.tmp"
    write(temporary)
    temporary.replace(path)
    return path


def preview_png(folder: Path, step: int, shade: int = 128, size: int = 32) -> Path:
    image = Image.fromarray(np.full((size, size, 3), shade, dtype=np.uint8))
    return atomic(folder / "samples" / f"step-{step:07d}.png", lambda p: image.save(p, format="PNG"))


def preview_wav(folder: Path, step: int, seconds: float = 0.5, rate: int = 8000) -> Path:
    """A PCM16 sine, as the audio modality's WAV montage beside its spectrogram PNG."""
    wave_data = (np.sin(np.arange(int(seconds * rate)) * 0.2) * 10000).astype("<i2").tobytes()

    def write(path: Path) -> None:
        with wave.open(str(path), "wb") as handle:
            handle.setnchannels(1)
            handle.setsampwidth(2)
            handle.setframerate(rate)
            handle.writeframes(wave_data)

    return atomic(folder / "samples" / f"step-{step:07d}.wav", write)


def preview_txt(folder: Path, step: int, lines: list[str]) -> Path:
    return atomic(folder / "samples" / f"step-{step:07d}.txt",
                  lambda p: p.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8"))


def eval_json(folder: Path, step: int, fid: float, floor: float) -> Path:
    record = {"step": step, "metrics": {"fid": {"value": fid, "higher_is_better": False,
                                                "protocol": {"extractor": "classifier", "real_vs_real": floor}}}}
    return atomic(folder / "eval.json", lambda p: p.write_text(json.dumps(record), encoding="utf-8"))


def start(root: Path, interval: float = 0.1) -> WatchServer:
    """A server on a free port of 127.0.0.1, serving in a daemon thread; `server.stop()` ends it."""
    server, _ = open_server(RunIndex(root, find_runs(root), rescan_seconds=0.2), "127.0.0.1", 0, interval)
    return serving(server)


def serving(server):
    """`server` (watch's or the lab's) answering from a daemon thread, noticing `stop()` within 20 ms."""
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server


# --- headless Chromium over the DevTools protocol (--remote-debugging-pipe: fd 3 in, fd 4 out, NUL-separated) --
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-extensions", "--mute-audio", "--autoplay-policy=no-user-gesture-required",
                  # the network cut off: every host name but 127.0.0.1 fails to resolve
                  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("no Chromium on this machine (CI installs Debian's `chromium` when it runs as root with apt-get)")


class Browser:
    """One headless Chromium with one page; `requests` collects the URL of every request the page made."""

    def __init__(self, executable: str, profile: Path):
        to_browser, self._commands = os.pipe()
        self._answers, from_browser = os.pipe()
        # the browser reads fd 3 and writes fd 4: the shell moves our two ends there (numbers >= 10 cannot clash)
        high_in, high_out = fcntl.fcntl(to_browser, fcntl.F_DUPFD, 10), fcntl.fcntl(from_browser, fcntl.F_DUPFD, 10)
        os.close(to_browser)
        os.close(from_browser)
        flags = [*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"]
        self.process = subprocess.Popen(["bash", "-c", f'exec "$0" "$@" 3<&{high_in} 4>&{high_out}', executable,
                                         *flags], pass_fds=(high_in, high_out), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        os.close(high_in)
        os.close(high_out)
        self._buffer, self._next, self.requests, self.session = b"", 0, [], None
        targets = self.command("Target.getTargets")["targetInfos"]
        page = next(t["targetId"] for t in targets if t["type"] == "page")
        self.session = self.command("Target.attachToTarget", {"targetId": page, "flatten": True})["sessionId"]
        self.command("Network.enable")
        self.command("Page.enable")

    def command(self, method: str, params: dict | None = None, timeout: float = 30.0) -> dict:
        self._next += 1
        message = {"id": self._next, "method": method, "params": params or {}}
        if self.session:
            message["sessionId"] = self.session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._message(deadline)
            if answer.get("method") == "Network.requestWillBeSent":
                self.requests.append(answer["params"]["request"]["url"])
            if answer.get("id") == self._next:
                assert "error" not in answer, answer
                return answer["result"]

    def _message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._answers], [], [], max(deadline - time.monotonic(), 0))
            assert ready, "Chromium did not answer in time"
            chunk = os.read(self._answers, 1 << 16)
            assert chunk, "Chromium closed the pipe"
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def evaluate(self, expression: str):
        result = self.command("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                   "awaitPromise": True})
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20.0):
        """The expression's value once truthy (polled every 0.1 s); fails with its last value and the page's text."""
        deadline = time.monotonic() + timeout
        guarded = f"(() => {{ try {{ return ({expression}); }} catch (error) {{ return null; }} }})()"  # page loading
        while time.monotonic() < deadline:
            value = self.evaluate(guarded)
            if value:
                return value
            time.sleep(0.1)
        text = self.evaluate("document.body ? document.body.innerText.slice(0, 1500) : ''")
        raise AssertionError(f"timed out waiting for {expression!r} (last value {value!r}); page:\n{text}")

    def close(self) -> None:
        try:
            self.session = None  # a browser-wide command
            self.command("Browser.close", timeout=10)
            self.process.wait(timeout=10)
        except (AssertionError, OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        finally:
            os.close(self._commands)
            os.close(self._answers)
