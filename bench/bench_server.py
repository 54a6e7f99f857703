"""Benchmark of the ShapeLens language server over a real stdio LSP session (not a test).

Measures, against ``python -m shapelens.server``:

* start-up against its floor: spawn -> first ``publishDiagnostics`` of a file opened right
  after ``initialized`` (raw stdio, as an editor does it), against spawn -> exit of a bare
  ``python -c "import pygls.lsp.server, lsprotocol.types"``; medians over alternating runs,
  in wall time and in CPU time (CPU time hardly moves with the machine's load), of the server
  alone and with its analysis workers;
* hover round trip (p50/p95) over many hovers on tensor names, layers and classes of a
  generated 2,000-line file with many modules, once settled and while typing (a keystroke
  every 60 ms, each starting an analysis, hovers in between);
* edit -> diagnostics latency on that file (the debounce is included; the table also shows
  the latency minus the debounce);
* memory over a long session: thousands of edits over several documents with opens,
  closes and hovers; the server's RSS after a warm-up and at the end;
* the server's peak RSS (VmHWM).

Usage: ``.venv/bin/python bench/bench_server.py [--hovers 500] [--edits 30] [--lines 2000]
[--startups 7] [--session-edits 3000]``.
Targets (the issue): first diagnostics within 0.2 s of the floor, hover p95 <= 20 ms (also
while typing), edit -> diagnostics <= debounce + 50 ms, memory flat over a long session.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

REPO = pathlib.Path(__file__).resolve().parents[1]
FIRST_FILE = REPO / "examples" / "mnist_lenet.py"
FLOOR = "import pygls.lsp.server, lsprotocol.types"  # then os._exit: no teardown
DEBOUNCE_MS = 150

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from large_file import large_source  # noqa: E402  (the generator bench_analysis.py uses too)


def percentile(values, q: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * q
    low, high = int(k), min(int(k) + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (k - low)


def proc_status_mb(pid: int, field: str) -> float:
    """A memory figure of /proc/PID/status (VmRSS, VmHWM) in MB."""
    try:
        for line in pathlib.Path("/proc/%d/status" % pid).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def peak_rss_mb(pid: int) -> float:
    return proc_status_mb(pid, "VmHWM")


def cpu_ms(pid: int) -> float:
    """CPU time the process has used so far (Linux schedstat, in ns)."""
    try:
        return int(pathlib.Path("/proc/%d/schedstat" % pid).read_text().split()[0]) / 1e6
    except OSError:
        return float("nan")


def children(pid: int) -> list:
    """The child processes of ``pid`` (the server's analysis workers)."""
    try:
        return [int(c) for c in
                pathlib.Path("/proc/%d/task/%d/children" % (pid, pid)).read_text().split()]
    except OSError:
        return []


# ----------------------------------------------------------------------------- start-up

def frame(message: dict) -> bytes:
    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_message(stream) -> dict:
    header = b""
    while not header.endswith(b"\r\n\r\n"):
        byte = stream.read(1)
        if not byte:
            raise EOFError("the server closed its stdout")
        header += byte
    length = int(re.search(rb"Content-Length: (\d+)", header).group(1))
    return json.loads(stream.read(length))


def floor_run() -> tuple:
    """(wall ms, CPU ms) of a bare pygls + lsprotocol import, spawn to exit."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", FLOOR + "; import os; os._exit(0)"])
    _, status, usage = os.wait4(process.pid, 0)
    wall = (time.perf_counter() - started) * 1000
    process.returncode = os.waitstatus_to_exitcode(status)
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def startup_run(path: pathlib.Path) -> tuple:
    """(wall ms, CPU ms of the server, CPU ms of the server and its workers) from spawning
    the server to the first diagnostics of ``path``, opened right after the handshake, as an
    editor does it."""
    uri = path.as_uri()
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "shapelens.server"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    try:
        process.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": os.getpid(), "rootUri": REPO.as_uri(), "capabilities": {}}}))
        process.stdin.flush()
        while read_message(process.stdout).get("id") != 1:
            pass
        process.stdin.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}) +
                            frame({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                                   "params": {"textDocument": {
                                       "uri": uri, "languageId": "python", "version": 1,
                                       "text": path.read_text()}}}))
        process.stdin.flush()
        while read_message(process.stdout).get("method") != "textDocument/publishDiagnostics":
            pass
        wall = (time.perf_counter() - started) * 1000
        cpu = cpu_ms(process.pid)
        return wall, cpu, cpu + sum(cpu_ms(child) for child in children(process.pid))
    finally:
        process.kill()
        process.wait()


def startup_figures(runs: int) -> dict:
    floors, starts = [], []
    floor_run()  # warm the file cache
    for _ in range(runs):
        floors.append(floor_run())
        starts.append(startup_run(FIRST_FILE))
    median = statistics.median
    return {
        "floor: spawn -> pygls + lsprotocol imported (wall)": median(w for w, _ in floors),
        "spawn -> first diagnostics (wall)": median(s[0] for s in starts),
        "first diagnostics - floor (wall)": median(s[0] - f[0] for s, f in zip(starts, floors)),
        "floor (CPU)": median(c for _, c in floors),
        "spawn -> first diagnostics (CPU)": median(s[1] for s in starts),
        "first diagnostics - floor (CPU)": median(s[1] - f[1] for s, f in zip(starts, floors)),
        "spawn -> first diagnostics (CPU, with workers)": median(s[2] for s in starts),
        "first diagnostics - floor (CPU, with workers)":
            median(s[2] - f[1] for s, f in zip(starts, floors)),
    }


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
    first_case = REPO / "tests" / "data" / "corpus" / "lenet.py"
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
    latencies, empty = await hover_latencies(client, big_uri, spots, args.hovers)
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

    # hovers while typing, in the big file and in a small one
    figures.update(await hovers_while_typing(bench, big_uri, text, spots, args.hovers,
                                             "2,000 lines"))
    small = first_case.read_text()
    small_report = analyze(small, str(first_case))
    small_spots = [(f.range.start_line - 1, f.range.start_col) for f in small_report.shapes]
    figures.update(await hovers_while_typing(bench, uri, small, small_spots, args.hovers,
                                             "lenet.py"))

    pid = client._server.pid
    figures.update(await long_session(bench, workdir, first_case.read_text(), pid, args))
    figures["server peak RSS (MB)"] = peak_rss_mb(pid)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return figures


async def hover_latencies(client, uri: str, spots, count: int, pause: float = 0.0):
    """Round-trip times (ms) of ``count`` hovers on random ``spots``, and how many had no
    result."""
    rng = random.Random(1)
    latencies = []
    empty = 0
    for _ in range(count):
        line, col = rng.choice(spots)
        started = time.perf_counter()
        result = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=col)))
        latencies.append((time.perf_counter() - started) * 1000)
        empty += result is None
        if pause:
            await asyncio.sleep(pause)
    return latencies, empty


async def hovers_while_typing(bench, uri: str, text: str, spots, count: int, label: str):
    """Hover round trips while a keystroke arrives every 60 ms at the end of a line (typing
    " * 1" and deleting it again: half of the texts do not parse), so an analysis is almost
    always running; the hovers land on other lines."""
    client = bench.client
    lines = text.split("\n")
    typed_line = next(i for i, l in enumerate(lines)
                      if re.match(r"\s+\w+ = self\.\w+\(\w+\)$", l))
    spots = [spot for spot in spots if spot[0] != typed_line]
    version = bench.versions.get(uri, 1)
    typing = True

    async def type_keys():
        nonlocal version
        column = len(lines[typed_line])
        keys = " * 1"
        strokes = [(column + k, column + k, key) for k, key in enumerate(keys)]
        strokes += [(column + k, column + k + 1, "") for k in reversed(range(len(keys)))]
        while typing:
            for start, end, key in strokes:
                version += 1
                client.text_document_did_change(types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri,
                                                                        version=version),
                    content_changes=[types.TextDocumentContentChangePartial(
                        range=types.Range(
                            start=types.Position(line=typed_line, character=start),
                            end=types.Position(line=typed_line, character=end)),
                        text=key)]))
                await asyncio.sleep(0.06)
                if not typing:
                    break

    typist = asyncio.ensure_future(type_keys())
    await asyncio.sleep(0.3)
    latencies, empty = await hover_latencies(client, uri, spots, count, pause=0.01)
    typing = False
    await typist
    bench.versions[uri] = version
    return {"hover p50 while typing (%s)" % label: statistics.median(latencies),
            "hover p95 while typing (%s)" % label: percentile(latencies, 0.95),
            "hover max while typing (%s)" % label: max(latencies),
            "hovers without a result while typing (%s)" % label: empty}


async def long_session(bench, workdir: pathlib.Path, text: str, pid: int, args) -> dict:
    """Thousands of edits over several documents, with hovers, closes and reopens; the
    server's RSS after a warm-up and at the end (after a settled round trip)."""
    client = bench.client
    uris = []
    for k in range(5):
        path = workdir / ("session%d.py" % k)
        path.write_text(text)
        uris.append(from_fs_path(str(path)))
    versions = dict.fromkeys(uris, 1)
    for uri in uris:
        bench.open(uri, text)
    lines = text.split("\n")
    sample = next(i for i, l in enumerate(lines)
                  if re.match(r"\w+ = torch\.randn\(\d+, \d+, \d+, \d+\)", l))
    column = lines[sample].index("(") + 1
    notifications = 0
    figures = {}

    async def round_of(count: int) -> None:
        nonlocal notifications
        for n in range(count):
            uri = uris[n % len(uris)]
            versions[uri] += 1
            digit = str(versions[uri] % 10)
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri,
                                                                    version=versions[uri]),
                content_changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(start=types.Position(line=sample, character=column),
                                      end=types.Position(line=sample, character=column + 1)),
                    text=digit)]))
            notifications += 1
            if n % 10 == 9:
                await client.text_document_hover_async(types.HoverParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=types.Position(line=sample, character=0)))
            if n % 100 == 99:  # close and reopen a document
                client.text_document_did_close(types.DidCloseTextDocumentParams(
                    text_document=types.TextDocumentIdentifier(uri=uri)))
                current = lines[:sample] + [lines[sample][:column] + digit +
                                            lines[sample][column + 1:]] + lines[sample + 1:]
                bench.open(uri, "\n".join(current), versions[uri])
                notifications += 2

    async def settle() -> tuple:
        """(server RSS, its workers' RSS) once settled."""
        await asyncio.sleep(1.0)
        for uri in uris:
            await client.text_document_hover_async(types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=0, character=0)))
        await asyncio.sleep(1.0)
        return (proc_status_mb(pid, "VmRSS"),
                sum(proc_status_mb(child, "VmRSS") for child in children(pid)))

    await round_of(300)                       # warm-up: every code path has run
    rss_start, workers_start = await settle()
    started_at = notifications
    await round_of(args.session_edits)
    rss_end, workers_end = await settle()
    sent = notifications - started_at
    figures["session: notifications after warm-up"] = sent
    figures["session: RSS after warm-up (MB)"] = rss_start
    figures["session: RSS at the end (MB)"] = rss_end
    figures["session: RSS growth per 1,000 notifications (KB)"] = \
        (rss_end - rss_start) * 1024 * 1000 / max(sent, 1)
    figures["session: workers' RSS after warm-up (MB)"] = workers_start
    figures["session: workers' RSS at the end (MB)"] = workers_end
    for uri in uris:
        client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
    return figures


