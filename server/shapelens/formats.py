"""The output formats of ``shapelens check``: text, json (SPEC §5), sarif (SARIF 2.1.0),
github (workflow commands that GitHub Actions shows as annotations), gitlab (a Code Quality
report), and ``--statistics`` (counts per code).

Each formatter takes the reports in the order they were checked and returns the whole output
as one string.  ``fingerprints`` (gitlab) are stable across runs and robust to moved lines: they
hash the baseline key of each finding (file, enclosing definition, code, message).
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from typing import Dict, List, Optional, Sequence

from . import __version__

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {"error": "error", "warning": "warning", "information": "note", "hint": "note"}
GITHUB_LEVEL = {"error": "error", "warning": "warning", "information": "notice",
                "hint": "notice"}
GITLAB_SEVERITY = {"error": "major", "warning": "minor", "information": "info", "hint": "info"}
FORMATS = ("text", "json", "sarif", "github", "gitlab")


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


def _uri(path: str) -> str:
    """A path as CI tools want it: "/" separators, no "./" in front of a relative path."""
    if not os.path.isabs(path) and not path.startswith("<"):
        path = os.path.normpath(path)
    return path.replace(os.sep, "/")


def format_sarif(reports) -> str:
    from .analysis.errors import CODES
    from .suppressions import UNUSED_CODE
    codes = dict(CODES, **{UNUSED_CODE: "warning"})
    rules = [{"id": code, "defaultConfiguration": {"level": SARIF_LEVEL[sev]}}
             for code, sev in codes.items()]
    results = []
    for report in reports:
        for d in report.diagnostics:
            r = d.range
            result = {
                "ruleId": d.code, "level": SARIF_LEVEL[d.severity],
                "message": {"text": d.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": _uri(report.path)},
                    "region": {"startLine": r.start_line, "startColumn": r.start_col + 1,
                               "endLine": r.end_line, "endColumn": r.end_col + 1}}}],
            }
            if d.related:
                result["relatedLocations"] = [{
                    "id": i,
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(rel.loc.path or report.path)},
                        "region": {"startLine": rel.loc.range.start_line,
                                   "startColumn": rel.loc.range.start_col + 1}},
                    "message": {"text": rel.message}} for i, rel in enumerate(d.related)]
            results.append(result)
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "shapelens", "version": __version__,
                            "informationUri": "https://github.com/shapelens/shapelens",
                            "rules": rules}},
        "results": results}]}, indent=1)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(reports) -> str:
    """One ``::error file=...,line=...::message`` workflow command per diagnostic."""
    lines = []
    for report in reports:
        for d in report.diagnostics:
            r = d.range
            props = [("file", _uri(report.path)), ("line", r.start_line),
                     ("col", r.start_col + 1), ("endLine", r.end_line),
                     ("endColumn", r.end_col + 1), ("title", "shapelens " + d.code)]
            lines.append("::%s %s::%s" % (
                GITHUB_LEVEL[d.severity],
                ",".join("%s=%s" % (k, _escape_property(str(v))) for k, v in props),
                _escape_data(d.message)))
    return "\n".join(lines)


def format_gitlab(reports, keys: Optional[Sequence[Sequence]] = None) -> str:
    """A GitLab Code Quality report (a JSON list of issues).  ``keys`` holds, per report, the
    baseline key of each of its diagnostics: the basis of the fingerprints."""
    issues = []
    seen: Counter = Counter()
    for n, report in enumerate(reports):
        report_keys = keys[n] if keys is not None else None
        for i, d in enumerate(report.diagnostics):
            basis = report_keys[i] if report_keys else (report.path, d.code, d.message)
            seen[tuple(basis)] += 1
            digest = hashlib.sha256(json.dumps([list(basis), seen[tuple(basis)]])
                                    .encode("utf-8")).hexdigest()
            issues.append({
                "type": "issue", "check_name": d.code, "description": d.message,
                "categories": ["Bug Risk"], "severity": GITLAB_SEVERITY[d.severity],
                "fingerprint": digest,
                "location": {"path": _uri(report.path), "positions": {
                    "begin": {"line": d.range.start_line, "column": d.range.start_col + 1},
                    "end": {"line": d.range.end_line, "column": d.range.end_col + 1}}},
            })
    return json.dumps(issues, indent=1)


def statistics(reports) -> List[dict]:
    """``[{"code", "count", "severity"}]``, most frequent first."""
    counts: Counter = Counter()
    severities: Dict[str, set] = {}
    for report in reports:
        for d in report.diagnostics:
            counts[d.code] += 1
            severities.setdefault(d.code, set()).add(d.severity)
    return [{"code": code, "count": n, "severity": "/".join(sorted(severities[code]))}
            for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def format_statistics(reports, fmt: str) -> str:
    rows = statistics(reports)
    if fmt == "json":
        return json.dumps(rows, indent=1)
    width = max([len(r["code"]) for r in rows] + [4])
    return "\n".join("%5d  %-*s  %s" % (r["count"], width, r["code"], r["severity"])
                     for r in rows)


__all__ = ["FORMATS", "format_text", "format_shapes", "format_json", "format_sarif",
           "format_github", "format_gitlab", "format_statistics", "statistics"]
