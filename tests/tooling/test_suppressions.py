"""``# shapelens: ignore[code]``, bare ``# shapelens: ignore``, ``# shapelens: ignore-file``,
``--warn-unused-ignores``, and the edit the editor's quick fix makes."""
from __future__ import annotations

from shapelens.analysis.report import Diagnostic, Range
from shapelens.suppressions import (apply_suppressions, find_suppressions, suppression_edit,
                                    unused_diagnostics)

from tests.tooling.helpers import NET_BAD, codes_by_line, shapelens, write


def diag(line, code):
    return Diagnostic(Range(line, 0, line, 5), "error", code, "m")


def kept_codes(text, diagnostics):
    return [(d.range.start_line, d.code) for d in apply_suppressions(text, diagnostics).kept]


def test_a_coded_ignore_silences_that_code_on_that_line_only():
    text = "a = 1  # shapelens: ignore[shape-mismatch]\nb = 2\n"
    found = [diag(1, "shape-mismatch"), diag(1, "reshape-numel"), diag(2, "shape-mismatch")]
    assert kept_codes(text, found) == [(1, "reshape-numel"), (2, "shape-mismatch")]


def test_several_codes_and_spacing():
    text = "a = 1  #shapelens:ignore[ shape-mismatch ,reshape-numel ]\n"
    assert kept_codes(text, [diag(1, "shape-mismatch"), diag(1, "reshape-numel")]) == []


def test_a_bare_ignore_silences_every_code_on_its_line():
    text = "a = 1  # shapelens: ignore\nb = 2\n"
    assert kept_codes(text, [diag(1, "x"), diag(1, "y"), diag(2, "x")]) == [(2, "x")]


def test_ignore_file_on_a_line_of_its_own():
    text = "# shapelens: ignore-file\nimport torch\n"
    assert kept_codes(text, [diag(2, "x"), diag(9, "y")]) == []
    coded = "# shapelens: ignore-file[x]\nimport torch\n"
    assert kept_codes(coded, [diag(2, "x"), diag(9, "y")]) == [(9, "y")]
    trailing = "import torch  # shapelens: ignore-file\n"   # not on its own line: no effect
    assert kept_codes(trailing, [diag(2, "x")]) == [(2, "x")]


def test_after_another_comment_and_never_inside_a_string():
    text = ('x = f(y)  # shape: [N, 3]  # shapelens: ignore[shape-contract]\n'
            's = "# shapelens: ignore"\n'
            'doc = """\n# shapelens: ignore-file\n"""\n')
    found = [diag(1, "shape-contract"), diag(2, "x"), diag(5, "y")]
    assert kept_codes(text, found) == [(2, "x"), (5, "y")]
    assert [s.line for s in find_suppressions(text)] == [1]


def test_ignore_must_be_followed_by_a_bracket_or_nothing():
    assert find_suppressions("a = 1  # shapelens: ignored\n") == []
    assert find_suppressions("a = 1  # shapelens: ignore-all\n") == []


def test_half_typed_code_keeps_the_comments_before_the_error():
    text = "a = 1  # shapelens: ignore[x]\nb = (\n"
    assert [s.codes for s in find_suppressions(text)] == [("x",)]


def test_unused_suppressions_and_unused_codes():
    text = ("a = 1  # shapelens: ignore[x, y]\n"
            "b = 2  # shapelens: ignore\n"
            "c = 3  # shapelens: ignore[z]\n")
    applied = apply_suppressions(text, [diag(1, "x"), diag(3, "z")])
    messages = [(d.range.start_line, d.code, d.severity, d.message)
                for d in unused_diagnostics(applied)]
    assert messages == [
        (1, "unused-ignore", "warning",
         "unused code in '# shapelens: ignore[x, y]': no y diagnostic on this line"),
        (2, "unused-ignore", "warning",
         "unused '# shapelens: ignore': nothing to silence on this line"),
    ]
    (first, _), = [(s, c) for s, c in applied.unused if s.line == 1]
    assert (first.range.start_col, first.range.end_col) == (7, len(text.splitlines()[0]))


def test_the_quick_fix_edit():
    # appended after the code (and after a shape comment, which must stay first)
    assert suppression_edit("y = f(x)", "c") == (8, 8, "  # shapelens: ignore[c]")
    assert suppression_edit("y = f(x)   ", "c") == (8, 11, "  # shapelens: ignore[c]")
    line = "y = f(x)  # shape: [2]"
    assert suppression_edit(line, "c") == (len(line), len(line), "  # shapelens: ignore[c]")
    # a code added to an existing list
    line = "y = f(x)  # shapelens: ignore[a]"
    assert suppression_edit(line, "c") == (10, len(line), "# shapelens: ignore[a, c]")
    # a backslash continuation cannot take a comment
    assert suppression_edit("y = a + \\", "c") is None


def test_the_quick_fix_edit_silences_the_diagnostic():
    text = "import torch\ny = f(x)  # shape: [2]\n"
    start, end, new = suppression_edit(text.splitlines()[1], "shape-mismatch")
    line = text.splitlines()[1]
    fixed = "import torch\n" + line[:start] + new + line[end:] + "\n"
    assert kept_codes(fixed, [diag(2, "shape-mismatch")]) == []


def test_through_the_command_line(tmp_path):
    text = NET_BAD.replace("h = self.conv(x)", "h = self.conv(x)  # shapelens: ignore[conv-in-channels]")
    text = text.replace("import torch\n", "import torch  # shapelens: ignore[reshape-numel]\n", 1)
    write(tmp_path, "net.py", text)
    status, out, _ = shapelens("check", "net.py", "-j", "1", cwd=tmp_path)
    assert status == 0 and codes_by_line(out) == {("net.py", 16): ["shape-contract"]}
    status, out, _ = shapelens("check", "net.py", "-j", "1", "--warn-unused-ignores",
                               cwd=tmp_path)
    assert status == 0 and codes_by_line(out) == {("net.py", 1): ["unused-ignore"],
                                                  ("net.py", 16): ["shape-contract"]}
    # the configuration can ask for it too, and give it a severity
    write(tmp_path, "pyproject.toml", """\
        [tool.shapelens]
        warn-unused-ignores = true
        severity = {unused-ignore = "error"}
        """)
    status, out, _ = shapelens("check", "net.py", "-j", "1", cwd=tmp_path)
    assert status == 1 and "net.py:1:15: error unused-ignore" in out
    write(tmp_path, "whole.py", "# shapelens: ignore-file\n" + NET_BAD)
    assert shapelens("check", "whole.py", "-j", "1", cwd=tmp_path)[:2] == (0, "")
