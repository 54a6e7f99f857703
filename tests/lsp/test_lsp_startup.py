"""Start-up and the stdio stream: the server answers ``initialize`` and publishes diagnostics
without importing torch, jedi or the probe agent; stdout carries nothing but LSP frames;
``shapelens-server``, ``python -m shapelens.server`` and ``shapelens server`` all start it."""
from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys
import threading

import pytest

from lsp_helpers import REPO, corpus_file, uri_of

FORBIDDEN = ("torch", "jedi", "shapelens.probe.agent", "numpy")


def frame(message: dict) -> bytes:
    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def parse_frames(data: bytes) -> list:
    """Every message on an LSP byte stream; fails on anything that is not a frame."""
    messages = []
    while data:
        match = re.match(rb"Content-Length: (\d+)\r\n(?:[^\r\n]+\r\n)*\r\n", data)
        assert match, "stdout holds something that is not an LSP frame: %r" % data[:200]
        end = match.end() + int(match.group(1))
        messages.append(json.loads(data[match.end():end]))
        data = data[end:]
    return messages


def read_frame(stream) -> tuple:
    """One frame from a byte stream: (raw bytes, message)."""
    header = b""
    while not header.endswith(b"\r\n\r\n"):
        byte = stream.read(1)
        assert byte, "the server closed stdout in the middle of the stream"
        header += byte
    match = re.match(rb"Content-Length: (\d+)\r\n", header)
    assert match, "stdout holds something that is not an LSP frame: %r" % header[:200]
    body = stream.read(int(match.group(1)))
    return header + body, json.loads(body)


def session(command: list) -> tuple:
    """A scripted session over raw stdio: initialize, open a corpus file, hover (answered
    once the analysis is in), shutdown, exit.  Returns the finished process, every message
    the server wrote (stdout re-parsed as a whole, so stray bytes fail) and the URI."""
    path = corpus_file("seed000_ex2_bad.py")
    uri = uri_of(path)
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, cwd=REPO)
    raw = b""
    stderr_chunks = []  # drained in a thread: -X importtime writes more than a pipe holds
    drain = threading.Thread(target=lambda: stderr_chunks.append(process.stderr.read()),
                             daemon=True)
    drain.start()

    def send(*messages):
        process.stdin.write(b"".join(frame(m) for m in messages))
        process.stdin.flush()

    def until(request_id):
        nonlocal raw
        while True:
            data, message = read_frame(process.stdout)
            raw += data
            if message.get("id") == request_id and "method" not in message:
                return message

    try:
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"processId": None, "rootUri": uri_of(REPO), "capabilities": {}}})
        until(1)
        send({"jsonrpc": "2.0", "method": "initialized", "params": {}},
             {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
                 "uri": uri, "languageId": "python", "version": 1, "text": path.read_text()}}},
             {"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": {
                 "textDocument": {"uri": uri}, "position": {"line": 15, "character": 20}}})
        until(2)
        send({"jsonrpc": "2.0", "id": 3, "method": "shutdown", "params": None})
        until(3)
        send({"jsonrpc": "2.0", "method": "exit", "params": None})
        process.stdin.close()
        raw += process.stdout.read()
        process.wait(timeout=30)
        drain.join(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    process.stderr_text = b"".join(stderr_chunks).decode("utf-8", "replace")
    return process, parse_frames(raw), uri


def test_stdout_is_only_lsp_and_torch_is_never_imported():
    process, messages, uri = session([sys.executable, "-X", "importtime", "-m",
                                      "shapelens.server"])
    assert process.returncode == 0, process.stderr_text[-2000:]
    by_id = {m.get("id"): m for m in messages if "id" in m}
    assert by_id[1]["result"]["capabilities"]["hoverProvider"]
    assert "conv1" in by_id[2]["result"]["contents"]["value"]
    published = [m for m in messages if m.get("method") == "textDocument/publishDiagnostics"]
    assert published and published[0]["params"]["uri"] == uri
    assert published[0]["params"]["diagnostics"][0]["code"] == "conv-in-channels"
    imported = re.findall(r"import time:\s+\d+ \|\s+\d+ \|\s+(\S+)",
                          process.stderr_text)
    assert "lsprotocol.types" in imported and "shapelens.analysis.interp" in imported
    heavy = [m for m in imported if m.split(".")[0] in FORBIDDEN or m in FORBIDDEN]
    assert not heavy, "imported at start-up or by the analysis: %s" % heavy


@pytest.mark.parametrize("command", [
    [str(pathlib.Path(sys.executable).with_name("shapelens-server"))],
    [str(pathlib.Path(sys.executable).with_name("shapelens")), "server"],
    [sys.executable, "-m", "shapelens", "server", "--stdio"],
    [sys.executable, "-m", "shapelens.server", "--stdio"],
], ids=["shapelens-server", "shapelens server", "python -m shapelens server",
        "python -m shapelens.server"])
def test_entry_points_reach_the_server(command):
    """Every entry point lands in shapelens.server.main (the full session is tested above)."""
    process = subprocess.run(command + ["--version"], capture_output=True, text=True,
                             timeout=30)
    assert process.returncode == 0, process.stderr
    assert process.stdout.startswith("shapelens-server "), process.stdout
