"""One budget per analysis (interp/budget.py): steps, sizes of folded values, nesting.  Past
it, the rest is unknown and the report says why; no exception ever leaves ``analyze`` or
``check_source`` (issue 12, items 1 and 2)."""
from __future__ import annotations

import gc
import json

import pytest

from shapelens import check_source
from shapelens.analysis import analyze
from shapelens.analysis.interp.budget import MAX_BUILT, MAX_LENGTH, MAX_STEPS, MODULE_CALL
from shapelens.analysis.report import freeze_when_idle, gc_paused
from shapelens.analysis.resolver import DictResolver

AFTER = "\nimport torch\nlate = torch.zeros(2, 3)\n"


def shapes(report):
    return {f.name: f.shape for f in report.shapes}


def budget_notes(report):
    return [n for n in report.extra["notes"] if n.startswith("analysis budget reached at line")]


def within_budget(report):
    spent = report.extra["spent"]
    assert spent["steps"] <= MAX_STEPS + MODULE_CALL
    assert spent["built"] <= MAX_BUILT + MAX_LENGTH


# ---------------------------------------------------------------- nesting: no RecursionError

@pytest.mark.parametrize("text", [
    "x = 1\nx = x" + " + 1" * 500,
    "import torch\ny = torch" + ".nn" * 500,
    "y = f" + "(1)" * 400,
    "y = a" + "[0]" * 400,
    "y = " + "-" * 900 + "1",
], ids=["plus", "attributes", "calls", "subscripts", "unary"])
def test_deep_expressions_are_unknown_and_the_rest_is_analysed(text):
    report = analyze(text + AFTER, "deep.py")
    assert shapes(report)["late"] == (2, 3)
    assert not report.extra["internal_errors"]
    assert any("nested more than" in n for n in budget_notes(report)), report.extra["notes"]
    json.dumps(check_source(text + AFTER, "deep.py"))


def test_a_sequential_that_contains_itself():
    text = ("import torch\nimport torch.nn as nn\n"
            "s = nn.Sequential(nn.ReLU())\ns.append(s)\ny = s(torch.randn(2, 3))\n"
            "z = torch.zeros(4)\n")
    report = analyze(text, "seq.py")
    assert shapes(report)["z"] == (4,)
    assert shapes(report).get("y") in (None, (None,))
    assert any("line 5: module calls nested" in n for n in report.extra["notes"])
    report.runs         # the shape summary's model runs are built from the same records


def test_a_long_chain_of_imports():
    files = {"/ws/m%d.py" % i: "from m%d import V\n" % (i + 1) for i in range(200)}
    files["/ws/m200.py"] = "V = 3\n"
    text = "import torch\nfrom m0 import V\nx = torch.zeros(V)\ny = torch.zeros(5)\n"
    report = analyze(text, "/ws/main.py", DictResolver(files))
    assert shapes(report)["y"] == (5,)
    assert shapes(report).get("x") is None      # V is unknown (it may be a whole shape)
    assert any("imports nested more than" in n for n in report.extra["notes"])


def test_a_short_chain_of_imports_is_followed():
    files = {"/ws/m%d.py" % i: "from m%d import V\n" % (i + 1) for i in range(10)}
    files["/ws/m10.py"] = "V = 3\n"
    report = analyze("import torch\nfrom m0 import V\nx = torch.zeros(V)\n", "/ws/main.py",
                     DictResolver(files))
    assert shapes(report)["x"] == (3,)
    assert not report.extra["notes"]


@pytest.mark.parametrize("text", [
    "x = a" + ".b" * 100_000, "x = 1" + "+1" * 100_000, "x = " + "-" * 100_000 + "1",
    "x = " + "not " * 50_000 + "1", "f = " + "lambda: " * 5_000 + "0",
])
def test_input_the_parser_cannot_nest_gives_a_report(text):
    # ast.parse itself raises RecursionError or MemoryError on these
    report = check_source(text, "parse.py")
    assert report["diagnostics"] == [] and report["shapes"] == []


