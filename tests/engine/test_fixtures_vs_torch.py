"""The fixtures' expectations are themselves checked against torch: each fixture runs under
the corpus ground-truth tracer (tests/data/tools/groundtruth.py, which executes the file with
torch on CPU), and every ``# expect-shape`` on a line that ran must be a shape seen there, with
symbolic dims evaluated by the file's ``# groundtruth:`` bindings.  A fixture that declares no
errors must run clean.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from shapelens.analysis.source import parse_dims
from shapelens.analysis import dims as D

from tests.engine.test_fixtures import CASES, expectations
from tests.conftest import TOOLS

GROUNDTRUTH = TOOLS / "groundtruth.py"


def bindings_of(text):
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#") and "groundtruth:" in line:
            for part in line.split("groundtruth:", 1)[1].split(","):
                if "=" in part:
                    k, v = part.split("=")
                    out[k.strip()] = int(v)
    return out


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_fixture_expectations_hold_in_torch(path):
    assert GROUNDTRUTH.is_file(), "ground-truth tool missing: %s" % GROUNDTRUTH
    text = path.read_text(encoding="utf-8")
    proc = subprocess.run([sys.executable, str(GROUNDTRUTH), str(path)], capture_output=True,
                          text=True, timeout=120, cwd=str(path.parent))
    assert proc.returncode == 0, proc.stderr[-2000:]
    gt = json.loads(proc.stdout)
    seen = {}
    for fact in gt["facts"]:
        seen.setdefault(fact["line"], set()).update(tuple(s) for s in fact["shapes"])
    binds = bindings_of(text)
    expect = expectations(text)
    checked = 0
    for line, shapes in expect["shape"].items():
        if line not in seen:
            continue  # never ran (a module only analysed statically)
        for shape_text in shapes:
            dims, err = parse_dims(shape_text.replace("?", "_"))
            assert err is None, shape_text
            concrete = tuple(D.evaluate(d, binds) for d in dims)
            assert concrete in seen[line], "line %d: %s evaluates to %s; torch saw %s" % (
                line, shape_text, concrete, sorted(seen[line]))
            checked += 1
    declares_errors = any(sev in (None, "error") for items in expect["diag"].values()
                          for _, sev in items if True) and any(
        code not in ("shape-contract", "shape-comment")
        for items in expect["diag"].values() for code, _ in items)
    if not declares_errors:
        assert gt["error"] is None, gt["error"]
    assert checked or not expect["shape"], "no expectation of %s ran under torch" % path.name
