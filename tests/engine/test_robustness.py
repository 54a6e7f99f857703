"""No input makes the analysis raise or hang: mutated corpus and example files (lines dropped,
tokens cut, random text, huge dims, deep nesting, syntax errors) always give a report."""
from __future__ import annotations


from hypothesis import given, settings, strategies as st

from shapelens import check_source
from shapelens.analysis import analyze
from tests.conftest import CORPUS, REPO

SOURCES = sorted(CORPUS.glob("*.py")) + sorted((REPO / "examples").rglob("*.py")) + \
    sorted((REPO / "tests" / "engine" / "fixtures").glob("*.py"))
TEXTS = [p.read_text(encoding="utf-8") for p in SOURCES]
assert TEXTS, "no sources to mutate"

TOKENS = ["(", ")", "[", "]", ":", ",", "=", "-1", "0", "999999999999", "2**62", "None",
          "x", "self", "nn.Conv2d(", "torch.randn(", "lambda: 0", "**", "\t", "\\", "'''",
          "# shape: [", "# shape: x=[N, 3", "def forward(self, x):", "return", "yield",
          "global x", "import nn", "from . import x", "@", "…", "é", "🙂", "\x00", "async "]


def mutate(text, ops):
    lines = text.split("\n")
    for kind, a, b, token in ops:
        if not lines:
            lines = [""]
        i = a % len(lines)
        line = lines[i]
        if kind == "drop":
            del lines[i]
        elif kind == "dup":
            lines.insert(i, line)
        elif kind == "cut":
            lines[i] = line[: b % (len(line) + 1)]
        elif kind == "insert":
            j = b % (len(line) + 1)
            lines[i] = line[:j] + token + line[j:]
        elif kind == "indent":
            lines[i] = "    " * (b % 4) + line.lstrip()
        elif kind == "swap":
            j = b % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


ops = st.lists(st.tuples(st.sampled_from(["drop", "dup", "cut", "insert", "indent", "swap"]),
                         st.integers(0, 10_000), st.integers(0, 10_000),
                         st.sampled_from(TOKENS)), max_size=12)


def check(text, path="<mutant>"):
    report = check_source(text, path)
    assert isinstance(report, dict)
    assert isinstance(report["diagnostics"], list) and isinstance(report["shapes"], list)
    return report


@given(st.sampled_from(TEXTS), ops)
def test_mutated_sources_always_give_a_report(text, mutation):
    check(mutate(text, mutation))


@given(st.text(max_size=400))
def test_random_text(text):
    check(text)


@given(st.lists(st.sampled_from(TOKENS + ["\n", " ", "x = ", "torch.randn(2, 3)"]),
                max_size=60))
def test_token_soup(tokens):
    check("".join(tokens))


@settings(max_examples=25)
@given(st.integers(1, 10**30), st.integers(-10**18, 10**18))
def test_huge_and_negative_dims(big, any_int):
    text = ("import torch\nimport torch.nn as nn\n"
            "x = torch.randn(%d, %d, 8, 8)\n"
            "conv = nn.Conv2d(%d, 4, %d, stride=%d, padding=%d)\n"
            "y = conv(x)\nz = y.view(%d, -1)\nw = x.reshape(-1, %d)\n"
            % (big, any_int, any_int, big, any_int, any_int, big, any_int))
    check(text)


def test_deep_nesting_and_long_files():
    deep_expr = "x = " + "(" * 500 + "1" + ")" * 500
    check(deep_expr)
    deep_blocks = "".join("    " * i + "if True:\n" for i in range(90)) + "    " * 90 + "pass\n"
    check(deep_blocks)
    calls = "import torch\nx = torch.randn(2, 3)\n" + "x = x.relu()\n" * 3000
    check(calls)
    nested_list = "x = " + "[" * 300 + "]" * 300
    check(nested_list)


def test_recursion_in_user_code_terminates():
    text = ("import torch.nn as nn\nimport torch\n"
            "def f(x):\n    return f(x)\n"
            "class M(nn.Module):\n    def forward(self, x):\n        return self(x)\n"
            "y = f(torch.randn(2))\nz = M()(torch.randn(2))\n"
            "while True:\n    y = y + 1\n")
    report = analyze(text)
    assert not report.extra["internal_errors"], report.extra["internal_errors"]


def test_syntax_error_keeps_the_rest_of_the_file():
    text = (CORPUS / "lenet.py").read_text()
    broken = text.replace("        s2 = self.pool1(c1)", "        s2 = self.pool1(c1", 1)
    report = analyze(broken, "lenet.py")
    names = {(f.range.start_line, f.name) for f in report.shapes}
    assert (31, "scores") in names and (19, "c1") in names
    assert report.skipped_lines


def test_analysis_bugs_do_not_escape(monkeypatch):
    """An exception inside a rule becomes an internal note, not a crash."""
    from shapelens.analysis import rules
    rules.load_all()

    def broken(call):
        raise ZeroDivisionError("rule bug")
    monkeypatch.setitem(rules.FUNCTIONS, "torch.flatten", broken)
    report = analyze((CORPUS / "lenet.py").read_text(), "lenet.py")
    assert report.extra["internal_errors"]
    assert any(f.name == "c1" for f in report.shapes)


def test_half_typed_block_headers_keep_the_rest_of_the_file():
    text = (CORPUS / "residual_padding0_bad.py").read_text()
    for broken in (text.replace("class ResidualBlock(nn.Module):", "class ResidualBlock(nn.Module:"),
                   text.replace("    def forward(self, x):", "    def forward(self, x"),
                   text.replace("        identity = x", "        identity = x +")):
        report = analyze(broken, "r.py")
        assert report.skipped_lines, broken
        names = {(f.range.start_line, f.name) for f in report.shapes}
        assert (24, "x") in names and (17, "out") in names, names
        if "identity = x +" not in broken:   # there the blanked line defined `identity`
            assert any(d.code == "shape-mismatch" for d in report.diagnostics)


def test_form_feed_and_unicode_line_separators_keep_columns():
    text = 'import torch\n# a\x0c b \u2028 c\nx = torch.zeros(2, 3)\ny = "é"; z = x.sum(0)\n'
    report = analyze(text, "f.py")
    z = [f for f in report.shapes if f.name == "z"][0]
    assert (z.range.start_line, z.range.start_col) == (4, 9)


def test_analysis_restores_the_garbage_collector_state():
    import gc
    assert gc.isenabled()
    analyze("import torch\nx = torch.randn(2, 3)\n")
    assert gc.isenabled()
    gc.disable()
    try:
        analyze("import torch\nx = torch.randn(2, 3)\n")
        assert not gc.isenabled()
    finally:
        gc.enable()
