"""Analysis results: running the engine on a snapshot (in the analysis worker, worker.py) and
indexing its report for the editor views.  Pure: no LSP, no event loop.

Syntax-error policy.  The engine recovers from syntax errors itself by blanking the lines
that hold them (``Report.skipped_lines``), so a half-typed line usually costs only that line.
When it cannot recover at all (the text does not parse and the report is empty: no shapes,
no layers, no modules, no diagnostics), or when the engine fails, the result *carries over*
the last good report: every fact whose lines are unchanged since that report (found with a
line diff, :func:`line_map`) is kept and moved to where those lines are now; facts on edited lines
are dropped.  The last good report stays the source of carried facts until a text parses
again, so a run of broken edits never degrades the results further.
"""
from __future__ import annotations

import bisect
import dataclasses
import itertools
import logging
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from shapelens.analysis.report import (ExprShape, Fix, LayerRef, Loc, Range, Related, Report,
                                       ShapeFact, TextEdit)

from .snapshot import Snapshot
from .worker import engine_report, is_empty

logger = logging.getLogger("shapelens")

_result_ids = itertools.count(1)


# ----------------------------------------------------------------------------- the index

# Hover priority among ranges of the same size: a layer beats a class name beats a bound
# name beats a plain expression.
RANK = {"layer": 0, "module": 1, "name": 2, "expr": 3}


@dataclass(frozen=True)
class Entry:
    range: Range
    kind: str                 # "layer" | "module" | "name" | "expr"
    payload: object           # layer index | ModuleSignature | (name, shapes) | shapes

    def contains(self, line: int, col: int) -> bool:
        r = self.range
        if line < r.start_line or line > r.end_line:
            return False
        if line == r.start_line and col < r.start_col:
            return False
        # half-open: the character under the cursor must be inside the range
        if line == r.end_line and col >= r.end_col:
            return False
        return True

    def size(self) -> tuple:
        r = self.range
        return (r.end_line - r.start_line, r.end_col - r.start_col if
                r.end_line == r.start_line else r.end_col)


@dataclass(frozen=True)
class Hint:
    """One inlay hint: after the bound name ``name`` at (line, col)."""

    line: int
    col: int
    name: str
    shapes: Tuple[tuple, ...]       # distinct static shapes (rank known)
    annotated: bool                 # the name is followed by an annotation (``x: Tensor``)
    range: Range


class FactIndex:
    """Line-indexed facts of one report, for hovers and inlay hints."""

    MAX_SPAN = 200  # a multi-line range is indexed on each of its lines, up to this many

    def __init__(self, report: Report, lines: Sequence[str]):
        # Keys are plain int tuples: hashing Range objects and symbolic shapes is what made
        # this slow on big files; shapes are only compared when a range repeats.
        entries: List[Entry] = []
        for ref in report.layer_refs:
            entries.append(Entry(ref.range, "layer", ref.layer))
        for module in report.modules:
            entries.append(Entry(module.range, "module", module))
        names: Dict[tuple, list] = {}
        facts_by_line: Dict[int, Dict[str, list]] = {}
        for fact in report.shapes:
            r = fact.range
            key = (r.start_line, r.start_col, r.end_line, r.end_col, fact.name)
            found = names.get(key)
            if found is None:
                names[key] = [r, fact.name, [fact.shape]]
            elif fact.shape not in found[2]:
                found[2].append(fact.shape)
            per_line = facts_by_line.setdefault(r.start_line, {}).setdefault(fact.name, [])
            if fact.shape not in per_line:
                per_line.append(fact.shape)
        for r, name, shapes in names.values():
            entries.append(Entry(r, "name", (name, tuple(shapes))))
        exprs: Dict[tuple, list] = {}
        for expr in report.expr_shapes:
            r = expr.range
            key = (r.start_line, r.start_col, r.end_line, r.end_col)
            found = exprs.get(key)
            if found is None:
                exprs[key] = [r, [expr.shape]]
            elif expr.shape not in found[1]:
                found[1].append(expr.shape)
        for r, shapes in exprs.values():
            entries.append(Entry(r, "expr", tuple(shapes)))

        by_line: Dict[int, List[Entry]] = {}
        for entry in entries:
            first, last = entry.range.start_line, entry.range.end_line
            for line in range(first, min(last, first + self.MAX_SPAN) + 1):
                bucket = by_line.get(line)
                if bucket is None:
                    by_line[line] = [entry]
                else:
                    bucket.append(entry)
        self.by_line = by_line
        self.facts_by_line = facts_by_line
        self.hints = _hints(names.values(), lines)

    def at(self, line: int, col: int) -> Optional[Entry]:
        """The innermost fact under the cursor, or None."""
        best = None
        for entry in self.by_line.get(line, ()):
            if entry.contains(line, col):
                key = (entry.size(), RANK[entry.kind])
                if best is None or key < best[0]:
                    best = (key, entry)
        return best[1] if best else None

    def static_shapes(self, line: int, name: str) -> List[tuple]:
        return self.facts_by_line.get(line, {}).get(name, [])


