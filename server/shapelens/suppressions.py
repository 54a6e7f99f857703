"""Suppression comments: ``# shapelens: ignore[code, ...]`` and ``# shapelens: ignore`` on a
line silence the diagnostics that start on that line (the listed codes, or all);
``# shapelens: ignore-file`` (optionally ``ignore-file[code, ...]``) anywhere on a line of its
own silences them in the whole file.  The comment may follow another one on the same line
(``x = f(y)  # shape: [N, 3]  # shapelens: ignore[shape-contract]``).

Pure: text and diagnostics in, the diagnostics kept and the unused suppressions out.  Both the
command line and the language server apply it; ``--warn-unused-ignores`` turns the unused ones
into ``unused-ignore`` diagnostics.
"""
from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, replace
from typing import Iterable, List, Optional, Sequence, Tuple

from .analysis.report import Diagnostic, Range

UNUSED_CODE = "unused-ignore"
PATTERN = re.compile(
    r"#\s*shapelens\s*:\s*ignore(?P<file>-file)?(?![\w-])\s*(?:\[(?P<codes>[^\]]*)\])?")


@dataclass(frozen=True)
class Suppression:
    """One suppression comment: ``line`` (1-based; the whole file when ``whole_file``), the
    ``codes`` it names (empty: every code) and the comment's range."""

    line: int
    codes: Tuple[str, ...]
    whole_file: bool
    range: Range

    def covers(self, diagnostic: Diagnostic) -> bool:
        if not self.whole_file and diagnostic.range.start_line != self.line:
            return False
        return not self.codes or diagnostic.code in self.codes

    @property
    def text(self) -> str:
        kind = "ignore-file" if self.whole_file else "ignore"
        return "# shapelens: %s%s" % (kind, "[%s]" % ", ".join(self.codes) if self.codes else "")


def find_suppressions(text: str) -> List[Suppression]:
    """Every suppression comment in ``text`` (Python source; comments only, never strings)."""
    if "shapelens" not in text:
        return []
    found: List[Suppression] = []
    for line, col, comment, own_line in _comments(text):
        for m in PATTERN.finditer(comment):
            codes = tuple(c.strip() for c in (m.group("codes") or "").split(",") if c.strip())
            whole_file = bool(m.group("file"))
            if whole_file and not own_line:
                continue  # ignore-file belongs on a line of its own
            start = col + m.start()
            found.append(Suppression(line, codes, whole_file,
                                     Range(line, start, line, col + m.end())))
    return found


def _comments(text: str) -> Iterable[Tuple[int, int, str, bool]]:
    """(line, column, text, alone on its line) of each comment; a tokenizer error (code being
    typed) ends the search where it happened."""
    lines = text.splitlines()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                line, col = tok.start
                before = lines[line - 1][:col] if line <= len(lines) else ""
                yield line, col, tok.string, not before.strip()
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return


@dataclass(frozen=True)
class Applied:
    """The diagnostics left after the suppressions, and the suppressions that silenced nothing
    (with, for a comment that lists codes, the codes that silenced nothing)."""

    kept: Tuple[Diagnostic, ...]
    unused: Tuple[Tuple[Suppression, Tuple[str, ...]], ...]


def apply_suppressions(text: str, diagnostics: Sequence[Diagnostic],
                       suppressions: Optional[Sequence[Suppression]] = None) -> Applied:
    """``diagnostics`` of the file ``text`` less those its suppression comments silence."""
    if suppressions is None:
        suppressions = find_suppressions(text)
    if not suppressions:
        return Applied(tuple(diagnostics), ())
    used_codes = {id(s): set() for s in suppressions}
    kept = []
    for d in diagnostics:
        silencing = [s for s in suppressions if s.covers(d)]
        for s in silencing:
            used_codes[id(s)].add(d.code)
        if not silencing:
            kept.append(d)
    unused = []
    for s in suppressions:
        used = used_codes[id(s)]
        if s.codes:
            idle = tuple(c for c in s.codes if c not in used)
            if idle:
                unused.append((s, idle))
        elif not used:
            unused.append((s, ()))
    return Applied(tuple(kept), tuple(unused))


def unused_diagnostics(applied: Applied) -> List[Diagnostic]:
    """An ``unused-ignore`` warning for each suppression (or listed code) that silenced
    nothing."""
    out = []
    for s, idle in applied.unused:
        if idle and len(idle) < len(s.codes):
            message = "unused %s in %r: no %s diagnostic %s" % (
                "code" if len(idle) == 1 else "codes", s.text, " or ".join(idle),
                "in this file" if s.whole_file else "on this line")
        else:
            message = "unused %r: nothing to silence %s" % (
                s.text, "in this file" if s.whole_file else "on this line")
        out.append(Diagnostic(s.range, "warning", UNUSED_CODE, message))
    return out


def shown_diagnostics(text: str, diagnostics, config, warn_unused_ignores: bool):
    """``diagnostics`` of the file ``text`` as they are shown under ``config``: severities
    applied ("off" dropped), suppressed ones removed, unused suppressions reported."""
    def leveled(items):
        out = []
        for d in items:
            level = config.severity_of(d.code, d.severity)
            if level != "off":
                out.append(d if level == d.severity else replace(d, severity=level))
        return out

    applied = apply_suppressions(text, leveled(diagnostics))
    if not warn_unused_ignores or not applied.unused:
        return list(applied.kept)
    found = list(applied.kept) + leveled(unused_diagnostics(applied))
    return sorted(found, key=lambda d: (d.range.start_line, d.range.start_col))


def suppression_edit(line_text: str, code: str) -> Optional[Tuple[int, int, str]]:
    """How to silence ``code`` on a line whose text is ``line_text``: (start column, end
    column, new text) of the edit, columns in code points; None when no comment can go there
    (a line continued with a backslash).  Adds the code to a ``# shapelens: ignore[...]``
    already on the line, else appends one at the end (after any other comment, so that a
    ``# shape:`` comment keeps working)."""
    comment_at = _comment_start(line_text)
    if comment_at is not None:
        for m in PATTERN.finditer(line_text, comment_at):
            if m.group("file") or m.group("codes") is None:
                continue
            codes = [c.strip() for c in m.group("codes").split(",") if c.strip()]
            if code not in codes:
                codes.append(code)
            return m.start(), m.end(), "# shapelens: ignore[%s]" % ", ".join(codes)
    elif line_text.rstrip().endswith("\\"):
        return None
    end = len(line_text.rstrip())
    return end, len(line_text), "  # shapelens: ignore[%s]" % code


def _comment_start(line_text: str) -> Optional[int]:
    from .analysis.source import _comment_start as start
    return start(line_text)


__all__ = ["Suppression", "Applied", "find_suppressions", "apply_suppressions",
           "unused_diagnostics", "shown_diagnostics", "suppression_edit", "UNUSED_CODE"]
