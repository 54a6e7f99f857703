"""Analysis speed: median ``check_source`` time divided by median ``ast.parse`` time of the same
text, for every corpus file and for a generated 2,000-line file.  Target: ratio <= 5.

    .venv/bin/python bench/bench_analysis.py [--repeat N] [--runs] [--cpu] [--corpus DIR]

``--runs`` times the server's analysis instead: ``analyze(text, path)``, which records the
model runs (the shape summary's), where ``check_source`` (the command line's) records none.
``--cpu`` times with the process's CPU time instead of wall time (steadier on a machine that
others share).  ``--corpus``: the folder of corpus files (default: shared/corpus beside the
repository).
"""
from __future__ import annotations

import argparse
import ast
import pathlib
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from large_file import large_source  # noqa: E402

CORPUS = HERE.parent.parent / "shared" / "corpus"


def paired_times(text, name, repeat, check_source, clock=time.perf_counter):
    """Median parse time, median check time, and the median of per-pair ratios: each repeat
    times ``ast.parse`` and ``check_source`` back to back, so a busy machine slows both."""
    parse, check, ratios = [], [], []
    for i in range(repeat):
        # Alternate the order so neither step always runs on a warm cache.
        if i % 2:
            t0 = clock()
            ast.parse(text)
            t1 = clock()
            check_source(text, name)
            t2 = clock()
            p, c = t1 - t0, t2 - t1
        else:
            t0 = clock()
            check_source(text, name)
            t1 = clock()
            ast.parse(text)
            t2 = clock()
            p, c = t2 - t1, t1 - t0
        parse.append(p)
        check.append(c)
        ratios.append(c / p)
    return statistics.median(parse), statistics.median(check), statistics.median(ratios)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--runs", action="store_true",
                    help="time analyze(text, path) with the model runs recorded (the server's)")
    ap.add_argument("--cpu", action="store_true", help="time with CPU time, not wall time")
    ap.add_argument("--corpus", type=pathlib.Path, default=CORPUS)
    args = ap.parse_args()
    from shapelens import check_source
    if args.runs:
        from shapelens.analysis import analyze

        def check_source(text, path):  # noqa: F811 (the server's analysis instead)
            return analyze(text, path)
    check_source("import torch\n", "<string>")  # rules load once, as in a running server
    rows = []
    cases = [(p.name, p.read_text()) for p in sorted(args.corpus.glob("*.py"))]
    cases.append(("generated-2000-lines.py", large_source()))
    for name, text in cases:
        t_parse, t_check, ratio = paired_times(text, name, args.repeat, check_source,
                                               time.process_time if args.cpu else time.perf_counter)
        rows.append((name, text.count("\n"), t_parse * 1e3, t_check * 1e3, ratio))
    print("%-32s %6s %10s %10s %7s" % ("file", "lines", "parse ms", "check ms", "ratio"))
    for r in rows:
        print("%-32s %6d %10.3f %10.3f %7.2f" % r)
    ratios = [r[4] for r in rows]
    print("\nratio: median %.2f, max %.2f (%s); target <= 5" % (
        statistics.median(ratios), max(ratios), max(rows, key=lambda r: r[4])[0]))
    probe = ("import sys, shapelens, shapelens.analysis; shapelens.check_source('x = 1');"
             "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    print("import shapelens imports torch: %s" % out.stdout.strip())


if __name__ == "__main__":
    main()
