"""Hostile and unusual input for the analysis (issue 12): deep nesting, huge numbers, values
growing in loops, nested comprehensions, containers that contain themselves, long import
chains, and random token and line mutations of the corpus's model files.  Each case is made
from ``random.Random((seed, index))``, so a case is the same on every machine and run.

What every case must give (``check_case``): no exception, a JSON-serializable report in the
form of ``shapelens check --format json``, and bounded work: the budget's step counter and the
size of everything folded within their limits (interp/budget.py; memory and time follow from
them, checked here without a clock).

By hand, with many more cases, wall time and memory measured per case as well::

    .venv/bin/python -m tests.engine.fuzz --count 10000 --jobs 2 [--seed 0] [--show 5]
"""
from __future__ import annotations

import argparse
import json
import pathlib
import random
import resource
import sys
import time
import traceback
from typing import Dict, Optional, Tuple

CORPUS = pathlib.Path(__file__).resolve().parents[1] / "data" / "corpus"
TEXTS = [p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.py"))]

TOKENS = ["(", ")", "[", "]", ":", ",", "=", "-1", "0", "999999999999", "2**62", "10**400",
          "None", "x", "self", "nn.Conv2d(", "torch.randn(", "lambda: 0", "**", "\t", "\\",
          "'''", "# shape: [", "def forward(self, x):", "return", "yield", "global x",
          "import nn", "from . import x", "@", "é", "\x00", "async ", "*", "for i in range(9):",
          "while True:", "self", ".view(-1)", "x.shape[0]", "* 2", "+ x"]

Case = Tuple[str, str, Optional[Dict[str, str]]]   # kind, text, files for a DictResolver


# ----------------------------------------------------------------------------- the cases

def deep_nesting(rng: random.Random) -> str:
    n = rng.choice([50, 150, 300, 500, 900])
    kind = rng.randrange(9)
    if kind == 0:
        return "x = 1\nx = x" + " + 1" * n + "\n"
    if kind == 1:
        return "import torch\ny = torch" + ".nn" * n + "\n"
    if kind == 2:
        return "y = f" + "(1)" * n + "\n"
    if kind == 3:
        return "y = a" + "[0]" * n + "\n"
    if kind == 4:
        return "x = " + "(" * min(n, 190) + "1" + ")" * min(n, 190) + "\n"
    if kind == 5:
        depth = min(n, 99)
        return "".join(" " * i + rng.choice(["if x:", "for i in y:", "while z:", "with w:",
                                             "try:", "def f(x):"]) + "\n"
                       for i in range(depth)) + " " * depth + "pass\n"
    if kind == 6:       # a chain of calls, each into the next function
        m = min(n, 400)
        return "import torch\n" + "".join("def f%d(x):\n    return f%d(x) + 1\n" % (i, i + 1)
                                          for i in range(m)) + \
            "def f%d(x):\n    return x\nprint(f0(torch.randn(2, 3)))\n" % m
    if kind == 7:
        return "x = " + "[" * min(n, 190) + "]" * min(n, 190) + "\n"
    return "y = " + "-" * n + "1\n"


def huge_numbers(rng: random.Random) -> str:
    big = rng.choice(["int('9' * 4300) * 10", "10 ** 400", "2 ** 64", "2 ** 63 - 1",
                      "10 ** 10 ** 6", "-(10 ** 30)", "999999999999999999999",
                      "int('1' * 5000)", "math.factorial(3000)", "1 << 70000"])
    return ("import math\nimport torch\nimport torch.nn as nn\nn = %s\n"
            "x = torch.zeros(n)\ny = torch.randn(2, 3).view(n, -1)\n"
            "layer = nn.Linear(n, 4)\nz = layer(torch.randn(3, n))\nw = x.reshape(-1, 2)\n"
            "print(n * n, n + 1, str(n))\n" % big)


def growth(rng: random.Random) -> str:
    times = rng.choice([10, 20, 40, 64, 200])
    body = rng.choice([
        ("x = 3", "x = x * x"), ("x = 'ab'", "x = x + x"), ("x = b'ab'", "x = x + x"),
        ("x = [0]", "x = x + x"), ("x = (0, 1)", "x = x + x"), ("x = [0]", "x.extend(x)"),
        ("x = [0]", "x += x"), ("x = [1]", "x = x * 2"), ("x = 2", "x = x ** 2"),
        ("x = 1", "x = x << 1000"), ("x = {'a': 0}", "x = {**x, str(len(x)): x}"),
        ("x = 'a'", "x = x.replace('a', 'aa')"), ("x = '{}'", "x = x.format(x * 3) * 2"),
        ("x = '%s'", "x = x % (x * 2) + x"), ("x = []", "x.append(list(x))"),
        ("x = 'ab'", "x = '-'.join([x, x, x])"), ("x = 't'", "x = x.zfill(len(x) * 3)"),
    ])
    loops = rng.choice(["for i in range(%d):\n" % times,
                        "i = 0\nwhile i < %d:\n    i += 1\n" % times,
                        "for i in range(%d):\n    for j in range(%d):\n" % (times, times)])
    indent = "        " if "    for j" in loops else "    "
    return ("import torch\n%s\n%s%s%s\nt = torch.zeros(len(str(x)))\nu = torch.zeros(2, 3)\n"
            % (body[0], loops, indent, body[1]))


def sym_growth(rng: random.Random) -> str:
    op = rng.choice(["n = n * n", "n = n * n + 1", "n = n * (n + 1) // 2", "n = (n + 1) * (n - 1)"])
    times = rng.choice([5, 10, 20, 40])
    return ("import torch\nimport torch.nn as nn\nclass M(nn.Module):\n"
            "    def forward(self, x):\n        n = x.shape[0]\n"
            "        for _ in range(%d):\n            %s\n        return x.view(n, -1)\n"
            % (times, op))


def comprehensions(rng: random.Random) -> str:
    depth = rng.randint(2, 5)
    sizes = [rng.choice([2, 16, 64, 256, 1000]) for _ in range(depth)]
    fors = " ".join("for a%d in range(%d)" % (i, s) for i, s in enumerate(sizes))
    elt = rng.choice(["0", "a0", "[a0]", "(a0, a1)", "str(a0) * 3", "torch.zeros(a1 % 3 + 1)",
                      "a0 * a1"])
    kind = rng.choice(["[%s %s]", "{a0: %s %s}", "list(%s %s)", "sum(%s %s)"])
    return "import torch\nx = %s\ny = torch.zeros(2)\n" % (kind % (elt, fors))


def self_containing(rng: random.Random) -> str:
    return rng.choice([
        "import torch\nimport torch.nn as nn\ns = nn.Sequential(nn.ReLU())\ns.append(s)\n"
        "y = s(torch.randn(2, 3))\nprint(s)\n",
        "import torch\nimport torch.nn as nn\nm = nn.ModuleList([nn.ReLU()])\nm.append(m)\n"
        "for layer in m:\n    x = layer(torch.randn(2))\n",
        "import torch.nn as nn\nimport torch\ns = nn.Sequential(nn.ReLU(), nn.ReLU())\n" +
        "s = nn.Sequential(s, s)\n" * rng.choice([5, 20, 40]) + "y = s(torch.randn(4))\n",
        "l = [1]\nl.append(l)\nprint(l, len(l), l[1][1][1])\nd = {}\nd['d'] = d\nprint(d)\n",
        "import torch\nimport torch.nn as nn\nclass M(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.me = self\n        self.fc = nn.Linear(2, 3)\n"
        "    def forward(self, x):\n        return self.me(x)\ny = M()(torch.randn(1, 2))\n",
        "import torch.nn as nn\na = nn.Sequential()\nb = nn.Sequential(a)\na.append(b)\n"
        "y = a(1)\nz = b(2)\n",
    ])


def import_chain(rng: random.Random) -> Case:
    n = rng.choice([3, 30, 100, 200, 300])
    shape = rng.randrange(4)
    files = {}
    for i in range(n):
        if shape == 0:
            files["/ws/m%d.py" % i] = "from m%d import V\n" % (i + 1)
        elif shape == 1:
            files["/ws/m%d.py" % i] = "import m%d\nV = m%d.V\n" % (i + 1, i + 1)
        elif shape == 2:
            files["/ws/m%d.py" % i] = "from m%d import *\n" % (i + 1)
        else:       # a cycle back to the start
            files["/ws/m%d.py" % i] = "from m%d import V\n" % ((i + 1) % n)
    files["/ws/m%d.py" % n] = "import torch\nV = 3\nT = torch.zeros(V)\n"
    text = "import torch\nfrom m0 import V\nx = torch.zeros(V)\ny = torch.zeros(2)\n"
    return "import-chain", text, files


def mutated_corpus(rng: random.Random) -> str:
    lines = rng.choice(TEXTS).split("\n")
    for _ in range(rng.randint(1, 12)):
        if not lines:
            lines = [""]
        i = rng.randrange(len(lines))
        line = lines[i]
        op = rng.randrange(7)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, line)
        elif op == 2:
            lines[i] = line[:rng.randint(0, len(line))]
        elif op == 3:
            j = rng.randint(0, len(line))
            lines[i] = line[:j] + rng.choice(TOKENS) + line[j:]
        elif op == 4:
            lines[i] = "    " * rng.randrange(4) + line.lstrip()
        elif op == 5:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            words = line.split(" ")
            k = rng.randrange(len(words))
            words[k] = rng.choice(TOKENS)
            lines[i] = " ".join(words)
    return "\n".join(lines)


