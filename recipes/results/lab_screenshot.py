"""The README's screenshot of `multigan lab` on toygan_ring: the lab in this process, 400 steps played, then the
page in headless Chromium (tests/watch_support.py's DevTools driver), saved as a 256-colour PNG.

    PYTHONPATH=. python recipes/results/lab_screenshot.py        # writes recipes/results/lab_toygan_ring.png
"""
from __future__ import annotations

import base64
import io
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
from watch_support import Browser, chromium  # noqa: E402 (after the path)

from multigan.lab.commands import lab  # noqa: E402

STEPS = 400


def main() -> None:
    session = lab("toygan_ring", ["eval.metrics=[]"], port=0)
    threading.Thread(target=session.server.serve_forever, daemon=True).start()
    try:
        session.session.command("speed", 20)
        session.session.command("play")
        while json.loads(session.session.wait_frame(0, 1)[1])["step"] < STEPS:
            time.sleep(0.2)
        session.session.command("pause")
        with tempfile.TemporaryDirectory() as profile:
            browser = Browser(chromium(), Path(profile))
            try:
                browser.command("Emulation.setDeviceMetricsOverride",
                                {"width": 1180, "height": 720, "deviceScaleFactor": 1, "mobile": False})
                browser.command("Page.navigate", {"url": session.server.url})
                browser.wait_for("document.getElementById('status').dataset.playing === 'false'")
                time.sleep(0.5)
                shot = browser.command("Page.captureScreenshot", {"format": "png"})["data"]
            finally:
                browser.close()
    finally:
        session.close()
    image = Image.open(io.BytesIO(base64.b64decode(shot))).convert("RGB").quantize(256)
    target = REPO / "recipes" / "results" / "lab_toygan_ring.png"
    image.save(target, optimize=True)
    print(f"wrote {target} ({target.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
