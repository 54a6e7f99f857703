"""The command line as users run it: formats, exit codes, directories, and the Python API."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import CORPUS, REPO

EXAMPLES = REPO / "examples"


def shapelens(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "shapelens", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def test_text_format_and_exit_code_on_errors():
    proc = shapelens("check", str(CORPUS / "seed000_ex2_bad.py"))
    assert proc.returncode == 1
    line = proc.stdout.strip().splitlines()[0]
    assert ":16:" in line and " error conv-in-channels Given groups=1, weight of size " \
        "[64, 3, 3, 3], expected input[1, 12, 28, 28] to have 3 channels, but got 12 channels " \
        "instead" in line


def test_clean_file_exits_zero():
    proc = shapelens("check", str(CORPUS / "lenet.py"))
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.strip() == ""


def test_usage_errors_exit_two():
    assert shapelens("check", "/no/such/file.py").returncode == 2
    assert shapelens("check", "--format", "yaml", str(CORPUS / "lenet.py")).returncode == 2
    assert shapelens("frobnicate").returncode == 2
    assert shapelens().returncode == 2


def test_json_contract():
    proc = shapelens("check", "--format", "json", str(CORPUS / "residual_padding0_bad.py"))
    report = json.loads(proc.stdout)
    assert report["version"] == 1 and len(report["files"]) == 1
    entry = report["files"][0]
    diag = entry["diagnostics"][0]
    assert diag["severity"] == "error" and diag["code"] == "shape-mismatch"
    assert diag["range"]["start"] == {"line": 19, "column": 15}
    assert any("conv2" in r["message"] for r in diag["related"])
    shapes = {(s["range"]["start"]["line"], s["name"]): s["shape"] for s in entry["shapes"]}
    assert shapes[(18, "out")] == [2, 64, 30, 30]
    assert shapes[(15, "x")] == [2, 64, 32, 32]


def test_symbolic_shapes_are_python_expressions():
    proc = shapelens("check", "--format", "json", str(CORPUS / "comment_driven.py"))
    entry = json.loads(proc.stdout)["files"][0]
    for s in entry["shapes"]:
        for d in s["shape"]:
            if isinstance(d, str):
                eval(d, {}, {"N": 3})  # a valid integer expression over the names


def test_directory_recursion_sarif_and_shapes(tmp_path):
    proc = shapelens("check", "--format", "sarif", ".", cwd=str(EXAMPLES))
    assert proc.returncode == 1
    sarif = json.loads(proc.stdout)
    results = sarif["runs"][0]["results"]
    files = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert "./feature_extractor.py" in files or "feature_extractor.py" in files
    proc = shapelens("check", "--shapes", "unet.py", cwd=str(EXAMPLES))
    assert "shape s2 [B, 32, 32, 32]" in proc.stdout


def test_cross_file_import_is_followed():
    proc = shapelens("check", "feature_extractor.py", cwd=str(EXAMPLES))
    assert proc.returncode == 1
    assert "error conv-in-channels Given groups=1" in proc.stdout
    assert "(raised in ConvBlock, models/blocks.py:13)" in proc.stdout


def test_python_api_matches_cli_entry():
    import shapelens
    text = (CORPUS / "linear_in_features_bad.py").read_text()
    api = shapelens.check_source(text, "linear_in_features_bad.py")
    cli = json.loads(shapelens_cli_json(CORPUS / "linear_in_features_bad.py"))["files"][0]
    assert api["diagnostics"][0]["message"] == cli["diagnostics"][0]["message"]
    assert [s["shape"] for s in api["shapes"]] == [s["shape"] for s in cli["shapes"]]


def shapelens_cli_json(path):
    return shapelens("check", "--format", "json", str(path)).stdout


def test_importing_shapelens_and_analysing_does_not_import_torch():
    code = ("import sys, shapelens; shapelens.check_source(open(%r).read(), 'x.py');"
            "import shapelens.server, shapelens.probe.runner; print('torch' in sys.modules)"
            % str(CORPUS / "lenet.py"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_main_job_script_runs_over_examples():
    proc = subprocess.run([str(REPO / "scripts" / "examples")], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "error conv-in-channels" in proc.stdout and "shape logits" in proc.stdout
