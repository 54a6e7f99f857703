"""A second, independent real client: headless Neovim (Debian's 0.7.2, installed by
scripts/setup-nvim.sh) opens a corpus file, gets ShapeLens diagnostics through its built-in
LSP client and asks for a hover.  Fails, never skips, when nvim is missing."""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "data" / "corpus"
SCRIPT = pathlib.Path(__file__).with_name("lsp_check.lua")


def nvim() -> str:
    path = shutil.which("nvim")
    if path is None:
        pytest.fail("nvim is not installed: run scripts/setup-nvim.sh (scripts/test does)",
                    pytrace=False)
    return path


def run_nvim(tmp_path: pathlib.Path, case: pathlib.Path, hover: str) -> dict:
    out = tmp_path / "nvim-result.json"
    env = dict(os.environ, SHAPELENS_PYTHON=sys.executable, SHAPELENS_ROOT=str(REPO),
               SHAPELENS_OUT=str(out), SHAPELENS_HOVER=hover, SHAPELENS_TIMEOUT_MS="30000",
               XDG_STATE_HOME=str(tmp_path / "state"), XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_CACHE_HOME=str(tmp_path / "cache"))
    process = subprocess.run(
        [nvim(), "--headless", "--clean", "-u", "NONE", "-n", "-c", "luafile %s" % SCRIPT,
         str(case)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90,
        stdin=subprocess.DEVNULL)
    assert out.is_file(), "nvim wrote no result (exit %s)\nstdout: %s\nstderr: %s" % (
        process.returncode, process.stdout[-2000:], process.stderr[-2000:])
    return json.loads(out.read_text())


def test_neovim_gets_diagnostics_and_a_hover(tmp_path):
    case = CORPUS / "seed000_ex2_bad.py"
    if not case.is_file():
        pytest.fail("the corpus is missing at %s" % CORPUS, pytrace=False)
    # line 16 (0-based 15): "        return self.conv1(x)"; character 20 is on "conv1"
    result = run_nvim(tmp_path, case, "15:20")
    assert not result["errors"], result["errors"]
    assert result["nvim_version"]["major"] == 0 and result["nvim_version"]["minor"] >= 7
    assert result["waited_for_diagnostics"], result

    published = [d for p in result["publications"] for d in p["diagnostics"]]
    [diagnostic] = [d for d in published if d.get("code") == "conv-in-channels"]
    assert diagnostic["range"]["start"]["line"] == 15
    assert diagnostic["severity"] == 1 and diagnostic["source"] == "shapelens"
    assert diagnostic["message"].startswith("Given groups=1, weight of size [64, 3, 3, 3]")
    # Neovim's own diagnostic store took it (0-based lnum, severity 1 = error)
    stored = [d for d in result["nvim_diagnostics"] if "Given groups=1" in d["message"]]
    assert stored and stored[0]["lnum"] == 15 and stored[0]["severity"] == 1

    hover = result["hover"]
    assert hover, result
    assert hover["contents"]["kind"] == "markdown"
    assert "**conv1** `Conv2d(3, 64, kernel_size=(3, 3)" in hover["contents"]["value"]
    assert "parameters: 1,792" in hover["contents"]["value"]
