"""ShapeLens in real VS Code (code-server 4.100.3 + Chromium + playwright-core).

Runs tests/vscode/e2e.mjs once against the freshly built .vsix (scripts/build-vsix.sh, which
runs `npm run package`) on a model.py whose sample input is under `if __name__ == "__main__":`,
and checks each step of its scenario: install, the server on a Python without pygls (only the
bundled libraries), squiggle, problem count, hover with the shape, quick fix through the
lightbulb menu, probe from the command palette (on the interpreter the workspace's
[tool.shapelens] names) with the probed shape in a hover; the Shape Summary view (Panel area)
from its code lens (table rows and diagram nodes in the DOM, a row revealing its line, an edit
that breaks a layer turning its node to the error state, a switch to a dark theme, Copy as
Markdown; after the Panel area was hidden, the command shows it again on the class at the cursor,
with probed shapes beside the static ones; behind the Problems tab, the code lens shows it again,
and an edit made while it is hidden is in it when its tab is chosen; a high-contrast theme); then the message when the interpreter cannot import the server, a missing interpreter set in the Settings editor, and a
second window in Restricted Mode (static features on, probe refused with an explanation).
Screenshots, the extension's log and result.json land in test-output/vscode/.

Nothing is skipped: a missing .vsix, code-server, Chromium or node is a failure, with the script
to run in the message (scripts/test runs them all).
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test-output" / "vscode"
DRIVER = Path(__file__).with_name("e2e.mjs")
CODE_SERVER = ROOT / ".tools" / "code-server-4.100.3" / "node_modules" / ".bin" / "code-server"
CHROMIUM = Path("/usr/lib/chromium/chromium")
PYTHON = ROOT / ".venv" / "bin" / "python"
DRIVER_TIMEOUT_S = 540

# One code-server run serves every test here: keep them on one xdist worker (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("vscode")


def _vsix() -> Path:
    version = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["version"]
    return ROOT / "build" / f"shapelens-{version}.vsix"


@pytest.fixture(scope="module")
def e2e() -> dict:
    missing = [f"{what} ({how})" for what, path, how in [
        ("the .vsix " + str(_vsix().relative_to(ROOT)), _vsix(), "scripts/build-vsix.sh"),
        ("code-server", CODE_SERVER, "scripts/setup-editors.sh"),
        ("Chromium", CHROMIUM, "scripts/setup-editors.sh"),
        ("playwright-core", ROOT / "node_modules" / "playwright-core", "scripts/setup-editors.sh"),
        ("the .venv interpreter with torch", PYTHON, "scripts/setup-python.sh"),
    ] if not path.exists()]
    if shutil.which("node") is None:
        missing.append("node (Node.js 20)")
    if missing:
        pytest.fail("real-VS-Code test infrastructure missing: " + "; ".join(missing))

    # One driver run per test session: pytest-xdist may still give two workers tests of this
    # module (their "vscode" group notwithstanding), and a second run would delete the first's
    # screenshots as it starts.  The first worker runs it; the other waits and reads its result.
    OUT.mkdir(parents=True, exist_ok=True)
    session = os.environ.get("PYTEST_XDIST_TESTRUNUID") or str(os.getpid())
    with open(OUT / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp, output = OUT / "session", OUT / "driver-output.txt"
        if not (stamp.exists() and stamp.read_text() == session):
            _run_driver(output)
            stamp.write_text(session)
    result_file = OUT / "result.json"
    if not result_file.exists():
        pytest.fail("e2e.mjs wrote no result.json:\n" + output.read_text(encoding="utf-8"))
    result = json.loads(result_file.read_text(encoding="utf-8"))
    result["driver_output"] = output.read_text(encoding="utf-8")
    return result


def _run_driver(output: Path):
    for stale in (OUT / "result.json", OUT / "session"):
        if stale.exists():
            stale.unlink()
    try:
        run = subprocess.run(
            ["node", str(DRIVER), "--vsix", str(_vsix()), "--python", str(PYTHON),
             "--out", str(OUT), "--code-server", str(CODE_SERVER), "--chromium", str(CHROMIUM)],
            cwd=ROOT, capture_output=True, text=True, timeout=DRIVER_TIMEOUT_S,
            env={**os.environ, "NODE_NO_WARNINGS": "1"})
        text = "(exit %d)\n%s%s" % (run.returncode, run.stdout, run.stderr)
    except subprocess.TimeoutExpired as exc:
        text = f"e2e.mjs ran past {DRIVER_TIMEOUT_S} s; output so far:\n{exc.stdout}\n{exc.stderr}"
    output.write_text(text, encoding="utf-8")


def _step(result: dict, name: str) -> str:
    steps = {s["name"]: s for s in result["steps"]}
    assert name in steps, (f"step {name!r} never ran (an earlier step stopped the run):\n"
                           + result["driver_output"])
    step = steps[name]
    assert step["ok"], (f"{name}: {step['detail']}\n(screenshots and logs in "
                        f"{OUT.relative_to(ROOT)}; driver output:)\n{result['driver_output']}")
    return step["detail"]


def test_vsix_installs_and_code_server_opens_the_file(e2e):
    _step(e2e, "infrastructure present")
    assert _step(e2e, "install the .vsix").startswith("shapelens.shapelens-")
    _step(e2e, "start code-server")
    _step(e2e, "open the workbench and model.py")


def test_status_bar_shows_server_running(e2e):
    assert "running" in _step(e2e, "status bar shows the ShapeLens server running")


def test_the_vsix_runs_on_a_python_without_pygls(e2e):
    assert "No module named 'pygls'" in _step(e2e, "a Python without pygls is first on PATH")
    assert "python3 (from PATH)" in _step(
        e2e, "the server runs on that Python, from the bundled libraries")


def test_an_interpreter_that_cannot_run_the_server_says_why(e2e):
    detail = _step(e2e, "an interpreter that cannot run the server says why")
    assert "cannot import the module 'shapelens'" in detail and "npm run package" in detail
    assert "failed" in detail


def test_conv2d_in_channels_bug_is_squiggled(e2e):
    _step(e2e, "squiggle on the Conv2d call")
    assert "Errors: 1" in _step(e2e, "problems count in the status bar is 1 error")


def test_hover_shows_tensor_shape(e2e):
    assert "[1, 12, 28, 28]" in _step(e2e, "hover on x shows its shape [1, 12, 28, 28]")
    assert "to have 3 channels, but got 12" in _step(
        e2e, "hover on the squiggle explains the channel mismatch")


def test_quick_fix_through_the_ui_removes_the_squiggle(e2e):
    detail = _step(e2e, "quick fix from the lightbulb menu removes the squiggle")
    assert "in_channels" in detail and "No Problems" in detail


def test_probe_from_command_palette_shows_probed_shape(e2e):
    detail = _step(e2e, "probe from the command palette shows the probed shape in a hover")
    assert "cpu" in detail and "[1, 64, 28, 28]" in detail


def test_screenshots_saved(e2e):
    shots = [ROOT / s for s in e2e["screenshots"]]
    sizes = {s.name: s.stat().st_size if s.is_file() else None for s in shots}
    assert shots and all(size and size > 10_000 for size in sizes.values()), (
        sizes, e2e.get("screenshotErrors"))


def test_missing_python_gives_clear_error(e2e):
    detail = _step(e2e, "a missing Python interpreter gives a clear error")
    assert "needs Python 3.10 or newer" in detail and "no-python" in detail


def test_restricted_mode_keeps_static_features_and_disables_probe(e2e):
    assert "squiggle shown" in _step(e2e, "Restricted Mode: static analysis works")
    assert "disabled in Restricted Mode" in _step(
        e2e, "Restricted Mode: the probe is disabled with an explanation")


def test_code_lens_probes_the_class(e2e):
    assert "probed" in _step(e2e, 'the "▶ probe" code lens probes the class')


def test_summary_view_from_the_code_lens(e2e):
    detail = _step(e2e, 'the "▦ summary" code lens opens the Shape Summary view')
    assert "8 rows" in detail and "skip edges" in detail
    assert "cursor on line" in _step(
        e2e, "a row of the table reveals the line that defines the layer")


def test_summary_view_shows_a_broken_layer_in_the_error_state(e2e):
    detail = _step(e2e, "an edit that breaks a layer turns its diagram node to the error state")
    assert 'node "fuse" in the error state' in detail and "conv-in-channels" in detail
    assert _step(e2e, "undoing the edit clears the error state") == "no error node"


def test_summary_view_follows_the_theme_and_copies_markdown(e2e):
    assert "vscode-dark" in _step(e2e, "the summary follows a switch to a dark theme")
    assert "clipboard" in _step(e2e, "Copy as Markdown puts the table on the clipboard")
    assert "vscode-high-contrast" in _step(e2e, "the summary in a high-contrast theme")


def test_summary_view_shown_again_after_hiding_with_probed_shapes(e2e):
    detail = _step(e2e, "hidden with the Panel area, the command shows the summary again, "
                        "of the class at the cursor")
    assert detail.startswith("Net;") and "probed on cpu: [1, 64, 28, 28]" in detail


def test_summary_view_shown_again_from_behind_another_panel_tab(e2e):
    detail = _step(e2e, "behind another tab of the Panel area, the code lens shows the summary again")
    assert detail.startswith("TinyUNet (TinyUNet)")
    assert 'node "fuse" in the error state' in _step(
        e2e, "an edit made while the summary is hidden is in it when its tab is chosen again")
