#!/usr/bin/env python3
"""Build ShapeLens real-world case sets from snapshots of public model repositories.

Usage: prepare_more.py SET OUT_DIR [--mirror DIR] [--git OWNER/NAME=GIT_DIR ...]
                       [--python PY] [--jobs N] [--timeout S] [--groundtruth PATH] [--only A,B]
       prepare_more.py --list

SET is one of the sets of cases.py (``cifar``, ``transformers``, ``generative``).  Each case
names a file of a public repository; the file is read from a git snapshot of that repository at
build time (``--mirror DIR`` holds them as ``OWNER+NAME/repo``, the layout of the session's fetch
tool; ``--git`` names one directly) and nothing of it is kept in this repository.  Into OUT_DIR
go, as with shared/tools/realworld/prepare.py (whose design this follows):

  NAME.py        their file line for line, with ``if __name__ == "__main__":`` conditions set to
                 ``False`` (same line), module-level statements that cannot run here commented out
                 with "#~ " (imports of ``drop_modules``, assignments of ``drop_names``, and every
                 later module-level statement that uses only what those bound), and the case's
                 ``replace`` lines swapped for a one-line stand-in (an import of a sibling module
                 of theirs, inlined); then OUR driver, appended: it builds the model with
                 realistic arguments and calls it on a sample input
  NAME.gt.json   ground truth (groundtruth.py run with --python, in a scratch folder so that
                 their module-level ``os.makedirs`` land there)
  NAME_mut.py    the same with ONE edit of the driver (never of their code) that makes torch
                 raise a shape error; NAME_mut.gt.json likewise
  MANIFEST.json  per repository the snapshot commit; per case source, blob, edits, status
  dropped/       cases whose ground truth did not come out as expected (for inspection only)

A clean case is kept when its run is clean, a mutant when it raises an error that reads as a
shape error.  Standard library only.  Exit status 0 when every case was kept, 1 when some were
dropped, 2 on unusable arguments.
"""
from __future__ import annotations

import argparse
import ast
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
from cases import SETS, SNAPSHOTS  # noqa: E402

DEFAULT_GROUNDTRUTH = os.path.join(HERE, os.pardir, os.pardir, "tests", "data", "tools",
                                   "groundtruth.py")
DEFAULT_MIRROR = "/work/.mirror"
NEUTRALIZED = "#~ "

SHAPE_ERROR = re.compile(
    r"shape|size|dimension|mat1 and mat2|channels|must match|batch number|"
    r"Expected .*(1D|2D|3D|4D|input)|out of range \(expected to be in range",
    re.IGNORECASE)
SHAPE_ERROR_TYPES = ("RuntimeError", "ValueError", "IndexError", "EinopsError")


class Unusable(Exception):
    pass


def git(git_dir, *args):
    proc = subprocess.run(["git", "--git-dir", git_dir] + list(args), capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise Unusable("git %s: %s" % (" ".join(args), proc.stderr.strip()))
    return proc.stdout


# ------------------------------------------------------------------------- their file, prepared

def is_main_guard(test):
    if not isinstance(test, ast.Compare) or len(test.ops) != 1 \
            or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    has_name = any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
    has_main = any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)
    return has_name and has_main


def import_bindings(stmt):
    """(bound name, top-level module; "." for a relative import) of each alias."""
    out = []
    for alias in stmt.names:
        if isinstance(stmt, ast.Import):
            out.append((alias.asname or alias.name.split(".")[0], alias.name.split(".")[0]))
        else:
            module = (stmt.module or "").split(".")[0] if stmt.level == 0 else "."
            out.append((alias.asname or alias.name, module))
    return out


def names_used_at_definition(stmt):
    """Names a module-level statement evaluates when it runs (not inside function bodies)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        nodes = list(stmt.decorator_list) + list(stmt.args.defaults)
        nodes += [d for d in stmt.args.kw_defaults if d is not None]
        args = stmt.args.posonlyargs + stmt.args.args + stmt.args.kwonlyargs
        args += [a for a in (stmt.args.vararg, stmt.args.kwarg) if a is not None]
        nodes += [a.annotation for a in args if a.annotation is not None]
        if stmt.returns is not None:
            nodes.append(stmt.returns)
        return {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name)}
    if isinstance(stmt, ast.ClassDef):
        nodes = list(stmt.decorator_list) + list(stmt.bases) + [k.value for k in stmt.keywords]
        used = {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name)}
        for sub in stmt.body:
            used |= names_used_at_definition(sub)
        return used
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}


def names_bound(stmt):
    """Names a module-level statement may bind (over-approximated)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {name for name, _ in import_bindings(stmt)}
    out = set()
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            out.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out.update(name for name, _ in import_bindings(node))
    return out


