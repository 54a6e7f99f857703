"""A long editing session over stdio: thousands of edits over several documents, with hovers,
closes and reopens, requests with invalid params, and analyses held back on purpose.  Every
request is answered; hovers are answered from the last result while an analysis runs; and
nothing accumulates in the server (futures, gc-tracked objects, RSS).

The server is tests/lsp/instrumented_server.py: ``python -m shapelens.server`` plus a request
that reports what the process holds and a way to hold analyses back.
"""
from __future__ import annotations

import asyncio
import pathlib
import random
import sys

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from lsp_helpers import (REPO, change_document, diagnostics_for, edit, hover_text, initialize,
                         make_client, open_document)

pytestmark = pytest.mark.asyncio(loop_scope="module")

SERVER = pathlib.Path(__file__).with_name("instrumented_server.py")
CONFIG = ClientServerConfig(server_command=[sys.executable, str(SERVER)],
                            client_factory=make_client)

MODEL = """import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8 * 8 * 8, 10)

    def forward(self, x):
        h = self.conv(x)
        return self.fc(h.flatten(1))


x = torch.randn(1, 3, 10, 10)
out = Net()(x)
"""
SAMPLE_LINE = 15                           # x = torch.randn(1, 3, 10, 10)
CHANNELS = MODEL.split("\n")[SAMPLE_LINE].index("3, 10")
EDITS = 2400
DOCUMENTS = 4


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def client(lsp_client: LanguageClient):
    await initialize(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def stats(client: LanguageClient):
    return await client.protocol.send_request_async("shapelens/test/stats", {})


async def settle(client: LanguageClient, uris) -> None:
    """Until every document's newest text is analysed and published."""
    for uri in uris:
        await diagnostics_for(client, uri, client.versions[uri])


async def test_a_long_session_answers_everything_and_keeps_nothing(client: LanguageClient,
                                                                     tmp_path):
    client.versions = {}
    uris = []
    for k in range(DOCUMENTS):
        uri = open_document(client, tmp_path / ("model%d.py" % k), MODEL)
        client.versions[uri] = 1
        uris.append(uri)
    rng = random.Random(12)
    answered = errors = 0

    async def edits(count: int) -> None:
        nonlocal answered, errors
        for n in range(count):
            uri = rng.choice(uris)
            client.versions[uri] += 1
            change_document(client, uri, client.versions[uri], [
                edit(SAMPLE_LINE, CHANNELS, CHANNELS + 1, rng.choice("3333345"))])
            if n % 8 == 7:   # a hover between edits, sometimes an invalid one
                position = types.Position(line=rng.randrange(17), character=8)
                if n % 200 == 199:  # past the client's own validation
                    object.__setattr__(position, "line", -1)
                try:
                    await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
                        text_document=types.TextDocumentIdentifier(uri=uri),
                        position=position)), 60)
                    answered += 1
                except JsonRpcException:
                    errors += 1
            if n % 300 == 299:  # close and reopen
                client.text_document_did_close(types.DidCloseTextDocumentParams(
                    text_document=types.TextDocumentIdentifier(uri=uri)))
                client.versions[uri] += 1
                lines = MODEL.split("\n")
                open_document(client, pathlib.Path(uri[len("file://"):]), "\n".join(lines),
                              version=client.versions[uri])

    await edits(200)                      # warm-up: every path has run once
    await settle(client, uris)
    before = await stats(client)
    await edits(EDITS)
    await settle(client, uris)
    after = await stats(client)

    assert answered + errors == EDITS // 8 + 200 // 8
    assert errors == EDITS // 200 + 200 // 200   # exactly the invalid ones, as errors
    # nothing kept per message: a future per notification would be thousands
    assert after.futures - before.futures < 20, (before, after)
    assert after.threads <= before.threads + DOCUMENTS   # at most an analysis per document
    assert after.objects - before.objects < 5_000, (before, after)
    assert (after.rss_kb - before.rss_kb) < 16 * 1024, (before, after)


async def test_hovers_answer_from_the_last_result_while_an_analysis_is_held(
        client: LanguageClient, tmp_path):
    uri = open_document(client, tmp_path / "held.py", MODEL)
    await diagnostics_for(client, uri, 1)
    assert "h: Tensor[1, 8, 8, 8]" in await hover_text(client, uri, 11, 8)
    client.protocol.notify("shapelens/test/hold", {"marker": "# held"})
    try:
        # a line typed above the class: its analysis never ends while held
        change_document(client, uri, 2, [edit(3, 0, 0, "# held\n")])
        for _ in range(20):
            # `h` is one line lower now; the answer is the last result's, moved with it
            assert "h: Tensor[1, 8, 8, 8]" in await hover_text(client, uri, 12, 8)
            assert await hover_text(client, uri, 3, 2) == ""
        hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line=0, character=0),
                              end=types.Position(line=19, character=0))))
        assert (12, ": [1, 8, 8, 8]") in [(h.position.line, h.label) for h in hints]
        assert not [p for p in client.publications if p.uri == uri and p.version == 2]
    finally:
        client.protocol.notify("shapelens/test/release", {})
    await diagnostics_for(client, uri, 2)
