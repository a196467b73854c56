"""The lab's HTTP side without a browser: only the page's own files, 404 for anything else (traversal included),
commands only as JSON, and the one-line errors of `multigan lab`."""
from __future__ import annotations

import http.client
import json
import socket
import time

import pytest
from lab_support import TINY

from multigan import api
from multigan.cli import main
from multigan.errors import UserError
from multigan.lab.commands import lab
from multigan.recipe import load_recipe, resolve_recipe


def get(server, path: str, host: str | None = None) -> tuple[int, bytes]:
    port = server.server_address[1]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("GET", path, skip_host=True)
    connection.putheader("Host", host or f"127.0.0.1:{port}")
    connection.endheaders()
    answer = connection.getresponse()
    return answer.status, answer.read()


def post(server, body: bytes, kind: str = "application/json") -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    connection.request("POST", "/command", body, {"Content-Type": kind})
    answer = connection.getresponse()
    return answer.status, answer.read()


def test_the_page_is_served_and_nothing_else(open_lab):
    server = open_lab(serve=True).server
    assert get(server, "/")[0] == 200 and b"page/lab.js" in get(server, "/")[1]
    assert get(server, "/page/plot.js")[0] == 200 and get(server, "/page/lab.css")[0] == 200
    for path in ["/page/../../etc/passwd", "/page/%2e%2e/server.py", "/page/../commands.py", "//etc/passwd",
                 "/files/../../etc/passwd", "/page/watch.js", "/page/lab.js/..", "/etc/passwd", "/page/"]:
        assert get(server, path)[0] == 404, path
    assert get(server, "/", host="evil.example:80")[0] == 404  # DNS rebinding


def test_commands_come_as_json_and_bad_ones_say_why(open_lab):
    server = open_lab(serve=True).server
    assert post(server, b'{"do": "step_D"}')[0] == 204
    assert post(server, b'{"do": "step_D"}', "text/plain")[0] == 415  # what a form on another site sends
    status, text = post(server, b'{"do": "jump"}')
    assert status == 400 and b"unknown command 'jump'" in text
    status, text = post(server, b'{"do": "speed", "value": 0}')
    assert status == 400 and b"1 to 100" in text
    assert post(server, b"not json")[0] == 400


def test_a_recipe_without_2d_points_is_one_line(capsys):
    assert main(["lab", "dcgan_digits"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "data.name: digits" in err[0] and "toygan_ring" in err[0], err


def test_a_conditional_game_is_one_line(capsys):
    assert main(["lab", "toygan_ring", "--port", "0", "--set", *TINY, "model.conditional=true"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "model.conditional=false" in err[0], err


def test_a_taken_port_is_an_error_and_the_default_moves_on():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UserError, match=f"port {port} on 127.0.0.1 is in use"):
            lab("toygan_ring", TINY, port=port)


def test_an_existing_out_folder_is_refused(tmp_path, capsys):
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "notes.txt").write_text("mine")
    assert main(["lab", "--out", str(tmp_path / "kept"), "--port", "0", "--set", *TINY]) == 1
    assert "pass --overwrite" in capsys.readouterr().err
    assert (tmp_path / "kept" / "notes.txt").read_text() == "mine"


def test_out_keeps_a_run_that_watch_and_resume_open(open_lab, tmp_path):
    from multigan.watch.runs import find_runs

    session = open_lab(out=tmp_path / "lab").session
    version = session.wait_frame(0, 30)[0]
    session.command("step")
    session.command("step")
    assert json.loads(session.wait_frame(version + 1, 30)[1])["step"] == 2
    session.stop(save=True)
    assert (tmp_path / "lab" / "checkpoints" / "step-0000002").is_dir()
    assert [run.id for run in find_runs((tmp_path / "lab").resolve())] == ["."]
    path, _ = resolve_recipe("toygan_ring")
    api.train(load_recipe(path, [*TINY, "train.steps=4"]), resume=tmp_path / "lab", progress=False)
    assert (tmp_path / "lab" / "checkpoints" / "step-0000004").is_dir()


def test_a_page_that_stops_reading_never_stalls_training(open_lab):
    """An event stream nobody reads (a closed or hung tab): the training thread plays on to the end."""
    lab_ = open_lab("train.steps=30", serve=True)
    stalled = socket.create_connection(lab_.server.server_address[:2], timeout=10)
    port = lab_.server.server_address[1]
    stalled.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)  # and never read
    lab_.session.command("speed", 10)
    lab_.session.command("play")
    deadline = time.monotonic() + 60
    while not json.loads(lab_.session.wait_frame(0, 0)[1])["done"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert json.loads(lab_.session.wait_frame(0, 0)[1])["step"] == 30
    stalled.close()
