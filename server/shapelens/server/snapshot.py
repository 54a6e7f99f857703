"""What the engine analyses: the text of one document, or of one notebook's code cells.

A :class:`Snapshot` is immutable and taken on the event loop when an analysis starts; the
worker thread only ever sees snapshots.  For a notebook, the code cells are joined in cell
order into one program (line ``n`` of the program is line ``n - span.first_line`` of one
cell), so the engine sees one module and its facts map back to cells line by line.  IPython
magics (``%time ...``) and shell escapes (``!pip ...``) are blanked, keeping the line count;
a cell magic (``%%bash``) blanks the whole cell unless it runs Python (``%%time``...).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Tuple

from .positions import split_lines

PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug", "python", "python3",
                      "pypy", "writefile"}
_MAGIC = re.compile(r"^(\s*)(%|!)")
_HELP = re.compile(r"^\s*[\w.]+\s*\?\??\s*$|^\s*\?\??[\w.]+\s*$")


@dataclass(frozen=True)
class CellSpan:
    """One code cell's place in a notebook program: program lines ``first_line`` ..
    ``first_line + line_count - 1`` (1-based) are the cell's lines 0 .. line_count - 1."""

    uri: str
    first_line: int
    line_count: int
    version: Optional[int] = None


@dataclass(frozen=True)
class Snapshot:
    key: str                         # the document's URI, or the notebook's URI
    uri: str                         # where diagnostics go (the document; "" for a notebook)
    path: str                        # file system path, for the engine and the probe
    text: str
    lines: Tuple[str, ...]
    version: Any                     # the document version, or (notebook, cell versions)
    cells: Tuple[CellSpan, ...] = ()

    @property
    def is_notebook(self) -> bool:
        return bool(self.cells) or not self.uri

    def cell_of(self, line: int) -> Optional[CellSpan]:
        """The cell holding program line ``line`` (1-based)."""
        for cell in self.cells:
            if cell.first_line <= line < cell.first_line + cell.line_count:
                return cell
        return None

    def locate(self, line: int) -> Tuple[Optional[str], int]:
        """Program line (1-based) -> (URI, 0-based line in that document)."""
        if not self.cells:
            return (self.uri or None), line - 1
        cell = self.cell_of(line)
        if cell is None:
            return None, line - 1
        return cell.uri, line - cell.first_line

    def program_line(self, uri: str, line0: int) -> Optional[int]:
        """(URI, 0-based line) -> program line (1-based), None for a URI not in here."""
        if not self.cells:
            return line0 + 1 if uri == self.uri else None
        for cell in self.cells:
            if cell.uri == uri:
                return cell.first_line + line0
        return None

    def cell_lines(self, uri: str) -> Sequence[str]:
        for cell in self.cells:
            if cell.uri == uri:
                return self.lines[cell.first_line - 1:cell.first_line - 1 + cell.line_count]
        return ()


def document_snapshot(uri: str, path: str, text: str, version) -> Snapshot:
    return Snapshot(uri, uri, path, text, tuple(split_lines(text)), version)


def notebook_snapshot(uri: str, path: str, cells, version) -> Snapshot:
    """``cells``: (cell URI, text, version) of the code cells, in notebook order."""
    lines = []
    spans = []
    for cell_uri, text, cell_version in cells:
        raw = split_lines(text)
        cell_lines = [_python_line(line) for line in raw]
        if raw[0].lstrip().startswith("%%"):
            magic = raw[0].lstrip()[2:].split(None, 1)
            if not magic or magic[0] not in PYTHON_CELL_MAGICS:
                cell_lines = [""] * len(cell_lines)
        spans.append(CellSpan(cell_uri, len(lines) + 1, len(cell_lines), cell_version))
        lines.extend(cell_lines)
    return Snapshot(uri, "", path, "\n".join(lines), tuple(lines),
                    (version, tuple(s.version for s in spans)), tuple(spans))


def _python_line(line: str) -> str:
    """Blank an IPython magic, shell escape or help line; keep indentation-significant
    blocks valid by writing ``pass`` where the line was indented."""
    match = _MAGIC.match(line)
    if match is None and not _HELP.match(line):
        return line
    indent = len(line) - len(line.lstrip())
    return line[:indent] + "pass" if indent else ""