def _hints(names, lines: Sequence[str]) -> List[Hint]:
    """One hint per (line, name), after the leftmost binding of the name on that line."""
    grouped: Dict[tuple, list] = {}
    for r, name, shapes in names:
        key = (r.start_line, name)
        found = grouped.get(key)
        if found is None:
            grouped[key] = [r, [s for s in shapes if s is not None]]
            continue
        if (r.start_col, r.end_col) < (found[0].start_col, found[0].end_col):
            found[0] = r
        found[1].extend(s for s in shapes if s is not None and s not in found[1])
    hints = []
    for (line, name), (r, shapes) in grouped.items():
        if not shapes or all(all(d is None for d in s) for s in shapes):
            continue  # nothing known: no hint at all
        text = lines[r.end_line - 1] if 0 < r.end_line <= len(lines) else ""
        rest = text[r.end_col:].lstrip()
        annotated = rest.startswith(":") and not rest.startswith(":=")
        hints.append(Hint(line, r.end_col, name, tuple(shapes), annotated, r))
    hints.sort(key=lambda h: (h.range.end_line, h.col))
    return hints


# ----------------------------------------------------------------------------- results

@dataclass(frozen=True)
class AnalysisResult:
    id: int
    snapshot: Snapshot
    report: Report
    index: FactIndex
    carried: bool = False          # facts carried over from ``good`` (text did not parse)
    failure: Optional[str] = None  # the engine raised (bug): what it said

    @property
    def is_good(self) -> bool:
        """A result later broken texts may carry facts from."""
        return not self.carried and self.failure is None


@dataclass(frozen=True)
class View:
    """The last result, seen from the text as it is now (hovers and inlay hints are answered
    from it at once, while the analysis of the newest text runs).  A position on a line left
    unchanged since the analysed text maps to that line; other lines have no facts."""

    result: AnalysisResult
    current: Snapshot                           # the text now (may be result.snapshot)
    to_result: Optional[Dict[int, int]] = None  # current line -> analysed line (None: same)
    to_current: Optional[Dict[int, int]] = None

    @classmethod
    def of(cls, result: AnalysisResult, current: Snapshot) -> "View":
        if current.version == result.snapshot.version or current.lines == result.snapshot.lines:
            return cls(result, current)
        to_current = line_map(result.snapshot.lines, current.lines)
        return cls(result, current, {new: old for old, new in to_current.items()}, to_current)

    @property
    def stale(self) -> bool:
        """The result is for an older text."""
        return self.to_current is not None

    def result_line(self, uri: str, line0: int) -> Optional[int]:
        """(URI, 0-based line now) -> the analysed program line (1-based), or None."""
        line = self.current.program_line(uri, line0)
        if line is None or self.to_result is None:
            return line
        return self.to_result.get(line)

    def current_line(self, line: int) -> Optional[int]:
        """An analysed program line -> where that line is now, or None."""
        return line if self.to_current is None else self.to_current.get(line)

    def current_range(self, r: Range) -> Optional[Range]:
        """An analysed range -> the same text now, or None when its lines changed."""
        return r if self.to_current is None else move_range(self.to_current, r)


def analyse(snapshot: Snapshot, resolver, good: Optional[AnalysisResult]) -> AnalysisResult:
    """Run the engine on ``snapshot`` in this process (the server runs it in its worker
    process: :func:`engine_report` there, :func:`make_result` here)."""
    path = snapshot.path or snapshot.key
    return make_result(snapshot, *engine_report(snapshot.text, path, resolver), good)


def make_result(snapshot: Snapshot, report: Report, failure: Optional[str], parses: bool,
                good: Optional[AnalysisResult]) -> AnalysisResult:
    """The engine's report of ``snapshot`` indexed for the views; when the engine failed, or
    found nothing in a text that does not parse, the facts of ``good`` carried over."""
    carried = False
    if good is not None and not is_empty(good.report) and (
            failure is not None or (is_empty(report) and not parses)):
        report = carry_over(good.report, good.snapshot.lines, snapshot.lines)
        carried = True
    return AnalysisResult(next(_result_ids), snapshot, report,
                          FactIndex(report, snapshot.lines), carried, failure)


# ----------------------------------------------------------------------------- carry-over

