"""The lab's page in a real headless Chromium (every host but 127.0.0.1 unresolvable, as in the watch tests):
step D changes the heatmap and leaves the generated points where they were, step G (its key, g) moves them, pause
stops the step counter; everything the page loads comes from the lab's server, and a path out of the page is 404."""
from __future__ import annotations

import time

DRAWN = "Number(document.getElementById('view').dataset.frames || 0)"
FAKE = "document.getElementById('view').dataset.fake"
HEATMAP = "document.getElementById('view').dataset.heatmap"
STATUS = "document.getElementById('status')"


def click(browser, button: str) -> None:
    browser.evaluate(f"document.getElementById('{button}').click()")


def test_step_d_changes_the_heatmap_and_step_g_moves_the_points(open_lab, browser):
    server = open_lab(serve=True).server
    browser.command("Page.navigate", {"url": server.url})
    browser.wait_for(f"{DRAWN} >= 1")
    fake, heatmap = browser.evaluate(FAKE), browser.evaluate(HEATMAP)
    assert heatmap != "none" and browser.wait_for("document.getElementById('loss-plot').dataset.points > 0")

    click(browser, "step-d")
    browser.wait_for(f"{STATUS}.textContent.includes('+ 1 D, 0 G')")
    assert browser.evaluate(FAKE) == fake and browser.evaluate(HEATMAP) != heatmap
    assert browser.evaluate(f"{STATUS}.dataset.step") == "0"  # a lone update is outside the step count

    heatmap = browser.evaluate(HEATMAP)
    browser.evaluate("document.body.dispatchEvent(new KeyboardEvent('keydown', {key: 'g', bubbles: true}))")
    browser.wait_for(f"{STATUS}.textContent.includes('+ 1 D, 1 G')")
    assert browser.evaluate(FAKE) != fake and browser.evaluate(HEATMAP) == heatmap
    assert browser.evaluate("document.getElementById('connection').dataset.state") == "live"
    assert browser.requests and [url for url in browser.requests if not url.startswith(server.url)] == []
    status = browser.evaluate("fetch('page/..%2f..%2fserver.py').then(r => r.status)")
    assert status == 404 and browser.evaluate("fetch('page/../../etc/passwd').then(r => r.status)") == 404


def test_play_advances_and_pause_stops_the_step_counter(open_lab, browser):
    server = open_lab("train.steps=100000", serve=True).server
    browser.command("Page.navigate", {"url": server.url})
    browser.wait_for(f"{DRAWN} >= 1")
    click(browser, "play")
    browser.wait_for(f"Number({STATUS}.dataset.step) >= 3")
    assert browser.evaluate("document.getElementById('play').dataset.do") == "pause"
    click(browser, "play")  # now the pause button
    browser.wait_for(f"{STATUS}.dataset.playing === 'false'")
    paused = browser.evaluate(f"{STATUS}.dataset.step")
    time.sleep(0.6)
    assert browser.evaluate(f"{STATUS}.dataset.step") == paused
    assert int(paused) >= 3
