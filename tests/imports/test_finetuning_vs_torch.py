"""Every expectation of the fine-tuning cases (finetune/*.py) holds when the case runs with
torch and torchvision (in .venv-vision, scripts/setup-vision.sh): each expected shape is the
shape torch gives, each expected error is where torch raises, and nothing raises elsewhere.
The analysis also reaches the same expectations through that environment itself (jedi finds
torchvision there, installed as any package is)."""
from __future__ import annotations

import json
import subprocess

import pytest

from shapelens.analysis import analyze
from shapelens.analysis.interp.modules import ModuleCache
from shapelens.analysis.values import format_shape
from shapelens.environment import workspace_resolver

from .finetune_helpers import CASES, VISION_PYTHON, expectations

pytestmark = pytest.mark.skipif(not VISION_PYTHON.exists(),
                                reason="needs .venv-vision (scripts/setup-vision.sh)")

RAISING = {"conv-in-channels", "linear-in-features", "norm-features", "spatial-collapse",
           "padding-invalid", "shape-mismatch", "reshape-numel", "matmul-mismatch",
           "rank-mismatch", "view-stride"}


@pytest.fixture(scope="module")
def runs():
    out = subprocess.run([str(VISION_PYTHON), str(CASES[0].parent.parent /
                                                   "run_finetune_cases.py")] +
                         [str(p) for p in CASES], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_expectations_hold_in_torch(path, runs):
    expect = expectations(path.read_text())
    run = runs[str(path)]
    for line, want in expect["shape"].items():
        assert [format_shape(tuple(run["shapes"].get(str(line)) or ()))] == want or \
            want == [format_shape(tuple(run["shapes"][str(line)]))], (line, run)
    raising = [line for line, items in expect["diag"].items()
               if any(code in RAISING for code, _ in items)]
    if raising:
        assert run["error"] is not None and run["error"]["line"] == raising[0], run["error"]
    else:
        assert run["error"] is None, run["error"]


CACHE = ModuleCache()


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_the_analysis_through_the_environment_itself(path):
    text = path.read_text()
    resolver = workspace_resolver([str(path.parent)], str(VISION_PYTHON), cache=CACHE)
    report = analyze(text, str(path), resolver)
    expect = expectations(text)
    seen = {}
    for fact in report.shapes:
        seen.setdefault(fact.range.start_line, set()).add(format_shape(fact.shape))
    for line, want in expect["shape"].items():
        assert sorted(seen.get(line, ())) == want, (line, seen)
    errors = {d.range.start_line: d.code for d in report.diagnostics
              if d.severity in ("error", "warning")}
    assert errors == {line: items[0][0] for line, items in expect["diag"].items()}
    assert any(dep.endswith("torchvision/models/__init__.py") for dep in report.dependencies)
