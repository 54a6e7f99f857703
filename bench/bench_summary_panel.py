"""The Shape Summary view: time from "ShapeLens: Show Shape Summary" to the drawn summary (table
and diagram) on the generated 2,000-line file, in real VS Code (code-server + Chromium, as the
e2e test runs it), each time on another class:
  first       the first time in the window (VS Code makes the view's webview);
  hiddenPanel again after the user hid the Panel area (the webview is kept while hidden);
  otherTab    again after the user chose another tab of the Panel area (Problems);
  open        another class while the summary is in view;
  closedView  again after the user closed the view itself ("Hide 'Shape Summary'", one run).
The extension logs each time (from the command to the webview's first paint of the answer); the
driver's own figure (the click on the command to the class's first row in the DOM) is beside it.
This runs the e2e driver's ``summary-bench`` scenario and prints the median and max of each.
Target: within 300 ms.

    .venv/bin/python bench/bench_summary_panel.py     (needs scripts/build-vsix.sh and
                                                        scripts/setup-editors.sh first)
Also: the server's part alone (analysis of the file, then the summary request's work).
"""
from __future__ import annotations

import json
import pathlib
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from large_file import large_source  # noqa: E402


def server_part(repeat: int = 9) -> dict:
    """Median ms of the summary of the 2,000-line file's first model once analysed: what
    ``shapelens/summary`` adds to the analysis the server already has."""
    from shapelens.analysis import analyze
    from shapelens.analysis.summary import model_names, summarize
    from shapelens.summary import to_json, to_markdown
    text = large_source()
    times, analysis = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        report = analyze(text, "big.py")
        t1 = time.perf_counter()
        name = model_names(report)[0]
        summary = summarize(report, name)
        json.dumps(to_json(summary, "big.py"))
        to_markdown(summary)
        times.append((time.perf_counter() - t1) * 1000)
        analysis.append((t1 - t0) * 1000)
    return {"summary_ms": round(statistics.median(times), 1),
            "analysis_ms": round(statistics.median(analysis), 1)}


def main() -> int:
    print("server side (2,000 lines):", server_part())
    version = json.loads((ROOT / "package.json").read_text())["version"]
    out = ROOT / "test-output" / "bench-summary-panel"
    run = subprocess.run(["node", str(ROOT / "tests" / "vscode" / "e2e.mjs"), "--scenario",
                          "summary-bench", "--vsix", str(ROOT / "build" / f"shapelens-{version}.vsix"),
                          "--python", sys.executable, "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=900)
    print(run.stdout[-3000:], run.stderr[-2000:])
    result = json.loads((out / "result.json").read_text())
    figures = result.get("summaryPanelMs")
    print("command -> summary drawn (ms), logged by the extension | seen by the driver:")
    for kind, f in (figures or {}).items():
        if f["runs"]:
            print(f"  {kind:12} median {f['median']:5} max {f['max']:5} runs {f['runs']}"
                  f"  | driver median {f['driver']['median']} max {f['driver']['max']}")
    failed = [s["name"] for s in result["steps"] if not s["ok"]]
    if failed:
        print("steps that failed (their runs are missing above):", failed)
    return 0 if figures and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
