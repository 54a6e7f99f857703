"""``shapelens probe FILE`` (shapelens.probe.cli.main): output formats and exit statuses."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from shapelens.probe.cli import main, parse_dims

from probe_helpers import CORPUS, corpus_cases


def run_cli(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_text_output_of_a_raising_case_exits_1(capsys):
    corpus_cases()
    path = str(CORPUS / "seed000_ex1_bad.py")
    status, out, err = run_cli(capsys, path, "--device", "cpu")
    assert status == 1
    assert out.splitlines() == [
        "%s:12:23: shape x [1, 1, 28, 28]" % path,
        "%s:13:9: error runtime-error Given groups=1, weight of size [64, 3, 3, 3], expected "
        "input[1, 1, 28, 28] to have 3 channels, but got 1 channels instead" % path,
        "%s:19:1: shape incorrect_input [1, 1, 28, 28]" % path,
    ]
    assert "error" in err


def test_json_output_of_a_clean_case_has_the_ground_truth_shapes(capsys):
    corpus_cases()
    path = str(CORPUS / "lenet.py")
    status, out, _ = run_cli(capsys, path, "--device", "meta", "--format", "json")
    assert status == 0
    document = json.loads(out)
    assert document["version"] == 1 and document["probe"]["device"] == "meta"
    (entry,) = document["files"]
    assert entry["path"] == path and entry["diagnostics"] == []
    truth = json.loads((CORPUS / "lenet.gt.json").read_text())["facts"]
    probed = sorted((s["range"]["start"]["line"], s["name"], s["shape"])
                    for s in entry["shapes"])
    assert probed == sorted((f["line"], f["name"], shape)
                            for f in truth for shape in f["shapes"])


def test_a_probe_that_cannot_finish_exits_3(capsys, tmp_path):
    hang = tmp_path / "hang.py"
    hang.write_text("while True:\n    pass\n")
    status, out, err = run_cli(capsys, str(hang), "--device", "cpu", "--timeout", "3")
    assert status == 3
    assert "timeout" in err and "timed out after 3 s" in err


def test_an_interpreter_without_torch_exits_3(capsys, tmp_path, python_without_torch):
    model = tmp_path / "m.py"
    model.write_text("x = 1\n")
    status, _, err = run_cli(capsys, str(model), "--python", python_without_torch)
    assert status == 3
    assert "no-torch" in err and "pip install torch" in err


@pytest.mark.parametrize("argv, message", [
    ([], "required"),
    (["missing_file.py"], "cannot read"),
    (["FILE", "--dim", "N"], "--dim"),
    (["FILE", "--device", "tpu"], "--device"),
    (["FILE", "--format", "sarif"], "invalid choice"),
    (["FILE", "--timeout", "0"], "--timeout"),
])
def test_usage_errors_exit_2(capsys, tmp_path, argv, message):
    model = tmp_path / "m.py"
    model.write_text("x = 1\n")
    status, _, err = run_cli(capsys, *[str(model) if a == "FILE" else a for a in argv])
    assert status == 2
    assert message in err


def test_dims_parse_names_to_integers():
    assert parse_dims("N=2, H=32,") == {"N": 2, "H": 32}
    with pytest.raises(ValueError):
        parse_dims("2=N")


def test_runs_as_a_module(tmp_path):
    model = tmp_path / "m.py"
    model.write_text("import torch\nx = torch.ones(2, 2)\n")
    done = subprocess.run([sys.executable, "-m", "shapelens.probe.cli", str(model),
                           "--device", "cpu"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "%s:2:1: shape x [2, 2]\n" % model


def test_comment_declared_inputs_come_from_the_static_analysis(capsys):
    # samples_for() connects the analysis to the probe: without it the forward never runs.
    corpus_cases()
    path = str(CORPUS / "comment_driven_bad.py")
    status, out, _ = run_cli(capsys, path, "--device", "cpu", "--dims", "B=8")
    assert status == 1
    truth = json.loads((CORPUS / "comment_driven_bad.gt.json").read_text())
    assert out.splitlines() == [
        "%s:13:23: shape feats [8, 48]" % path,
        "%s:14:9: error runtime-error %s" % (path, truth["error"]["message"]),
    ]


def test_device_timeout_and_dims_come_from_the_project_configuration(capsys, tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.shapelens.probe]\ndevice = "meta"\ndims = {B = 3, D = 5}\n')
    model = tmp_path / "head.py"
    model.write_text(
        "import torch.nn as nn\n\n\nclass Head(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(5, 2)\n\n"
        "    def forward(self, x):  # shape: x=[B, D]\n        return self.fc(x)\n")
    status, out, err = run_cli(capsys, str(model), "--format", "json")
    assert status == 0, err
    document = json.loads(out)
    assert document["probe"]["device"] == "meta"
    assert {s["name"]: s["shape"] for s in document["files"][0]["shapes"]} == {"x": [3, 5]}
    # the command line wins over the file
    status, out, _ = run_cli(capsys, str(model), "--format", "json", "--dims", "B=7",
                             "--device", "cpu")
    document = json.loads(out)
    assert document["probe"]["device"] == "cpu"
    assert {s["name"]: s["shape"] for s in document["files"][0]["shapes"]} == {"x": [7, 5]}
    (tmp_path / "pyproject.toml").write_text('[tool.shapelens.probe]\ntimeout-seconds = 2\n')
    hang = tmp_path / "hang.py"
    hang.write_text("while True:\n    pass\n")
    status, _, err = run_cli(capsys, str(hang), "--device", "cpu")
    assert status == 3 and "timed out after 2 s" in err
    (tmp_path / "pyproject.toml").write_text('[tool.shapelens.probe]\ndevice = "tpu"\n')
    status, _, err = run_cli(capsys, str(model))
    assert status == 2 and "[tool.shapelens] probe.device: unknown device 'tpu'" in err
