"""Analysis tests in the mypy style: fixture files carry their expectations on the lines.

    y = self.conv(x)          # expect-shape: [1, 64, 28, 28]
    out = a + b               # expect: shape-mismatch
    z = f(x)                  # expect: warning shape-contract
    class Net(nn.Module):     # expect-signature: x: [N, 1, H, W] -> [N, 10]; H = W = 32

``expect-shape`` compares the shape of the name(s) bound on that line (every binding seen
there, when a line runs with several shapes: ``# expect-shape: [1, 3] | [1, 4]``).
``expect`` lists diagnostic codes (optionally with a severity) that must start on that line;
a diagnostic nobody expected fails the test, so each fixture also proves the absence of false
errors.  ``expect-signature`` checks a module's analysed forward signature and, after ``;``,
the solved input sizes.  ``expect-fix`` names a quick fix title whose edit, applied, makes the
line's diagnostic disappear.
"""
from __future__ import annotations

import pathlib
import re

import pytest

from shapelens.analysis import analyze
from shapelens.analysis.resolver import WorkspaceResolver
from shapelens.analysis.values import format_shape

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
EXPECT = re.compile(r"#\s*expect(-shape|-signature|-fix)?\s*:\s*(.*?)\s*(?=#\s*expect|$)")


def expectations(text):
    out = {"shape": {}, "diag": {}, "signature": {}, "fix": {}}
    for i, line in enumerate(text.splitlines(), start=1):
        for m in EXPECT.finditer(line):
            kind, body = m.group(1), m.group(2).strip()
            if kind == "-shape":
                out["shape"][i] = sorted(s.strip() for s in body.split("|"))
            elif kind == "-signature":
                out["signature"][i] = body
            elif kind == "-fix":
                out["fix"][i] = body
            else:
                items = []
                for part in body.split(","):
                    words = part.split()
                    severity = words[0] if len(words) == 2 else None
                    items.append((words[-1], severity))
                out["diag"][i] = items
    return out


def run(path: pathlib.Path):
    text = path.read_text(encoding="utf-8")
    return text, analyze(text, str(path), WorkspaceResolver([str(path.parent)]))


def apply_edits(text, edits):
    lines = text.split("\n")
    for e in sorted(edits, key=lambda e: (e.loc.range.start_line, e.loc.range.start_col),
                    reverse=True):
        r = e.loc.range
        assert r.start_line == r.end_line
        line = lines[r.start_line - 1]
        lines[r.start_line - 1] = line[:r.start_col] + e.new_text + line[r.end_col:]
    return "\n".join(lines)


CASES = sorted(p for p in FIXTURES.glob("*.py") if not p.name.startswith("_"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_fixture(path):
    text, report = run(path)
    expect = expectations(text)
    assert not report.extra["internal_errors"], report.extra["internal_errors"]
    problems = []
    # Shapes.
    seen = {}
    for fact in report.shapes:
        seen.setdefault(fact.range.start_line, set()).add(format_shape(fact.shape))
    for line, want in expect["shape"].items():
        got = sorted(seen.get(line, ()))
        if got != want:
            problems.append("line %d: shape %s, expected %s" % (line, got, want))
    # Diagnostics: every expected one present, nothing unexpected (hints/information aside).
    got_diags = {}
    for d in report.diagnostics:
        got_diags.setdefault(d.range.start_line, []).append(d)
    for line, items in expect["diag"].items():
        codes = [(d.code, d.severity) for d in got_diags.get(line, [])]
        for code, severity in items:
            if not any(c == code and (severity is None or s == severity) for c, s in codes):
                problems.append("line %d: expected %s %s, got %s" % (line, severity or "",
                                                                     code, codes))
    for line, diags in got_diags.items():
        for d in diags:
            if d.severity in ("error", "warning") and not any(
                    code == d.code for code, _ in expect["diag"].get(line, [])):
                problems.append("line %d: unexpected %s %s: %s" % (line, d.severity, d.code,
                                                                   d.message[:120]))
    # Module signatures.
    modules = {m.range.start_line: m for m in report.modules}
    for line, want in expect["signature"].items():
        m = modules.get(line)
        if m is None:
            problems.append("line %d: no module signature" % line)
            continue
        ins = ", ".join("%s: %s" % (n, format_shape(s)) for n, s in m.inputs)
        outs = ", ".join(format_shape(s) for s in m.outputs)
        got = "%s -> %s" % (ins, outs)
        if m.constraints:
            got += "; " + "; ".join(c.split(" (")[0] for c in m.constraints)
        if got != want:
            problems.append("line %d: signature %r, expected %r" % (line, got, want))
    # Quick fixes: apply, re-analyse, the diagnostic on that line is gone.
    for line, title in expect["fix"].items():
        fixes = [f for d in got_diags.get(line, []) for f in d.fixes if f.title == title]
        if not fixes:
            problems.append("line %d: no fix %r (have %s)" % (line, title, [
                f.title for d in got_diags.get(line, []) for f in d.fixes]))
            continue
        fixed = apply_edits(text, fixes[0].edits)
        after = analyze(fixed, str(path), WorkspaceResolver([str(path.parent)]))
        codes = {d.code for d in got_diags[line]}
        left = [d for d in after.diagnostics if d.range.start_line == line and d.code in codes]
        if left:
            problems.append("line %d: after fix %r still %s" % (line, title,
                                                                [d.message for d in left]))
    assert not problems, "\n".join(problems)


def test_expectation_parser_reads_every_form():
    e = expectations("y = f(x)  # expect-shape: [1, 2] | [1, 3]  # expect: error shape-mismatch\n"
                     "class A:  # expect-signature: x: [N] -> [N]\n"
                     "z = g()  # expect-fix: Set padding of conv to 1\n")
    assert e["shape"] == {1: ["[1, 2]", "[1, 3]"]}
    assert e["diag"] == {1: [("shape-mismatch", "error")]}
    assert e["signature"] == {2: "x: [N] -> [N]"}
    assert e["fix"] == {3: "Set padding of conv to 1"}
