"""`multigan watch PATH`'s entry point, above the API: find the runs, open the server (the CLI serves it)."""
from __future__ import annotations

from pathlib import Path

from multigan.watch.runs import Run, RunIndex, watched_root
from multigan.watch.server import WatchServer, open_server


def watch(path: str | Path, host: str = "127.0.0.1", port: int | None = None,
          interval: float = 0.5) -> tuple[WatchServer, list[Run], str | None]:
    """(the listening server, the runs found under `path`, a note when the default port was taken). Nothing is
    served until `server.serve_forever()`; `server.stop()` ends it and every open stream."""
    root, runs = watched_root(path)
    server, note = open_server(RunIndex(root, runs), host, port, interval)
    return server, runs, note
