"""A file of any size is analysed within bounded memory: past ``MAX_SOURCE_CHARS`` only its
head is, and the report says where the analysis stopped."""
from __future__ import annotations

import subprocess
import sys
import textwrap

from shapelens.analysis import analyze, source

BLOCK = textwrap.dedent('''
    class Net{i}(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)

        def forward(self, x):
            return self.conv(x)


    x{i} = torch.zeros(1, 3, 10, 10)
    y{i} = Net{i}()(x{i})
    ''')


def model_file(blocks: int) -> str:
    return "import torch\nimport torch.nn as nn\n" + "".join(
        BLOCK.format(i=i) for i in range(blocks))


def test_only_the_head_of_a_huge_file_is_analysed(monkeypatch):
    text = model_file(300)
    monkeypatch.setattr(source, "MAX_SOURCE_CHARS", len(text) // 3)
    head, left_out = source.within_size(text)
    assert text.startswith(head) and len(head) <= len(text) // 3
    assert text.splitlines()[left_out - 1].startswith("class Net")  # a statement begins there
    report = analyze(text, "big.py")
    assert "analysis budget reached at line %d" % left_out in report.extra["notes"][0]
    names = {f.name for f in report.shapes}
    assert "y0" in names and "y299" not in names
    assert all(f.range.end_line < left_out for f in report.shapes)
    assert report.uses_torch


def test_a_small_file_is_analysed_whole():
    text = model_file(3)
    assert source.within_size(text) == (text, None)
    assert not analyze(text, "small.py").extra["notes"]


def test_a_five_megabyte_file_stays_within_bounded_memory():
    # Python's syntax tree of a 5 MB file alone peaks near 1 GB
    script = textwrap.dedent('''
        import resource, sys
        from shapelens.analysis import analyze
        text = sys.stdin.read()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        report = analyze(text, "huge.py")
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print(grown // 1024, len(report.shapes))
        ''')
    text = model_file(27_000)
    assert len(text) > 5_000_000
    proc = subprocess.run([sys.executable, "-c", script], input=text, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    grown_mb, shapes = map(int, proc.stdout.split())
    assert shapes > 0
    assert grown_mb < 400


def test_syntax_recovery_work_is_linear_in_the_file_size(monkeypatch):
    """Each recovery step parses the whole text again: a big file gets fewer steps."""
    parsed = []
    real_parse = source.ast.parse

    def counting_parse(text, *args, **kwargs):
        parsed.append(len(text))
        return real_parse(text, *args, **kwargs)

    monkeypatch.setattr(source.ast, "parse", counting_parse)
    # a stray bracket in every block: one more step for each
    broken = model_file(1200).replace("return self.conv(x)", "return self.conv(x))")
    assert len(broken) > 250_000
    source.parse(broken, "big.py")
    assert sum(parsed) <= 10 * len(broken)   # was 50 times the text
    small = "\n".join(model_file(2).split("\n") + ["x = (", "y = )"])
    parsed.clear()
    tree, skipped = source.parse(small, "small.py")
    assert tree is not None and len(skipped) == 2   # a small file still recovers fully
