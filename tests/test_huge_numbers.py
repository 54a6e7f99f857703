"""Numbers of any size print: a dim past Python's 4300-digit int-to-str limit reaches the JSON
output, ``--shapes`` and the hover text as an exact hexadecimal literal, never a ValueError.
(The editor side, hover and inlay hints, is in tests/lsp/test_lsp_reliability.py.)"""
from __future__ import annotations

import json
import subprocess
import sys

from shapelens import check_source
from shapelens.analysis.dims import evaluate, format_dim, int_text, sym
from shapelens.analysis.values import format_shape

BIG = int("9" * 4300) * 10            # 4301 digits: str() refuses it
SOURCE = "import torch\nx = torch.zeros(int('9' * 4300) * 10)\ny = x + 1\n"


def test_int_text_is_exact_past_the_limit():
    assert int_text(12) == "12" and int_text(-3) == "-3"
    assert int_text(1234567, grouped=True) == "1,234,567"
    assert int(int_text(BIG), 16) == BIG
    assert int(int_text(-BIG), 16) == -BIG
    assert int(int_text(BIG, grouped=True), 16) == BIG


def test_symbolic_dims_with_huge_parts_print():
    n = sym("N")
    for dim in (n * BIG, n + BIG, n - BIG, (n + BIG) // 3, n // BIG, (n * BIG) // 7):
        # the printed form is a Python expression with the dim's exact value
        assert eval(format_dim(dim), {"N": 5}) == evaluate(dim, {"N": 5})
    assert format_shape((BIG, None)) == "[%s, ?]" % hex(BIG)


def test_json_report_holds_the_huge_dim_as_an_expression():
    entry = check_source(SOURCE)
    json.dumps(entry)
    shapes = {f["name"]: f["shape"] for f in entry["shapes"]}
    assert int(shapes["x"][0], 16) == BIG
    assert shapes["y"] == shapes["x"]


def test_cli_json_and_shapes_print(tmp_path):
    path = tmp_path / "huge.py"
    path.write_text(SOURCE)
    for args in (["--format", "json"], ["--shapes"], ["--format", "sarif"]):
        proc = subprocess.run([sys.executable, "-m", "shapelens", "check", *args, str(path)],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
    shapes_out = subprocess.run([sys.executable, "-m", "shapelens", "check", "--shapes",
                                 str(path)], capture_output=True, text=True, timeout=120).stdout
    assert "shape x [%s]" % hex(BIG) in shapes_out
