"""The local web server of `multigan watch`: the page, the files of the watched folder, and one event stream per
open page.

Routes (GET only): `/` and `/page/NAME` the page shipped in multigan/watch/page/; `/events?run=ID` a
server-sent-event stream (stream.py) polled every `interval` seconds in the request's own thread; `/files/PATH` a
file of the watched folder (byte ranges, for the audio player). Every other path, a file outside the folder
(`..`, absolute, percent-encoded or through a symbolic link) and a request naming another host than the one
served (a web page's DNS rebinding) are answered 404; every response forbids loading anything but this origin.
"""
from __future__ import annotations

import errno
import json
import mimetypes
import os
import re
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

from multigan.errors import UserError
from multigan.watch.runs import RunIndex, requested_file
from multigan.watch.stream import RunStream

DEFAULT_PORT = 8765
PAGE = {"/": "index.html", "/page/watch.js": "watch.js", "/page/plot.js": "plot.js", "/page/watch.css": "watch.css"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
KEEPALIVE_SECONDS = 15.0  # a comment line on a quiet stream: a closed page is noticed and its thread ends
RANGE = re.compile(r"bytes=(\d*)-(\d*)")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class PageServer(ThreadingHTTPServer):
    """A local page's server: its URL, the Host names it answers, a clean stop. `multigan watch` and `multigan
    lab` (multigan/lab/server.py) each add their routes in a PageHandler subclass."""

    daemon_threads = True  # an open stream never keeps the process alive after Ctrl-C
    name = "watch"  # the command, in error lines

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET  # --host ::1 too
        super().__init__(address, handler)
        self.stopping = threading.Event()
        self.serving = False

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}/"

    def allowed_hosts(self) -> set[str] | None:
        """The Host headers a request may carry: this address by its loopback names (None: any, when serving
        on every interface, whose names are not known here)."""
        host, port = self.server_address[:2]
        if host not in LOOPBACK:
            return None
        return {f"{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]")}

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self.serving = True
        super().serve_forever(poll_interval)

    def stop(self) -> None:
        """Ends every open stream and the server (from another thread, or after serve_forever was interrupted)."""
        self.stopping.set()
        if self.serving:
            self.shutdown()  # waits for serve_forever's loop, which has ended or ends now
        self.server_close()

    def handle_error(self, request, client_address) -> None:
        """A page closed mid-answer is normal; anything else is one line, and the server goes on."""
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            print(f"multigan {self.name}: answering {client_address[0]} failed: {error!r}", file=sys.stderr)


