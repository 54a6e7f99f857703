#!/usr/bin/env python3
"""Probe cost against a plain ``python FILE`` run, over the corpus (not a test; CI times nothing).

Usage: python bench/bench_probe.py [--corpus DIR] [--repeat N] [CASE ...]

For every case this times, as wall-clock seconds of the whole process (interpreter start and
``import torch`` included, which dominate on small files), the best of N runs of:

* ``plain``: ``python FILE``, output discarded;
* ``cpu``:   ``run_probe`` on cpu (tracing on, result parsed);
* ``meta``:  ``run_probe`` on meta (no compute; the first meta op imports torch's meta kernels).

It prints a table, the per-case ratios and the overall ratio (sum over sum); the target for the
tracing overhead is cpu/plain <= 1.5.  No sample inputs are passed, so the probe runs exactly the
code ``python FILE`` runs (comment-driven forwards are not called by either).

Because process start and ``import torch`` hide the cost of tracing itself, a second table times
only the execution of each file's code in this process, on cpu under ``torch.no_grad()``, without
and with the agent's tracer (best of N after one warm-up run).
"""
from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))

from shapelens.probe import agent  # noqa: E402
from shapelens.probe.runner import run_probe  # noqa: E402


def time_plain(path: pathlib.Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, str(path)], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, cwd=path.parent, timeout=300)
    return time.perf_counter() - started


def time_probe(path: pathlib.Path, device: str) -> float:
    started = time.perf_counter()
    result = run_probe({"path": str(path), "device": device}, timeout_s=300)
    elapsed = time.perf_counter() - started
    if result.status not in ("ok", "error"):
        raise SystemExit("%s on %s: %s: %s" % (path.name, device, result.status, result.message))
    return elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help="case names (default: all)")
    parser.add_argument("--corpus", default=str(REPO.parent / "shared" / "corpus"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    corpus = pathlib.Path(args.corpus)
    paths = sorted(corpus.glob("*.py"))
    if args.cases:
        paths = [p for p in paths if p.stem in args.cases]
    if not paths:
        print("no cases in %s" % corpus, file=sys.stderr)
        return 2

    baseline = min(_timed([sys.executable, "-c", "import torch"]) for _ in range(args.repeat))
    print("python -c 'import torch': %.2f s (floor for every column)\n" % baseline)
    header = "%-28s %8s %8s %8s %9s %9s" % ("case", "plain", "cpu", "meta", "cpu/plain",
                                            "meta/plain")
    print(header)
    print("-" * len(header))
    totals = [0.0, 0.0, 0.0]
    for path in paths:
        plain = min(time_plain(path) for _ in range(args.repeat))
        cpu = min(time_probe(path, "cpu") for _ in range(args.repeat))
        meta = min(time_probe(path, "meta") for _ in range(args.repeat))
        for i, value in enumerate((plain, cpu, meta)):
            totals[i] += value
        print("%-28s %7.2fs %7.2fs %7.2fs %8.2fx %9.2fx"
              % (path.stem, plain, cpu, meta, cpu / plain, meta / plain))
    print("-" * len(header))
    plain, cpu, meta = totals
    print("%-28s %7.1fs %7.1fs %7.1fs %8.2fx %9.2fx"
          % ("total (%d cases)" % len(paths), plain, cpu, meta, cpu / plain, meta / plain))
    print("\nprobe overhead on cpu: %.2fx (target <= 1.5x); beyond the torch import floor: "
          "plain %.2f s, cpu %.2f s per case"
          % (cpu / plain, (plain - baseline * len(paths)) / len(paths),
             (cpu - baseline * len(paths)) / len(paths)))
    print()
    exec_table(paths, args.repeat)
    return 0


def exec_once(path: pathlib.Path, code, source_map, traced: bool) -> float:
    """Seconds to execute one case's module code in a fresh namespace (cpu, no_grad)."""
    import contextlib
    import io

    import torch

    namespace = {"__name__": "__probe__", "__file__": str(path), "__builtins__": __builtins__}
    tracer = agent.ShapeTracer(str(path), source_map, torch.Tensor, [])
    with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()):
        started = time.perf_counter()
        if traced:
            sys.settrace(tracer.on_call)
        try:
            exec(code, namespace)
        except Exception:
            pass  # the bad cases raise: timing up to the raise is what the probe pays
        finally:
            sys.settrace(None)
        return time.perf_counter() - started


def exec_table(paths, repeat: int) -> None:
    import ast

    header = "%-28s %10s %10s %8s" % ("case (exec only)", "untraced", "traced", "ratio")
    print(header)
    print("-" * len(header))
    totals = [0.0, 0.0]
    sys.path.insert(0, str(paths[0].parent))
    for path in paths:
        source = path.read_text(encoding="utf-8")
        code = compile(source, str(path), "exec", dont_inherit=True)
        source_map = agent.SourceMap(ast.parse(source))
        exec_once(path, code, source_map, False)  # warm-up: lazy imports and kernel caches
        plain = min(exec_once(path, code, source_map, False) for _ in range(repeat))
        traced = min(exec_once(path, code, source_map, True) for _ in range(repeat))
        totals[0] += plain
        totals[1] += traced
        print("%-28s %8.1fms %8.1fms %7.2fx" % (path.stem, plain * 1e3, traced * 1e3,
                                                traced / plain))
    print("-" * len(header))
    print("%-28s %8.1fms %8.1fms %7.2fx" % ("total", totals[0] * 1e3, totals[1] * 1e3,
                                            totals[1] / totals[0]))


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
