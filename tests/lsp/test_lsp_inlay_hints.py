"""Inlay hints (SPEC §3): after the target name of each assignment, the shape; one per (line,
name); none for unknown shapes; off by a setting."""
from __future__ import annotations

import pytest

import textwrap

from lsprotocol import types

from lsp_helpers import (diagnostics_for, corpus_file, inlay_hints, initialize, label_text,
                         open_document, position_of, wait_for)

# the whole module on one xdist worker, so its shared server starts once
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("lsp-inlay_hints")]


async def test_hints_after_each_bound_name_in_forward_and_module_code(client):
    path = corpus_file("lenet.py")
    text = path.read_text()
    uri = open_document(client, path)
    await diagnostics_for(client, uri)
    hints = await inlay_hints(client, uri)
    by_position = {(h.position.line, h.position.character): label_text(h) for h in hints}
    line, col = position_of(text, " c1 = ", offset=1)
    assert by_position[(line, col + 2)] == ": [1, 6, 28, 28]"   # right after "c1"
    line, col = position_of(text, "flat = ")
    assert by_position[(line, col + 4)] == ": [1, 400]"
    line, col = position_of(text, "def forward(self, x)", offset=len("def forward(self, "))
    assert by_position[(line, col + 1)] == ": [1, 1, 32, 32]"  # the parameter
    line, col = position_of(text, "scores = ")
    assert by_position[(line, col + 6)] == ": [1, 10]"         # module-level code
    assert all(h.kind == types.InlayHintKind.Type for h in hints)
    # one hint per (line, name)
    keys = [(h.position.line, label_text(h)) for h in hints]
    assert len(hints) == len({(h.position.line, h.position.character) for h in hints})
    assert len(keys) == 10


async def test_hints_only_in_the_requested_range(client):
    path = corpus_file("lenet.py")
    uri = open_document(client, path)
    await diagnostics_for(client, uri)
    hints = await inlay_hints(client, uri, last_line=20)
    assert hints and all(h.position.line <= 20 for h in hints)


LOOP = textwrap.dedent("""\
    import torch

    for size in (8, 16):
        x = torch.zeros(2, size)
        y = x.view(-1)
    z = torch.randn(3, 4)[mask_from_nowhere]
    a, b = torch.randn(2, 5), torch.randn(3, 5)
    """)


async def test_several_shapes_share_one_hint_and_unknown_shapes_get_none(client, tmp_path):
    uri = open_document(client, tmp_path / "loop.py", LOOP)
    await diagnostics_for(client, uri)
    hints = {(h.position.line, label_text(h)) for h in await inlay_hints(client, uri)}
    assert (3, ": [2, 8] | [2, 16]") in hints
    assert (4, ": [16] | [32]") in hints
    assert not any(line == 5 for line, _ in hints)  # z: rank unknown, no hint
    assert (6, ": [2, 5]") in hints and (6, ": [3, 5]") in hints


async def test_hints_off_by_initialization_setting(raw_client, tmp_path):
    await initialize(raw_client, settings={"inlayHints": {"enabled": False}})
    uri = open_document(raw_client, corpus_file("lenet.py"))
    await diagnostics_for(raw_client, uri)
    assert await inlay_hints(raw_client, uri) == []


async def test_hints_off_by_configuration_change_refreshes_the_client(raw_client):
    client = raw_client
    await initialize(client)
    uri = open_document(client, corpus_file("lenet.py"))
    await diagnostics_for(client, uri)
    assert await inlay_hints(client, uri)
    client.set_configuration({"inlayHints": {"enabled": False}}, section="shapelens")
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings=None))
    await wait_for(lambda: client.inlay_refreshes > 0, message="workspace/inlayHint/refresh")
    assert await inlay_hints(client, uri) == []
    # pushed settings (VS Code's synchronize.configurationSection) work as well
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"shapelens": {"inlayHints.enabled": True}}))
    await wait_for(lambda: client.inlay_refreshes > 1, message="a second refresh")
    assert await inlay_hints(client, uri)
