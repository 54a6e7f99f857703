"""The pure analysis: source text in, an immutable :class:`~.report.Report` out.

No LSP, no I/O beyond reading the workspace files an import names, no torch.
"""
from __future__ import annotations

import os
from typing import Optional

from .report import Diagnostic, Range, Report, gc_paused
from .resolver import WorkspaceResolver
from .values import IN_PLACE, TensorCells
from .widths import WIDTHS, Widths

_loaded = False


def _load_rules():
    global _loaded
    if not _loaded:
        from . import rules
        rules.load_all()
        _loaded = True


def analyze(text: str, path: str = "<string>", resolver=None, inputs=None,
            runs: bool = True, resize_fixes: bool = True) -> Report:
    """Analyse one file.  ``resolver`` finds imported workspace modules (see resolver.py);
    None follows no imports.  ``inputs`` ({class name: parsed ``# shape:`` text}) also runs
    those classes on that input (``shapelens summary --input``).  ``runs=False`` records no
    model runs (``Report.runs`` is empty: what a check that shows no summary skips).
    ``resize_fixes``: look for the quick fixes that resize a data pipeline's images
    (resize_fix.py; they analyse the fixed source again).  Never raises: an analysis bug gives
    a report with no facts and the error as an internal error and a note."""
    # An analysis allocates many short-lived objects; pausing the cyclic garbage collector
    # while it runs removes collection pauses (20% of the median time, more of the tail on a
    # 2,000-line file).  The previous state is restored, whatever happens.
    in_place = IN_PLACE.set(TensorCells())
    noted = WIDTHS.set(Widths())
    try:
        with gc_paused():
            return _analyze(text, path, resolver, inputs, runs, resize_fixes)
    except Exception as exc:  # RecursionError and MemoryError included: never a traceback
        return failed(path, exc)
    finally:
        IN_PLACE.reset(in_place)
        WIDTHS.reset(noted)


def failed(path: str, exc: BaseException) -> Report:
    """The report of a file whose analysis failed: valid, empty, saying why."""
    error = "%s: %s" % (type(exc).__name__, str(exc)[:200])
    said = Diagnostic(Range(1, 0, 1, 0), "information", "analysis-incomplete",
                      "ShapeLens could not analyse this file: an internal error (%s)" % error)
    return Report(path, diagnostics=(said,),
                  extra={"internal_errors": (error,),
                         "notes": ("internal error, nothing is known: %s" % error,)})


def _analyze(text: str, path: str, resolver, inputs=None, runs=True,
             resize_fixes=True) -> Report:
    _load_rules()
    from .infer import analyze_unreached
    from .interp import Interpreter, ModuleEnv
    from .interp.budget import BudgetReached
    from .recorder import Recorder
    from .source import MAX_SOURCE_CHARS, Source, find_shape_comments, parse, within_size

    full_text = text
    text, left_out = within_size(text)
    src = Source(text, path)
    tree, skipped = parse(text, path)
    rec = Recorder(src)
    # the resize quick fix reads the model runs too (resize_fix.py): a file with a Compose
    # records them whatever ``runs`` says
    rec.record_runs = runs or (resize_fixes and "Compose" in text)
    if left_out is not None:
        rec.incomplete(left_out, "analysis budget reached at line %d: the file is longer than "
                       "%s characters, the rest is unknown"
                       % (left_out, "{:,}".format(MAX_SOURCE_CHARS)))
    if tree is None:
        return rec.build(path, (), skipped)
    comments = find_shape_comments(src)
    for comment in comments.values():
        if comment.error:
            rec.comment_error(comment, comment.error)
    env = ModuleEnv(src, tree, "__main__", comments, is_main=True)
    interp = Interpreter(rec, resolver)
    budget = interp.budget
    try:
        interp.run_module(env)
        analyze_unreached(interp, env, inputs)
        if resize_fixes and rec.resize_requests and left_out is None:
            from .resize_fix import offer_resize_fixes
            offer_resize_fixes(interp, rec, text, lambda fixed: analyze(
                fixed, path, resolver, inputs, resize_fixes=False))
    except BudgetReached:           # the budget's note says where and why
        if not budget.stopped:      # library code's part of it, run outside an import or call
            budget.stop("library code past its part of the budget")
    except RecursionError:          # Python's stack ran out before the nesting budget did
        budget.stop("nesting deeper than Python's stack allows")
    except Exception as exc:  # never lose the report to an analysis bug
        rec.internal_error(interp.stmt or tree, interp.stmt_frame.env if interp.stmt_frame
                           else env, exc)
    for note, line in budget.notes.items():
        rec.incomplete(line, note)
    rec.uses_torch = rec.uses_torch or "torch" in full_text
    report = rec.build(path, interp.dependencies, skipped)
    report.extra["spent"] = budget.spent()
    return report


def default_resolver(path: str) -> Optional[WorkspaceResolver]:
    """Resolve imports against the file's folder, the current folder and this interpreter's
    environment (installed packages), when the file is on disk."""
    if path and not path.startswith("<") and os.path.isfile(path):
        from ..environment import environment_for
        return WorkspaceResolver([os.getcwd()], environment=environment_for())
    return None


def check_source(text: str, path: str = "<string>") -> dict:
    """The report of one file as the JSON form's file entry (SPEC §5), as Python objects."""
    try:
        return analyze(text, path, default_resolver(path), runs=False).to_json()
    except Exception as exc:  # never a traceback (see analyze)
        return failed(path, exc).to_json()


__all__ = ["analyze", "check_source", "Report", "WorkspaceResolver"]
