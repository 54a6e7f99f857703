"""``shapelens check PATH...``: the files to check, their configuration, the analysis (in
parallel processes with ``--jobs``), severities, suppressions, baselines and the output.

Per file, in this order: the analysis; the severity of each code from the configuration
("off" drops it); ``# shapelens: ignore`` comments; with ``--warn-unused-ignores`` an
``unused-ignore`` warning for each comment that silenced nothing; with ``--baseline`` only the
findings the baseline does not hold.  The output is the same, in the same order, whatever
``--jobs`` is.

Exit status: 0 with no error diagnostics, 1 with errors, 2 on usage errors (bad arguments, a
path that does not exist, a bad configuration file or baseline).
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Tuple

from .config import Config, ConfigError, ConfigFinder
from .suppressions import shown_diagnostics

SKIPPED_FOLDERS = ("__pycache__", "node_modules")


class UsageError(Exception):
    pass


def python_files(paths, finder: Optional[ConfigFinder] = None) -> List[str]:
    """The files to check: each file named, or the files under a folder that its
    configuration's ``include`` selects (``*.py`` by default), sorted; files that the
    configuration excludes are left out either way."""
    finder = finder or ConfigFinder(isolated=True)
    out = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(
                    d for d in dirs if not d.startswith(".") and d not in SKIPPED_FOLDERS
                    and not finder.config_for(os.path.join(root, d))
                    .excludes_folder(os.path.join(root, d)))
                for name in sorted(files):
                    full = os.path.normpath(os.path.join(root, name))   # no "./"
                    if finder.config_for(full).selects(full):
                        out.append(full)
        elif os.path.isfile(path):
            if not finder.config_for(path).excludes(path):
                out.append(path)
        else:
            raise UsageError("no such file or directory: %s" % path)
    return out


@dataclass(frozen=True)
class Checked:
    """One file's outcome: its report (diagnostics as shown), the enclosing definition of
    each diagnostic (for baselines), and an internal error to print, if any."""

    report: object
    definitions: Tuple[str, ...]
    problem: Optional[str] = None


class Checker:
    """Checks files one at a time: analysis, then the configuration's severities, the
    suppression comments and the unused-ignore warnings."""

    def __init__(self, finder: ConfigFinder, warn_unused_ignores: bool = False,
                 python: Optional[str] = None):
        from .analysis.interp.modules import ModuleCache
        from .analysis.resolver import FileCache
        self.finder = finder
        self.warn_unused_ignores = warn_unused_ignores
        self.python = python        # --python: imports resolve into its environment
        self._resolvers: Dict[tuple, object] = {}
        # one analysis per imported module for the whole run (per process with --jobs)
        self.modules = ModuleCache(freeze=True)
        self.files = FileCache()

    def resolver(self, config: Config):
        # An interpreter named in a repository's configuration file is not started to
        # resolve imports (that needs the user's own word: --python).
        from .environment import workspace_resolver
        roots = (os.getcwd(),) + tuple(config.extra_paths)
        if roots not in self._resolvers:
            self._resolvers[roots] = workspace_resolver(roots, self.python, self.files,
                                                        self.modules)
        return self._resolvers[roots]

    def check(self, path: str) -> Checked:
        from . import analysis
        from .analysis import Report
        from .baseline import definitions
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError as exc:
            return Checked(Report(path), (), "cannot read %s: %s" % (path, exc))
        config = self.finder.config_for(path)
        problem = None
        try:
            report = analysis.analyze(text, path, self.resolver(config), runs=False)
        except Exception as exc:  # an analysis bug: say which file, check the others
            problem = "internal error while checking %s: %s: %s" % (
                path, type(exc).__name__, str(exc)[:200])
            report = Report(path, extra={"internal_errors": (
                "%s: %s" % (type(exc).__name__, exc),)})
        shown = shown_diagnostics(text, report.diagnostics, config,
                                  self.warn_unused_ignores or config.warn_unused_ignores)
        enclosing = definitions(text) if shown else None
        # Only what the views use: layer specs and hover data need not cross processes.
        slim = replace(report, diagnostics=tuple(shown), expr_shapes=(), layers=(),
                       layer_refs=(), modules=(), samples=(), runs_made=())
        return Checked(slim, tuple(enclosing(d.range.start_line) for d in shown), problem)


_worker: Optional[Checker] = None


def _start_worker(explicit, isolated, warn_unused_ignores, python=None) -> None:
    global _worker
    _worker = Checker(ConfigFinder(explicit, isolated), warn_unused_ignores, python)


def _check_in_worker(path: str) -> Checked:
    assert _worker is not None
    return _worker.check(path)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_files(files: List[str], finder: ConfigFinder, jobs: int = 1,
                warn_unused_ignores: bool = False, python: Optional[str] = None
                ) -> List[Checked]:
    """Each file checked, in the order given; with ``jobs`` > 1 in that many processes."""
    jobs = min(jobs, len(files))
    if jobs <= 1:
        checker = Checker(finder, warn_unused_ignores, python)
        return [checker.check(path) for path in files]
    import concurrent.futures
    import multiprocessing
    # fork where it is safe and cheap (the analysis modules are already imported)
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux")
                                          else None)
    with concurrent.futures.ProcessPoolExecutor(
            jobs, mp_context=context, initializer=_start_worker,
            initargs=(finder.explicit, finder.isolated, warn_unused_ignores, python)) as pool:
        return list(pool.map(_check_in_worker, files, chunksize=1))


def parser() -> argparse.ArgumentParser:
    from .formats import FORMATS
    ap = argparse.ArgumentParser(prog="shapelens check",
                                 description="Report PyTorch shape errors without running code.")
    ap.add_argument("paths", nargs="+", help="files or directories (recursing over *.py)")
    ap.add_argument("--format", choices=FORMATS, default="text")
    ap.add_argument("--shapes", action="store_true",
                    help="text format: also print the shape of every name")
    ap.add_argument("--statistics", action="store_true",
                    help="print how many diagnostics of each code instead of each one "
                         "(text or json)")
    found = ap.add_mutually_exclusive_group()
    found.add_argument("--config", metavar="FILE",
                       help="use this configuration file for every file (a pyproject.toml "
                            "or shapelens.toml) instead of discovering one per file")
    found.add_argument("--isolated", action="store_true",
                       help="ignore every configuration file")
    ap.add_argument("--warn-unused-ignores", action="store_true",
                    help="report '# shapelens: ignore' comments that silence nothing")
    ap.add_argument("--baseline", metavar="FILE",
                    help="report only findings that FILE (from --write-baseline) does not hold")
    ap.add_argument("--write-baseline", metavar="FILE",
                    help="record every finding in FILE and exit 0")
    ap.add_argument("--python", metavar="INTERPRETER",
                    help="resolve imports into this Python's environment (default: the one "
                         "running shapelens)")
    ap.add_argument("--jobs", "-j", type=_positive_int, default=None, metavar="N",
                    help="check files in N processes (default: the number of CPU cores)")
    return ap


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def main(argv) -> int:
    from . import formats
    from .baseline import (BaselineError, baseline_base, finding_key, new_findings,
                           read_baseline, write_baseline)
    ap = parser()
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    if args.statistics and args.format not in ("text", "json"):
        print("shapelens: --statistics works with --format text or json", file=sys.stderr)
        return 2
    finder = ConfigFinder(args.config, args.isolated)
    try:
        if args.config is not None:
            finder.load(os.path.abspath(args.config))
        recorded = read_baseline(args.baseline) if args.baseline else None
        if args.python and not os.path.isfile(args.python):
            raise UsageError("no such interpreter: %s" % args.python)
        files = python_files(args.paths, finder)
        # every configuration is read here, so a bad one is a usage error before any work
        for path in files:
            finder.config_for(path)
    except (UsageError, ConfigError, BaselineError) as exc:
        print("shapelens: %s" % exc, file=sys.stderr)
        return 2
    checked = check_files(files, finder, args.jobs or default_jobs(), args.warn_unused_ignores,
                          args.python)
    for item in checked:
        if item.problem:
            print("shapelens: %s" % item.problem, file=sys.stderr)

    base = baseline_base(args.write_baseline or args.baseline)
    keys = [[finding_key(c.report.path, defn, d.code, d.message, base)
             for d, defn in zip(c.report.diagnostics, c.definitions)] for c in checked]
    if args.write_baseline:
        try:
            n = write_baseline(args.write_baseline, [k for ks in keys for k in ks])
        except BaselineError as exc:
            print("shapelens: %s" % exc, file=sys.stderr)
            return 2
        print("shapelens: wrote %d finding%s to %s" % (n, "" if n == 1 else "s",
                                                       args.write_baseline), file=sys.stderr)
        return 0
    reports = [c.report for c in checked]
    known = fixed = 0
    if recorded is not None:
        flags, fixed = new_findings([k for ks in keys for k in ks], recorded)
        is_new = iter(flags)
        filtered, new_keys = [], []
        for report, report_keys in zip(reports, keys):
            new = [(d, k) for d, k in zip(report.diagnostics, report_keys) if next(is_new)]
            known += len(report.diagnostics) - len(new)
            filtered.append(replace(report, diagnostics=tuple(d for d, _ in new)))
            new_keys.append([k for _, k in new])
        reports, keys = filtered, new_keys

    if args.statistics:
        out = formats.format_statistics(reports, args.format)
    elif args.format == "json":
        out = formats.format_json(reports)
    elif args.format == "sarif":
        out = formats.format_sarif(reports)
    elif args.format == "github":
        out = formats.format_github(reports)
    elif args.format == "gitlab":
        out = formats.format_gitlab(reports, keys)
    else:
        parts = [formats.format_shapes(reports)] if args.shapes else []
        parts.append(formats.format_text(reports))
        out = "\n".join(p for p in parts if p)
    if out:
        print(out)
    errors = sum(1 for r in reports for d in r.diagnostics if d.severity == "error")
    if args.format == "text":
        n = sum(len(r.diagnostics) for r in reports)
        summary = "%d file%s checked, %d problem%s (%d error%s)" % (
            len(reports), "" if len(reports) == 1 else "s", n, "" if n == 1 else "s",
            errors, "" if errors == 1 else "s")
        if recorded is not None:
            summary += "; %d in the baseline" % known
            if fixed:
                summary += ", %d baseline finding%s no longer seen" % (
                    fixed, "" if fixed == 1 else "s")
        print(summary, file=sys.stderr)
    return 1 if errors else 0
