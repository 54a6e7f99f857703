"""Jupyter notebooks (LSP notebook document sync): the code cells are one program in cell
order; diagnostics, hovers and inlay hints land in the right cell; magics and shell lines are
ignored."""
from __future__ import annotations

import pytest

from lsprotocol import types

from lsp_helpers import errors, hover_text, inlay_hints, label_text, uri_of, wait_for

# the whole module on one xdist worker, so its shared server starts once
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("lsp-notebook")]

CELLS = [
    (types.NotebookCellKind.Code, "python",
     "import torch\nimport torch.nn as nn\n%matplotlib inline"),
    (types.NotebookCellKind.Markup, "markdown", "# A model\nwith a *bug*"),
    (types.NotebookCellKind.Code, "python",
     "class Net(nn.Module):\n"
     "    def __init__(self):\n"
     "        super().__init__()\n"
     "        self.conv1 = nn.Conv2d(3, 64, kernel_size=3, padding=1)\n"
     "\n"
     "    def forward(self, x):\n"
     "        h = self.conv1(x)\n"
     "        return h"),
    (types.NotebookCellKind.Code, "python",
     "!pip install --quiet nothing\n"
     "x = torch.randn(1, 12, 28, 28)\n"
     "y = Net()(x)"),
]


def open_notebook(client, tmp_path):
    path = tmp_path / "model.ipynb"
    notebook_uri = uri_of(path)
    cell_uris = ["vscode-notebook-cell:%s#W%dsZmlsZQ%%3D%%3D" % (path, i)
                 for i in range(len(CELLS))]
    client.opened_notebooks[notebook_uri] = cell_uris
    client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
        notebook_document=types.NotebookDocument(
            uri=notebook_uri, notebook_type="jupyter-notebook", version=1,
            cells=[types.NotebookCell(kind=kind, document=uri)
                   for (kind, _, _), uri in zip(CELLS, cell_uris)]),
        cell_text_documents=[types.TextDocumentItem(uri=uri, language_id=language, version=1,
                                                    text=text)
                             for (_, language, text), uri in zip(CELLS, cell_uris)]))
    return notebook_uri, cell_uris


async def test_notebook_cells_are_one_program(client, tmp_path):
    notebook_uri, cells = open_notebook(client, tmp_path)
    await wait_for(lambda: cells[2] in client.diagnostics, message="diagnostics for cell 2")

    # the error is in the model cell, at its own line numbers; the cause in the last cell
    [d] = errors(client.diagnostics[cells[2]])
    assert d.code == "conv-in-channels"
    assert (d.range.start.line, d.range.start.character) == (6, 12)  # h = self.conv1(x)
    related = {r.message.split(":")[0]: r.location for r in d.related_information}
    assert related["conv1 defined here"].uri == cells[2]
    assert related["conv1 defined here"].range.start.line == 3
    assert related["input created here"].uri == cells[3]
    assert related["input created here"].range.start.line == 1
    assert not client.diagnostics.get(cells[0]) and not client.diagnostics.get(cells[3])
    assert cells[1] not in client.diagnostics  # the markdown cell is not Python
    assert all(p.uri != notebook_uri for p in client.publications)

    # hovers, in cell coordinates
    assert "x: Tensor[1, 12, 28, 28]" in await hover_text(client, cells[3], 1, 0)
    hover = await hover_text(client, cells[2], 0, 7)
    assert "Net.forward(x: [1, 12, 28, 28])" in hover
    assert "**conv1**" in await hover_text(client, cells[2], 6, 18)

    # inlay hints: each cell gets its own
    hints = [(h.position.line, h.position.character, label_text(h))
             for h in await inlay_hints(client, cells[3])]
    assert (1, 1, ": [1, 12, 28, 28]") in hints
    assert all(line in (1, 2) for line, _, _ in hints)
    hints = [(h.position.line, label_text(h)) for h in await inlay_hints(client, cells[2])]
    assert (5, ": [1, 12, 28, 28]") in hints  # the forward parameter

    # editing the last cell fixes the input: the model cell's error goes away
    count = len(client.publications)
    client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        notebook_document=types.VersionedNotebookDocumentIdentifier(version=2,
                                                                    uri=notebook_uri),
        change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(
            text_content=[types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri=cells[3], version=2),
                changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(start=types.Position(line=1, character=19),
                                      end=types.Position(line=1, character=21)),
                    text="3")])]))))
    await wait_for(lambda: any(p.uri == cells[2] for p in client.publications[count:]),
                   message="a new publication for cell 2")
    assert not client.diagnostics[cells[2]]
    assert "x: Tensor[1, 3, 28, 28]" in await hover_text(client, cells[3], 1, 0)

    # closing the notebook clears every cell
    client.opened_notebooks.pop(notebook_uri)
    client.notebook_document_did_close(types.DidCloseNotebookDocumentParams(
        notebook_document=types.NotebookDocumentIdentifier(uri=notebook_uri),
        cell_text_documents=[types.TextDocumentIdentifier(uri=u) for u in cells]))
    await hover_text(client, cells[3], 1, 0)  # a round trip: the close was handled
    assert await hover_text(client, cells[3], 1, 0) == ""
