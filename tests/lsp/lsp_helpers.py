"""Helpers for the LSP end-to-end tests: a pytest-lsp client that records every
``publishDiagnostics`` (with its version), capabilities like VS Code's, and small waits.

Every test talks to a real ``python -m shapelens.server`` subprocess over stdio.
"""
from __future__ import annotations

import asyncio
import pathlib
import sys
import time
from typing import Callable, Iterable, List, Optional

import pytest
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features
from pygls.protocol import default_converter

REPO = pathlib.Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "data" / "corpus"
SERVER_COMMAND = [sys.executable, "-m", "shapelens.server"]
TIMEOUT_S = 20.0


def corpus_file(name: str) -> pathlib.Path:
    """A corpus case; fails (never skips) when the corpus is not where it should be."""
    path = CORPUS / name
    if not path.is_file():
        pytest.fail("the ShapeLens corpus is missing: expected %s (tests/data/corpus in the "
                    "repository)" % path, pytrace=False)
    return path


def make_client() -> LanguageClient:
    """pytest-lsp's client, also keeping every diagnostics publication in order."""
    client = LanguageClient(converter_factory=default_converter)
    features = dict(DEFAULT_CLIENT_FEATURES)

    def publish_diagnostics(client: LanguageClient, params: types.PublishDiagnosticsParams):
        client.diagnostics[params.uri] = params.diagnostics
        client.publications.append(params)

    def inlay_hint_refresh(client: LanguageClient, params):
        client.inlay_refreshes += 1

    def register_capability(client: LanguageClient, params):
        client.registrations.extend(params.registrations)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = publish_diagnostics
    features[types.WORKSPACE_INLAY_HINT_REFRESH] = inlay_hint_refresh
    features[types.CLIENT_REGISTER_CAPABILITY] = register_capability
    register_lsp_features(client, features)
    client.publications = []
    client.inlay_refreshes = 0
    client.registrations = []
    client.opened = set()            # URIs of the documents a test opened
    client.opened_notebooks = {}     # notebook URI -> cell URIs
    return client


CONFIG = ClientServerConfig(server_command=SERVER_COMMAND, client_factory=make_client)


def capabilities(*, work_done_progress: bool = True, configuration: bool = True,
                 encodings=("utf-16",)) -> types.ClientCapabilities:
    """Capabilities of an editor like VS Code: Markdown hovers, related information, versioned
    diagnostics and edits, inlay hint refresh, progress, notebooks."""
    return types.ClientCapabilities(
        general=types.GeneralClientCapabilities(position_encodings=list(encodings)),
        text_document=types.TextDocumentClientCapabilities(
            synchronization=types.TextDocumentSyncClientCapabilities(did_save=True),
            hover=types.HoverClientCapabilities(
                content_format=[types.MarkupKind.Markdown, types.MarkupKind.PlainText]),
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(
                related_information=True, version_support=True),
            code_action=types.CodeActionClientCapabilities(
                code_action_literal_support=types.ClientCodeActionLiteralOptions(
                    code_action_kind=types.ClientCodeActionKindOptions(
                        value_set=[types.CodeActionKind.QuickFix])),
                is_preferred_support=True),
            inlay_hint=types.InlayHintClientCapabilities(),
            code_lens=types.CodeLensClientCapabilities()),
        workspace=types.WorkspaceClientCapabilities(
            configuration=configuration,
            did_change_configuration=types.DidChangeConfigurationClientCapabilities(),
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
            inlay_hint=types.InlayHintWorkspaceClientCapabilities(refresh_support=True)),
        window=types.WindowClientCapabilities(work_done_progress=work_done_progress),
        notebook_document=types.NotebookDocumentClientCapabilities(
            synchronization=types.NotebookDocumentSyncClientCapabilities()))


async def initialize(client: LanguageClient, root: Optional[pathlib.Path] = None,
                     settings: Optional[dict] = None, trusted: Optional[bool] = None,
                     **caps) -> types.InitializeResult:
    options: dict = {}
    if settings is not None:
        options["settings"] = settings
    if trusted is not None:
        options["workspaceTrusted"] = trusted
    root = root or REPO
    return await client.initialize_session(types.InitializeParams(
        capabilities=capabilities(**caps), root_uri=from_fs_path(str(root)),
        workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(root)), name="ws")],
        initialization_options=options or None))


def uri_of(path) -> str:
    return from_fs_path(str(path))


def open_document(client: LanguageClient, path, text: Optional[str] = None,
                  version: int = 1) -> str:
    """didOpen ``path`` (with ``text``, or the file's content); returns its URI."""
    path = pathlib.Path(path)
    if text is None:
        text = path.read_text(encoding="utf-8")
    uri = uri_of(path)
    client.opened.add(uri)
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version,
                                             text=text)))
    return uri


def change_document(client: LanguageClient, uri: str, version: int,
                    changes: Iterable[types.TextDocumentContentChangeEvent]) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=list(changes)))


def replace_all(client: LanguageClient, uri: str, version: int, text: str) -> None:
    change_document(client, uri, version,
                    [types.TextDocumentContentChangeWholeDocument(text=text)])


def edit(line: int, start: int, end: int, text: str, end_line: Optional[int] = None):
    """An incremental change of line ``line`` (0-based), columns start..end (UTF-16)."""
    return types.TextDocumentContentChangePartial(
        range=types.Range(start=types.Position(line=line, character=start),
                          end=types.Position(line=line if end_line is None else end_line,
                                             character=end)),
        text=text)


async def wait_for(predicate: Callable[[], object], timeout: float = TIMEOUT_S,
                   message: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, message))
        await asyncio.sleep(0.01)


async def diagnostics_for(client: LanguageClient, uri: str, version: Optional[int] = None,
                          timeout: float = TIMEOUT_S) -> List[types.Diagnostic]:
    """The diagnostics of the first publication for ``uri`` (with ``version`` when given)."""
    def found():
        for params in reversed(client.publications):
            if params.uri == uri and (version is None or params.version == version):
                return [params]
        return None
    params = await wait_for(found, timeout, "diagnostics for %s version %s" % (uri, version))
    return list(params[0].diagnostics)


def errors(diagnostics) -> list:
    return [d for d in diagnostics if d.severity == types.DiagnosticSeverity.Error]


def by_code(diagnostics, code: str) -> list:
    return [d for d in diagnostics if d.code == code]


async def hover_text(client: LanguageClient, uri: str, line: int, character: int) -> str:
    """The hover Markdown at a 0-based position ('' when there is none)."""
    result = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character)))
    if result is None:
        return ""
    assert isinstance(result.contents, types.MarkupContent)
    return result.contents.value


def position_of(text: str, needle: str, occurrence: int = 0, offset: int = 0):
    """0-based (line, UTF-16 column) of the ``occurrence``-th ``needle`` in ``text``."""
    index = -1
    for _ in range(occurrence + 1):
        index = text.index(needle, index + 1)
    index += offset
    before = text[:index]
    line = before.count("\n")
    column_text = before[before.rfind("\n") + 1:]
    return line, len(column_text.encode("utf-16-le")) // 2


async def inlay_hints(client: LanguageClient, uri: str, last_line: int = 10_000):
    return await client.text_document_inlay_hint_async(types.InlayHintParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=0, character=0),
                          end=types.Position(line=last_line, character=0)))) or []


def label_text(hint: types.InlayHint) -> str:
    if isinstance(hint.label, str):
        return hint.label
    return "".join(part.value for part in hint.label)
