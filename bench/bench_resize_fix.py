"""What the Resize quick fix costs (analysis/resize_fix.py): the median analysis time of each
program that gets the fix (seed 001's fixture and the programs of tests/data/test_resize_fix.py),
with and without looking for it.  Files without a size error from a data pipeline pay nothing
(no request is made).

    .venv/bin/python bench/bench_resize_fix.py [--repeat N]
"""
from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def median_ms(text, repeat, **options):
    from shapelens.analysis import analyze
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        analyze(text, "case.py", **options)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args(argv)
    from tests.data.test_resize_fix import FIXED
    fixture = REPO / "tests" / "data" / "fixtures" / "seed001_mnist_no_resize.py"
    cases = {"seed001_mnist_no_resize": fixture.read_text(), **FIXED}
    print("%-26s %10s %10s" % ("program", "without", "with fix"))
    for name, text in cases.items():
        without = median_ms(text, args.repeat, resize_fixes=False)
        with_fix = median_ms(text, args.repeat)
        print("%-26s %8.1f ms %8.1f ms" % (name, without, with_fix))


if __name__ == "__main__":
    main()