TARGETS = {
    "first diagnostics - floor (wall)": ("<=", 200),
    "first diagnostics - floor (CPU)": ("<=", 200),
    "first diagnostics - floor (CPU, with workers)": ("<=", 200),
    "hover p95": ("<=", 20),
    "hover p95 while typing (2,000 lines)": ("<=", 20),
    "hover p95 while typing (lenet.py)": ("<=", 20),
    "edit -> diagnostics p95 - debounce (2,000 lines)": ("<=", 50),
    "edit -> diagnostics p95 - debounce (lenet.py)": ("<=", 50),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hovers", type=int, default=500)
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--startups", type=int, default=7,
                        help="start-up runs (each against a floor run)")
    parser.add_argument("--session-edits", type=int, default=3000,
                        help="edits of the long session, after its warm-up")
    args = parser.parse_args(argv)
    # the package byte-compiled, as installed: where PYTHONDONTWRITEBYTECODE is set, a source
    # edited since its last compile is compiled again at every start (twice the start-up CPU)
    import compileall
    import shapelens
    compileall.compile_dir(os.path.dirname(shapelens.__file__), quiet=1)
    load = os.getloadavg()
    figures = startup_figures(args.startups) if args.startups else {}
    figures.update(asyncio.run(run(args)))
    print("ShapeLens server benchmark (%s, %d CPUs, debounce %d ms)"
          % (sys.version.split()[0], os.cpu_count() or 0, DEBOUNCE_MS))
    print("load average before: %s" % (load,))
    print("%-48s %12s  %s" % ("measure", "value", "target"))
    for name, value in figures.items():
        unit = "" if "(MB)" in name or "(KB)" in name or "without" in name \
            or "notifications" in name else " ms"
        target = TARGETS.get(name)
        verdict = ""
        if target:
            ok = value <= target[1]
            verdict = "%s %g ms %s" % (target[0], target[1], "ok" if ok else "MISSED")
        print("%-56s %9.1f%-3s  %s" % (name, value, unit, verdict))
    return 0


if __name__ == "__main__":
    sys.exit(main())
