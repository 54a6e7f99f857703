"""publishDiagnostics on the corpus: codes, severities, ranges, related information and
PyTorch-worded messages (SPEC §2), no errors on code that runs."""
from __future__ import annotations

import pytest

import json

from lsprotocol import types

from lsp_helpers import (CORPUS, by_code, corpus_file, diagnostics_for, errors, open_document,
                         uri_of, wait_for)

# the whole module on one xdist worker, so its shared server starts once
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("lsp-diagnostics")]


def pytorch_message(case: str) -> str:
    """The message PyTorch raised for a corpus case (its recorded ground truth)."""
    truth = json.loads(corpus_file(case).with_suffix(".gt.json").read_text())
    return truth["error"]["message"]


async def test_conv_in_channels_on_line_16(client):
    path = corpus_file("seed000_ex2_bad.py")
    uri = open_document(client, path)
    diagnostics = await diagnostics_for(client, uri, version=1)
    [d] = by_code(diagnostics, "conv-in-channels")
    assert d.severity == types.DiagnosticSeverity.Error
    assert d.source == "shapelens"
    assert d.range.start.line == 15  # line 16: return self.conv1(x)
    text = path.read_text().splitlines()[15]
    assert text[d.range.start.character:d.range.end.character] == "self.conv1(x)"
    assert d.message.startswith(pytorch_message("seed000_ex2_bad.py"))
    assert d.message.startswith("Given groups=1, weight of size [64, 3, 3, 3], expected "
                                "input[1, 12, 28, 28] to have 3 channels, but got 12 "
                                "channels instead")
    assert "in_channels" in d.message
    related = {r.message: r.location for r in d.related_information}
    assert related["conv1 defined here"].uri == uri
    assert related["conv1 defined here"].range.start.line == 12
    assert any(m.startswith("input created here") for m in related)


async def test_linear_in_features_names_the_flattened_size(client):
    uri = open_document(client, corpus_file("linear_in_features_bad.py"))
    [d] = errors(await diagnostics_for(client, uri))
    assert d.code == "linear-in-features"
    assert d.range.start.line == 23
    assert d.message.startswith(pytorch_message("linear_in_features_bad.py"))
    assert d.message.startswith("mat1 and mat2 shapes cannot be multiplied (8x4096 and "
                                "3136x128)")
    assert "4096" in d.message.split(")", 1)[1]  # says what arrives, in plain words


async def test_residual_padding0_names_the_padding_cause(client):
    uri = open_document(client, corpus_file("residual_padding0_bad.py"))
    [d] = errors(await diagnostics_for(client, uri))
    assert d.code == "shape-mismatch"
    assert d.range.start.line == 18  # out = out + identity
    assert d.message.startswith(pytorch_message("residual_padding0_bad.py"))
    assert "conv2 (padding=0)" in d.message and "padding=1" in d.message
    assert d.related_information


def _corpus_cases():
    cases = sorted(CORPUS.glob("*.py"))
    assert cases, "the corpus is missing at %s" % CORPUS
    out = []
    for path in cases:
        truth = json.loads(path.with_suffix(".gt.json").read_text())
        out.append((path, truth["error"]))
    return out


async def test_every_raising_corpus_case_gets_an_error_on_its_traceback(client):
    raising = [(path, error) for path, error in _corpus_cases() if error]
    assert len(raising) >= 10
    uris = {path: open_document(client, path) for path, _ in raising}
    missed = []
    for path, error in raising:
        diagnostics = await diagnostics_for(client, uris[path])
        lines = {d.range.start.line + 1 for d in errors(diagnostics)}
        if not lines & set(error["lines"]):
            missed.append("%s: errors on %s, traceback %s" % (path.name, sorted(lines),
                                                             error["lines"]))
    assert not missed, missed


async def test_no_error_on_corpus_cases_that_run(client):
    clean = [path for path, error in _corpus_cases() if not error]
    assert len(clean) >= 15
    uris = {path: open_document(client, path) for path in clean}
    flagged = []
    for path in clean:
        found = errors(await diagnostics_for(client, uris[path]))
        if found:
            flagged.append("%s: %s" % (path.name, [(d.code, d.range.start.line + 1)
                                                   for d in found]))
    assert not flagged, flagged


async def test_file_without_torch_gets_empty_diagnostics(client, tmp_path):
    path = tmp_path / "plain.py"
    path.write_text("def add(a, b):\n    return a + b\n")
    uri = open_document(client, path)
    assert await diagnostics_for(client, uri) == []


async def test_close_clears_diagnostics(client):
    uri = open_document(client, corpus_file("seed000_ex2_bad.py"))
    assert errors(await diagnostics_for(client, uri))
    count = len(client.publications)
    client.opened.discard(uri)
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    await wait_for(lambda: len(client.publications) > count, message="a publication")
    assert client.publications[-1].uri == uri and list(client.publications[-1].diagnostics) == []


async def test_non_python_documents_are_ignored(client, tmp_path):
    path = tmp_path / "notes.md"
    uri = uri_of(path)
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="markdown", version=1,
                                             text="import torch\n")))
    other = open_document(client, corpus_file("lenet.py"))
    await diagnostics_for(client, other)
    assert all(p.uri != uri for p in client.publications)
