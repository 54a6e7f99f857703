"""Fixtures for the LSP end-to-end tests.

``client``: one real server per test module (starting a server costs most of a second, most
of it importing lsprotocol), initialized like VS Code with the repository as the workspace;
after each test the documents it opened are closed and the client's records are cleared, so
tests stay independent.  ``raw_client``: a fresh server per test, which the test initializes
itself (settings, trust, capabilities).  Test modules run on one event loop per module
(``pytestmark = pytest.mark.asyncio(loop_scope="module")``).
"""
from __future__ import annotations

import pytest_asyncio
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_helpers import CONFIG, initialize


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def client(lsp_client: LanguageClient):
    await initialize(lsp_client, trusted=True)  # VS Code always says whether it trusts
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG, loop_scope="module")
async def raw_client(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


@pytest_asyncio.fixture(autouse=True, loop_scope="module")
async def _isolated(request):
    """Close what a test opened on the shared server and forget what it received."""
    yield
    if "client" not in request.fixturenames:
        return
    client = request.getfixturevalue("client")
    for uri in sorted(client.opened):
        client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
    for uri, cells in sorted(client.opened_notebooks.items()):
        client.notebook_document_did_close(types.DidCloseNotebookDocumentParams(
            notebook_document=types.NotebookDocumentIdentifier(uri=uri),
            cell_text_documents=[types.TextDocumentIdentifier(uri=c) for c in cells]))
    if client.opened or client.opened_notebooks:
        # a round trip: the closes (and the empty diagnostics they publish) are through
        await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri="file:///nowhere.py"),
            position=types.Position(line=0, character=0)))
    client.opened.clear()
    client.opened_notebooks.clear()
    client.publications.clear()
    client.diagnostics.clear()
    client.progress_reports.clear()
    client.inlay_refreshes = 0

