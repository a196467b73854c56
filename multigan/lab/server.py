"""The lab's HTTP server: watch's PageServer and PageHandler (Host check, security headers, 404, the page's own
files by an explicit table) with the lab's routes. Handlers only enqueue commands and read the latest frame.

    GET  /, /page/lab.js, /page/lab.css; watch's /page/plot.js (SVG line plot), /page/watch.css    no CDN
    GET  /events          server-sent events: `setup` (view, real points, loss history) then a `frame` per change
    POST /command         {"do": "play" | "pause" | "step" | "step_D" | "step_G" | "speed" | "reset", "value": N}

Anything else, a path with `..`, an absolute or percent-encoded one, is 404: the table names every file served.
A command must come as application/json: a form on another site cannot send that without a CORS preflight, which
this server never grants, so no other page can drive the lab.
"""
from __future__ import annotations

import json
from http import HTTPStatus
from urllib.parse import urlsplit

from multigan.lab.session import CommandError, LabSession
from multigan.watch.server import KEEPALIVE_SECONDS, PageHandler, PageServer

DEFAULT_PORT = 8766  # watch's 8765 plus one: both may run at once
PAGES = {"/": ("multigan.lab", "index.html"), "/page/lab.js": ("multigan.lab", "lab.js"),
         "/page/lab.css": ("multigan.lab", "lab.css"), "/page/plot.js": ("multigan.watch", "plot.js"),
         "/page/watch.css": ("multigan.watch", "watch.css")}
MAX_COMMAND_BYTES = 1024


class LabServer(PageServer):
    name = "lab"

    def __init__(self, address: tuple[str, int], session: LabSession):
        super().__init__(address, LabHandler)
        self.session = session


class LabHandler(PageHandler):
    server: LabServer
    server_version = "multigan-lab"
    pages = PAGES

    def do_GET(self) -> None:  # noqa: N802 (the base class's name)
        path = urlsplit(self.path).path
        if not self.host_allowed():
            return self._not_found()
        if path in self.pages:
            return self._page(*self.pages[path])
        if path == "/events":
            return self._events()
        return self._not_found()

    def do_POST(self) -> None:  # noqa: N802 (the base class's name)
        if not self.host_allowed() or urlsplit(self.path).path != "/command":
            return self._not_found()
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return self._text(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "a command is JSON: {\"do\": NAME}\n")
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_COMMAND_BYTES:
            return self._text(HTTPStatus.BAD_REQUEST, "a command is a short JSON object\n")
        try:
            asked = json.loads(self.rfile.read(length))
            self.server.session.command(str(asked["do"]), asked.get("value"))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            message = str(error) if isinstance(error, CommandError) else "a command is JSON: {\"do\": NAME}"
            return self._text(HTTPStatus.BAD_REQUEST, message + "\n")
        self._headers(HTTPStatus.NO_CONTENT, "text/plain", 0, {})

    def _events(self) -> None:
        """`setup` once, then each new frame; a keepalive comment on a quiet stream notices a closed page."""
        self._headers(HTTPStatus.OK, "text/event-stream; charset=utf-8", None, {"Cache-Control": "no-store"})
        session, version, resets = self.server.session, 0, self.server.session.resets
        try:
            self.wfile.write(b"retry: 2000\n\nevent: setup\ndata: " + session.setup_event() + b"\n\n")
            while not self.server.stopping.is_set():
                newer, event = session.wait_frame(version, KEEPALIVE_SECONDS)
                if newer == version or self.server.stopping.is_set():
                    self.wfile.write(b": keepalive\n\n")
                    continue
                if session.resets != resets:  # the run started over: new setup, the loss history cleared
                    resets = session.resets
                    self.wfile.write(b"event: setup\ndata: " + session.setup_event() + b"\n\n")
                self.wfile.write(b"event: frame\ndata: " + event + b"\n\n")
                version = newer
        except (ConnectionError, TimeoutError):
            return  # the page was closed or reloaded
