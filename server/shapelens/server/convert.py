"""Engine positions -> LSP locations, for documents, notebook cells and other files.

All column conversion goes through :class:`~.positions.Codec`; this module only decides
*which* lines a range is measured against (the analysed snapshot, a notebook cell, or another
workspace file) and which URI it lands in.
"""
from __future__ import annotations

import os
from typing import Callable, Optional, Sequence, Tuple

from lsprotocol import types
from pygls.uris import from_fs_path

from shapelens.analysis.report import Loc, Range

from .positions import Codec, split_lines
from .snapshot import Snapshot


def snapshot_range(snapshot: Snapshot, codec: Codec,
                   r: Range) -> Tuple[Optional[str], types.Range]:
    """A range in the analysed text -> (URI, LSP range); a notebook range lands in the cell
    holding its start (an end in a later cell is clamped to the end of the start cell)."""
    lsp_range = codec.range(snapshot.lines, r.start_line, r.start_col, r.end_line, r.end_col)
    if not snapshot.cells:
        return snapshot.uri, lsp_range
    uri, start_line = snapshot.locate(r.start_line)
    cell = snapshot.cell_of(r.start_line)
    if cell is None:
        return None, lsp_range
    end_line = r.end_line - cell.first_line
    end = lsp_range.end
    if end_line >= cell.line_count:
        last = cell.first_line + cell.line_count - 1
        end_line = cell.line_count - 1
        end = codec.position(snapshot.lines, last, len(snapshot.lines[last - 1]))
    return uri, types.Range(
        start=types.Position(line=start_line, character=lsp_range.start.character),
        end=types.Position(line=end_line, character=end.character))


def loc_location(snapshot: Snapshot, codec: Codec, loc: Loc,
                 read: Callable[[str], Optional[str]]) -> Optional[types.Location]:
    """A Loc (``path`` None = the analysed text) -> LSP Location, or None if nowhere."""
    if loc.path is None:
        uri, lsp_range = snapshot_range(snapshot, codec, loc.range)
        return None if uri is None else types.Location(uri=uri, range=lsp_range)
    uri, lsp_range = file_range(loc.path, loc.range, codec, read)
    return types.Location(uri=uri, range=lsp_range)


def file_range(path: str, r: Range, codec: Codec,
               read: Callable[[str], Optional[str]]) -> Tuple[str, types.Range]:
    """A range in another workspace file (its open buffer, or the disk)."""
    text = read(path)
    lines: Sequence[str] = split_lines(text) if text is not None else ()
    uri = from_fs_path(os.path.abspath(path)) or path
    return uri, codec.range(lines, r.start_line, r.start_col, r.end_line, r.end_col)


def line_extent(lines: Sequence[str], line: int) -> Range:
    """The non-blank extent of a 1-based line (where a runtime error is shown)."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    return Range(line, start, line, max(end, start))
