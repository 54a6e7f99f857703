"""The probe reproduces the corpus ground truth (tools/groundtruth.py) on cpu and on meta.

Ground truth was recorded with each case running as ``__main__``; the probe runs it as
``__probe__``.  No corpus case has an ``if __name__ == "__main__":`` block (checked below), so the
facts must be identical.  Comment-driven cases need the sample inputs the static analysis would
find; they are written out here by hand from each case's ``# shape:`` comment and
``# groundtruth:`` header.

On ``meta`` the shapes and the failing lines are the same, but PyTorch's meta kernels word some
errors differently (``Invalid channel dimensions`` instead of ``Given groups=1, weight of size
...``; ``a and b must have same reduction dim`` instead of ``mat1 and mat2 shapes cannot be
multiplied``), so messages are compared on cpu only.
"""
from __future__ import annotations

import json
import re

import pytest

from shapelens.probe.report import file_report
from shapelens.probe.runner import run_probe

from probe_helpers import CORPUS, corpus_cases

# Hand-written sample inputs of the comment-driven cases: (samples, dims).
COMMENT_SAMPLES = {
    "comment_driven": (
        [{"class_name": "ConvClassifier", "line": 22, "inputs": {"x": ["N", 3, 32, 32]},
          "ctor_kwargs": None}],
        {"N": 4}),
    "comment_driven_bad": (
        [{"class_name": "MLPHead", "line": 13, "inputs": {"feats": ["B", 48]},
          "ctor_kwargs": None}],
        {"B": 8}),
}
CASE_NAMES = [path.stem for path in sorted(CORPUS.glob("*.py"))] or ["<corpus missing>"]
DEVICES = ("cpu", "meta")


def probed(device: str, case: str):
    """Probe one corpus case, with its hand-written samples when it is comment-driven."""
    samples, dims = COMMENT_SAMPLES.get(case, ([], {}))
    request = {"path": str(CORPUS / (case + ".py")), "device": device, "samples": samples,
               "dims": dims}
    return run_probe(request, timeout_s=120)


def ground_truth(case: str) -> dict:
    return json.loads((CORPUS / (case + ".gt.json")).read_text(encoding="utf-8"))


def test_corpus_is_present():
    assert len(corpus_cases()) >= 30


def test_no_case_hides_its_sample_under_a_main_guard():
    # The probe skips `if __name__ == "__main__":` blocks and ground truth ran them; the
    # comparisons below are exact because no case has one.  A new case that does needs its
    # expected facts restricted here.
    guarded = [p.name for p in corpus_cases()
               if re.search(r"__name__\s*==\s*['\"]__main__['\"]", p.read_text())]
    assert guarded == []


def test_every_comment_driven_case_has_hand_written_samples():
    commented = {p.stem for p in corpus_cases()
                 if re.search(r"#\s*shape\s*:\s*\w+\s*=", p.read_text(), re.IGNORECASE)}
    assert commented == set(COMMENT_SAMPLES)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", CASE_NAMES)
def test_probe_matches_ground_truth(case, device):
    corpus_cases()  # fails clearly when the corpus is missing
    result = probed(device, case)
    truth = ground_truth(case)
    assert result.status == ("ok" if truth["error"] is None else "error"), result.message
    assert result.device == device
    assert result.to_dict()["facts"] == truth["facts"]

    source = (CORPUS / (case + ".py")).read_text(encoding="utf-8")
    errors = [d for d in file_report(result, case + ".py", source)["diagnostics"]
              if d["severity"] == "error"]
    if truth["error"] is None:
        assert result.error is None
        assert errors == []
        return
    assert result.error.type == truth["error"]["type"]
    assert list(result.error.lines) == truth["error"]["lines"]
    if device == "cpu":
        assert result.error.message == truth["error"]["message"]
    # the diagnostic sits on the line that raised: the deepest traceback line in the file
    assert [d["range"]["start"]["line"] for d in errors] == [truth["error"]["lines"][-1]]
    assert errors[0]["code"] == "runtime-error"
    assert errors[0]["message"] == result.error.message
