"""Fixtures of the lab tests: a lab on the tiny recipe (on a free port, serving when asked), closed after the test;
a headless Chromium page (skipped where there is none)."""
from __future__ import annotations

from contextlib import ExitStack, closing

import pytest
from lab_support import TINY
from watch_support import Browser, chromium, serving

from multigan.lab.commands import lab


@pytest.fixture
def open_lab():
    """open_lab(*overrides, recipe=..., out=..., serve=False) -> a Lab, closed (server, then session) after the test."""
    with ExitStack() as opened:
        def opening(*overrides: str, recipe: str = "toygan_ring", out=None, serve: bool = False):
            session = opened.enter_context(closing(lab(recipe, [*TINY, *overrides], port=0, out=out)))
            if serve:
                serving(session.server)
            return session

        yield opening


@pytest.fixture
def browser(tmp_path):
    page = Browser(chromium(), tmp_path / "chromium-profile")
    yield page
    page.close()
