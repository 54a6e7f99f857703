"""The example corpus (tests/data/corpus) against its torch ground truth.

Through the command line, as users and the scoring tool run it: every inferred shape equals the
shape seen at run time, every raising case gets an error on a line of its traceback, clean cases
get no error, and the corpus bars of the engine issue hold.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from shapelens.analysis import analyze
from tests.conftest import CORPUS, TOOLS

SCORE = TOOLS / "score.py"


def cases():
    assert CORPUS.is_dir(), "corpus missing: %s" % CORPUS
    return sorted(CORPUS.glob("*.py"))


def bindings_of(path):
    from tests.engine.test_fixtures_vs_torch import bindings_of as parse
    return parse(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.stem)
def test_case_matches_ground_truth(case):
    from shapelens.analysis import dims as D
    gt = json.loads(case.with_suffix(".gt.json").read_text())
    report = analyze(case.read_text(encoding="utf-8"), str(case))
    assert not report.extra["internal_errors"]
    truth = {(f["line"], f["name"]): {tuple(s) for s in f["shapes"]} for f in gt["facts"]}
    binds = bindings_of(case)
    for fact in report.shapes:
        key = (fact.range.start_line, fact.name)
        if key not in truth or fact.shape is None or None in fact.shape:
            continue
        concrete = tuple(D.evaluate(d, binds) for d in fact.shape)
        assert concrete in truth[key], "%s line %d %s: analysed %s, torch saw %s" % (
            case.name, key[0], key[1], concrete, truth[key])
    errors = [d for d in report.diagnostics if d.severity == "error"]
    if gt["error"] is None:
        assert not errors, "false error on a clean case: %s" % [d.message for d in errors]
    else:
        lines = set(gt["error"]["lines"])
        assert any(d.range.start_line in lines for d in errors), \
            "missed %s at lines %s" % (gt["error"]["message"], sorted(lines))


def test_score_bars_through_the_cli():
    """The issue's bars, measured by the scoring tool (tests/data/tools/score.py) over `python -m shapelens check`."""
    assert SCORE.is_file(), "scoring tool missing: %s" % SCORE
    proc = subprocess.run(
        [sys.executable, str(SCORE), str(CORPUS), "--check-cmd",
         "%s -m shapelens check --format json" % sys.executable, "--jobs", "2",
         "--min-coverage", "95", "--min-accuracy", "100", "--min-bugs", "100", "--max-fp", "0"],
        capture_output=True, text=True, timeout=600)
    summary = proc.stdout.strip().splitlines()[-1]
    assert proc.returncode == 0, "score bars not met: %s\n%s" % (summary, proc.stdout[-3000:])
    assert "failed_runs=0" in summary


def test_a_check_without_model_runs_reports_the_same():
    """``analyze(..., runs=False)`` (what ``shapelens check`` uses: it shows no summary) skips
    recording model runs and changes nothing else of the report."""
    for path in sorted(CORPUS.glob("*.py")):
        text = path.read_text()
        full, lean = analyze(text, str(path)), analyze(text, str(path), runs=False)
        assert lean.runs == ()
        assert lean.to_json() == full.to_json(), path.name
    assert any(analyze(p.read_text()).runs for p in CORPUS.glob("*.py"))
