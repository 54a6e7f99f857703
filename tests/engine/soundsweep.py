"""Sweep of the differential soundness test over many seeds (soundgen.py), by hand:

    .venv/bin/python -m tests.engine.soundsweep --count 5000 [--start 0] [--jobs 2]
        [--reduce 300] [--report FILE.md] [--xfail-list]

Prints how many programs were run (and paths), how many of torch's facts the analysis gave
exactly, how many raising programs it caught, and the disagreements by kind.  ``--reduce N``
shrinks the first N disagreeing programs to the few items that still disagree and groups them by
what is left (the minimal program of each group goes into ``--report``).  ``--xfail-list`` prints
the disagreeing seeds of the range as the KNOWN_FAILING set of test_soundness_differential.py.
"""
from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import signal
import sys
import time

from tests.engine import soundgen

KIND_ORDER = ["timeout", "crash", "false-error", "undecided-error", "wrong-shape", "mixed-shapes"]


TIMEOUT = [0]  # seconds one seed may take (set in each worker), 0 for no limit


class _SeedTimeout(BaseException):   # not caught by the analysis's "except Exception"
    pass


def _alarm(signum, frame):
    raise _SeedTimeout()


def _init_worker(timeout):
    TIMEOUT[0] = timeout


def one(seed):
    """(seed, torch runs or None, disagreements, counts); a seed past the time limit comes back
    as one "timeout" disagreement (the analysis or torch stalled: worth a look either way)."""
    if TIMEOUT[0]:
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(TIMEOUT[0])
    phase = ["torch"]
    try:
        program = soundgen.generate(seed)
        source = program.source()
        truth = soundgen.run_all_paths(source)
        if not truth.complete:
            return seed, None, [], {}
        phase[0] = "analysis"
        dis, counts = soundgen.compare(source, truth)
    except _SeedTimeout:
        if phase[0] == "torch":         # the program itself does not end (a generated loop)
            return seed, None, [], {}
        return seed, 0, [("timeout", 0, "", "analysis over %d s" % TIMEOUT[0])], {}
    finally:
        if TIMEOUT[0]:
            signal.alarm(0)
    return seed, len(truth.runs), [(d.kind, d.line, d.name, d.detail) for d in dis], counts


OPAQUE_FORMS = {"exec", "invoke", "getattr_str", "methodcaller", "eval", "callback"}
FOLLOWED_FORMS = {"direct", "post", "alias", "helper_method", "helper_func", "try", "dead"}


def mechanism(tag):
    """What an item of a shrunk program stands for, coarsely: the operation the analysis does
    not model, the opaque call or the undecidable branch it does not account for."""
    op, _, form = tag.partition("@")
    target = op.split(".")[0]
    if form in OPAQUE_FORMS:
        return "%s handed to an opaque call (%s)" % (target, form)
    if form in ("coin", "opaque_loop"):
        return "%s changed in an undecidable %s" % (
            target, "branch" if form == "coin" else "loop")
    if form in FOLLOWED_FORMS:
        return "%s.%s%s" % (op.split(".", 1)[0], op.split(".", 1)[1],
                            "" if form in ("direct", "try") else " (%s)" % form)
    return op


CAUSES = [
    # (cause, does an item tag of the shrunk program show it)
    ("in-place change of a tensor's shape (resize_, set_, .data =, unsqueeze_, t_, ...)",
     lambda t: t.startswith("inplace.")),
    ("object handed to a call the analysis cannot follow (exec, unknown import, getattr of a "
     "string, methodcaller, eval, callback)", lambda t: t.partition("@")[2] in OPAQUE_FORMS),
    ("change inside a branch or loop the analysis cannot decide",
     lambda t: t.partition("@")[2] in ("coin", "opaque_loop")
     or t in ("branch.coin", "branch.opaque_loop")),
    ("user subclass of Sequential/ModuleDict/ModuleList (DenseNet-style blocks)",
     lambda t: t.startswith("block.")),
    ("config changed before the layer is built (dict, object, dataclass, argparse)",
     lambda t: t.startswith("cfg.")),
    ("list or dict of tensors changed in forward", lambda t: t.startswith(("tlist.", "tdict."))),
    ("list of sizes changed before layers are built from it", lambda t: t.startswith("sizes.")),
    ("module or container changed by a method or statement the analysis can follow",
     lambda t: t.startswith(("seq.", "list.", "dict.", "attr."))),
]


def cause(tags):
    """The first cause of CAUSES that an item of a shrunk program shows."""
    for name, shows in CAUSES:
        if any(shows(t) for t in tags):
            return name
    return "other: " + " + ".join(sorted(tags))


def main_kind(kinds):
    return min(kinds, key=KIND_ORDER.index)


