"""The probe reproduces the corpus ground truth (tools/groundtruth.py) on cpu and on meta.

Ground truth was recorded with each case running as ``__main__``, as the probe runs it.  The
probe takes its sample inputs where the static analysis finds them (``samples_for``: comment-
driven forwards the file does not call), with the symbolic dims bound as the case's
``# groundtruth: N=4`` header binds them.  Each case is also probed with its sample code moved
under ``if __name__ == "__main__":`` and into a ``main()`` called there: the facts are the
ground truth's, one line further down (the error's lines start at the ``main()`` call).

On ``meta`` the shapes and the failing lines are the same, but PyTorch's meta kernels word some
errors differently (``Invalid channel dimensions`` instead of ``Given groups=1, weight of size
...``; ``a and b must have same reduction dim`` instead of ``mat1 and mat2 shapes cannot be
multiplied``), so messages are compared on cpu only.
"""
from __future__ import annotations

import ast
import json
import re

import pytest

from shapelens.probe.cli import parse_dims, samples_for
from shapelens.probe.report import file_report
from shapelens.probe.runner import run_probe

from probe_helpers import CORPUS, corpus_cases

CASE_NAMES = [path.stem for path in sorted(CORPUS.glob("*.py"))] or ["<corpus missing>"]
DEVICES = ("cpu", "meta")
GT_HEADER = re.compile(r"^#\s*groundtruth:\s*(.*)$", re.MULTILINE)
# Cases probed again with their sample under a main guard and in main() (a sample of the
# corpus: every kind of model, clean and raising).
GUARDED = ("lenet", "lstm_classifier", "transformer_block", "make_layer_sequential",
           "seed000_ex1_bad", "seed002_ex3_bad", "unet_skip_odd_bad", "view_numel_bad")


def bindings(source: str) -> dict:
    """The ``# groundtruth: N=4, H=32`` bindings of a case."""
    dims = {}
    for text in GT_HEADER.findall(source):
        dims.update(parse_dims(text))
    return dims


def probe_case(path, source: str, device: str):
    request = {"path": str(path), "source": source, "device": device, "dims": bindings(source),
               "samples": samples_for(str(path), source)}
    return run_probe(request, timeout_s=120)


def probed(device: str, case: str):
    path = CORPUS / (case + ".py")
    return probe_case(path, path.read_text(encoding="utf-8"), device)


def ground_truth(case: str) -> dict:
    return json.loads((CORPUS / (case + ".gt.json")).read_text(encoding="utf-8"))


def under_main_guard(source: str, in_main_function: bool):
    """The case with its trailing module-level statements (the sample code) moved under
    ``if __name__ == "__main__":`` (or into a ``main()`` called there); returns the new source
    and the first line that moved."""
    tree = ast.parse(source)
    tail = []
    for node in reversed(tree.body):
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
            break
        tail.append(node)
    first = min(node.lineno for node in tail)
    lines = source.splitlines()
    body = ["    " + line if line.strip() else "" for line in lines[first - 1:]]
    if in_main_function:
        moved = ["def main():"] + body + ["", "", 'if __name__ == "__main__":', "    main()"]
    else:
        moved = ['if __name__ == "__main__":'] + body
    return "\n".join(lines[:first - 1] + moved) + "\n", first


def test_corpus_is_present():
    assert len(corpus_cases()) >= 30


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


@pytest.mark.parametrize("in_main_function", [False, True], ids=["main-guard", "main()"])
@pytest.mark.parametrize("case", GUARDED)
def test_a_sample_under_a_main_guard_or_in_main_is_probed_the_same(case, in_main_function,
                                                                  tmp_path):
    corpus_cases()
    source, first = under_main_guard((CORPUS / (case + ".py")).read_text(encoding="utf-8"),
                                     in_main_function)
    path = tmp_path / (case + ".py")
    path.write_text(source, encoding="utf-8")
    result = probe_case(path, source, "cpu")
    truth = ground_truth(case)
    moved = lambda line: line + 1 if line >= first else line  # noqa: E731
    expected = sorted(([moved(f["line"]), f["name"], f["shapes"]] for f in truth["facts"]))
    assert sorted([f["line"], f["name"], f["shapes"]]
                  for f in result.to_dict()["facts"]) == expected
    assert result.skipped == ()  # nothing beyond the samples here
    if truth["error"] is None:
        assert result.status == "ok", result.message
        return
    lines = [moved(line) for line in truth["error"]["lines"]]
    if in_main_function:
        lines.insert(0, len(source.splitlines()))  # the main() call
    assert result.status == "error"
    assert list(result.error.lines) == lines
    assert result.error.message == truth["error"]["message"]