class PageHandler(BaseHTTPRequestHandler):
    """The shared answers: the page's own files (`pages`: URL path -> (package, file under its page/)), 404, the
    security headers, the Host check against DNS rebinding."""

    server: PageServer
    pages: dict[str, tuple[str, str]] = {}
    timeout = 60  # seconds a socket may block: a page that stops reading ends its stream's thread

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        """Quiet: a page polls, and the terminal is for the URL and errors."""

    def host_allowed(self) -> bool:
        allowed = self.server.allowed_hosts()
        return allowed is None or self.headers.get("Host", "") in allowed

    def _headers(self, status: HTTPStatus, content_type: str, length: int | None, extra: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for key, value in {**SECURITY_HEADERS, **extra}.items():
            self.send_header(key, value)
        self.end_headers()

    def _text(self, status: HTTPStatus, text: str) -> None:
        body = text.encode("utf-8")
        self._headers(status, "text/plain; charset=utf-8", len(body), {})
        self.wfile.write(body)

    def _not_found(self) -> None:
        self._text(HTTPStatus.NOT_FOUND, "not found\n")

    def _page(self, package: str, name: str) -> None:
        body = resources.files(package).joinpath("page", name).read_bytes()
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        self._headers(HTTPStatus.OK, f"{kind}; charset=utf-8", len(body), {"Cache-Control": "no-cache"})
        self.wfile.write(body)


class WatchServer(PageServer):
    def __init__(self, address: tuple[str, int], index: RunIndex, interval: float = 0.5):
        super().__init__(address, WatchHandler)
        self.index, self.interval = index, interval


class WatchHandler(PageHandler):
    server: WatchServer
    server_version = "multigan-watch"
    pages = {path: ("multigan.watch", name) for path, name in PAGE.items()}

    def do_GET(self) -> None:  # noqa: N802 (the base class's name)
        if not self.host_allowed():
            return self._not_found()
        url = urlsplit(self.path)
        if url.path in self.pages:
            return self._page(*self.pages[url.path])
        if url.path == "/events":
            return self._events(parse_qs(url.query).get("run", [None])[0])
        if url.path.startswith("/files/"):
            return self._file(unquote(url.path[len("/files/"):]))
        return self._not_found()

    def _file(self, relative: str) -> None:
        """A file of the watched folder, whole or the byte range asked for; 404 for anything outside it."""
        root = self.server.index.root
        path = requested_file(root, relative)
        try:
            handle = open(path, "rb") if path is not None else None  # noqa: SIM115 (closed below)
        except OSError:
            handle = None
        if handle is None:
            return self._not_found()
        with handle:
            size = os.fstat(handle.fileno()).st_size
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            status, first, last = HTTPStatus.OK, 0, size - 1
            extra = {"Accept-Ranges": "bytes", "Cache-Control": "no-cache"}
            asked = RANGE.fullmatch(self.headers.get("Range", "").strip())
            if asked and (asked[1] or asked[2]) and size:
                status, (first, last) = HTTPStatus.PARTIAL_CONTENT, byte_range(asked[1], asked[2], size)
                extra["Content-Range"] = f"bytes {first}-{last}/{size}"
            self._headers(status, kind, last + 1 - first, extra)
            handle.seek(first)
            copy_bytes(handle, self.wfile, last + 1 - first)

    def _events(self, run_id: str | None) -> None:
        """Server-sent events until the page closes or the server stops (see stream.py for what is sent)."""
        self._headers(HTTPStatus.OK, "text/event-stream; charset=utf-8", None, {"Cache-Control": "no-store"})
        stream, last_write = RunStream(self.server.index, run_id), 0.0
        try:
            self.wfile.write(b"retry: 2000\n\n")  # a restarted server is found again within two seconds
            while not self.server.stopping.is_set():
                events = stream.poll()
                chunk = b"".join(event_bytes(name, payload) for name, payload in events)
                if not chunk and time.monotonic() - last_write >= KEEPALIVE_SECONDS:
                    chunk = b": keepalive\n\n"
                if chunk:
                    self.wfile.write(chunk)
                    last_write = time.monotonic()
                self.server.stopping.wait(self.server.interval)
        except (ConnectionError, TimeoutError):
            return  # the page was closed or reloaded


def event_bytes(name: str, payload: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(payload, allow_nan=False)}\n\n".encode("utf-8")


def copy_bytes(source, target, count: int) -> None:
    """`count` bytes from `source` to `target`, 64 KiB at a time (fewer where the file was cut short)."""
    while count > 0:
        block = source.read(min(count, 1 << 16))
        if not block:
            return
        target.write(block)
        count -= len(block)


def byte_range(first: str, last: str, size: int) -> tuple[int, int]:
    """An HTTP `bytes=first-last` range (either end may be empty) clamped to a file of `size` bytes."""
    if not first:  # the last `last` bytes
        return max(size - int(last), 0), size - 1
    start = min(int(first), size - 1)
    return start, min(int(last), size - 1) if last else size - 1


def open_server(index: RunIndex, host: str, port: int | None, interval: float = 0.5) -> tuple[WatchServer, str | None]:
    """The watch server, listening (see `listen`)."""
    return listen(lambda address: WatchServer(address, index, interval), host, port, DEFAULT_PORT)


def listen(make: Callable[[tuple[str, int]], PageServer], host: str, port: int | None,
           default: int) -> tuple[PageServer, str | None]:
    """`make((host, port))`, listening. `port` None: `default`, or a free port when that one is taken (the second
    value then says so); a port given explicitly and taken is one line, not a surprise elsewhere."""
    try:
        return make((host, default if port is None else port)), None
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise UserError(f"cannot serve on {host}:{default if port is None else port}: "
                            f"{error.strerror or error}") from None
        if port is not None:
            raise UserError(f"port {port} on {host} is in use; choose another `port`, or leave it out "
                            "for a free one") from None
    server = make((host, 0))
    return server, f"port {default} is in use; serving on port {server.server_address[1]} instead"