KINDS = [("deep-nesting", deep_nesting), ("huge-numbers", huge_numbers), ("growth", growth),
         ("symbolic-growth", sym_growth), ("comprehensions", comprehensions),
         ("self-containing", self_containing), ("import-chain", import_chain),
         ("mutated-corpus", mutated_corpus), ("mutated-corpus", mutated_corpus),
         ("mutated-corpus", mutated_corpus)]


def make_case(seed: int, index: int) -> Case:
    rng = random.Random("%d/%d" % (seed, index))
    name, make = KINDS[rng.randrange(len(KINDS))]
    out = make(rng)
    if isinstance(out, tuple):
        return out
    return name, out, None


# ----------------------------------------------------------------------------- the checks

def check_case(case: Case) -> dict:
    """Analyse one case as ``shapelens check`` does; the JSON file entry.  Raises
    AssertionError when the report is malformed or the budget was overrun."""
    from shapelens.analysis import analyze
    from shapelens.analysis.interp.budget import MAX_BUILT, MAX_LENGTH, MAX_STEPS, MODULE_CALL
    from shapelens.analysis.resolver import DictResolver
    kind, text, files = case
    resolver = DictResolver(files) if files is not None else None
    report = analyze(text, "/ws/case.py", resolver)
    out = report.to_json()
    json.loads(json.dumps(out))
    assert set(out) == {"path", "diagnostics", "shapes"}, out.keys()
    assert all({"range", "severity", "code", "message", "related"} <= set(d)
               for d in out["diagnostics"])
    assert all(set(s) == {"range", "name", "shape"} for s in out["shapes"])
    spent = report.extra.get("spent")
    if spent is not None:           # None: the analysis failed and said so (a note)
        assert spent["steps"] <= MAX_STEPS + MODULE_CALL, spent
        assert spent["built"] <= MAX_BUILT + MAX_LENGTH, spent
    assert not any("internal error, nothing is known" in n for n in report.extra["notes"]), \
        report.extra["notes"]
    report.runs                     # the shape summary's model runs, made from the same records
    return out