def first_line(stmt):
    return min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])


def prepare_source(source, case):
    """Their file with replacements, main guards disabled and unrunnable module-level code
    commented out.  Returns (text, notes); notes are (first line, last line, what was done) and
    the text has exactly the lines of ``source``, in place."""
    lines = source.split("\n")
    notes = []
    for old, new in case.get("replace", {}).items():
        hits = [i for i, ln in enumerate(lines) if ln == old]
        if len(hits) != 1:
            raise Unusable("replace: %r occurs %d times" % (old, len(hits)))
        lines[hits[0]] = new
        notes.append((hits[0] + 1, hits[0] + 1, "replaced %r" % old))
    source = "\n".join(lines)
    tree = ast.parse(source)
    drop_modules = set(case.get("drop_modules", ()))
    drop_names = set(case.get("drop_names", ()))
    unbound = set()
    body = tree.body
    for i, stmt in enumerate(body):
        if isinstance(stmt, ast.If) and is_main_guard(stmt.test):
            test = stmt.test
            if test.lineno != test.end_lineno:
                raise Unusable("line %d: main guard spans lines" % test.lineno)
            raw = lines[test.lineno - 1].encode("utf-8")
            lines[test.lineno - 1] = (raw[:test.col_offset] + b"False"
                                      + raw[test.end_col_offset:]).decode("utf-8")
            notes.append((test.lineno, test.lineno, "main guard set to False"))
            continue
        why = None
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            modules = {module for _, module in import_bindings(stmt)}
            if modules & drop_modules:
                if not modules <= drop_modules:
                    raise Unusable("line %d: import mixes dropped and kept modules"
                                   % stmt.lineno)
                why = "import of %s" % ", ".join(sorted(modules))
        if why is None:
            hit = names_used_at_definition(stmt) & unbound
            if hit:
                why = "uses %s" % ", ".join(sorted(hit))
        bound = names_bound(stmt)
        if why is None and bound & drop_names:
            why = "assigns %s" % ", ".join(sorted(bound & drop_names))
        if why is None:
            unbound -= bound
            continue
        start, end = first_line(stmt), stmt.end_lineno
        if (i > 0 and body[i - 1].end_lineno >= start) or \
                (i + 1 < len(body) and first_line(body[i + 1]) <= end):
            raise Unusable("line %d: statement shares a line with another" % start)
        for ln in range(start, end + 1):
            if lines[ln - 1].strip():
                lines[ln - 1] = NEUTRALIZED + lines[ln - 1]
        unbound |= bound
        notes.append((start, end, "commented out: " + why))
    return "\n".join(lines), notes


def span(start, end):
    return "%d" % start if start == end else "%d-%d" % (start, end)


def summarize(notes, text):
    """Where the prepared file departs from the snapshot, in a sentence."""
    lines = text.split("\n")
    guards = [span(s, e) for s, e, why in notes if why.startswith("main guard")]
    replaced = [span(s, e) for s, e, why in notes if why.startswith("replaced")]
    ranges = []
    for s, e, why in sorted(notes):
        if not why.startswith("commented out"):
            continue
        if ranges and all(not lines[k - 1].strip() or lines[k - 1].lstrip().startswith("#")
                          for k in range(ranges[-1][1] + 1, s)):
            ranges[-1][1] = e
        else:
            ranges.append([s, e])
    parts = []
    if replaced:
        parts.append("an import of their own package replaced by what it imports at line %s"
                     % ", ".join(replaced))
    if guards:
        parts.append('`if __name__ == "__main__"` set to `if False` at line %s'
                     % ", ".join(guards))
    if ranges:
        parts.append("%s %s commented out with %r" % (
            "lines" if len(ranges) > 1 or ranges[0][0] != ranges[0][1] else "line",
            ", ".join(span(s, e) for s, e in ranges), NEUTRALIZED.strip()))
    return "; ".join(parts) if parts else "unchanged"


def build_case(prepared, case, commit, driver, notes, original):
    text = prepared if prepared.endswith("\n") else prepared + "\n"
    about = ("ShapeLens real-world case: %s %s, %s. The lines above are that file, line for "
             "line; %s. Below: a driver written for the ShapeLens evaluation set, not part of "
             "%s." % (case["repo"], commit[:12], case["path"], summarize(notes, original),
                      case["repo"]))
    header = ["", "", "# " + "-" * 94]
    header += textwrap.wrap(about, width=96, initial_indent="# ", subsequent_indent="# ",
                            break_on_hyphens=False)
    header.append("# " + "-" * 94)
    return text + "\n".join(header) + "\n" + driver


# -------------------------------------------------------------------------------- ground truth