def shrink(seed, kind):
    """(group key, minimal source, its disagreements) of a disagreeing seed."""
    program = soundgen.generate(seed)

    def still(source):
        return kind in soundgen.failure_kinds(source)

    keep = soundgen.reduce(program, still)
    source = program.source(keep)
    truth = soundgen.run_all_paths(source)
    dis, _ = soundgen.compare(source, truth)
    tags = [program.items[i].tag for i in keep if program.items[i].role != "def"]
    if not tags:
        tags = [program.items[i].tag for i in keep]
    key = " + ".join(sorted({mechanism(t) for t in tags}))
    return (kind, key), source, [str(d) for d in dis if d.kind == kind], sorted(tags)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--reduce", type=int, default=0,
                    help="shrink the first N disagreeing programs and group them")
    ap.add_argument("--report", help="write the groups and their minimal programs here")
    ap.add_argument("--xfail-list", action="store_true")
    ap.add_argument("--timeout", type=int, default=60, help="seconds per seed (0: none)")
    ap.add_argument("--log", help="append one JSON line per seed here as it finishes")
    ap.add_argument("--progress", type=int, default=250,
                    help="print the counts so far every N seeds (to stderr)")
    args = ap.parse_args(argv)

    t0 = time.time()
    seeds = range(args.start, args.start + args.count)
    _init_worker(args.timeout)
    log = open(args.log, "a", encoding="utf-8") if args.log else None
    results = []
    pool = multiprocessing.Pool(args.jobs, _init_worker, (args.timeout,)) if args.jobs > 1 \
        else None
    try:
        it = pool.imap_unordered(one, seeds, chunksize=4) if pool else map(one, seeds)
        for result in it:
            results.append(result)
            if log:
                log.write(json.dumps(result) + "\n")
                log.flush()
            if args.progress and len(results) % args.progress == 0:
                bad = sum(1 for r in results if r[2])
                print("%d of %d seeds, %d disagreeing, %.0f s" % (
                    len(results), args.count, bad, time.time() - t0), file=sys.stderr,
                    flush=True)
    finally:
        if pool:
            pool.terminate()
        if log:
            log.close()
    results.sort()
    elapsed = time.time() - t0

    totals = collections.Counter()
    by_kind = collections.Counter()
    failing = []
    for seed, paths, dis, counts in results:
        if paths is None:
            totals["incomplete"] += 1
            continue
        totals["programs"] += 1
        totals["paths"] += paths
        totals.update(counts)
        if dis:
            kinds = {d[0] for d in dis}
            failing.append((seed, main_kind(kinds)))
            for k in kinds:
                by_kind[k] += 1
    print("seeds %d..%d: %d programs (%d runs of torch, %d with too many paths or that do not "
          "end), %.0f s"
          % (args.start, args.start + args.count - 1, totals["programs"], totals["paths"],
             totals["incomplete"], elapsed))
    print("facts %d, given exactly %d (%.1f%%); raising programs %d, error found %d"
          % (totals["facts"], totals["exact"], 100.0 * totals["exact"] / max(1, totals["facts"]),
             totals["raising"], totals["found"]))
    print("disagreeing programs: %d of %d" % (len(failing), totals["programs"]))
    for kind in KIND_ORDER:
        if by_kind[kind]:
            print("  %-16s %d programs" % (kind, by_kind[kind]))

    groups = collections.defaultdict(list)
    if args.reduce:
        t1 = time.time()
        for seed, kind in [f for f in failing if f[1] != "timeout"][:args.reduce]:
            key, source, lines, tags = shrink(seed, kind)
            groups[key].append((seed, source, lines, tags))
        print("\nshrunk %d programs in %.0f s into %d groups:" % (
            min(args.reduce, len(failing)), time.time() - t1, len(groups)))
        ordered = sorted(groups.items(), key=lambda kv: (KIND_ORDER.index(kv[0][0]),
                                                         -len(kv[1])))
        for (kind, tags), members in ordered:
            print("  %-16s %4d  %s" % (kind, len(members), tags))
        by_cause = collections.Counter()
        for (kind, _), members in groups.items():
            for member in members:
                by_cause[(kind, cause(member[3]))] += 1
        print("\nby cause:")
        for (kind, name), n in sorted(by_cause.items(),
                                      key=lambda kv: (KIND_ORDER.index(kv[0][0]), -kv[1])):
            print("  %-16s %4d  %s" % (kind, n, name))
        if args.report:
            with open(args.report, "w", encoding="utf-8") as fh:
                fh.write("# soundsweep: seeds %d..%d, first %d disagreeing programs shrunk\n\n"
                         % (args.start, args.start + args.count - 1, args.reduce))
                for (kind, tags), members in ordered:
                    members.sort(key=lambda m: len(m[1]))
                    seed, source, lines, items = members[0]
                    fh.write("## %s: %s (%d programs; seeds %s)\n\n" % (
                        kind, tags, len(members),
                        ", ".join(str(m[0]) for m in sorted(members)[:12])))
                    fh.write("items: %s\n\n```python\n%s```\n\n" % (" + ".join(items), source))
                    fh.write("".join("- %s\n" % ln for ln in lines[:4]) + "\n")
    if args.xfail_list:
        print("\nKNOWN_FAILING = frozenset({")
        seeds_failing = sorted(s for s, _ in failing)
        for i in range(0, len(seeds_failing), 14):
            print("    " + ", ".join(map(str, seeds_failing[i:i + 14])) + ",")
        print("})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
