"""The server reads the same [tool.shapelens] as the command line: severities, exclude,
extra-paths, warn-unused-ignores; editor settings win over the file, the file over the
defaults; a bad file is shown to the user and the last good configuration stays in force;
``# shapelens: ignore`` comments and the quick fix that adds one."""
from __future__ import annotations

import os
import textwrap

import pytest
from lsprotocol import types

from tests.tooling.helpers import BLOCKS, LINEAR_BAD, MAIN

from lsp_helpers import (by_code, change_document, diagnostics_for, initialize, open_document,
                         uri_of, wait_for)

pytestmark = [pytest.mark.asyncio(loop_scope="module")]


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def severity(diagnostics, code):
    found = by_code(diagnostics, code)
    return found[0].severity if found else None


def touched(client, *paths):
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=uri_of(p), type=types.FileChangeType.Changed) for p in paths]))


async def test_file_over_defaults_and_editor_over_file(raw_client, tmp_path):
    write(tmp_path / "pyproject.toml", """\
        [tool.shapelens]
        severity = {linear-in-features = "warning", shape-contract = "off"}
        """)
    path = write(tmp_path / "pkg" / "lin.py", LINEAR_BAD)
    await initialize(raw_client, root=tmp_path,
                     settings={"severity": {"shape-contract": "error"}})
    uri = open_document(raw_client, path)
    assert severity(await diagnostics_for(raw_client, uri), "linear-in-features") \
        == types.DiagnosticSeverity.Warning                      # the file, not the default
    raw_client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"shapelens": {"severity": {"linear-in-features": "information"}}}))
    await wait_for(lambda: severity(raw_client.diagnostics.get(uri, []), "linear-in-features")
                   == types.DiagnosticSeverity.Information, message="the editor's severity")


async def test_exclude_and_a_bad_file_keeps_the_last_good_configuration(raw_client, tmp_path):
    config = write(tmp_path / "shapelens.toml", 'exclude = ["generated/"]\n')
    kept = write(tmp_path / "lin.py", LINEAR_BAD)
    hidden = write(tmp_path / "generated" / "lin.py", LINEAR_BAD)
    await initialize(raw_client, root=tmp_path)
    uri = open_document(raw_client, kept)
    hidden_uri = open_document(raw_client, hidden)
    assert by_code(await diagnostics_for(raw_client, uri), "linear-in-features")
    assert await diagnostics_for(raw_client, hidden_uri) == []

    config.write_text('exclude = ["generated/"]\nseverity = {linear-in-features = "of"}\n')
    os.utime(config, ns=(10**18, 10**18))
    touched(raw_client, config)
    message = await wait_for(lambda: [m for m in raw_client.messages
                                      if m.type == types.MessageType.Warning],
                             message="a warning about the configuration")
    text = message[0].message
    assert str(config) in text and "severity" in text and "must be one of" in text
    assert "last good" in text
    # still the last good configuration: the excluded file stays quiet, the other one has
    # its error
    raw_client.publications.clear()
    change_document(raw_client, hidden_uri, 2, [types.TextDocumentContentChangeWholeDocument(
        text=LINEAR_BAD + "\n")])
    assert await diagnostics_for(raw_client, hidden_uri, version=2) == []
    assert by_code(raw_client.diagnostics[uri], "linear-in-features")

    config.write_text('severity = {linear-in-features = "off"}\n')
    os.utime(config, ns=(2 * 10**18, 2 * 10**18))
    touched(raw_client, config)
    await wait_for(lambda: by_code(raw_client.diagnostics.get(hidden_uri, []),
                                   "linear-in-features") == []
                   and not by_code(raw_client.diagnostics.get(uri, []), "linear-in-features")
                   and any(p.uri == hidden_uri for p in raw_client.publications),
                   message="the fixed configuration applied")
    assert len([m for m in raw_client.messages if m.type == types.MessageType.Warning]) == 1


async def test_extra_paths_resolve_imports_in_the_editor(raw_client, tmp_path):
    write(tmp_path / "lib" / "blocks.py", BLOCKS)
    main = write(tmp_path / "app" / "main.py", MAIN)
    write(tmp_path / "pyproject.toml", '[tool.shapelens]\nextra-paths = ["lib"]\n')
    await initialize(raw_client, root=tmp_path)
    uri = open_document(raw_client, main)
    assert by_code(await diagnostics_for(raw_client, uri), "conv-in-channels")


async def test_suppressions_unused_ones_and_the_ignore_quick_fix(raw_client, tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.shapelens]\nwarn-unused-ignores = true\n")
    text = LINEAR_BAD + "z = torch.zeros(2)  # shapelens: ignore[shape-mismatch]\n"
    path = write(tmp_path / "lin.py", text)
    await initialize(raw_client, root=tmp_path)
    uri = open_document(raw_client, path)
    found = await diagnostics_for(raw_client, uri)
    [unused] = by_code(found, "unused-ignore")
    assert unused.range.start.line == 4 and types.DiagnosticTag.Unnecessary in unused.tags
    [diagnostic] = by_code(found, "linear-in-features")

    actions = await raw_client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic])))
    [ignore] = [a for a in actions if a.title.startswith("Ignore")]
    assert ignore.title == "Ignore linear-in-features on this line (# shapelens: ignore)"
    assert not ignore.is_preferred
    [change] = ignore.edit.document_changes
    [edit] = change.edits
    assert edit.new_text == "  # shapelens: ignore[linear-in-features]"
    assert edit.range.start == types.Position(line=3, character=len("y = fc(torch.zeros(3, 5))"))
    change_document(raw_client, uri, 2, [types.TextDocumentContentChangePartial(
        range=edit.range, text=edit.new_text)])
    after = await diagnostics_for(raw_client, uri, version=2)
    assert not by_code(after, "linear-in-features")
    assert len(by_code(after, "unused-ignore")) == 1     # only the one on line 5


