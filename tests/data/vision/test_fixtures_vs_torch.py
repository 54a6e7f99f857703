"""The data fixtures' expectations hold in torch: each fixture runs under the ground-truth
tracer with torchvision (downloading datasets replaced by fakes of their format, run_case.py);
every ``# expect-shape`` on a line that ran is a shape torch saw there, and a fixture that
declares no error runs clean; with a quick fix applied, a fixture or one of the Resize fix's
programs runs clean too.  Runs in .venv-vision."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest



from tests.conftest import REPO  # noqa: E402
from shapelens.analysis import analyze  # noqa: E402
from tests.data.test_data_fixtures import CASES  # noqa: E402
from tests.data.test_resize_fix import FIXED  # noqa: E402
from tests.engine.test_fixtures import apply_edits, expectations  # noqa: E402
from tests.engine.test_fixtures import run as run_fixture  # noqa: E402


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


FIXES = [(path, line, title) for path in CASES
         for line, title in expectations(path.read_text(encoding="utf-8"))["fix"].items()]


def run_fixed(text, fix, fixed):
    """Write ``text`` with ``fix`` applied to the file ``fixed``, run it with torch and
    torchvision (the ground-truth tracer): it must run without an error; its facts."""
    fixed.write_text(apply_edits(text, fix.edits), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "tests.data.vision.run_case", str(fixed),
                           "--timeout", "300"], capture_output=True, text=True, timeout=400,
                          cwd=str(REPO))
    assert proc.returncode == 0, proc.stderr[-2000:]
    gt = json.loads(proc.stdout)
    assert gt["error"] is None, gt["error"]
    return gt


@pytest.mark.parametrize("path, line, title", FIXES,
                         ids=["%s:%d" % (p.stem, line) for p, line, _ in FIXES])
def test_quick_fixes_make_the_fixture_run_in_torch(path, line, title, tmp_path):
    """A fixture's quick fix (Resize or Grayscale in the Compose, a layer's size) applied as
    the analysis gives it: the whole program then runs with torch and torchvision, and the
    line that raised runs."""
    text, report = run_fixture(path)
    [fix] = [f for d in report.diagnostics if d.range.start_line == line
             for f in d.fixes if f.title == title]
    gt = run_fixed(text, fix, tmp_path / path.name)
    assert any(fact["line"] == line for fact in gt["facts"]), "line %d did not run" % line


@pytest.mark.parametrize("name", sorted(FIXED))
def test_resize_fixes_make_the_programs_run_in_torch(name, tmp_path):
    """The programs of tests/data/test_resize_fix.py with their Resize fix applied run with
    torch and torchvision without an error, the model on images of the size the fix chose."""
    text = FIXED[name]
    [fix] = [f for d in analyze(text, "case.py").diagnostics for f in d.fixes
             if "Resize(" in f.title]
    size = [int(n) for n in re.search(r"Resize\(\((\d+), (\d+)\)\)", fix.title).groups()]
    fixed = tmp_path / ("%s.py" % name)
    gt = run_fixed(text, fix, fixed)
    loop = next(i for i, line in enumerate(fixed.read_text().splitlines(), 1)
                if line.startswith("for images"))
    images = [s for fact in gt["facts"] if fact["line"] == loop and fact["name"] == "images"
              for s in fact["shapes"]]
    assert images and all(s[-2:] == size for s in images), images
