"""Fixtures for the LSP end-to-end tests: a fresh server per test, initialized like VS Code
with the repository as the workspace."""
from __future__ import annotations

import pytest_lsp
from pytest_lsp import LanguageClient

from lsp_helpers import CONFIG, initialize


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: LanguageClient):
    await initialize(lsp_client)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG)
async def raw_client(lsp_client: LanguageClient):
    """A started server the test initializes itself (settings, trust, capabilities)."""
    yield
    await lsp_client.shutdown_session()