def run_groundtruth(python, script, case_path, timeout, scratch):
    out = os.path.splitext(case_path)[0] + ".gt.json"
    cmd = [python, script, case_path, "--timeout", str(timeout), "-o", out]
    # their module-level os.makedirs("../../data/...") stay inside the scratch folder
    cwd = os.path.join(scratch, "a", "b")
    os.makedirs(cwd, exist_ok=True)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 60,
                              cwd=cwd)
    except subprocess.TimeoutExpired:
        return None, "groundtruth.py did not finish"
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["(no output)"]
        return None, "groundtruth.py exit %d: %s" % (proc.returncode, tail[0])
    with open(out, encoding="utf-8") as fh:
        return json.load(fh), None


def is_shape_error(error):
    return bool(error) and error["type"] in SHAPE_ERROR_TYPES \
        and bool(SHAPE_ERROR.search(error["message"]))


def first_line_of(message):
    return (message.strip().splitlines() or [""])[0][:160]


# ------------------------------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("set", nargs="?", help="|".join(sorted(SETS)))
    ap.add_argument("out_dir", nargs="?")
    ap.add_argument("--list", action="store_true", help="list the sets and their cases")
    ap.add_argument("--mirror", default=DEFAULT_MIRROR,
                    help="folder of snapshots as OWNER+NAME/repo (default %(default)s)")
    ap.add_argument("--git", action="append", default=[], metavar="OWNER/NAME=GIT_DIR",
                    help="git directory of one repository (overrides --mirror)")
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter with torch for the ground-truth runs")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=180.0)
    ap.add_argument("--groundtruth", default=DEFAULT_GROUNDTRUTH)
    ap.add_argument("--only", help="comma-separated case names (the others are not rebuilt)")
    return ap.parse_args(argv)


def git_dirs(args):
    out = {}
    for item in args.git:
        repo, _, path = item.partition("=")
        if not path:
            raise Unusable("--git wants OWNER/NAME=GIT_DIR, got %r" % item)
        out[repo] = path
    for repo in SNAPSHOTS:
        if repo not in out:
            out[repo] = os.path.join(args.mirror, repo.replace("/", "+"), "repo")
    return out


