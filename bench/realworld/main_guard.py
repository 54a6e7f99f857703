#!/usr/bin/env python3
"""A held-out set for the probe: real-world cases with their sample under a main guard.

Usage: main_guard.py SRC_DIR... OUT_DIR [--python PY] [--jobs N] [--restored]

Reads the case sets that prepare_more.py / shared/tools/realworld/prepare.py build (their file
line for line, then a banner comment, then OUR driver at module level) and writes to OUT_DIR,
for each case, the same file with the driver moved where most code puts its sample: pairs of
cases (NAME.py and NAME_mut.py) alternate between

  guard   the driver indented under ``if __name__ == "__main__":``
  main    the driver in ``def main():``, called from ``if __name__ == "__main__":``

With ``--restored``, each clean case whose own ``if __name__ == "__main__":`` was set to
``if False`` is also written as NAME_orig.py: that condition restored and our driver dropped,
so the sample is the one its authors wrote (``def test(): net = ...; x = torch.randn(...)``).

Ground truth comes from tests/data/tools/groundtruth.py (run as ``__main__``, as the probe
runs the file), in a scratch folder; a case whose ground truth fails, or (restored ones)
raises or binds no tensor, is left out.  Score it with bench/score_probe.py --corpus OUT_DIR
and tests/data/tools/score.py OUT_DIR.  Standard library only; nothing of the cases is kept in
this repository.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GROUNDTRUTH = os.path.join(REPO, "tests", "data", "tools", "groundtruth.py")
BANNER = re.compile(r"^# -{20,}$")
FALSE_GUARD = re.compile(r"`if __name__ == \"__main__\"` set to `if False` at lines? ([\d, and]+)")


def split_driver(lines):
    """(their lines with the banner, our driver lines) or None when there is no banner."""
    marks = [i for i, line in enumerate(lines) if BANNER.match(line)]
    if len(marks) < 2:
        return None
    end = marks[-1] + 1
    return lines[:end], lines[end:]


def indent(lines):
    return ["    " + line if line.strip() else "" for line in lines]


def moved(lines, style):
    parts = split_driver(lines)
    if parts is None:
        return None
    theirs, driver = parts
    while driver and not driver[-1].strip():
        driver.pop()
    if style == "guard":
        return theirs + ['if __name__ == "__main__":'] + indent(driver)
    return theirs + ["def main():"] + indent(driver) + ["", "", 'if __name__ == "__main__":',
                                                        "    main()"]


def restored(lines):
    """Their file with its main guard(s) back and no driver, or None."""
    parts = split_driver(lines)
    if parts is None:
        return None
    theirs, _driver = parts
    found = FALSE_GUARD.search(" ".join(line.lstrip("# ") for line in theirs[-8:]))
    if not found:
        return None
    out = list(theirs)
    for number in re.findall(r"\d+", found.group(1)):
        i = int(number) - 1
        if not out[i].lstrip().startswith("if False"):
            return None
        out[i] = out[i].replace("if False", 'if __name__ == "__main__"', 1)
    return out


def ground_truth(python, path):
    with tempfile.TemporaryDirectory() as scratch:
        run = subprocess.run([python, GROUNDTRUTH, path, "-o", path[:-3] + ".gt.json"],
                             cwd=scratch, capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        return "groundtruth exit %d: %s" % (run.returncode, run.stderr.strip()[-300:])
    with open(path[:-3] + ".gt.json", encoding="utf-8") as handle:
        truth = json.load(handle)
    if path.endswith("_orig.py") and (truth["error"] is not None or not truth["facts"]):
        return "restored sample: %s" % (truth["error"] or "no tensor facts")
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--restored", action="store_true")
    args = parser.parse_args(argv)
    *sources, out = args.dirs
    os.makedirs(out, exist_ok=True)
    written = []
    for folder in sources:
        cases = sorted(name for name in os.listdir(folder) if name.endswith(".py"))
        bases = sorted({name[:-3].removesuffix("_mut") for name in cases})
        for index, base in enumerate(bases):
            style = ("guard", "main")[index % 2]
            for name in (base + ".py", base + "_mut.py"):
                if name not in cases:
                    continue
                with open(os.path.join(folder, name), encoding="utf-8") as handle:
                    lines = handle.read().splitlines()
                variants = [(name, moved(lines, style))]
                if args.restored and not name.endswith("_mut.py"):
                    variants.append((base + "_orig.py", restored(lines)))
                for target, text in variants:
                    if text is None:
                        continue
                    path = os.path.join(out, target)
                    with open(path, "w", encoding="utf-8") as handle:
                        handle.write("\n".join(text) + "\n")
                    written.append(path)
    dropped = 0
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for path, problem in zip(written, pool.map(lambda p: ground_truth(args.python, p),
                                                    written)):
            if problem:
                dropped += 1
                print("dropped %s: %s" % (os.path.basename(path), problem))
                for suffix in (".py", ".gt.json"):
                    if os.path.exists(path[:-3] + suffix):
                        os.remove(path[:-3] + suffix)
    print("%d cases in %s (%d dropped)" % (len(written) - dropped, out, dropped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
