"""`multigan watch PATH`: a local page that follows runs while they train, of any modality.

    runs.py      which folders under PATH are runs (config.yaml + metrics.jsonl); the gate every read goes through
    tail.py      metrics.jsonl tailed by byte offset (a partial last line waits), eval.json re-read on change
    progress.py  stages and total steps (config.yaml), step, seconds per step, ETA, whether lines still arrive
    previews.py  samples/step-NNNNNNN.* grouped by step: images, audio players, text
    stream.py    one page's events: what changed in its run's files since the last poll
    server.py    the HTTP server: the page, the folder's files (nothing outside it), an event stream per page
    commands.py  the entry point the CLI calls
    page/        index.html, watch.js, plot.js (a hand-written SVG line plot), watch.css: no CDN, works offline

Why the standard library's `http.server` (ThreadingHTTPServer) and server-sent events: the page is for one
person on one machine, a handful of connections at most; updates flow one way (files -> page), which is exactly
what SSE (`EventSource`, reconnecting by itself) does over plain HTTP, with no websocket handshake or framing to
write. A thread per connection polls its run's files every half second; no dependency is added (aiohttp or
starlette + uvicorn would bring an event loop and several packages for the same result), and there is no
inotify: polling works the same on every file system, network mounts included.

Training is never touched: `watch` is its own process and only reads files that the trainer writes atomically
(previews, eval.json) or appends line by line (metrics.jsonl); a page that opens, closes or hangs changes
nothing for the run. The page reads nothing outside PATH (see server.py).
"""