def prepare_out_dir(out_dir, only):
    if os.path.isdir(out_dir) and os.listdir(out_dir):
        if not os.path.isfile(os.path.join(out_dir, "MANIFEST.json")):
            raise Unusable("%s is not empty and holds no MANIFEST.json of a previous run"
                           % out_dir)
        for name in os.listdir(out_dir):
            path = os.path.join(out_dir, name)
            stem = name.split(".")[0]
            if only and stem not in only and stem[:-len("_mut")] not in only:
                continue
            if name == "dropped" and os.path.isdir(path) and not only:
                shutil.rmtree(path)
            elif name.endswith((".py", ".gt.json")):
                os.remove(path)
    os.makedirs(out_dir, exist_ok=True)


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        for name, cases in sorted(SETS.items()):
            repos = sorted({c["repo"] for c in cases})
            print("%s: %d cases from %s" % (name, len(cases), ", ".join(repos)))
            for c in cases:
                print("  %-26s %s:%s" % (c["name"], c["repo"], c["path"]))
        return 0
    try:
        if args.set not in SETS or not args.out_dir:
            raise Unusable("give a SET (%s) and an OUT_DIR" % ", ".join(sorted(SETS)))
        if not os.path.isfile(args.groundtruth):
            raise Unusable("no groundtruth.py at %s (use --groundtruth)" % args.groundtruth)
        dirs = git_dirs(args)
        cases = SETS[args.set]
        only = set(args.only.split(",")) if args.only else None
        if only:
            unknown = only - {c["name"] for c in cases}
            if unknown:
                raise Unusable("no such case: %s" % ", ".join(sorted(unknown)))
            cases = [c for c in cases if c["name"] in only]
        commits = {}
        for repo in sorted({c["repo"] for c in cases}):
            if not os.path.isdir(dirs[repo]):
                raise Unusable("no snapshot of %s at %s (fetch it, or use --git)"
                               % (repo, dirs[repo]))
            commits[repo] = git(dirs[repo], "rev-parse", "--verify", "HEAD^{commit}").strip()
            if commits[repo] != SNAPSHOTS[repo]:
                print("prepare: warning: %s snapshot is %s; the drivers were written against %s"
                      % (repo, commits[repo], SNAPSHOTS[repo]), file=sys.stderr)
        prepare_out_dir(args.out_dir, only)
    except (Unusable, OSError) as exc:
        print("prepare: %s" % exc, file=sys.stderr)
        return 2

    records = []
    for case in cases:
        repo, commit = case["repo"], commits[case["repo"]]
        rec = {"name": case["name"], "repo": repo, "source": case["path"], "variant": "clean"}
        try:
            blob = git(dirs[repo], "rev-parse", "%s:%s" % (commit, case["path"])).strip()
            if blob != case["blob"]:
                print("prepare: warning: %s:%s changed since the driver was written (blob %s)"
                      % (repo, case["path"], blob[:12]), file=sys.stderr)
            source = git(dirs[repo], "show", "%s:%s" % (commit, case["path"]))
            prepared, notes = prepare_source(source, case)
        except (Unusable, SyntaxError) as exc:
            rec.update(status="dropped", reason="cannot prepare: %s" % exc)
            records.append(rec)
            continue
        old, new = case["mutation"]
        if case["driver"].count(old) != 1:
            raise SystemExit("prepare: %s: mutation text must occur once in the driver"
                             % case["name"])
        mut = dict(rec, name=case["name"] + "_mut", variant="mutant",
                   mutation={"from": old, "to": new, "why": case["why"]})
        edits = ["line %s: %s" % (span(s, e), why) for s, e, why in notes]
        rec.update(blob=blob, edits=edits)
        mut.update(blob=blob, edits=edits)
        for r, driver in ((rec, case["driver"]), (mut, case["driver"].replace(old, new))):
            path = os.path.join(args.out_dir, r["name"] + ".py")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(build_case(prepared, case, commit, driver, notes, source))
            r["file"] = path
            records.append(r)

    todo = [r for r in records if "file" in r]
    script = os.path.abspath(args.groundtruth)
    python = os.path.abspath(args.python) if os.sep in args.python else args.python
    with tempfile.TemporaryDirectory(prefix="prepare-scratch-") as scratch:
        def one(r):
            return r, run_groundtruth(python, script, os.path.abspath(r["file"]),
                                      args.timeout, scratch)

        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = list(pool.map(one, todo))
    for r, (gt, why) in results:
        if gt is None:
            r.update(status="dropped", reason=why)
            continue
        r["facts"] = len(gt["facts"])
        err = gt["error"]
        r["error"] = err
        if r["variant"] == "clean":
            if err is None:
                r["status"] = "kept"
            else:
                r.update(status="dropped", reason="raised %s: %s"
                         % (err["type"], first_line_of(err["message"])))
        elif is_shape_error(err):
            r["status"] = "kept"
        elif err is None:
            r.update(status="dropped", reason="mutant ran clean")
        else:
            r.update(status="dropped", reason="mutant raised a non-shape error %s: %s"
                     % (err["type"], first_line_of(err["message"])))
    clean_ok = {r["name"] for r in records if r["variant"] == "clean" and r["status"] == "kept"}
    for r in records:
        if r["variant"] == "mutant" and r.get("status") == "kept" \
                and r["name"][:-len("_mut")] not in clean_ok:
            r.update(status="dropped", reason="its clean case was dropped")

    dropped_dir = os.path.join(args.out_dir, "dropped")
    for r in records:
        path = r.pop("file", None)
        if r["status"] == "dropped" and path:
            os.makedirs(dropped_dir, exist_ok=True)
            for p in (path, os.path.splitext(path)[0] + ".gt.json"):
                if os.path.exists(p):
                    shutil.move(p, os.path.join(dropped_dir, os.path.basename(p)))

    manifest_path = os.path.join(args.out_dir, "MANIFEST.json")
    if only and os.path.isfile(manifest_path):
        with open(manifest_path, encoding="utf-8") as fh:
            previous = json.load(fh)
        rebuilt = {r["name"] for r in records}
        records = [r for r in previous.get("cases", []) if r["name"] not in rebuilt] + records
        commits = dict(previous.get("commits", {}), **commits)
    with open(manifest_path, "w", encoding="utf-8") as fh:
        json.dump({"set": args.set, "commits": commits, "written_against": SNAPSHOTS,
                   "cases": records}, fh, indent=1)
        fh.write("\n")

    kept = [r for r in records if r["status"] == "kept"]
    print("%-28s %-7s %5s  %s" % ("case", "status", "facts", "error / reason"))
    for r in records:
        if r["status"] == "kept":
            err = r["error"]
            what = "-" if err is None else "%s at %s: %s" % (
                err["type"], err["lines"], first_line_of(err["message"])[:70])
        else:
            what = r["reason"]
        print("%-28s %-7s %5s  %s" % (r["name"], r["status"], r.get("facts", "-"), what))
    print("cases=%d facts=%d raising=%d dropped=%d repos=%s"
          % (len(kept), sum(r["facts"] for r in kept),
             sum(1 for r in kept if r["error"] is not None), len(records) - len(kept),
             ",".join("%s@%s" % (k, v[:12]) for k, v in sorted(commits.items()))))
    return 0 if len(kept) == len(records) else 1


if __name__ == "__main__":
    sys.exit(main())