def test_an_internal_error_is_a_note_and_an_empty_report(monkeypatch):
    from shapelens.analysis import recorder

    def broken(*args, **kwargs):
        raise ValueError("recorder bug")
    monkeypatch.setattr(recorder.Recorder, "build", broken)
    report = analyze("import torch\nx = torch.zeros(2)\n", "bug.py")
    assert report.path == "bug.py" and report.shapes == ()
    assert any("internal error" in n and "recorder bug" in n for n in report.extra["notes"])
    out = check_source("import torch\nx = torch.zeros(2)\n", "bug.py")
    assert out["shapes"] == [] and [(d["severity"], d["code"]) for d in out["diagnostics"]] \
        == [("information", "analysis-incomplete")]
    assert "recorder bug" in out["diagnostics"][0]["message"]


def test_the_user_is_told_where_the_analysis_stopped(monkeypatch):
    """A budget reached, or an internal error in one statement: an information diagnostic on
    the line of the analysed file the analysis was at, saying why (the rest goes on or is
    unknown, quietly)."""
    text = ("import torch\nbefore = torch.zeros(3)\n\n\ndef grow():\n"
            "    return [0 for a in range(256) for b in range(256) for c in range(8)]\n\n\n"
            "x = grow()\n" + AFTER)
    said = [d for d in analyze(text, "comp.py").diagnostics if d.code == "analysis-incomplete"]
    assert [(d.severity, d.range.start_line) for d in said] == [("information", 6)]
    assert "more than {:,} steps".format(MAX_STEPS) in said[0].message

    from shapelens.analysis.interp import statements

    def broken(self, node, frame):
        raise KeyError("statement bug")
    monkeypatch.setattr(statements.Statements, "stmt_AugAssign", broken)
    report = analyze("import torch\nx = torch.zeros(2)\nn = 1\nn += 1\ny = x + 1\n")
    said = [d for d in report.diagnostics if d.code == "analysis-incomplete"]
    assert [(d.severity, d.range.start_line) for d in said] == [("information", 4)]
    assert "statement bug" in said[0].message
    assert {f.name: f.shape for f in report.shapes}["y"] == (2,)


# ---------------------------------------------------------------- steps

def test_nested_comprehensions_stop_at_the_step_budget():
    text = ("import torch\nbefore = torch.zeros(3)\n"
            "x = [0 for a in range(256) for b in range(256) for c in range(8)]\n" + AFTER)
    report = analyze(text, "comp.py")
    within_budget(report)
    assert report.extra["spent"]["steps"] == MAX_STEPS + 1
    assert budget_notes(report) == [
        "analysis budget reached at line 3: more than {:,} steps; the rest is unknown"
        .format(MAX_STEPS)]
    found = shapes(report)
    assert found["before"] == (3,) and "late" not in found   # what came before stays


def test_calls_of_nested_sequentials_count_as_steps():
    # 2**30 layer calls without a single expression evaluated between them
    text = "import torch\nimport torch.nn as nn\ns = nn.Sequential(nn.ReLU(), nn.ReLU())\n" + \
        "".join("s = nn.Sequential(s, s)\n" for _ in range(30)) + \
        "y = s(torch.randn(2))\n"
    report = analyze(text, "seqs.py")
    within_budget(report)
    assert any("steps; the rest is unknown" in n for n in budget_notes(report))


# ---------------------------------------------------------------- sizes of folded values

@pytest.mark.parametrize("grow", [
    "x = 3\nfor i in range(22):\n    x = x * x\n",
    "x = 'ab'\nfor i in range(22):\n    x = x + x\n",
    "x = b'ab'\nfor i in range(22):\n    x = x + x\n",
    "x = [0]\nfor i in range(22):\n    x = x + x\n",
    "x = (0,)\nfor i in range(22):\n    x = x + x\n",
    "x = [0]\nfor i in range(22):\n    x.extend(x)\n",
    "x = 2 ** 64\nfor i in range(80):\n    x = x << 1000\n",
], ids=["int", "str", "bytes", "list", "tuple", "extend", "shift"])
def test_values_growing_in_a_loop_become_unknown(grow):
    text = "import torch\n" + grow + "t = torch.zeros(len(x))\n" + AFTER
    report = analyze(text, "grow.py")
    within_budget(report)
    assert any("a value too large to follow" in n for n in budget_notes(report))
    found = shapes(report)
    assert found.get("t") in (None, (None,)) and found["late"] == (2, 3)


