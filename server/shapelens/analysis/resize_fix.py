"""The quick fix "Insert transforms.Resize((H, W)) into the Compose" (SPEC §7).

A model rejects the images a data pipeline gives it for their size (MNIST's 28×28 into a model
built for 32×32: the Linear after the convs gets 256 features, not 400).  The recorder keeps
the model call of such an error (``provenance.ResizeRequest``); after the analysis, for each:

1. the model runs again, muted, with the images' height and width symbolic; the sizes its
   layers then require are solved for (``infer.spatial_constraints`` / ``spatial_sizes``);
2. the size chosen is the one the code states for the model (a ``# shape:`` comment or
   annotation on its ``forward``, or another call of it on images of a fixed size) when it
   fits, else the one that keeps the images' aspect ratio best, the smallest first (LeNet
   takes 32–35: 32, where every pooling divides exactly);
3. the model must run on that size without an error (the next size is tried otherwise);
4. ``provenance.resize_edit`` places the step in the Compose;
5. the fixed source is analysed again: the diagnostic must be gone, no error new, and the
   model must get images of the new size.

Only then does the diagnostic carry the fix.  The runs cost nothing to the report: the budget
is as it was before them.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Optional

from . import provenance
from .infer import declared_inputs, run_muted, spatial_constraints, spatial_sizes
from .interp.budget import BudgetReached
from .values import Tensor

TRIED = 8           # sizes run on the model before giving up


def offer_resize_fixes(interp, rec, text, recheck):
    """Attach the Resize fix to the diagnostics of ``rec.resize_requests`` it removes.
    ``recheck(text)`` analyses a fixed source (without looking for fixes)."""
    done = set()
    for request in rec.resize_requests:
        diagnostic = rec.diagnostics.get(request.key)
        if diagnostic is None or request.key in done:
            continue
        done.add(request.key)
        fix = _resize_fix(interp, rec, request, text, recheck)
        if fix is not None:
            rec.diagnostics[request.key] = replace(diagnostic,
                                                   fixes=diagnostic.fixes + (fix,))


def _resize_fix(interp, rec, request, text, recheck):
    size = _size(interp, rec, request)
    if size is None:
        return None
    fix = provenance.resize_edit(request.pipeline, size, request.env.globals)
    if fix is None:
        return None
    fixed = _apply(text, fix.edits[0])
    report = recheck(fixed)
    line, code = request.key[0].start_line, request.key[1]
    before = {(d.range.start_line, d.code) for d in rec.diagnostics.values()
              if d.severity == "error"}
    after = {(d.range.start_line, d.code) for d in report.diagnostics if d.severity == "error"}
    if (line, code) in after or not after <= before:
        return None
    c = request.args[request.index].shape[-3]
    if not any(shape is not None and tuple(shape[-3:]) == (c,) + size
               for run in report.runs for shape, _ in run.inputs):
        return None             # the model does not get the new size: not a fix
    return fix


def _size(interp, rec, request) -> Optional[tuple]:
    """The (H, W) the model runs on (see the module docstring), or None."""
    from .interp import Frame
    budget = interp.budget
    saved = budget.steps, budget.library_steps, budget.built, dict(budget.notes), \
        budget.stopped
    frame = Frame(request.env)
    frame.vars = request.env.globals
    x = request.args[request.index]
    args = request.args
    try:
        constraints = spatial_constraints(interp, request.inst, args, request.index,
                                          request.node, frame)
        if constraints is None:
            return None
        sizes = spatial_sizes(constraints, tuple(x.shape[-2:]), _stated_sizes(rec, request))
        for size in sizes[:TRIED]:
            images = Tensor(tuple(x.shape[:-2]) + size, x.dtype)
            if run_muted(interp, request.inst, args[:request.index] + (images,) +
                         args[request.index + 1:], request.node, frame):
                return size
        return None
    except BudgetReached:
        return None
    finally:
        budget.steps, budget.library_steps, budget.built, budget.notes, budget.stopped = saved


def _stated_sizes(rec, request) -> list:
    """(H, W) sizes the code gives the model for the images' argument: a ``# shape:``
    comment or annotation on its forward, and its other calls that ran without an error."""
    out = []
    cls = request.inst.cls
    owner, fnode = cls.method("forward")
    if fnode is not None:
        declared, _ = declared_inputs(owner.env, owner, fnode)
        params = [a.arg for a in fnode.args.args[1:]]
        if request.index < len(params):
            x = declared.get(params[request.index])
            if x is not None:
                out.append(x.shape)
    for run in rec.calls.runs:
        if run.root is request.inst and request.index < len(run.inputs) and \
                not any(call.errors for call in run.calls):
            out.append(run.inputs[request.index][0])
    sizes = []
    for shape in out:
        if shape is not None and len(shape) >= 2 and all(type(d) is int for d in shape[-2:]):
            if tuple(shape[-2:]) not in sizes:
                sizes.append(tuple(shape[-2:]))
    return sizes


def _apply(text, edit) -> str:
    """The source with one single-line edit made (lines are 1-based, columns 0-based)."""
    lines = text.split("\n")
    r = edit.loc.range
    line = lines[r.start_line - 1]
    lines[r.start_line - 1] = line[:r.start_col] + edit.new_text + line[r.end_col:]
    return "\n".join(lines)


__all__ = ["offer_resize_fixes"]
