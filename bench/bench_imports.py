"""Benchmark of imports at scale (not a test).

* ``shapelens check`` over the sources of the torchvision package (read from where
  scripts/setup-python.sh unpacked it, .venv/torchvision-src) against ``ast.parse`` of the same
  files, in one process and with ``--jobs 2``: wall time, the ratio, and peak memory (the
  largest process);
* the language server with a file that imports torchvision (its models analysed from source,
  through ``shapelens.python`` = .venv-vision's interpreter): open -> first diagnostics (the
  library analysed for the first time), then edit -> diagnostics latency on that file (the
  library's modules shared across edits).

Usage: ``.venv/bin/python bench/bench_imports.py [--edits 30] [--runs 3]``.
Targets (issue 9): at most 5x ast.parse in one process, peak memory under 500 MB; in the
server, edit -> diagnostics within the debounce + 50 ms.
"""
from __future__ import annotations

import argparse
import ast
import asyncio
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
SOURCE = REPO / ".venv" / "torchvision-src"
PACKAGE = SOURCE / "torchvision"
VISION_PYTHON = REPO / ".venv-vision" / "bin" / "python"

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

MEASURE = """
import resource, sys, time
from shapelens.cli import main
started, cpu = time.perf_counter(), time.process_time()
rc = main(sys.argv[1:])
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("MEASURE %f %f %f %f" % (elapsed, cpu + kids.ru_utime + kids.ru_stime, own,
                               kids.ru_maxrss / 1024), file=sys.stderr)
"""


def files():
    return sorted(str(p) for p in PACKAGE.rglob("*.py"))


def parse_time(paths) -> tuple:
    """(wall, CPU) seconds of ast.parse over the files."""
    texts = [open(p, encoding="utf-8").read() for p in paths]
    started, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        ast.parse(text)
    return time.perf_counter() - started, time.process_time() - cpu


def check_run(jobs: int) -> tuple:
    """(wall and CPU seconds inside ``shapelens check`` (CPU of all its processes), peak MB
    of the largest process, diagnostics, files)."""
    out = subprocess.run([sys.executable, "-c", MEASURE, "check", "--format", "json", "-j",
                          str(jobs), "torchvision"], cwd=SOURCE, capture_output=True, text=True,
                         timeout=1200)
    line = [l for l in out.stderr.splitlines() if l.startswith("MEASURE")][-1]
    elapsed, cpu, own, children = map(float, line.split()[1:])
    found = json.loads(out.stdout)
    problems = sum(len(f["diagnostics"]) for f in found["files"])
    return elapsed, cpu, max(own, children), problems, len(found["files"])


def cli_figures(runs: int) -> dict:
    paths = files()
    lines = sum(open(p, encoding="utf-8").read().count("\n") for p in paths)
    parses = [parse_time(paths) for _ in range(5)]
    parse, parse_cpu = (statistics.median(p[i] for p in parses) for i in (0, 1))
    figures = {"files": len(paths), "lines": lines, "ast.parse wall (s)": parse,
               "ast.parse CPU (s)": parse_cpu}
    # The machine may be shared: CPU time hardly moves with its load, wall time does.
    for jobs in (1, 2):
        results = [check_run(jobs) for _ in range(runs)]
        elapsed, cpu = (statistics.median(r[i] for r in results) for i in (0, 1))
        figures["check -j %d wall (s)" % jobs] = elapsed
        figures["check -j %d CPU, all processes (s)" % jobs] = cpu
        figures["check -j %d wall / ast.parse wall" % jobs] = elapsed / parse
        figures["check -j %d CPU / ast.parse CPU" % jobs] = cpu / parse_cpu
        figures["check -j %d peak MB (largest process)" % jobs] = max(r[2] for r in results)
        figures["check -j %d diagnostics" % jobs] = results[0][3]
    return figures


SAMPLE = """\
import torch
import torch.nn as nn
from torchvision.models import resnet18

model = resnet18(num_classes=10)
model.fc = nn.Linear(model.fc.in_features, 5)
x = torch.randn(8, 3, 224, 224)
logits = model(x)
"""


async def server_figures(edits: int) -> dict:
    from bench_server import DEBOUNCE_MS, Bench, percentile
    from lsprotocol import types
    from pygls.uris import from_fs_path
    if not VISION_PYTHON.exists():
        return {"server": "skipped: needs .venv-vision (scripts/setup-vision.sh)"}
    bench = Bench()
    client = bench.client
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="shapelens-bench-imports-"))
    path = workdir / "finetune.py"
    path.write_text(SAMPLE)
    await client.start_io(sys.executable, "-m", "shapelens.server")
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(text_document=types.TextDocumentClientCapabilities(
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(
                version_support=True))),
        root_uri=from_fs_path(str(workdir)),
        # an interpreter from the settings is started (by jedi) only in a trusted workspace
        initialization_options={"workspaceTrusted": True,
                                "settings": {"python": str(VISION_PYTHON),
                                             "analysis": {"debounceMs": DEBOUNCE_MS}}}))
    client.initialized(types.InitializedParams())
    uri = from_fs_path(str(path))
    opened = time.perf_counter()
    bench.open(uri, SAMPLE)
    first, _ = await bench.wait_publication(uri, timeout=120)
    figures = {"open -> first diagnostics, torchvision analysed cold (ms)":
               (first - opened) * 1000}
    line = SAMPLE.split("\n").index("x = torch.randn(8, 3, 224, 224)")
    col = len("x = torch.randn(8, ")
    latencies, current, version = [], "3", 1
    for _ in range(edits):
        version += 1
        value = "1" if current == "3" else "3"
        count = len(bench.publications)
        started = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=line, character=col),
                                  end=types.Position(line=line, character=col + 1)),
                text=value)]))
        moment, params = await bench.wait_publication(uri, version=version, after=count)
        latencies.append((moment - started) * 1000)
        errors = [d for d in params.diagnostics if d.severity == types.DiagnosticSeverity.Error]
        assert bool(errors) == (value == "1"), "the grayscale input must be the error"
        current = value
        await asyncio.sleep(0.05)
    figures["edit -> diagnostics p50 (ms)"] = statistics.median(latencies)
    figures["edit -> diagnostics p95 (ms)"] = percentile(latencies, 0.95)
    figures["edit -> diagnostics p95 - debounce (ms)"] = percentile(latencies, 0.95) - \
        DEBOUNCE_MS
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return figures


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--edits", type=int, default=30)
    ap.add_argument("--skip-cli", action="store_true")
    ap.add_argument("--skip-server", action="store_true")
    args = ap.parse_args(argv)
    if not PACKAGE.is_dir():
        print("torchvision's source is missing: run scripts/setup-python.sh", file=sys.stderr)
        return 2
    figures = {}
    if not args.skip_cli:
        figures.update(cli_figures(args.runs))
    if not args.skip_server:
        figures.update(asyncio.run(server_figures(args.edits)))
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        shown = "%.3f" % value if isinstance(value, float) else str(value)
        print("%-*s  %s" % (width, key, shown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
