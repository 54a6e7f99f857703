"""Benchmark of the ShapeLens language server over a real stdio LSP session (not a test).

Measures, against ``python -m shapelens.server``:

* start-up: process spawn -> ``initialize`` answered, and ``initialize`` answered -> first
  ``publishDiagnostics`` of a corpus file opened right after ``initialized``;
* hover round trip (p50/p95) over many hovers on tensor names, layers and classes of a
  generated 2,000-line file with many modules;
* edit -> diagnostics latency on that file (the debounce is included; the table also shows
  the latency minus the debounce);
* the server's peak RSS (VmHWM).

Usage: ``.venv/bin/python bench/bench_server.py [--hovers 500] [--edits 30] [--lines 2000]``.
Targets (the issue): first diagnostics within 0.7 s of initialize, hover p95 <= 20 ms,
edit -> diagnostics <= debounce + 50 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import random
import re
import statistics
import sys
import tempfile
import time

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

REPO = pathlib.Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
DEBOUNCE_MS = 150

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from large_file import large_source  # noqa: E402  (the generator bench_analysis.py uses too)


def percentile(values, q: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * q
    low, high = int(k), min(int(k) + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (k - low)


def peak_rss_mb(pid: int) -> float:
    try:
        for line in pathlib.Path("/proc/%d/status" % pid).read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


class Bench:
    def __init__(self):
        self.client = LanguageClient("shapelens-bench", "1")
        self.publications = []   # (time, params)
        self.versions = {}       # uri -> last version sent
        self.arrived = asyncio.Event()

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _diagnostics(params: types.PublishDiagnosticsParams):
            self.publications.append((time.perf_counter(), params))
            self.arrived.set()

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def _log(params):
            pass

    async def wait_publication(self, uri: str, version=None, after: int = 0,
                               timeout: float = 30.0):
        deadline = time.perf_counter() + timeout
        while True:
            for moment, params in self.publications[after:]:
                if params.uri == uri and (version is None or params.version == version):
                    return moment, params
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError("no diagnostics for %s version %s" % (uri, version))
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python",
                                                 version=version, text=text)))


async def run(args) -> dict:
    bench = Bench()
    client = bench.client
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="shapelens-bench-"))
    first_case = CORPUS / "lenet.py"
    if not first_case.is_file():
        raise SystemExit("the corpus is missing: %s" % first_case)
    figures = {}

    spawned = time.perf_counter()
    await client.start_io(sys.executable, "-m", "shapelens.server")
    capabilities = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.Markdown]),
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(
                version_support=True, related_information=True)),
        window=types.WindowClientCapabilities(work_done_progress=True))
    await client.initialize_async(types.InitializeParams(
        capabilities=capabilities, root_uri=from_fs_path(str(workdir)),
        initialization_options={"settings": {"analysis": {"debounceMs": DEBOUNCE_MS}}}))
    initialized = time.perf_counter()
    client.initialized(types.InitializedParams())
    uri = from_fs_path(str(first_case))
    bench.open(uri, first_case.read_text())
    first, _ = await bench.wait_publication(uri)
    figures["spawn -> initialize answered"] = (initialized - spawned) * 1000
    figures["initialize -> first diagnostics"] = (first - initialized) * 1000
    figures["spawn -> first diagnostics"] = (first - spawned) * 1000

    # a 2,000-line file with many modules
    text = large_source(args.lines)
    big = workdir / "many_modules.py"
    big.write_text(text)
    big_uri = from_fs_path(str(big))
    count = len(bench.publications)
    opened = time.perf_counter()
    bench.open(big_uri, text)
    moment, _ = await bench.wait_publication(big_uri, after=count)
    figures["open 2,000 lines -> diagnostics"] = (moment - opened) * 1000

    from shapelens.analysis import analyze
    import ast
    analyze(text, str(big))
    started = time.perf_counter()
    report = analyze(text, str(big))
    figures["analysis of the file (in-process)"] = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    ast.parse(text)
    figures["ast.parse of the file"] = (time.perf_counter() - started) * 1000

    # hovers: names, expressions, layers and classes
    spots = [(f.range.start_line - 1, f.range.start_col) for f in report.shapes]
    spots += [(r.range.start_line - 1, r.range.start_col + 5) for r in report.layer_refs]
    spots += [(m.range.start_line - 1, m.range.start_col) for m in report.modules]
    rng = random.Random(1)
    latencies = []
    empty = 0
    for _ in range(args.hovers):
        line, col = rng.choice(spots)
        started = time.perf_counter()
        result = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=big_uri),
            position=types.Position(line=line, character=col)))
        latencies.append((time.perf_counter() - started) * 1000)
        empty += result is None
    figures["hover p50"] = statistics.median(latencies)
    figures["hover p95"] = percentile(latencies, 0.95)
    figures["hovers without a result"] = empty

    # edits: retype the channels of a sample input (wrong, right, wrong...) and wait for
    # the diagnostics of that version; on the big file, then on a corpus-sized one
    async def edits(uri: str, text: str, label: str):
        lines = text.split("\n")
        line = next(i for i, l in enumerate(lines)
                    if re.match(r"\w+ = torch\.randn\(\d+, \d+, \d+, \d+\)", l))
        line_text = lines[line]
        start = line_text.index(", ") + 2
        end = line_text.index(",", start)
        right = line_text[start:end]
        wrong = "5" if right != "5" else "7"
        latencies = []
        version = bench.versions.get(uri, 1)
        current = right
        for k in range(args.edits):
            version += 1
            value = wrong if current == right else right
            count = len(bench.publications)
            started = time.perf_counter()
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(start=types.Position(line=line, character=start),
                                      end=types.Position(line=line,
                                                         character=start + len(current))),
                    text=value)]))
            moment, params = await bench.wait_publication(uri, version=version, after=count)
            latencies.append((moment - started) * 1000)
            has_error = any(d.severity == types.DiagnosticSeverity.Error
                            for d in params.diagnostics)
            assert has_error == (value == wrong), "diagnostics do not match the edit"
            current = value
            await asyncio.sleep(0.05)
        bench.versions[uri] = version
        figures["edit -> diagnostics p50 (%s)" % label] = statistics.median(latencies)
        figures["edit -> diagnostics p95 (%s)" % label] = percentile(latencies, 0.95)
        figures["edit -> diagnostics p95 - debounce (%s)" % label] = \
            percentile(latencies, 0.95) - DEBOUNCE_MS

    await edits(big_uri, text, "2,000 lines")
    # what the server adds: the latency beyond the debounce or the analysis, whichever is
    # longer (the analysis runs during the debounce)
    figures["server overhead p50 (2,000 lines)"] = (
        figures["edit -> diagnostics p50 (2,000 lines)"]
        - max(DEBOUNCE_MS, figures["analysis of the file (in-process)"]))
    await edits(uri, first_case.read_text(), "lenet.py")

    pid = client._server.pid
    figures["server peak RSS (MB)"] = peak_rss_mb(pid)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return figures


TARGETS = {
    "initialize -> first diagnostics": ("<=", 700),
    "hover p95": ("<=", 20),
    "edit -> diagnostics p95 - debounce (2,000 lines)": ("<=", 50),
    "edit -> diagnostics p95 - debounce (lenet.py)": ("<=", 50),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hovers", type=int, default=500)
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument("--lines", type=int, default=2000)
    args = parser.parse_args(argv)
    figures = asyncio.run(run(args))
    print("ShapeLens server benchmark (%s, %d CPUs, debounce %d ms)"
          % (sys.version.split()[0], os.cpu_count() or 0, DEBOUNCE_MS))
    print("load average before: %s" % (os.getloadavg(),))
    print("%-48s %12s  %s" % ("measure", "value", "target"))
    for name, value in figures.items():
        unit = "" if "RSS" in name or "without" in name else " ms"
        target = TARGETS.get(name)
        verdict = ""
        if target:
            ok = value <= target[1]
            verdict = "%s %g ms %s" % (target[0], target[1], "ok" if ok else "MISSED")
        print("%-48s %9.1f%-3s  %s" % (name, value, unit, verdict))
    return 0


if __name__ == "__main__":
    sys.exit(main())
