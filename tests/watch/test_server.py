"""The server of `multigan watch`: the page and the folder's files are served, nothing outside the folder is (`..`,
percent-encoded, absolute, through links: 404), other Host names are refused, audio gets byte ranges, the event
stream opens with the run's state, and a taken port is said (default) or refused in one line (--port)."""
from __future__ import annotations

import http.client
import re
import signal
import socket
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from cli_support import one_error_line, run_cli
from watch_support import append, preview_png, train_line, write_run

from multigan.errors import UserError
from multigan.watch import server as server_module
from multigan.watch.runs import RunIndex
from multigan.watch.server import open_server

REPO = Path(__file__).resolve().parents[2]
SECRET = "the secret outside the watched folder"


def get(server, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """GET `path` sent as it is (no client-side normalisation of `..`)."""
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    answer = response.status, dict(response.getheaders()), response.read()
    connection.close()
    return answer


@pytest.fixture
def watched(tmp_path):
    """tmp/watched/run (a run with a preview and links) beside tmp/secret.txt, which must never be served."""
    (tmp_path / "secret.txt").write_text(SECRET)
    (tmp_path / "secret_dir").mkdir()
    (tmp_path / "secret_dir" / "secret.txt").write_text(SECRET)
    run = write_run(tmp_path / "watched" / "run")
    append(run, train_line(10))
    preview_png(run, 10)
    (run / "link-out.txt").symlink_to(tmp_path / "secret.txt")
    (run / "dir-out").symlink_to(tmp_path / "secret_dir", target_is_directory=True)
    (run / "link-in.png").symlink_to(run / "samples" / "step-0000010.png")
    return tmp_path / "watched"


TRAVERSALS = [
    "/files/../secret.txt", "/files/../../etc/passwd", "/files/run/../../secret.txt",
    "/files/%2e%2e/secret.txt", "/files/%2E%2E%2Fsecret.txt", "/files/run/%2e%2e/%2e%2e/secret.txt",
    "/files//etc/passwd", "/files/%2Fetc%2Fpasswd", "/files/run/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/files/run/link-out.txt", "/files/run/dir-out/secret.txt", "/files/run/samples", "/files/run/%00",
    "/files/", "/../secret.txt", "/page/../../secret.txt", "/page/watch.py", "/nothing",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_nothing_outside_the_folder_is_served(watched, serve, path):
    server = serve(watched)
    status, _, body = get(server, path)
    assert status == 404 and SECRET.encode() not in body and b"root:" not in body


def test_the_absolute_path_of_a_file_outside_is_refused(watched, serve):
    server = serve(watched)
    assert get(server, "/files/" + str(watched.parent / "secret.txt"))[0] == 404
    assert get(server, "/files/" + str((watched / "run" / "config.yaml").resolve()))[0] == 404  # even inside


def test_the_folders_files_and_links_inside_it_are_served(watched, serve):
    server = serve(watched)
    status, headers, body = get(server, "/files/run/samples/step-0000010.png?v=1")
    assert status == 200 and headers["Content-Type"] == "image/png" and body.startswith(b"\x89PNG")
    assert get(server, "/files/run/link-in.png")[2] == body
    assert get(server, "/files/run/samples/../link-in.png")[0] == 200  # `..` that stays inside
    status, headers, part = get(server, "/files/run/samples/step-0000010.png", {"Range": "bytes=1-3"})
    assert status == 206 and part == body[1:4] and headers["Content-Range"] == f"bytes 1-3/{len(body)}"
    assert get(server, "/files/run/samples/step-0000010.png", {"Range": "bytes=-4"})[2] == body[-4:]


def test_another_host_name_is_refused(watched, serve):
    server = serve(watched)
    port = server.server_address[1]
    assert get(server, "/", {"Host": f"attacker.example:{port}"})[0] == 404  # DNS rebinding
    assert get(server, "/", {"Host": f"localhost:{port}"})[0] == 200


def test_the_page_loads_nothing_from_another_origin(watched, serve):
    server = serve(watched)
    status, headers, body = get(server, "/")
    assert status == 200 and b"page/watch.js" in body and "default-src 'self'" in headers["Content-Security-Policy"]
    for name in ("index.html", "watch.js", "plot.js", "watch.css"):
        text = resources.files("multigan.watch").joinpath("page", name).read_text(encoding="utf-8")
        assert get(server, "/" if name == "index.html" else f"/page/{name}")[2].decode() == text
        # the one absolute URL is the SVG namespace, an identifier that is never fetched
        assert re.findall(r"(?:https?:)?//[\w.-]+\.\w+[^\s\"'`)]*", text.replace("//www.w3.org/2000/svg", "")) == [], \
            name
        assert "@import" not in text and "url(" not in text


def read_events(server, query: str, until: str = "status") -> list[tuple[str, str]]:
    """The events a page gets first, up to the first `until` event."""
    with socket.create_connection(server.server_address[:2], timeout=10) as connection:
        host, port = server.server_address[:2]
        connection.sendall(f"GET /events{query} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        received = b""
        while f"event: {until}\n".encode() not in received or not received.endswith(b"\n\n"):
            chunk = connection.recv(65536)
            assert chunk, received
            received += chunk
    head, body = received.decode().split("\r\n\r\n", 1)
    assert "Content-Type: text/event-stream" in head
    return re.findall(r"event: (\w+)\ndata: (.*)\n\n", body)


def test_the_event_stream_opens_with_the_runs_and_the_run(watched, serve):
    write_run(watched / "other")
    server = serve(watched)
    assert [name for name, _ in read_events(server, "?run=run")] == ["runs", "run", "metrics", "previews", "status"]
    assert '"id": "other"' in dict(read_events(server, "?run=other"))["run"]


def test_a_taken_default_port_is_said_and_another_one_used(watched, monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setattr(server_module, "DEFAULT_PORT", taken.getsockname()[1])
        server, note = open_server(RunIndex(watched.resolve()), "127.0.0.1", None)
        server.server_close()
        port = server.server_address[1]
        assert port != taken.getsockname()[1]
        assert note == f"port {taken.getsockname()[1]} is in use; serving on port {port} instead"


def test_a_taken_port_given_explicitly_is_one_line(watched, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UserError):
            open_server(RunIndex(watched.resolve()), "127.0.0.1", port)
        code, out, err = run_cli(capsys, "watch", watched, "--port", port)
    assert code == 1 and out == ""
    assert one_error_line(err) == (f"multigan: error: port {port} on 127.0.0.1 is in use; choose another --port, "
                                   "or leave it out for a free one")


def test_an_address_that_cannot_be_served_is_one_line(watched, capsys):
    code, _, err = run_cli(capsys, "watch", watched, "--host", "192.0.2.1", "--port", "0")  # not this machine's
    assert code == 1 and one_error_line(err).startswith("multigan: error: cannot serve on 192.0.2.1:0: ")


def test_the_command_prints_the_url_serves_and_stops_on_ctrl_c(watched):
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    # Ctrl-C as a terminal sends it: SIGINT handled by default in the child even where this test runs with SIGINT
    # ignored (a background job of a shell without job control), which the child would inherit and never stop
    process = subprocess.Popen([sys.executable, "-m", "multigan", "watch", str(watched), "--port", "0"], cwd=REPO,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = process.stdout.readline()
        match = re.fullmatch(rf"watching 1 run\(s\) under {re.escape(str(watched))}: "
                             r"(http://127\.0\.0\.1:(\d+)/)  \(Ctrl-C stops\)\n", line)
        assert match, line
        connection = http.client.HTTPConnection("127.0.0.1", int(match[2]), timeout=60)
        connection.request("GET", "/")
        assert connection.getresponse().status == 200
        connection.close()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0 and err == "multigan: watch stopped\n", err


def test_watch_imports_no_torch():
    """The watcher starts at once and holds no tensors: nothing it imports brings torch in."""
    probe = "import sys, multigan.cli, multigan.watch.commands; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], cwd=REPO, env={"PYTHONPATH": str(REPO)}).returncode == 0
