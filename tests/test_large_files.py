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
