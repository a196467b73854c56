"""Fixtures of the watch tests: a server in a thread per test, a headless Chromium page (skipped where none)."""
from __future__ import annotations

from pathlib import Path

import pytest
from watch_support import Browser, WatchServer, chromium, start


@pytest.fixture
def serve():
    servers = []

    def serving(root: Path, interval: float = 0.1) -> WatchServer:
        servers.append(start(root.resolve(), interval))
        return servers[-1]

    yield serving
    for server in servers:
        server.stop()


@pytest.fixture
def browser(tmp_path):
    page = Browser(chromium(), tmp_path / "chromium-profile")
    yield page
    page.close()
