#!/usr/bin/env python3
"""Every miss, wrong shape, false error and missed bug of a scored case set, with its source
line, for triage:

    .venv/bin/python bench/realworld/misses.py CASE_DIR [--cases a,b] [--only missed|wrong|errors]

CASE_DIR holds NAME.py + NAME.gt.json (prepare.py / prepare_more.py output).  The analysis is
run in this process (shapelens.check_source), so the shapelens importable here is the one
measured.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from shapelens import check_source


def concrete(shape):
    if not isinstance(shape, list) or any(type(d) is not int for d in shape):
        return None
    return tuple(shape)


def triage(path, only):
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    with open(os.path.splitext(path)[0] + ".gt.json", encoding="utf-8") as fh:
        gt = json.load(fh)
    lines = text.splitlines()
    report = check_source(text, path)
    got = {}
    for item in report["shapes"]:
        got.setdefault((item["range"]["start"]["line"], item["name"]), []).append(item["shape"])
    errors = [d for d in report["diagnostics"] if d["severity"] == "error"]
    out = []
    for fact in gt["facts"]:
        key = (fact["line"], fact["name"])
        seen = {tuple(s) for s in fact["shapes"]}
        src = lines[key[0] - 1].strip()[:90] if key[0] <= len(lines) else ""
        if key not in got:
            if only in (None, "missed"):
                out.append("  missed %d:%s  %s" % (key[0], key[1], src))
        elif not all(concrete(s) in seen for s in got[key]):
            if only in (None, "wrong"):
                out.append("  WRONG  %d:%s got %s ran %s  %s" % (
                    key[0], key[1], json.dumps(got[key])[:80],
                    json.dumps(sorted(seen))[:60], src))
    if only in (None, "errors"):
        err = gt.get("error")
        if err is None:
            for d in errors:
                ln = d["range"]["start"]["line"]
                out.append("  FALSE ERROR %d: %s %s | %s" % (ln, d["code"], d["message"][:90],
                                                              lines[ln - 1].strip()[:60]))
        elif not any(d["range"]["start"]["line"] in err["lines"] for d in errors):
            out.append("  missed bug: %s at %s: %s | analysis errors at %s" % (
                err["type"], err["lines"], err["message"].splitlines()[0][:100],
                [d["range"]["start"]["line"] for d in errors]))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case_dir")
    ap.add_argument("--cases", help="comma-separated case names")
    ap.add_argument("--only", choices=["missed", "wrong", "errors"])
    args = ap.parse_args(argv)
    names = sorted(n for n in os.listdir(args.case_dir) if n.endswith(".py"))
    if args.cases:
        wanted = set(args.cases.split(","))
        names = [n for n in names if n[:-3] in wanted]
    for name in names:
        found = triage(os.path.join(args.case_dir, name), args.only)
        if found:
            print(name)
            print("\n".join(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
