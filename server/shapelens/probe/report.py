"""Turn a probe result into the report form of ``shapelens check --format json`` (SPEC §5).

Lines and columns are 1-based; columns count characters (code points) of the source line.
"""
from __future__ import annotations

import io
import re
import tokenize

from .runner import ProbeResult

RUNTIME_ERROR_CODE = "runtime-error"
SKIPPED_CODE = "probe-skipped"


def probe_json(result: ProbeResult, path: str, source: str) -> dict:
    """The whole JSON document for one probed file: ``{"version": 1, "files": [...]}``.

    A top-level ``"probe"`` object adds how the run went (status, message, device, seconds),
    what it held back (``skipped``: line and message, also information diagnostics in the file
    entry), the values the symbolic dims of sample inputs took (``dims``; ``default_dims``:
    those not given) and its memory limit, which ``check`` has no use for.
    """
    return {
        "version": 1,
        "files": [file_report(result, path, source)],
        "probe": {"status": result.status, "message": result.message,
                  "device": result.device, "elapsed_s": result.elapsed_s,
                  "skipped": [{"line": n.line, "message": n.message} for n in result.skipped],
                  "dims": dict(result.dims), "default_dims": list(result.default_dims),
                  "memory_limit_mb": result.memory_limit_mb},
    }


def file_report(result: ProbeResult, path: str, source: str) -> dict:
    """One entry of ``files``: the probed shapes, and the run-time error as a diagnostic.

    Each shape's range covers the name on its line (the first plain occurrence, so the target
    of ``x = f(x)`` and the parameter on a ``def`` line); a name not found on its line gets
    the whole line.  The error diagnostic (code ``runtime-error``, message PyTorch's text) sits
    on the deepest traceback line in the file, with the calling lines as related information.
    What the run held back (a training loop cut short, a file not written, a refused download,
    where it stopped) is an information diagnostic ``probe-skipped`` at its line.
    """
    lines = source.splitlines()
    names = _name_columns(source)
    shapes = []
    for fact in result.facts:
        span = names.get((fact.line, fact.name)) or _line_span(lines, fact.line, whole=True)
        for shape in fact.shapes:
            shapes.append({"range": _range(fact.line, *span), "name": fact.name,
                           "shape": list(shape)})
    diagnostics = []
    error = result.error
    if result.status in ("error", "oom") and error is not None:
        line = error.lines[-1] if error.lines else 1
        related = [{"path": path, "range": _range(caller, *_line_span(lines, caller)),
                    "message": "called from here"}
                   for caller in reversed(error.lines[:-1])]
        diagnostics.append({
            "range": _range(line, *_line_span(lines, line)), "severity": "error",
            "code": RUNTIME_ERROR_CODE, "message": error.message or error.type,
            "exception": error.type, "source": "probe (%s)" % result.device,
            "related": related})
    for note in result.skipped:
        line = note.line if 1 <= note.line <= len(lines) else 1
        diagnostics.append({
            "range": _range(line, *_line_span(lines, line)), "severity": "information",
            "code": SKIPPED_CODE, "message": "probe: " + note.message,
            "source": "probe (%s)" % result.device, "related": []})
    return {"path": path, "diagnostics": diagnostics, "shapes": shapes}


def format_text(result: ProbeResult, path: str, source: str) -> str:
    """``path:line:col: shape name [dims]`` per shape, ``path:line:col: error runtime-error
    message`` for the run-time error and ``path:line:col: information probe-skipped message``
    for what the run held back, in line order, one per line."""
    report = file_report(result, path, source)
    rows = []
    for entry in report["shapes"]:
        start = entry["range"]["start"]
        dims = ", ".join(str(d) for d in entry["shape"])
        rows.append((start["line"], start["column"], 1,
                     "%s:%d:%d: shape %s [%s]" % (path, start["line"], start["column"],
                                                  entry["name"], dims)))
    for diagnostic in report["diagnostics"]:
        start = diagnostic["range"]["start"]
        message = " ".join(diagnostic["message"].split())  # PyTorch messages may span lines
        rows.append((start["line"], start["column"], 0,
                     "%s:%d:%d: %s %s %s" % (path, start["line"], start["column"],
                                             diagnostic["severity"], diagnostic["code"],
                                             message)))
    return "".join(row[3] + "\n" for row in sorted(rows))


def _range(line: int, start_column: int, end_column: int) -> dict:
    return {"start": {"line": line, "column": start_column},
            "end": {"line": line, "column": end_column}}


def _line_span(lines: list[str], line: int, whole: bool = False) -> tuple[int, int]:
    """Columns of the code on a line (without indentation; the whole line if ``whole``)."""
    if not 1 <= line <= len(lines):
        return 1, 1
    text = lines[line - 1].rstrip()
    start = 1 if whole else len(text) - len(text.lstrip()) + 1
    return start, len(text) + 1


def _name_columns(source: str) -> dict[tuple[int, str], tuple[int, int]]:
    """(line, name) -> (start, end) columns of the first plain (not ``.attr``) use of a name."""
    found: dict[tuple[int, str], tuple[int, int]] = {}
    previous = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.NAME and not (previous is not None
                                                    and previous.string == "."):
                (line, column), (_, end) = token.start, token.end
                found.setdefault((line, token.string), (column + 1, end + 1))
            if token.type not in (tokenize.NL, tokenize.COMMENT):
                previous = token
    except (tokenize.TokenError, IndentationError, SyntaxError):
        # the probed source did not even tokenize: fall back to a plain search per line
        for number, text in enumerate(source.splitlines(), 1):
            for match in re.finditer(r"(?<![\w.])[^\W\d]\w*", text):
                found.setdefault((number, match.group()), (match.start() + 1, match.end() + 1))
    return found
