#!/usr/bin/env python3
"""Score ``shapelens probe`` against a corpus's recorded ground truth (not a test).

Usage: python bench/score_probe.py [--device cpu|meta] [--corpus DIR] [score.py options...]

Runs ``tests/data/tools/score.py CORPUS`` (default tests/data/corpus) with the probe as the
analyzer: for each case, ``shapelens probe --device D --format json CASE`` with the bindings
of the case's ``# groundtruth: N=4, H=32`` header passed as ``--dim N=4 --dim H=32`` (the
values the ground truth gave the symbolic dims of comment-driven samples).  score.py prints
coverage, accuracy and the run-time errors found on their line; ``--verbose`` and the
``--min-*`` bars pass through.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import shlex
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
TOOLS = REPO / "tests" / "data" / "tools"


def as_analyzer(device: str, case: str) -> int:
    """One case: the probe's JSON on stdout, with the case's ground-truth bindings as dims."""
    sys.path.insert(0, str(TOOLS))
    sys.dont_write_bytecode = True
    from score import case_bindings

    dims = ["--dim=%s=%s" % (name, value) for name, value in case_bindings(case).items()]
    command = [sys.executable, "-m", "shapelens", "probe", "--device", device, "--format",
               "json", case] + dims
    return subprocess.run(command).returncode


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--as-analyzer"]:
        return as_analyzer(argv[1], argv[2])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--corpus", default=str(REPO / "tests" / "data" / "corpus"))
    args, rest = parser.parse_known_args(argv)
    check = "%s %s --as-analyzer %s" % (shlex.quote(sys.executable),
                                        shlex.quote(os.path.abspath(__file__)), args.device)
    return subprocess.run([sys.executable, str(TOOLS / "score.py"), args.corpus,
                           "--check-cmd", check] + rest).returncode


if __name__ == "__main__":
    sys.exit(main())