def line_map(old: Sequence[str], new: Sequence[str]) -> Dict[int, int]:
    """1-based old line -> new line, for the lines a diff finds unchanged.

    A patience-style diff, O(n log n) whatever the text: the common head and tail, then the
    lines that occur exactly once on each side of the changed middle, kept in order (the
    longest increasing run), each grown over the equal lines around it.  difflib's
    ``SequenceMatcher`` is quadratic on the repeated lines model code is full of (a
    20,000-line file took 89 s for one keystroke).  A line the diff cannot place is simply
    not carried."""
    mapping: Dict[int, int] = {}
    lo, old_hi, new_hi = 0, len(old), len(new)
    while lo < old_hi and lo < new_hi and old[lo] == new[lo]:
        mapping[lo + 1] = lo + 1
        lo += 1
    while old_hi > lo and new_hi > lo and old[old_hi - 1] == new[new_hi - 1]:
        old_hi -= 1
        new_hi -= 1
        mapping[old_hi + 1] = new_hi + 1
    anchors = _unique_anchors(old, new, lo, old_hi, lo, new_hi)
    # grow each anchor over the equal lines around it, back to what is already matched and
    # forward to the next anchor
    last_i, last_j = lo - 1, lo - 1
    anchors.append((old_hi, new_hi))
    for k in range(len(anchors) - 1):
        i, j = anchors[k]
        a, b = i - 1, j - 1
        while a > last_i and b > last_j and old[a] == new[b]:
            mapping[a + 1] = b + 1
            a, b = a - 1, b - 1
        mapping[i + 1] = j + 1
        next_i, next_j = anchors[k + 1]
        while i + 1 < next_i and j + 1 < next_j and old[i + 1] == new[j + 1]:
            i, j = i + 1, j + 1
            mapping[i + 1] = j + 1
        last_i, last_j = i, j
    return mapping


def _unique_anchors(old, new, old_lo, old_hi, new_lo, new_hi) -> List[Tuple[int, int]]:
    """(old, new) 0-based index pairs of the lines unique on both sides of the given ranges,
    the longest run of them in the same order on both sides."""
    seen: Dict[str, list] = {}
    for i in range(old_lo, old_hi):
        entry = seen.get(old[i])
        if entry is None:
            seen[old[i]] = [i, None, 1, 0]
        else:
            entry[2] += 1
    for j in range(new_lo, new_hi):
        entry = seen.get(new[j])
        if entry is not None:
            entry[1] = j
            entry[3] += 1
    pairs = [(e[0], e[1]) for e in seen.values() if e[2] == 1 and e[3] == 1]
    pairs.sort()
    # longest increasing subsequence of the new indices (patience sorting)
    tails: List[int] = []           # tails[k]: the pair ending the best run of length k + 1
    tail_new: List[int] = []        # its new index, for bisect
    back: List[int] = []            # the pair before each pair in its run
    for n, (_, j) in enumerate(pairs):
        k = bisect.bisect_left(tail_new, j)
        back.append(tails[k - 1] if k else -1)
        if k == len(tails):
            tails.append(n)
            tail_new.append(j)
        else:
            tails[k] = n
            tail_new[k] = j
    run = []
    n = tails[-1] if tails else -1
    while n >= 0:
        run.append(pairs[n])
        n = back[n]
    run.reverse()
    return run


def move_range(mapping: Dict[int, int], r: Range) -> Optional[Range]:
    """A range moved with a :func:`line_map`, or None when its lines did not all survive."""
    start, end = mapping.get(r.start_line), mapping.get(r.end_line)
    if start is None or end is None or end - start != r.end_line - r.start_line:
        return None
    return Range(start, r.start_col, end, r.end_col)


def carry_over(report: Report, old_lines: Sequence[str], new_lines: Sequence[str]) -> Report:
    """``report`` restricted to the lines unchanged between ``old_lines`` and ``new_lines``,
    moved to where those lines are now."""
    mapping = line_map(old_lines, new_lines)

    def move(r: Range) -> Optional[Range]:
        return move_range(mapping, r)

    def move_loc(loc: Loc) -> Optional[Loc]:
        if loc.path is not None:
            return loc
        moved = move(loc.range)
        return None if moved is None else Loc(moved, None)

    diagnostics = []
    for d in report.diagnostics:
        r = move(d.range)
        if r is None:
            continue
        related = tuple(Related(loc, x.message) for x in d.related
                        if (loc := move_loc(x.loc)) is not None)
        fixes = []
        for fix in d.fixes:
            edits = [TextEdit(loc, e.new_text) for e in fix.edits
                     if (loc := move_loc(e.loc)) is not None]
            if len(edits) == len(fix.edits):
                fixes.append(Fix(fix.title, tuple(edits)))
        diagnostics.append(dataclasses.replace(d, range=r, related=related, fixes=tuple(fixes)))
    shapes = tuple(ShapeFact(f.name, r, f.shape) for f in report.shapes
                   if (r := move(f.range)) is not None)
    exprs = tuple(ExprShape(r, e.shape) for e in report.expr_shapes
                  if (r := move(e.range)) is not None)
    layers = tuple(dataclasses.replace(layer, loc=move_loc(layer.loc) or layer.loc)
                   for layer in report.layers)
    refs = tuple(LayerRef(r, ref.layer) for ref in report.layer_refs
                 if (r := move(ref.range)) is not None)
    modules = tuple(dataclasses.replace(m, range=r) for m in report.modules
                    if (r := move(m.range)) is not None)
    samples = tuple(dataclasses.replace(s, line=mapping[s.line]) for s in report.samples
                    if s.line in mapping)
    return dataclasses.replace(report, diagnostics=tuple(diagnostics), shapes=shapes,
                               expr_shapes=exprs, layers=layers, layer_refs=refs,
                               modules=modules, samples=samples, skipped_lines=())


__all__ = ["AnalysisResult", "FactIndex", "Entry", "Hint", "View", "analyse", "carry_over",
           "line_map", "make_result"]
