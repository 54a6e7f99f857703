"""``shapelens check PATH... [--format text|json|sarif]`` and ``shapelens probe FILE ...``.

Exit status of ``check``: 0 with no error diagnostics, 1 with errors, 2 on usage errors (bad
arguments, a path that does not exist).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Iterable, List

from . import __version__

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {"error": "error", "warning": "warning", "information": "note", "hint": "note"}


class UsageError(Exception):
    pass


def python_files(paths: Iterable[str]) -> List[str]:
    """The files to check: each path, or every ``*.py`` under a directory, sorted."""
    out = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and
                                 d not in ("__pycache__", "node_modules"))
                out.extend(os.path.join(root, f) for f in sorted(files) if f.endswith(".py"))
        elif os.path.isfile(path):
            out.append(path)
        else:
            raise UsageError("no such file or directory: %s" % path)
    return out


def check_files(files: List[str]):
    from .analysis import Report, analyze
    from .analysis.resolver import WorkspaceResolver
    resolver = WorkspaceResolver([os.getcwd()])
    reports = []
    for path in files:
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError as exc:
            raise UsageError("cannot read %s: %s" % (path, exc))
        try:
            reports.append(analyze(text, path, resolver))
        except Exception as exc:  # an analysis bug: say which file, check the others
            print("shapelens: internal error while checking %s: %s: %s" % (
                path, type(exc).__name__, str(exc)[:200]), file=sys.stderr)
            reports.append(Report(path, extra={"internal_errors": (
                "%s: %s" % (type(exc).__name__, exc),)}))
    return reports


def format_text(reports) -> str:
    lines = []
    for report in reports:
        for d in report.diagnostics:
            lines.append("%s:%d:%d: %s %s %s" % (report.path, d.range.start_line,
                                                 d.range.start_col + 1, d.severity, d.code,
                                                 d.message))
    return "\n".join(lines)


def format_shapes(reports) -> str:
    """``--shapes``: every name's shape, in the text format's style."""
    from .analysis.values import format_shape
    lines = []
    for report in reports:
        for f in sorted(report.shapes, key=lambda f: (f.range.start_line, f.range.start_col)):
            lines.append("%s:%d:%d: shape %s %s" % (report.path, f.range.start_line,
                                                    f.range.start_col + 1, f.name,
                                                    format_shape(f.shape)))
    return "\n".join(lines)


def format_json(reports) -> str:
    return json.dumps({"version": 1, "files": [r.to_json() for r in reports]}, indent=1)


def format_sarif(reports) -> str:
    from .analysis.errors import CODES
    rules = [{"id": code, "defaultConfiguration": {"level": SARIF_LEVEL[sev]}}
             for code, sev in CODES.items()]
    results = []
    for report in reports:
        for d in report.diagnostics:
            r = d.range
            results.append({
                "ruleId": d.code, "level": SARIF_LEVEL[d.severity],
                "message": {"text": d.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": report.path.replace(os.sep, "/")},
                    "region": {"startLine": r.start_line, "startColumn": r.start_col + 1,
                               "endLine": r.end_line, "endColumn": r.end_col + 1}}}],
                "relatedLocations": [{"physicalLocation": {
                    "artifactLocation": {"uri": (rel.loc.path or report.path).replace(os.sep,
                                                                                       "/")},
                    "region": {"startLine": rel.loc.range.start_line,
                               "startColumn": rel.loc.range.start_col + 1}},
                    "message": {"text": rel.message}} for rel in d.related],
            })
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "shapelens", "version": __version__, "rules": rules}},
        "results": results}]}, indent=1)


def check_main(argv) -> int:
    ap = argparse.ArgumentParser(prog="shapelens check",
                                 description="Report PyTorch shape errors without running code.")
    ap.add_argument("paths", nargs="+", help="files or directories (recursing over *.py)")
    ap.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    ap.add_argument("--shapes", action="store_true",
                    help="text format: also print the shape of every name")
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    try:
        reports = check_files(python_files(args.paths))
    except UsageError as exc:
        print("shapelens: %s" % exc, file=sys.stderr)
        return 2
    if args.format == "json":
        out = format_json(reports)
    elif args.format == "sarif":
        out = format_sarif(reports)
    else:
        parts = [format_shapes(reports)] if args.shapes else []
        parts.append(format_text(reports))
        out = "\n".join(p for p in parts if p)
    if out:
        print(out)
    errors = sum(1 for r in reports for d in r.diagnostics if d.severity == "error")
    if args.format == "text":
        n = sum(len(r.diagnostics) for r in reports)
        print("%d file%s checked, %d problem%s (%d error%s)" % (
            len(reports), "" if len(reports) == 1 else "s", n, "" if n == 1 else "s",
            errors, "" if errors == 1 else "s"), file=sys.stderr)
    return 1 if errors else 0


USAGE = """usage: shapelens <command> [options]

commands:
  check PATH... [--format text|json|sarif] [--shapes]   static shapes and shape errors
  probe FILE [--device D] [--format text|json]          run the model and record real shapes
  server                                                 start the language server on stdio
"""


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, end="", file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    if argv[0] == "--version":
        print("shapelens %s" % __version__)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "check":
        return check_main(rest)
    if command == "probe":
        from .probe.cli import main as probe_main
        return probe_main(rest)
    if command == "server":
        from .server import main as server_main
        return server_main(rest) or 0
    print("shapelens: unknown command %r\n%s" % (command, USAGE), end="", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
