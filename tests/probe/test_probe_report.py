"""Probe results in the JSON form of ``shapelens check`` (SPEC §5) and in text form."""
from __future__ import annotations

import textwrap

from shapelens.probe.report import file_report, format_text, probe_json
from shapelens.probe.runner import ProbeError, ProbeFact, ProbeNote, ProbeResult

SOURCE = textwrap.dedent("""\
    import torch

    class Net(torch.nn.Module):
        def forward(self, x):
            x = self.x(x)
            héllo = x.flatten(1); out = héllo
            return out

    def shape_of(t): return t
    """)


def result(facts=(), error=None, status="ok"):
    return ProbeResult(status=status, message="m", device="cpu", facts=tuple(facts),
                       error=error, elapsed_s=1.25)


def ranges_by_name(report):
    return {(s["name"], s["range"]["start"]["line"]): s["range"] for s in report["shapes"]}


def test_shapes_cover_the_plain_name_on_their_line():
    report = file_report(result([
        ProbeFact(4, "x", ((1, 3),)),  # the parameter on the def line
        ProbeFact(5, "x", ((1, 8),)),  # the target, not `self.x`
        ProbeFact(6, "out", ((1, 8),)),  # after a non-ASCII name: columns count characters
        ProbeFact(9, "t", ((2,),)),
    ]), "net.py", SOURCE)
    ranges = ranges_by_name(report)
    assert ranges[("x", 4)] == {"start": {"line": 4, "column": 23},
                                "end": {"line": 4, "column": 24}}
    assert ranges[("x", 5)]["start"] == {"line": 5, "column": 9}
    line6 = SOURCE.splitlines()[5]
    assert ranges[("out", 6)]["start"]["column"] == line6.index("out") + 1
    assert ranges[("t", 9)]["start"]["column"] == SOURCE.splitlines()[8].index("t)") + 1


def test_one_shape_entry_per_distinct_shape_and_whole_line_when_name_is_absent():
    report = file_report(result([ProbeFact(5, "y", ((1, 2), (3, 4)))]), "net.py", SOURCE)
    assert [s["shape"] for s in report["shapes"]] == [[1, 2], [3, 4]]
    line5 = SOURCE.splitlines()[4]
    assert report["shapes"][0]["range"] == {"start": {"line": 5, "column": 1},
                                            "end": {"line": 5, "column": len(line5) + 1}}


def test_runtime_error_is_an_error_diagnostic_at_the_deepest_line():
    error = ProbeError("RuntimeError", "mat1 and mat2 shapes cannot be multiplied (1x2 and 3x4)",
                       (9, 5))
    report = file_report(result(error=error, status="error"), "net.py", SOURCE)
    (diagnostic,) = report["diagnostics"]
    assert diagnostic["severity"] == "error"
    assert diagnostic["code"] == "runtime-error"
    assert diagnostic["message"] == error.message
    assert diagnostic["range"] == {"start": {"line": 5, "column": 9},
                                   "end": {"line": 5, "column": 22}}
    assert [(r["path"], r["range"]["start"]["line"], r["message"])
            for r in diagnostic["related"]] == [("net.py", 9, "called from here")]


def test_no_diagnostic_for_a_clean_run_or_a_failure_to_run():
    assert file_report(result(), "net.py", SOURCE)["diagnostics"] == []
    timeout = ProbeResult(status="timeout", message="timed out", device="cpu")
    assert file_report(timeout, "net.py", SOURCE) == {"path": "net.py", "diagnostics": [],
                                                      "shapes": []}


def test_probe_json_has_the_check_layout_plus_the_run_status():
    document = probe_json(result([ProbeFact(5, "x", ((1, 8),))]), "net.py", SOURCE)
    assert document["version"] == 1
    assert [f["path"] for f in document["files"]] == ["net.py"]
    assert document["files"][0]["shapes"][0]["shape"] == [1, 8]
    assert document["probe"] == {"status": "ok", "message": "m", "device": "cpu",
                                 "elapsed_s": 1.25, "skipped": [], "dims": {},
                                 "default_dims": [], "memory_limit_mb": None}


def test_what_the_run_held_back_and_the_dims_it_used_are_in_the_report():
    held_back = ProbeResult(
        status="ok", message="m", device="cpu", facts=(ProbeFact(5, "x", ((1, 8),)),),
        skipped=(ProbeNote(6, "training loop: ran 1 of 10 iterations"),),
        dims={"N": 4, "H": 32}, default_dims=("H",), memory_limit_mb=2048)
    document = probe_json(held_back, "net.py", SOURCE)
    assert document["probe"]["skipped"] == [{"line": 6, "message":
                                             "training loop: ran 1 of 10 iterations"}]
    assert document["probe"]["dims"] == {"N": 4, "H": 32}
    assert document["probe"]["default_dims"] == ["H"]
    assert document["probe"]["memory_limit_mb"] == 2048
    [note] = document["files"][0]["diagnostics"]
    assert (note["severity"], note["code"], note["range"]["start"]["line"]) == \
        ("information", "probe-skipped", 6)
    assert note["message"] == "probe: training loop: ran 1 of 10 iterations"
    assert format_text(held_back, "net.py", SOURCE).splitlines()[-1] == \
        "net.py:6:9: information probe-skipped probe: training loop: ran 1 of 10 iterations"


def test_text_lines_are_sorted_and_errors_are_one_line():
    error = ProbeError("RuntimeError", "first line\n  second line", (5,))
    text = format_text(result([ProbeFact(6, "out", ((1, 8),)), ProbeFact(4, "x", ((1, 3),))],
                              error=error, status="error"), "net.py", SOURCE)
    line6 = SOURCE.splitlines()[5]
    assert text.splitlines() == [
        "net.py:4:23: shape x [1, 3]",
        "net.py:5:9: error runtime-error first line second line",
        "net.py:6:%d: shape out [1, 8]" % (line6.index("out") + 1),
    ]


def test_source_that_does_not_tokenize_still_gets_columns():
    source = "if a:\n        pass\n    q = torch.ones(1)\n"  # tokenize: IndentationError
    report = file_report(result([ProbeFact(3, "q", ((1,),))]), "bad.py", source)
    assert report["shapes"][0]["range"] == {"start": {"line": 3, "column": 5},
                                            "end": {"line": 3, "column": 6}}
