"""The server under abuse, in-process: carry-over stays linear on big files, requests with
invalid params are answered with a JSON-RPC error, notifications leave nothing behind in the
protocol's bookkeeping, and hovers and inlay hints never wait for a running analysis."""
from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import itertools
import json
import pathlib
import random
import sys
import threading

import pytest
from pygls.io_ import run_async

from shapelens.analysis.report import Range, Report, ShapeFact
from shapelens.server.results import carry_over, line_map


def model_lines(n_blocks: int) -> list:
    """Model code as people write it: the same few lines repeated all over the file."""
    block = ["", "class Block{i}(nn.Module):", "    def __init__(self):",
             "        super().__init__()", "        self.conv = nn.Conv2d(3, 3, 3, padding=1)",
             "        self.relu = nn.ReLU()", "", "    def forward(self, x):",
             "        x = self.conv(x)", "        x = self.relu(x)", "        x = self.conv(x)",
             "        x = self.relu(x)", "        return x", ""]
    return [line.format(i=i) for i in range(n_blocks) for line in block]


class Budget(Exception):
    pass


def line_events(limit: int, fn, *args):
    """Run ``fn(*args)`` counting the Python lines it executes (a measure of work that does
    not depend on the machine); raises :class:`Budget` past ``limit``."""
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        count += 1
        if count > limit:
            raise Budget("more than %d lines executed" % limit)
        return tracer

    sys.settrace(tracer)
    try:
        result = fn(*args)
    finally:
        sys.settrace(None)
    return count, result


def test_carry_over_work_is_linear_in_the_file_size():
    for n_blocks in (300, 1500):                       # 4,200 and 21,000 lines
        old = model_lines(n_blocks)
        middle = len(old) // 2
        typed = old[:middle] + [old[middle] + " ("] + old[middle + 1:]     # one keystroke
        moved = ["import os"] + old[:100] + old[150:] + ["x = ("]          # edits at both ends
        report = Report("m.py", shapes=tuple(
            ShapeFact("x", Range(k + 1, 8, k + 1, 9), (1, 3, 8, 8))
            for k, line in enumerate(old) if line == "        x = self.conv(x)"))
        for new in (typed, moved):
            work, mapping = line_events(40 * len(old), line_map, old, new)
            assert all(old[i - 1] == new[j - 1] for i, j in mapping.items())
            work, carried = line_events(60 * len(old), carry_over, report, old, new)
            assert len(carried.shapes) >= len(report.shapes) - 4 * 3


def test_line_map_is_an_order_preserving_matching():
    rng = random.Random(7)
    for _ in range(500):
        old = [rng.choice("abcdefghij") for _ in range(rng.randint(0, 30))]
        new = list(old)
        for _ in range(rng.randint(0, 4)):
            k = rng.randint(0, len(new))
            roll = rng.random()
            if roll < 0.4:
                new.insert(k, rng.choice("abcxyz"))
            elif new:
                k = min(k, len(new) - 1)
                if roll < 0.7:
                    del new[k]
                else:
                    new[k] = rng.choice("xyz")
        pairs = sorted(line_map(old, new).items())
        assert all(old[i - 1] == new[j - 1] for i, j in pairs)
        assert all(a[1] < b[1] for a, b in zip(pairs, pairs[1:]))
        if old == new:
            assert len(pairs) == len(old)


# ----------------------------------------------------------------------------- in-process