# ----------------------------------------------------------------------------- by hand

def _timed_out(signum, frame):
    raise TimeoutError("over 120 s")


def _run_one(job):
    import signal
    seed, index = job
    signal.signal(signal.SIGALRM, _timed_out)
    # past 3 GB a MemoryError (reported) rather than the kernel killing the worker
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, resource.RLIM_INFINITY))
    case = make_case(seed, index)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    signal.alarm(120)
    t0, c0 = time.perf_counter(), time.process_time()
    error = None
    try:
        check_case(case)
    except BaseException:   # noqa: B036 - counted and shown, whatever it is
        error = traceback.format_exc(limit=-8)
    finally:
        signal.alarm(0)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    grew_past = peak if peak > before else 0
    return index, case[0], seconds, cpu, grew_past, error


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--show", type=int, default=3, help="failing cases printed in full")
    args = ap.parse_args(argv)
    import multiprocessing
    jobs = [(args.seed, i) for i in range(args.count)]
    errors, slow, slow_cpu, big, kinds = [], [], [], [], {}
    slowest = []
    started = time.perf_counter()
    pending = set(range(args.count))
    # a fresh worker every 200 cases: a case's peak memory is not hidden by an earlier one's
    with multiprocessing.get_context("fork").Pool(args.jobs, maxtasksperchild=200) as pool:
        results = pool.imap_unordered(_run_one, jobs)
        for done in range(1, args.count + 1):
            try:
                index, kind, seconds, cpu, peak, error = results.next(timeout=600)
            except multiprocessing.TimeoutError:   # a worker died (killed: out of memory?)
                print("no result for 600 s: cases %s lost" % sorted(pending)[:20])
                errors.extend((i, "lost", "worker died") for i in sorted(pending))
                break
            pending.discard(index)
            kinds[kind] = kinds.get(kind, 0) + 1
            slowest.append((cpu, seconds, index, kind))
            if error:
                errors.append((index, kind, error))
            if seconds > 5:
                slow.append((index, kind, seconds))
            if cpu > 5:
                slow_cpu.append((index, kind, cpu))
            if peak > 1 << 30:
                big.append((index, kind, peak))
            if done % 500 == 0:
                print("%d cases, %d exceptions, %d over 5 s (%d of CPU), %d over 1 GB (%.0f s)"
                      % (done, len(errors), len(slow), len(slow_cpu), len(big),
                         time.perf_counter() - started), flush=True)
    slowest.sort(reverse=True)
    print("cases by kind: %s" % ", ".join("%s %d" % kv for kv in sorted(kinds.items())))
    print("slowest (CPU, wall): %s" % ", ".join("#%d %s %.2f s, %.2f s" % (i, k, c, w)
                                                for c, w, i, k in slowest[:5]))
    for index, kind, error in errors[:args.show]:
        print("\n--- case %d (%s): %r\n%s" % (index, kind, make_case(args.seed, index)[1][:300],
                                              error))
    print("\n%d cases (seed %d): %d exceptions, %d over 5 s (%d over 5 s of CPU), %d over 1 GB;"
          " %.0f s in all" % (args.count, args.seed, len(errors), len(slow), len(slow_cpu),
                              len(big), time.perf_counter() - started))
    return 1 if errors or slow_cpu or big else 0


if __name__ == "__main__":
    sys.exit(main())
