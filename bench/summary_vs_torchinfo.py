"""The static shape summary against torchinfo 1.8.0 on a folder of case files (by hand: the
real-world cases live outside the repository, e.g. /work/rw/examples built by the real-world
preparation from pytorch/examples).

For each file, each model it runs (its first outermost forward, as tests/summary/
test_vs_torchinfo.py finds them) is summarised statically and by torchinfo on the same module and
input; every row's type, name, depth, input and output shapes, parameter counts, mult-adds and
cells, and the totals, are compared (the same comparison as the suite's test).  Prints one line
per model and the figures:

    .venv/bin/python bench/summary_vs_torchinfo.py /work/rw/examples [-v]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import pathlib
import re
import sys
import warnings

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shapelens.analysis.summary import summarize  # noqa: E402
from tests.summary.test_vs_torchinfo import _models, _unify, compare  # noqa: E402
from tests.summary.torchinfo_oracle import torchinfo_table  # noqa: E402


def _unknown(problem: str) -> bool:
    """The static side of a disagreement is "not known" (None, "?", a shape with None)."""
    m = re.search(r": (.*) vs torchinfo ", problem)
    return m is not None and (m.group(1) in ("None", "'?'") or "None" in m.group(1))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("-v", "--verbose", action="store_true", help="every disagreement")
    args = ap.parse_args()
    import torch
    warnings.simplefilter("ignore")
    files = sorted(pathlib.Path(args.folder).glob("*.py"))
    models = rows = equal_models = 0
    rows_equal = 0
    no_summary = []
    torchinfo_fails = []
    problems_all = []
    for path in files:
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                found, report = _models(path)
        except Exception as exc:        # a case that cannot be run is reported, not fatal
            print("%-28s cannot run: %s" % (path.stem, exc))
            continue
        for name, module, margs, bindings in found:
            models += 1
            summary = summarize(report, name)
            if summary is None:
                no_summary.append("%s::%s" % (path.stem, name))
                print("%-28s %-22s no static summary" % (path.stem, name))
                continue
            for (shape, _), arg in zip(summary.inputs, margs):
                if isinstance(arg, torch.Tensor):
                    _unify(shape, arg.shape, bindings)
            try:
                table = torchinfo_table(module, margs)
            except Exception as exc:    # torchinfo's own summary() raises the same
                torchinfo_fails.append("%s::%s" % (path.stem, name))
                print("%-28s %-22s torchinfo itself fails: %s: %s" % (
                    path.stem, name, type(exc).__name__, exc))
                continue
            problems = compare(summary, table, bindings, name)
            bad_rows = {p.split(":")[0] for p in problems}
            n = len(table.rows)
            rows += n
            rows_equal += sum(1 for r in summary.rows[:n]
                              if "%s (%s)" % (r.path or name, r.kind) not in bad_rows) \
                if len(summary.rows) == n else 0
            if not problems:
                equal_models += 1
            print("%-28s %-22s %3d rows  %s" % (path.stem, name, n,
                                               "equal" if not problems else
                                               "%d disagreements" % len(problems)))
            for p in problems if args.verbose else problems[:3]:
                print("    " + p)
            problems_all += ["%s::%s: %s" % (path.stem, name, p) for p in problems]
    unknown = [p for p in problems_all if _unknown(p)]
    print()
    print("disagreements where the static summary says unknown (None, ?) and torchinfo has a "
          "value: %d; others: %d" % (len(unknown), len(problems_all) - len(unknown)))
    print("files %d, models %d, equal to torchinfo %d, no static summary %d, torchinfo fails %d; "
          "torchinfo rows %d, rows equal %d; disagreements %d" % (
              len(files), models, equal_models, len(no_summary), len(torchinfo_fails), rows,
              rows_equal, len(problems_all)))
    return 0 if not problems_all and not no_summary else 1


if __name__ == "__main__":
    sys.exit(main())
