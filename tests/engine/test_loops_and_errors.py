"""Loops over long sequences (runs that repeat are not followed one by one) and what the
analysis says past an error raised for certain.  Each program here runs with torch in
test_programs_agree_with_torch, so the expected shapes are torch's."""
from __future__ import annotations

import textwrap

import pytest

from shapelens.analysis import analyze
from shapelens.analysis.values import format_shape

LONG_LOOPS = """\
import torch
import torch.nn as nn


class Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = nn.LSTMCell(1, 8)
        self.out = nn.Linear(8, 1)

    def forward(self, inp, future=0):
        outputs = []
        h = torch.zeros(inp.size(0), 8)
        c = torch.zeros(inp.size(0), 8)
        for inp_t in inp.split(1, dim=1):
            h, c = self.cell(inp_t, (h, c))
            o = self.out(h)
            outputs += [o]
        for i in range(future):
            h, c = self.cell(o, (h, c))
            o = self.out(h)
            outputs.append(o)
        return torch.cat(outputs, dim=1)


out = Seq()(torch.randn(3, 300), future=400)
rows = [r.sum(0, keepdim=True) for r in torch.randn(500, 4)]
total = torch.cat(rows)
"""


def shapes(report):
    out = {}
    for fact in report.shapes:
        out.setdefault((fact.range.start_line, fact.name), set()).add(format_shape(fact.shape))
    return out


def line_of(text, needle):
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def shape_at(report, text, needle, name):
    return shapes(report).get((line_of(text, needle), name))


def test_a_loop_whose_runs_repeat_is_followed_to_its_end():
    report = analyze(LONG_LOOPS)
    assert shape_at(report, LONG_LOOPS, "out = Seq()", "out") == {"[3, 700]"}
    assert shape_at(report, LONG_LOOPS, "h, c = self.cell(inp_t", "h") == {"[3, 8]"}
    assert shape_at(report, LONG_LOOPS, "total = ", "total") == {"[500]"}
    assert not report.diagnostics


# Runs that read what the loop grows, or call code that may read it, are not repeats.
NOT_REPEATS = {
    "length read in the body": ("""\
        import torch
        picked = []
        for i in range(300):
            picked.append(torch.zeros(2))
            if len(picked) == 5:
                break
        z = torch.stack(picked)
        """, "z", {"[5, 2]"}),
    "a function reads the list": ("""\
        import torch
        grown = []
        def width():
            return len(grown) % 3 + 1
        for i in range(300):
            grown.append(torch.zeros(2, width()))
        z = torch.cat(grown, dim=1)
        """, "z", None),
    "the item is read and items differ": ("""\
        import torch
        parts = []
        for i in range(300):
            parts.append(torch.zeros(i % 2 + 1))
        z = torch.cat(parts)
        """, "z", None),
    "the item is read, runs differ by it": ("""\
        import torch
        acc = torch.zeros(1)
        for i in range(3):
            acc = torch.cat([acc, torch.zeros(i)])
        z = acc
        """, "z", {"[4]"}),
}


@pytest.mark.parametrize("name", NOT_REPEATS)
def test_runs_that_differ_are_not_taken_for_repeats(name):
    source, var, expected = NOT_REPEATS[name]
    source = textwrap.dedent(source)
    report = analyze(source)
    got = shapes(report).get((line_of(source, var + " = "), var))
    if expected is None:    # unknown: no definite shape
        assert got is None or all("?" in s for s in got), got
    else:
        assert got == expected
    assert not report.diagnostics


PAST_AN_ERROR = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        h = self.fc(x)
        return h.view(-1, 2, 2)


net = Net()
a = net(torch.randn(2, 8))
b = net(torch.randn(2, 5))
c = net(torch.randn(3, 8))
d = torch.randn(2, 3) @ torch.randn(4, 5)
"""


def test_past_an_error_later_runs_give_way_to_the_real_one():
    report = analyze(PAST_AN_ERROR)
    errors = {(d.range.start_line, d.code) for d in report.diagnostics if d.severity == "error"}
    # the first error raises; the next one is still found (as if the first were fixed)
    assert (line_of(PAST_AN_ERROR, "h = self.fc(x)"), "linear-in-features") in errors
    assert any(line == line_of(PAST_AN_ERROR, "d = ") for line, _ in errors)
    # forward's lines show what the run that torch made reached, not the later sample
    assert shape_at(report, PAST_AN_ERROR, "h = self.fc(x)", "h") == {"[2, 4]"}
    assert shape_at(report, PAST_AN_ERROR, "a = net", "a") == {"[2, 2, 2]"}
    # a line only reached past the error shows what it would hold
    assert shape_at(report, PAST_AN_ERROR, "c = net", "c") == {"[3, 2, 2]"}


def test_an_error_inside_try_does_not_end_the_run():
    source = PAST_AN_ERROR.replace(
        "b = net(torch.randn(2, 5))",
        "try:\n    b = net(torch.randn(2, 5))\nexcept RuntimeError:\n    pass")
    report = analyze(source)
    assert shape_at(report, source, "h = self.fc(x)", "h") == {"[2, 4]", "[3, 4]"}


@pytest.mark.parametrize("source", [LONG_LOOPS] + [textwrap.dedent(v[0]) for v in
                                                   NOT_REPEATS.values()])
def test_programs_agree_with_torch(source):
    torch = pytest.importorskip("torch")
    scope: dict = {}
    exec(compile(source, "<loops>", "exec"), scope)
    report = analyze(source)
    last = {}   # the line that bound each name last: what it held at the end
    for i, line in enumerate(source.splitlines(), 1):
        if " = " in line:
            last[line.split(" = ")[0].strip()] = i
    for (line, name), got in shapes(report).items():
        if all("?" not in s for s in got) and name in scope and \
                isinstance(scope[name], torch.Tensor) and line == last.get(name):
            assert format_shape(tuple(scope[name].shape)) in got, (name, got)
