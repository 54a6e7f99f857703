"""The data fixtures' expectations hold in torch: each fixture runs under the ground-truth
tracer with torchvision (downloading datasets replaced by fakes of their format, run_case.py);
every ``# expect-shape`` on a line that ran is a shape torch saw there, and a fixture that
declares no error runs clean.  Runs in .venv-vision."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest



from tests.conftest import REPO  # noqa: E402
from tests.data.test_data_fixtures import CASES  # noqa: E402
from tests.engine.test_fixtures import expectations  # noqa: E402


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_fixture_expectations_hold_in_torch(path, tmp_path):
    text = path.read_text(encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "tests.data.vision.run_case", str(path),
                           "--timeout", "300"], capture_output=True, text=True, timeout=400,
                          cwd=str(REPO))
    assert proc.returncode == 0, proc.stderr[-2000:]
    gt = json.loads(proc.stdout)
    seen = {}
    for fact in gt["facts"]:
        seen.setdefault(fact["line"], set()).update(
            "[" + ", ".join(str(d) for d in s) + "]" for s in fact["shapes"])
    expect = expectations(text)
    checked = 0
    for line, shapes in expect["shape"].items():
        if line not in seen:
            continue
        for shape in shapes:
            assert shape in seen[line], "line %d: %s; torch saw %s" % (line, shape,
                                                                       sorted(seen[line]))
            checked += 1
    errors = [code for items in expect["diag"].values() for code, sev in items
              if sev in (None, "error")]
    if not errors:
        assert gt["error"] is None, gt["error"]
    elif "except RuntimeError" not in text:      # (seed 000 catches its error)
        assert gt["error"] is not None, "torch ran %s without error" % path.name
        assert set(gt["error"]["lines"]) & set(expect["diag"]), \
            "torch raised at %s, not on a line with an expected error" % gt["error"]["lines"]
    assert checked or not expect["shape"], "no expectation of %s ran under torch" % path.name
