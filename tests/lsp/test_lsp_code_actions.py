"""Quick fixes (SPEC §2): in_channels, in_features, num_features, and the padding that keeps
the size.  Each is offered on its diagnostic; applying it and re-analysing leaves that
diagnostic gone."""
from __future__ import annotations

import textwrap

import pytest
from lsprotocol import types

from lsp_helpers import (REPO, by_code, change_document, corpus_file, diagnostics_for, errors,
                         open_document)

# the whole module on one xdist worker, so its shared server starts once
IGNORE = "Ignore %s on this line (# shapelens: ignore)"

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("lsp-code_actions")]

NUM_FEATURES = textwrap.dedent("""\
    import torch
    import torch.nn as nn


    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 64, kernel_size=3, padding=1)
            self.bn = nn.BatchNorm2d(32)

        def forward(self, x):
            return self.bn(self.conv(x))


    out = Block()(torch.randn(2, 3, 16, 16))
    """)

CASES = [
    # (file or fixture, code, title, new text)
    ("seed000_ex2_bad.py", "conv-in-channels", "Set in_channels of conv1 to 12", "12"),
    ("seed000_ex1_bad.py", "conv-in-channels", "Set in_channels of conv1 to 1", "1"),
    ("linear_in_features_bad.py", "linear-in-features", "Set in_features of fc to 4096",
     "4096"),
    ("comment_driven_bad.py", "linear-in-features", "Set in_features of fc1 to 48", "48"),
    ("residual_padding0_bad.py", "shape-mismatch",
     "Set padding of conv2 to 1 (keeps the size)", "1"),
    ("num_features.py", "norm-features", "Set num_features of bn to 64", "64"),
]


async def request_fixes(client, uri, diagnostic):
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic],
                                        only=[types.CodeActionKind.QuickFix])))


def apply_locally(text: str, edits) -> str:
    lines = text.split("\n")
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                       reverse=True):
        start, end = edit.range.start, edit.range.end
        assert start.line == end.line
        line = lines[start.line]
        lines[start.line] = line[:start.character] + edit.new_text + line[end.character:]
    return "\n".join(lines)


@pytest.mark.parametrize("case, code, title, new_text", CASES, ids=[c[0] for c in CASES])
async def test_quick_fix_applied_removes_the_diagnostic(client, tmp_path, case, code, title,
                                                        new_text):
    if case == "num_features.py":
        path, text = tmp_path / case, NUM_FEATURES
    else:
        path = corpus_file(case)
        text = path.read_text()
    uri = open_document(client, path, text)
    [diagnostic] = by_code(await diagnostics_for(client, uri, version=1), code)

    actions = await request_fixes(client, uri, diagnostic)
    # the fix first, then the suppression comment (tests/lsp/test_lsp_project_config.py)
    assert [a.title for a in actions] == [title, IGNORE % code]
    action = actions[0]
    assert action.kind == types.CodeActionKind.QuickFix
    assert action.is_preferred
    assert action.diagnostics[0].code == code and action.diagnostics[0].range == diagnostic.range
    [change] = action.edit.document_changes
    assert change.text_document.uri == uri and change.text_document.version == 1
    assert [e.new_text for e in change.edits] == [new_text]

    # apply it the way an editor does: as incremental changes, then wait for re-analysis
    change_document(client, uri, 2, [types.TextDocumentContentChangePartial(
        range=e.range, text=e.new_text) for e in change.edits])
    after = await diagnostics_for(client, uri, version=2)
    assert not by_code(after, code), after
    assert not errors(after), after
    fixed = apply_locally(text, change.edits)
    assert new_text in fixed.split("\n")[change.edits[0].range.start.line]


async def test_no_actions_away_from_diagnostics_or_for_other_kinds(client):
    path = corpus_file("seed000_ex2_bad.py")
    uri = open_document(client, path)
    [diagnostic] = errors(await diagnostics_for(client, uri))
    far = types.Range(start=types.Position(line=1, character=0),
                      end=types.Position(line=1, character=5))
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=far,
        context=types.CodeActionContext(diagnostics=[])))
    assert not actions
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic],
                                        only=[types.CodeActionKind.Refactor])))
    assert not actions
    # a cursor inside the diagnostic, without the client listing it, still gets the fix
    inside = types.Range(start=diagnostic.range.start, end=diagnostic.range.start)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=inside,
        context=types.CodeActionContext(diagnostics=[])))
    assert [a.title for a in actions] == ["Set in_channels of conv1 to 12",
                                          IGNORE % "conv-in-channels"]


async def test_resize_fix_for_images_the_model_rejects(client):
    """MNIST's 28x28 images into LeNet (built for 32x32): besides in_features, the quick fix
    inserts Resize((32, 32)) before ToTensor in the Compose; applied, no error is left."""
    path = REPO / "tests" / "data" / "fixtures" / "seed001_mnist_no_resize.py"
    text = path.read_text()
    uri = open_document(client, path, text)
    [diagnostic] = by_code(await diagnostics_for(client, uri, version=1), "linear-in-features")
    actions = await request_fixes(client, uri, diagnostic)
    resize = "Insert transforms.Resize((32, 32)) into the Compose"
    assert [a.title for a in actions] == ["Set in_features of fc1 to 256", resize,
                                          IGNORE % "linear-in-features"]
    action = actions[1]
    assert action.kind == types.CodeActionKind.QuickFix and not action.is_preferred
    assert action.diagnostics[0].range == diagnostic.range
    [change] = action.edit.document_changes
    assert change.text_document.uri == uri and change.text_document.version == 1
    fixed = apply_locally(text, change.edits)
    assert "transform = transforms.Compose([transforms.Resize((32, 32)), " \
        "transforms.ToTensor()])" in fixed.split("\n")

    change_document(client, uri, 2, [types.TextDocumentContentChangePartial(
        range=e.range, text=e.new_text) for e in change.edits])
    after = await diagnostics_for(client, uri, version=2)
    assert not errors(after), after
