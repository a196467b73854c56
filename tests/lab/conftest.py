"""Fixtures of the lab tests: a lab on the tiny recipe, serving on a free port, closed after the test."""
from __future__ import annotations

import threading

import pytest
from lab_support import TINY
from watch_support import Browser, chromium

from multigan.lab.commands import lab


@pytest.fixture
def open_lab(tmp_path):
    """open_lab(*overrides, recipe=..., out=...) -> a Lab serving in a thread; closed after the test."""
    opened = []

    def opening(*overrides: str, recipe: str = "toygan_ring", out=None, serve: bool = False):
        opened.append(lab(recipe, [*TINY, *overrides], port=0, out=out))
        if serve:
            threading.Thread(target=opened[-1].server.serve_forever, kwargs={"poll_interval": 0.02},
                             daemon=True).start()
        return opened[-1]

    yield opening
    for each in opened:
        each.close()


@pytest.fixture
def browser(tmp_path):
    page = Browser(chromium(), tmp_path / "chromium-profile")
    yield page
    page.close()
