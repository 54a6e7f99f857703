"""Cross-file: a change in a workspace file re-analyses the open documents that import from
it, whether the change is an unsaved edit of an open buffer or a change on disk."""
from __future__ import annotations

import pytest

import textwrap

from lsprotocol import types

from lsp_helpers import (by_code, change_document, diagnostics_for, edit, errors, open_document,
                         uri_of, wait_for)

# the whole module on one xdist worker, so its shared server starts once
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("lsp-crossfile")]

BLOCKS = textwrap.dedent("""\
    import torch.nn as nn


    class Stem(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 16, kernel_size=3, padding=1)

        def forward(self, x):
            return self.conv(x)
    """)

MAIN = textwrap.dedent("""\
    import torch
    import torch.nn as nn

    from models.blocks import Stem


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = Stem()
            self.head = nn.Conv2d(16, 8, kernel_size=1)

        def forward(self, x):
            h = self.stem(x)
            return self.head(h)


    x = torch.randn(1, 3, 32, 32)
    y = Net()(x)
    """)


def workspace(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "__init__.py").write_text("")
    (tmp_path / "models" / "blocks.py").write_text(BLOCKS)
    (tmp_path / "main.py").write_text(MAIN)
    return tmp_path / "main.py", tmp_path / "models" / "blocks.py"


async def next_publication(client, uri, after: int, predicate):
    def found():
        for params in client.publications[after:]:
            if params.uri == uri and predicate(params.diagnostics):
                return params
        return None
    return await wait_for(found, message="a new publication for %s" % uri)


async def test_unsaved_edit_of_an_imported_file_reanalyses_the_importer(client, tmp_path):
    # imports resolve from the importing file's folder (then the workspace roots)
    main, blocks = workspace(tmp_path)
    main_uri = open_document(client, main)
    assert not errors(await diagnostics_for(client, main_uri))
    blocks_uri = open_document(client, blocks)
    await diagnostics_for(client, blocks_uri)

    count = len(client.publications)
    line = BLOCKS.split("\n").index("        self.conv = nn.Conv2d(3, 16, kernel_size=3, padding=1)")
    col = BLOCKS.split("\n")[line].index("3, 16")
    change_document(client, blocks_uri, 2, [edit(line, col, col + 1, "4")])  # not saved
    params = await next_publication(client, main_uri, count, errors)
    [d] = by_code(params.diagnostics, "conv-in-channels")
    assert d.range.start.line == MAIN.split("\n").index("        h = self.stem(x)")
    assert "weight of size [16, 4, 3, 3]" in d.message
    assert any(r.location.uri == blocks_uri for r in d.related_information)

    # closing the unsaved buffer: the importer reads the file on disk again
    count = len(client.publications)
    client.opened.discard(blocks_uri)
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=blocks_uri)))
    await next_publication(client, main_uri, count, lambda ds: not errors(ds))


async def test_change_on_disk_reported_by_the_watcher_reanalyses_the_importer(client, tmp_path):
    main, blocks = workspace(tmp_path)
    main_uri = open_document(client, main)
    assert not errors(await diagnostics_for(client, main_uri))

    count = len(client.publications)
    blocks.write_text(BLOCKS.replace("Conv2d(3, 16", "Conv2d(5, 16"))
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=uri_of(blocks), type=types.FileChangeType.Changed)]))
    params = await next_publication(client, main_uri, count, errors)
    assert "weight of size [16, 5, 3, 3]" in by_code(params.diagnostics,
                                                     "conv-in-channels")[0].message