@pytest.mark.parametrize("big", [
    "'%099999999d' % 1", "'{:>99999999}'.format(1)", "'a'.zfill(99999999)",
    "('ab' * 5000).replace('a', 'b' * 5000)", "math.factorial(10 ** 6)", "'ab' * 10 ** 8",
    "10 ** 10 ** 6", "[0] * 10 ** 8",
])
def test_one_large_value_is_unknown(big):
    report = analyze("import math\nimport torch\nx = %s\nt = torch.zeros(len(str(x)))\n%s"
                     % (big, AFTER), "big.py")
    within_budget(report)
    found = shapes(report)
    assert found.get("t") in (None, (None,)) and found["late"] == (2, 3)


def test_values_within_the_budget_are_folded():
    text = ("import torch\nn = 2 ** 60 * 2 ** 60 // 2 ** 59 // 2 ** 59\ns = 'ab' * 1000\nl = [1] * 3000\n"
            "x = torch.zeros(n, len(s), len(l))\n")
    report = analyze(text, "ok.py")
    assert shapes(report)["x"] == (4, 2000, 3000)
    assert not report.extra["notes"]


def test_values_built_in_all_stop_the_analysis():
    # each string is small enough, all of them together are not
    text = ("import torch\nbefore = torch.zeros(3)\ns = 'x' * 9000\nout = []\n"
            "for a in range(200):\n    for b in range(200):\n        out.append(s + str(a) + str(b))\n"
            + AFTER)
    report = analyze(text, "built.py")
    within_budget(report)
    assert any("items in all; the rest is unknown" in n for n in budget_notes(report))
    assert shapes(report)["before"] == (3,)


def test_dicts_copied_in_nested_loops_stop_the_analysis():
    # each dict holds the one before: ~800 million entries copied and kept, without the budget
    text = ("import torch\nbefore = torch.zeros(3)\nx = {'a': 0}\n"
            "for i in range(200):\n    for j in range(200):\n        x = {**x, str(len(x)): x}\n"
            + AFTER)
    report = analyze(text, "dicts.py")
    within_budget(report)
    assert any("items in all; the rest is unknown" in n for n in budget_notes(report))
    assert shapes(report)["before"] == (3,)


# ---------------------------------------------------------------- the garbage collector

def test_overlapping_pauses_restore_the_collector_once_all_end():
    """The server analyses documents in several threads: the first analysis to end must not
    turn the collector back on under another, and the last restores it."""
    assert gc.isenabled()
    first, second = gc_paused(), gc_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()
    assert not freeze_when_idle()       # not while an analysis runs: its garbage would stay
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_pauses_in_threads_leave_the_collector_on():
    import threading
    barrier = threading.Barrier(4)

    def analyse():
        for _ in range(50):
            barrier.wait()
            analyze("import torch\nx = torch.zeros(2)\n")
    threads = [threading.Thread(target=analyse) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert gc.isenabled()


def test_a_stop_inside_an_imported_file_names_it_as_messages_do():
    files = {"/ws/pkg/big.py": "def grow():\n"
                               "    return [0 for a in range(256) for b in range(256) "
                               "for c in range(8)]\n"}
    text = "import torch\nfrom pkg.big import grow\n\nx = grow()\n"
    report = analyze(text, "/ws/main.py", DictResolver(files))
    said = [d for d in report.diagnostics if d.code == "analysis-incomplete"]
    assert [d.range.start_line for d in said] == [4]
    assert "reached at pkg/big.py:2:" in said[0].message and "/ws/" not in said[0].message
