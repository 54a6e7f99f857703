"""``--write-baseline`` / ``--baseline``: only new findings are reported, and moving code
(lines added above, a definition moved down) keeps the old ones matched."""
from __future__ import annotations

import json

from shapelens.baseline import definitions

from tests.tooling.helpers import LINEAR_BAD, NET_BAD, codes_by_line, shapelens, write


def test_enclosing_definitions():
    where = definitions(NET_BAD)
    assert where(11) == "Net.forward" and where(8) == "Net.__init__"
    assert where(16) == "helper" and where(20) == "<module>" and where(5) == "Net"
    assert definitions("def broken(:\n")(1) == "<module>"


def test_baseline_survives_moved_lines_and_reports_only_new_findings(tmp_path):
    write(tmp_path, "net.py", NET_BAD)
    write(tmp_path, "lin.py", LINEAR_BAD)
    status, out, err = shapelens("check", ".", "--write-baseline", "shapelens-baseline.json",
                                 "-j", "1", cwd=tmp_path)
    assert (status, out) == (0, "") and "wrote 3 findings" in err
    recorded = json.loads((tmp_path / "shapelens-baseline.json").read_text())
    assert {(f["path"], f["definition"], f["code"]) for f in recorded["findings"]} == {
        ("net.py", "Net.forward", "conv-in-channels"), ("net.py", "helper", "shape-contract"),
        ("lin.py", "<module>", "linear-in-features")}

    status, out, err = shapelens("check", ".", "--baseline", "shapelens-baseline.json",
                                 cwd=tmp_path)
    assert (status, out) == (0, "") and "3 in the baseline" in err

    # lines move: a docstring and imports above, helper moved above the class
    helper = "def helper(t):\n    u = t.view(2, 3)  # shape: [3, 2]\n    return u\n"
    moved = NET_BAD.replace(helper, "")
    moved = moved.replace("import torch\n", '"""Models."""\nimport os\nimport sys\nimport torch\n'
                          + "\n\n" + helper, 1)
    # and one new finding
    moved += "\nfresh = torch.zeros(2, 3).view(7)\n"
    write(tmp_path, "net.py", moved)
    write(tmp_path, "lin.py", "\n\n" + LINEAR_BAD)
    status, out, err = shapelens("check", ".", "--baseline", "shapelens-baseline.json",
                                 cwd=tmp_path)
    assert status == 1, out
    found = codes_by_line(out)
    assert list(found.values()) == [["reshape-numel"]], out
    assert "3 in the baseline" in err


def test_one_entry_matches_one_finding(tmp_path):
    write(tmp_path, "lin.py", LINEAR_BAD)
    assert shapelens("check", "lin.py", "--write-baseline", "b.json", cwd=tmp_path)[0] == 0
    write(tmp_path, "lin.py", LINEAR_BAD + "y = fc(torch.zeros(3, 5))\n")  # the same twice
    status, out, _ = shapelens("check", "lin.py", "--baseline", "b.json", cwd=tmp_path)
    assert status == 1 and list(codes_by_line(out)) == [("lin.py", 5)]


def test_fixed_findings_are_counted_and_paths_are_relative_to_the_baseline(tmp_path):
    write(tmp_path, "pkg/lin.py", LINEAR_BAD)
    assert shapelens("check", "pkg", "--write-baseline", "ci/b.json", cwd=tmp_path)[0] == 0
    entry = json.loads((tmp_path / "ci" / "b.json").read_text())["findings"][0]
    assert entry["path"] == "../pkg/lin.py"
    # run from another folder: still matched
    status, out, err = shapelens("check", "lin.py", "--baseline", "../ci/b.json",
                                 cwd=tmp_path / "pkg")
    assert (status, out) == (0, "")
    write(tmp_path, "pkg/lin.py", LINEAR_BAD.replace("zeros(3, 5)", "zeros(3, 4)"))
    status, out, err = shapelens("check", "pkg", "--baseline", "ci/b.json", cwd=tmp_path)
    assert (status, out) == (0, "") and "1 baseline finding no longer seen" in err


def test_a_bad_baseline_is_a_usage_error(tmp_path):
    write(tmp_path, "lin.py", LINEAR_BAD)
    write(tmp_path, "b.json", '{"version": 1, "findings": [{"path": "lin.py"}]}')
    status, _, err = shapelens("check", "lin.py", "--baseline", "b.json", cwd=tmp_path)
    assert status == 2 and "lacks" in err and "Traceback" not in err
    status, _, err = shapelens("check", "lin.py", "--baseline", "none.json", cwd=tmp_path)
    assert status == 2 and "cannot read the baseline" in err
