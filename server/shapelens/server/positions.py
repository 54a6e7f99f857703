"""Positions: the one place where engine columns and LSP columns meet.

The engine reports lines 1-based and columns 0-based in *code points* (Python ``str``
indices; it has already turned ``ast``'s UTF-8 byte offsets into code points).  LSP counts
lines 0-based and columns in the negotiated position encoding: UTF-16 code units unless the
client offered ``utf-8`` or ``utf-32`` (``general.positionEncodings``).  Every conversion in
the server goes through :class:`Codec`; nothing else does column arithmetic.

Lines are split the way Python's tokenizer splits them (``\\r\\n``, ``\\r``, ``\\n``), which is
also what LSP clients do.  ``str.splitlines`` is *not* used: it also breaks at form feeds,
``\\x1c``–``\\x1e``, ``\\x85`` and ``\\u2028``/``\\u2029``, which are ordinary characters to
both ``ast`` and the editor.
"""
from __future__ import annotations

import re
from typing import List, Sequence, Tuple

from lsprotocol import types

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_WITH_BREAK = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> List[str]:
    """The lines of ``text`` without their line breaks; a trailing break gives a last ''."""
    return _LINE_BREAK.split(text)


def lines_with_breaks(text: str) -> List[str]:
    """The lines of ``text`` with their line breaks (``str.splitlines(True)``, but breaking
    only where Python and LSP do)."""
    return _LINE_WITH_BREAK.findall(text)


class Codec:
    """Converts code-point columns to and from the client's position encoding."""

    __slots__ = ("encoding", "_unit")

    def __init__(self, encoding: str = "utf-16"):
        self.encoding = str(encoding or "utf-16")
        if self.encoding == types.PositionEncodingKind.Utf8:
            self._unit = _utf8_units
        elif self.encoding == types.PositionEncodingKind.Utf32:
            self._unit = None
        else:
            self.encoding = types.PositionEncodingKind.Utf16.value
            self._unit = _utf16_units

    def units(self, text: str) -> int:
        """Length of ``text`` in client units."""
        if self._unit is None or text.isascii():
            return len(text)
        return self._unit(text)

    def to_client(self, line_text: str, col: int) -> int:
        """Code-point column ``col`` on ``line_text`` -> client units."""
        col = max(0, col)
        if self._unit is None or line_text.isascii():
            return col
        return self._unit(line_text[:col]) + max(0, col - len(line_text))

    def from_client(self, line_text: str, units: int) -> int:
        """Client-unit column -> code-point column; a column inside a surrogate pair (or a
        UTF-8 sequence) lands on the character it splits; past the end clamps to the end."""
        units = max(0, units)
        if self._unit is None or line_text.isascii():
            return min(units, len(line_text))
        count = 0
        for index, char in enumerate(line_text):
            if count >= units:
                return index
            count += self._unit(char)
            if count > units:
                return index
        return len(line_text)

    # ---- whole positions and ranges (``lines`` are the text the engine analysed)

    def position(self, lines: Sequence[str], line: int, col: int) -> types.Position:
        """Engine (1-based line, code-point col) -> LSP Position."""
        index = line - 1
        text = lines[index] if 0 <= index < len(lines) else ""
        return types.Position(line=max(index, 0), character=self.to_client(text, col))

    def range(self, lines: Sequence[str], start_line: int, start_col: int, end_line: int,
              end_col: int) -> types.Range:
        return types.Range(start=self.position(lines, start_line, start_col),
                           end=self.position(lines, end_line, end_col))

    def offset(self, lines_with_ends: Sequence[str], position: types.Position) -> int:
        """LSP Position -> index into the text whose :func:`lines_with_breaks` are given; a
        column past the end of its line means the end of the line (as LSP says)."""
        if position.line >= len(lines_with_ends):
            return sum(len(line) for line in lines_with_ends)
        before = sum(len(line) for line in lines_with_ends[:max(position.line, 0)])
        line = lines_with_ends[max(position.line, 0)].rstrip("\r\n")
        return before + self.from_client(line, position.character)

    def engine_position(self, lines: Sequence[str], position: types.Position) -> Tuple[int, int]:
        """LSP Position -> engine (1-based line, code-point col)."""
        index = position.line
        text = lines[index] if 0 <= index < len(lines) else ""
        return index + 1, self.from_client(text, position.character)


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _utf8_units(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))
