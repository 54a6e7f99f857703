"""The probe's tracer records exactly what tools/groundtruth.py records, on code chosen to hit
the corners of its rules (generators, globals, ``with``, multi-line statements, in-place ops,
class bodies, comprehensions, caught exceptions).  Both run the snippet as ``__main__``."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from shapelens.probe.runner import run_probe

from probe_helpers import GROUNDTRUTH_TOOL

SNIPPETS = {
    "generators_and_globals": """\
        import torch

        def gen(n):
            for i in range(n):
                chunk = torch.ones(i + 1, 2)
                yield chunk

        total = None
        def accumulate(t):
            global total
            total = t if total is None else torch.cat([total, t])

        for piece in gen(3):
            accumulate(piece)
        last = total
        """,
    "with_multiline_inplace": """\
        import contextlib
        import torch
        from torch import nn

        relu = nn.ReLU(inplace=True)

        @contextlib.contextmanager
        def scratch(n):
            buf = torch.zeros(n)
            yield buf

        with scratch(
            4
        ) as s:
            y = torch.cat(
                [s,
                 s],
            )
        y = relu(y)
        y += 1
        z: torch.Tensor = y.view(2, 4)
        """,
    "classes_comprehensions_exceptions": """\
        import torch

        class Table:
            weights = torch.ones(3, 3)
            scaled = weights * 2

        rows = [r * 2 for r in torch.ones(2, 5)]
        f = lambda t: t.sum(0)
        col = f(torch.ones(4, 6))
        try:
            bad = torch.ones(2).view(3)
        except RuntimeError:
            bad = torch.zeros(1)
        first, *rest = torch.ones(3, 2)
        a = b = torch.ones(1, 1)
        """,
}


def ground_truth_of(path) -> dict:
    if not GROUNDTRUTH_TOOL.is_file():
        pytest.fail("tools/groundtruth.py is missing: expected %s" % GROUNDTRUTH_TOOL,
                    pytrace=False)
    done = subprocess.run([sys.executable, str(GROUNDTRUTH_TOOL), str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_probe_records_what_groundtruth_records(tmp_path, name):
    path = tmp_path / (name + ".py")
    path.write_text(textwrap.dedent(SNIPPETS[name]), encoding="utf-8")
    truth = ground_truth_of(path)
    assert truth["error"] is None and truth["facts"]
    result = run_probe({"path": str(path), "device": "cpu"}, timeout_s=60)
    assert result.status == "ok", result.message
    assert result.to_dict()["facts"] == truth["facts"]