class Session:
    """A server in this process, fed through pygls's own read loop (``run_async``) and
    writing its messages here."""

    open_sessions: list = []

    def __init__(self):
        from shapelens.server.server import create_server
        self.server = create_server()
        self.sent = []
        self.ids = itertools.count(1)
        self.server.protocol.set_writer(self, include_headers=False)
        Session.open_sessions.append(self)

    def close(self) -> None:
        """End its analysis workers (the server is never shut down)."""
        workers = self.server.documents.workers
        if workers is not None:
            workers.close()

    def write(self, data: bytes) -> None:
        self.sent.append(json.loads(data))

    async def feed(self, *messages) -> None:
        reader = asyncio.StreamReader()
        for message in messages:
            body = json.dumps(message).encode("utf-8")
            reader.feed_data(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        reader.feed_eof()
        await run_async(threading.Event(), reader, self.server.protocol)

    def request(self, method: str, params) -> dict:
        return {"jsonrpc": "2.0", "id": next(self.ids), "method": method, "params": params}

    @staticmethod
    def notification(method: str, params) -> dict:
        return {"jsonrpc": "2.0", "method": method, "params": params}

    async def response(self, msg_id, timeout: float = 30.0) -> dict:
        for _ in range(int(timeout / 0.01)):
            for message in self.sent:
                if message.get("id") == msg_id and "method" not in message:
                    return message
            await asyncio.sleep(0.01)
        raise AssertionError("no response to request %r" % msg_id)

    async def call(self, method: str, params) -> dict:
        message = self.request(method, params)
        await self.feed(message)
        return await self.response(message["id"])

    async def start(self, root: pathlib.Path) -> None:
        await self.call("initialize", {"processId": None, "rootUri": root.as_uri(),
                                       "capabilities": CAPABILITIES})
        await self.feed(self.notification("initialized", {}))

    async def message(self, method: str, where=lambda params: True, timeout: float = 30.0):
        """The first message the server sent with ``method`` whose params satisfy ``where``."""
        for _ in range(int(timeout / 0.01)):
            for message in self.sent:
                if message.get("method") == method and where(message.get("params")):
                    return message
            await asyncio.sleep(0.01)
        raise AssertionError("the server sent no %s" % method)

    async def published(self, uri: str, version: int, timeout: float = 30.0) -> list:
        message = await self.message(
            "textDocument/publishDiagnostics",
            lambda p: p["uri"] == uri and p.get("version") == version, timeout)
        return message["params"]["diagnostics"]

    async def open(self, uri: str, text: str) -> None:
        await self.feed(self.notification("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": text}}))


@pytest.fixture(autouse=True)
def close_sessions():
    yield
    while Session.open_sessions:
        Session.open_sessions.pop().close()


CAPABILITIES = {"workspace": {"inlayHint": {"refreshSupport": True}},
                "textDocument": {"hover": {"contentFormat": ["markdown"]},
                                 "publishDiagnostics": {"versionSupport": True}}}


def live_futures() -> int:
    """Futures of any kind alive in this process (what a leak per message would leave)."""
    gc.collect()
    kinds = (concurrent.futures.Future, asyncio.Future)
    return sum(1 for o in gc.get_objects() if issubclass(type(o), kinds))


SMALL = "import torch\nx = torch.zeros(1, 3)\ny = x + 1\n"


async def test_requests_with_invalid_params_get_an_error_response(tmp_path):
    session = Session()
    await session.start(tmp_path)
    uri = (tmp_path / "m.py").as_uri()
    await session.feed(session.notification("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": SMALL}}))
    bad = [session.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                  "position": {"line": -1, "character": 0}}),
           session.request("textDocument/hover", {"position": {"line": 0, "character": 0}}),
           session.request("textDocument/hover", 5),
           session.request("textDocument/inlayHint", {"textDocument": {"uri": uri}}),
           session.request("textDocument/codeAction", [1, 2])]
    # a notification with bad params is dropped (nobody waits for it); the stream goes on
    await session.feed(*bad, session.notification("textDocument/didChange", 5))
    for message in bad:
        response = await session.response(message["id"])
        assert response["error"]["code"] == -32602, response
    good = await session.call("textDocument/hover", {"textDocument": {"uri": uri},
                                                     "position": {"line": 1, "character": 0}})
    assert "error" not in good
    await session.call("shutdown", None)
    late = await session.call("textDocument/hover", {"textDocument": {"uri": uri},
                                                     "position": {"line": 1, "character": 0}})
    assert late["error"]["code"] == -32600


