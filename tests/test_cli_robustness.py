"""``shapelens check`` never prints a traceback for a file: an internal error of the analysis
is reported with the file's name, and the other files are still checked."""
from __future__ import annotations

import json

import shapelens.analysis
from shapelens import cli

BAD = ("import torch\nimport torch.nn as nn\nfc = nn.Linear(4, 2)\n"
       "y = fc(torch.zeros(3, 5))\n")


def test_an_internal_error_names_the_file_and_the_run_goes_on(tmp_path, monkeypatch, capsys):
    broken, bad = tmp_path / "broken.py", tmp_path / "bad.py"
    broken.write_text("import torch\n")
    bad.write_text(BAD)
    analyze = shapelens.analysis.analyze

    def failing(text, path, resolver=None, **options):
        if path.endswith("broken.py"):
            raise RecursionError("maximum recursion depth exceeded")
        return analyze(text, path, resolver, **options)

    monkeypatch.setattr(shapelens.analysis, "analyze", failing)
    assert cli.main(["check", str(broken), str(bad)]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert "internal error while checking %s: RecursionError" % broken in err
    assert "%s:4:" % bad in out and "linear-in-features" in out

    assert cli.main(["check", "--format", "json", str(broken), str(bad)]) == 1
    out, err = capsys.readouterr()
    files = json.loads(out)["files"]
    assert [f["path"] for f in files] == [str(broken), str(bad)]
    assert files[0]["diagnostics"] == [] and files[1]["diagnostics"]
