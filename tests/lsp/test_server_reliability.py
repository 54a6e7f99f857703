"""The server under abuse, in-process: carry-over stays linear on big files, requests with
invalid params are answered with a JSON-RPC error, notifications leave nothing behind in the
protocol's bookkeeping, and hovers and inlay hints never wait for a running analysis."""
from __future__ import annotations

import random
import sys

from shapelens.analysis.report import Range, Report, ShapeFact
from shapelens.server.results import carry_over, line_map


def model_lines(n_blocks: int) -> list:
    """Model code as people write it: the same few lines repeated all over the file."""
    block = ["", "class Block{i}(nn.Module):", "    def __init__(self):",
             "        super().__init__()", "        self.conv = nn.Conv2d(3, 3, 3, padding=1)",
             "        self.relu = nn.ReLU()", "", "    def forward(self, x):",
             "        x = self.conv(x)", "        x = self.relu(x)", "        x = self.conv(x)",
             "        x = self.relu(x)", "        return x", ""]
    return [line.format(i=i) for i in range(n_blocks) for line in block]


class Budget(Exception):
    pass


def line_events(limit: int, fn, *args):
    """Run ``fn(*args)`` counting the Python lines it executes (a measure of work that does
    not depend on the machine); raises :class:`Budget` past ``limit``."""
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        count += 1
        if count > limit:
            raise Budget("more than %d lines executed" % limit)
        return tracer

    sys.settrace(tracer)
    try:
        result = fn(*args)
    finally:
        sys.settrace(None)
    return count, result


def test_carry_over_work_is_linear_in_the_file_size():
    for n_blocks in (300, 1500):                       # 4,200 and 21,000 lines
        old = model_lines(n_blocks)
        middle = len(old) // 2
        typed = old[:middle] + [old[middle] + " ("] + old[middle + 1:]     # one keystroke
        moved = ["import os"] + old[:100] + old[150:] + ["x = ("]          # edits at both ends
        report = Report("m.py", shapes=tuple(
            ShapeFact("x", Range(k + 1, 8, k + 1, 9), (1, 3, 8, 8))
            for k, line in enumerate(old) if line == "        x = self.conv(x)"))
        for new in (typed, moved):
            work, mapping = line_events(40 * len(old), line_map, old, new)
            assert all(old[i - 1] == new[j - 1] for i, j in mapping.items())
            work, carried = line_events(60 * len(old), carry_over, report, old, new)
            assert len(carried.shapes) >= len(report.shapes) - 4 * 3


def test_line_map_is_an_order_preserving_matching():
    rng = random.Random(7)
    for _ in range(500):
        old = [rng.choice("abcdefghij") for _ in range(rng.randint(0, 30))]
        new = list(old)
        for _ in range(rng.randint(0, 4)):
            k = rng.randint(0, len(new))
            roll = rng.random()
            if roll < 0.4:
                new.insert(k, rng.choice("abcxyz"))
            elif new:
                k = min(k, len(new) - 1)
                if roll < 0.7:
                    del new[k]
                else:
                    new[k] = rng.choice("xyz")
        pairs = sorted(line_map(old, new).items())
        assert all(old[i - 1] == new[j - 1] for i, j in pairs)
        assert all(a[1] < b[1] for a, b in zip(pairs, pairs[1:]))
        if old == new:
            assert len(pairs) == len(old)