async def test_notifications_leave_no_futures_behind(tmp_path):
    session = Session()
    await session.start(tmp_path)
    uri = (tmp_path / "m.py").as_uri()
    opened = session.notification("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": SMALL}})
    closed = session.notification("textDocument/didClose", {"textDocument": {"uri": uri}})
    await session.feed(opened, closed)
    await session.call("textDocument/hover", {"textDocument": {"uri": uri},
                                              "position": {"line": 0, "character": 0}})
    before = live_futures()
    for round_ in range(20):
        changes = [session.notification("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"text": SMALL + "z = %d\n" % version}]})
            for version in range(2, 52)]
        await session.feed(opened, *changes, closed)
    await session.call("textDocument/hover", {"textDocument": {"uri": uri},
                                              "position": {"line": 0, "character": 0}})
    # 1,040 notifications; a future kept per notification would be 1,040 more
    assert live_futures() - before < 20


def hold_analyses(monkeypatch, tmp_path, marker: str, what: str = ""):
    """Analyses of texts holding ``marker`` wait (in the worker process, held_worker.py)
    until ``release()``; ``started()`` is true once one is waiting.  ``what="parts_"``: the
    parts of their model runs wait, after the answer."""
    import held_worker
    folder = tmp_path / "hold"
    folder.mkdir()
    monkeypatch.setenv(held_worker.ENV, str(folder))
    import shapelens.server.workers as workers
    monkeypatch.setattr(workers, "WORKER", [sys.executable, held_worker.__file__])
    held_worker.hold(folder, marker, what)
    return (lambda: held_worker.started(folder, what)), \
        (lambda: held_worker.release(folder, what))


async def until(condition, timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("it did not happen")


def at_once(coroutine):
    """The value of a coroutine that must finish without ever suspending (waiting)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise AssertionError("it waited")


MODEL = ("import torch\nimport torch.nn as nn\n\nconv = nn.Conv2d(3, 8, 3)\n"
         "x = torch.zeros(1, 3, 10, 10)\ny = conv(x)\n")


async def test_hovers_and_inlay_hints_answer_from_the_last_result_while_an_analysis_runs(
        tmp_path, monkeypatch):
    from lsprotocol import types
    started, release = hold_analyses(monkeypatch, tmp_path, "# typing")
    session = Session()
    try:
        await session.start(tmp_path)
        uri = (tmp_path / "m.py").as_uri()
        await session.open(uri, MODEL)
        await session.published(uri, 1)
        # a line typed above everything: its analysis is held
        await session.feed(session.notification("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"range": {"start": {"line": 0, "character": 0},
                                          "end": {"line": 0, "character": 0}},
                                "text": "# typing\n"}]}))
        await until(started)
        hover = session.server.feature_of("Hover")
        inlay = session.server.feature_of("InlayHints")
        document = types.TextDocumentIdentifier(uri=uri)
        # `y` is on line 6 now (0-based), line 5 in the analysed text
        answer = at_once(hover.hover(types.HoverParams(
            text_document=document, position=types.Position(line=6, character=0))))
        assert "y: Tensor[1, 8, 8, 8]" in answer.contents.value
        assert answer.range.start.line == 6
        assert at_once(hover.hover(types.HoverParams(
            text_document=document, position=types.Position(line=0, character=2)))) is None
        hints = at_once(inlay.inlay_hints(types.InlayHintParams(
            text_document=document, range=types.Range(start=types.Position(line=0, character=0),
                                                      end=types.Position(line=9, character=0)))))
        assert [(h.position.line, h.label) for h in hints] == [
            (5, ": [1, 3, 10, 10]"), (6, ": [1, 8, 8, 8]")]
        assert not any(m.get("method") == "workspace/inlayHint/refresh" for m in session.sent)
        release()
        await session.published(uri, 2)
        # the hints it gave were for the older text: the editor is asked for them again
        await session.message("workspace/inlayHint/refresh")
    finally:
        release()


async def test_a_long_analysis_never_delays_another_document(tmp_path, monkeypatch):
    started, release = hold_analyses(monkeypatch, tmp_path, "# long")
    session = Session()
    try:
        await session.start(tmp_path)
        for k in range(3):  # more long analyses than the old pool had threads
            await session.open((tmp_path / ("long%d.py" % k)).as_uri(), MODEL + "# long\n")
        await until(started)
        uri = (tmp_path / "short.py").as_uri()
        await session.open(uri, MODEL.replace("Conv2d(3", "Conv2d(4"))
        diagnostics = await session.published(uri, 1)   # while the three are held
        assert [d["code"] for d in diagnostics] == ["conv-in-channels"]
        assert all(m["params"]["uri"] == uri for m in session.sent
                   if m.get("method") == "textDocument/publishDiagnostics")
    finally:
        release()


async def test_hover_and_inlay_hints_print_numbers_of_any_size(tmp_path):
    big = int("9" * 4300) * 10          # past Python's 4300-digit int-to-str limit
    text = ("import torch\nimport torch.nn as nn\n\nx = torch.zeros(int('9' * 4300) * 10)\n"
            "fc = nn.Linear(int('9' * 4300) * 10, 2)\n")
    session = Session()
    await session.start(tmp_path)
    uri = (tmp_path / "huge.py").as_uri()
    await session.open(uri, text)
    await session.published(uri, 1)
    hover = await session.call("textDocument/hover", {"textDocument": {"uri": uri},
                                                      "position": {"line": 3, "character": 0}})
    assert "x: Tensor[%s]" % hex(big) in hover["result"]["contents"]["value"]
    layer = await session.call("textDocument/hover", {
        "textDocument": {"uri": uri}, "position": {"line": 4, "character": 0}})
    assert "error" not in layer
    hints = await session.call("textDocument/inlayHint", {
        "textDocument": {"uri": uri},
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 5, "character": 0}}})
    assert [h["label"] for h in hints["result"]] == [": [%s]" % hex(big)]


def edit_notification(session, uri: str, version: int, text: str) -> dict:
    return session.notification("textDocument/didChange", {
        "textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]})


async def test_killed_workers_do_not_stop_diagnostics(tmp_path, monkeypatch):
    import os
    import signal
    started, release = hold_analyses(monkeypatch, tmp_path, "# killed")
    session = Session()
    try:
        await session.start(tmp_path)
        uri = (tmp_path / "m.py").as_uri()
        await session.open(uri, MODEL)
        await session.published(uri, 1)
        bad = MODEL.replace("Conv2d(3", "Conv2d(4")
        await session.feed(edit_notification(session, uri, 2, bad + "# killed\n"))
        await until(started)
        workers = session.server.documents.workers
        for process in workers.processes:   # the one analysing, and the idle ones
            os.kill(process.pid, signal.SIGKILL)
        release()
        # the analysis is run again by a new worker
        assert [d["code"] for d in await session.published(uri, 2)] == ["conv-in-channels"]
        await session.feed(edit_notification(session, uri, 3, MODEL))
        assert await session.published(uri, 3) == []
    finally:
        release()


async def test_a_long_analysis_of_a_superseded_text_is_cancelled(tmp_path, monkeypatch):
    started, release = hold_analyses(monkeypatch, tmp_path, "# superseded")
    session = Session()
    try:
        await session.start(tmp_path)
        uri = (tmp_path / "m.py").as_uri()
        await session.open(uri, MODEL)
        await session.published(uri, 1)
        await session.feed(edit_notification(session, uri, 2, MODEL + "# superseded\n"))
        await until(started)
        bad = MODEL.replace("Conv2d(3", "Conv2d(4")
        await session.feed(edit_notification(session, uri, 3, bad))
        # the held analysis never ends by itself: the newest text is analysed only once it
        # has been cancelled
        assert [d["code"] for d in await session.published(uri, 3)] == ["conv-in-channels"]
        assert not [m for m in session.sent if m.get("method") ==
                    "textDocument/publishDiagnostics" and m["params"].get("version") == 2]
    finally:
        release()


NET = ("import torch\nimport torch.nn as nn\n\n\nclass Net(nn.Module):\n"
       "    def __init__(self):\n        super().__init__()\n"
       "        self.conv = nn.Conv2d(3, 8, 3, padding=1)\n        self.fc = nn.Linear(8, 4)\n\n"
       "    def forward(self, x):\n        x = self.conv(x).mean((2, 3))\n"
       "        return self.fc(x)\n\n\nmodel = Net()\nout = model(torch.randn(2, 3, 16, 16))\n")


def summary_request(session, uri: str) -> dict:
    return session.request("shapelens/summary", {"textDocument": {"uri": uri}})


def hover_at(session, uri: str, line: int, character: int):
    from lsprotocol import types
    return session.server.feature_of("Hover").hover(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character)))


PARTS_HELD = NET + "# parts\n"


async def open_with_parts_held(session, tmp_path, started) -> str:
    """Start ``session`` and open m.py, whose worker then holds back the parts of the model
    run (hold_analyses with "parts_"); its diagnostics are published before them.  Its uri."""
    await session.start(tmp_path)
    uri = (tmp_path / "m.py").as_uri()
    await session.open(uri, PARTS_HELD)
    assert await session.published(uri, 1) == []
    await until(started)
    return uri


async def test_diagnostics_and_layer_hovers_do_not_wait_for_the_model_runs(tmp_path,
                                                                            monkeypatch):
    from shapelens.analysis import analyze
    from shapelens.analysis.summary import summarize
    from shapelens.summary import to_markdown
    started, release = hold_analyses(monkeypatch, tmp_path, "# parts", "parts_")
    session = Session()
    try:
        uri = await open_with_parts_held(session, tmp_path, started)
        text = PARTS_HELD
        # a layer's configuration and calls: at once, from the answer
        conv = at_once(hover_at(session, uri, 11, len("        x = self.c")))
        assert "`Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))`" in \
            conv.contents.value
        assert "input [2, 3, 16, 16] → output [2, 8, 16, 16]" in conv.contents.value
        assert "parameters: 224" in conv.contents.value
        # the summary and a class's totals wait for the parts (not holding the event loop:
        # this test goes on while they wait)
        request = summary_request(session, uri)
        await session.feed(request)
        class_hover = asyncio.ensure_future(hover_at(session, uri, 4, len("class N")))
        assert at_once(hover_at(session, uri, 16, 1)).contents.value.startswith("```python")
        assert not class_hover.done()
        release()
        answer = (await session.response(request["id"]))["result"]
        assert answer["markdown"] == to_markdown(summarize(analyze(text, "m.py"), "Net"))
        assert "parameters: 260" in (await class_hover).contents.value
    finally:
        release()


async def test_a_worker_stopping_before_the_model_runs_costs_only_their_summary(
        tmp_path, monkeypatch):
    import os
    import signal
    started, release = hold_analyses(monkeypatch, tmp_path, "# parts", "parts_")
    session = Session()
    try:
        uri = await open_with_parts_held(session, tmp_path, started)
        request = summary_request(session, uri)
        await session.feed(request)
        for process in session.server.documents.workers.processes:
            os.kill(process.pid, signal.SIGKILL)
        answer = await session.response(request["id"])
        assert "stopped before sending the model runs" in answer["error"]["message"]
        # the next analysis has its summary
        await session.feed(edit_notification(session, uri, 2, NET))
        assert await session.published(uri, 2) == []
        request = summary_request(session, uri)
        await session.feed(request)
        answer = (await session.response(request["id"]))["result"]
        assert answer["version"] == 2 and answer["summary"]["totals"]["params"] == 260
    finally:
        release()


async def test_a_worker_stuck_sending_the_model_runs_does_not_hold_the_next_analysis(
        tmp_path, monkeypatch):
    started, release = hold_analyses(monkeypatch, tmp_path, "# parts", "parts_")
    session = Session()
    try:
        uri = await open_with_parts_held(session, tmp_path, started)
        # the next text waits for that worker a moment, then another one analyses it
        bad = NET.replace("Conv2d(3", "Conv2d(4")
        await session.feed(edit_notification(session, uri, 2, bad))
        assert [d["code"] for d in await session.published(uri, 2)] == ["conv-in-channels"]
        assert len(session.server.documents.workers.processes) == 2  # the held one, and another
    finally:
        release()
