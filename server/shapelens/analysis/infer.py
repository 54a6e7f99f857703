"""Modules that no module-level code calls: run their ``forward`` on declared or inferred inputs.

* A ``# shape:`` comment on ``def forward`` (or the line above) or jaxtyping / torchtyping
  annotations on its parameters declare the sample input.
* Otherwise the input is inferred from the first layer each parameter reaches
  (``Conv2d(3, …)`` first ⇒ ``[N, 3, H, W]``), in two passes: one quiet pass that only watches
  which layer sees each parameter first, then the recorded pass on the symbolic input.  During
  that pass, every layer whose expected input fixes a size the symbolic input does not (a
  ``Linear(400)`` after flatten) adds a constraint, and the constraints are solved for the
  symbolic sizes where they determine them (LeNet ⇒ ``H = W = 32``).
* :func:`spatial_constraints` and :func:`spatial_sizes` do the same for images a program feeds
  a model: the sizes (H, W) it accepts, for the quick fix that resizes them (resize_fix.py).
"""
from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Dict, List, Optional, Tuple

from . import dims as D
from .interp import Frame, Interpreter, ModuleEnv, forward_comment
from .report import SampleInput
from .source import annotation_shape
from .values import Layer, Tensor, Unknown, format_shape, module_path, set_training

SEARCH_LIMIT = 4096


class InputInference:
    """Hooks the interpreter calls while a module's input is inferred."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.demands: Dict[str, tuple] = {}
        self.first_layers: Dict[str, str] = {}
        self.constraints: List[tuple] = []     # (symbolic dim, required int, layer)

    def demand(self, param, expected, layer):
        if expected is not None and param not in self.demands:
            self.demands[param] = expected
            self.first_layers[param] = layer.kind

    def constrain(self, x: Tensor, expected, layer):
        if self.quiet or expected is None or x.shape is None or len(expected) != len(x.shape):
            return
        for actual, want in zip(x.shape, expected):
            if type(want) is int and type(actual) is D.Sym:
                self.constraints.append((actual, want, layer))


def analyze_unreached(interp: Interpreter, env: ModuleEnv, given=None):
    """Run the forward of every module class no code called; ``given`` ({class name: input})
    runs those classes on that input too (``shapelens summary --input``), called or not."""
    given = given or {}
    classes = [c for c in env.classes if (not c.forward_called or c.name in given) and
               c.is_module and c.method("forward")[1] is not None]
    if not classes:
        return
    # Classes other classes build (sub-blocks) come last: analysed inside their parents first.
    used_by_others = set()
    if len(classes) > 1:
        lines = env.src.lines
        named_in = {}       # word -> the classes whose body has it
        for c in classes:
            body = "\n".join(lines[c.node.lineno:c.node.end_lineno])
            for word in set(_WORD.findall(body)):
                named_in.setdefault(word, set()).add(c.name)
        used_by_others = {c.name for c in classes if named_in.get(c.name, set()) - {c.name}}
    ordered = [c for c in classes if c.name not in used_by_others] + \
              [c for c in classes if c.name in used_by_others]
    for cls in ordered:
        if cls.name in given:
            run_class(interp, env, cls, given[cls.name])
        elif not cls.forward_called:
            run_class(interp, env, cls)


def declared_inputs(env, cls, fnode):
    """({param: Tensor}, kind) from a shape comment or annotations; kind None when none."""
    params = [a for a in fnode.args.args[1:]]
    comment = forward_comment(env, fnode)
    if comment is not None and comment.named is not None:
        named = dict(comment.named)
        out = {}
        for p in params:
            if p.arg in named:
                out[p.arg] = Tensor(named[p.arg])
        return out, "comment"
    out = {}
    for p in params:
        if p.annotation is not None:
            ok, shape, _ = annotation_shape(p.annotation)
            if ok:
                out[p.arg] = Tensor(shape)
    return (out, "annotation") if out else ({}, None)


def run_class(interp: Interpreter, env: ModuleEnv, cls, given=None):
    """Run ``cls``'s forward on its declared input, on ``given`` (a shape comment's ``named``
    or ``shape``: the input to use), or on the input inferred from its layers; with the
    instances the program built (their real configuration, and what it did to them after), or,
    when it built none, with one built from the constructor's defaults.  An instance the
    program handed to code the analysis cannot follow gives no shapes: what that code did to it
    is not known."""
    if cls.instances:
        usable = [i for i in cls.instances if not i.lost][-MAX_INSTANCES:]
        result = None
        for inst in usable:
            result = run_instance(interp, env, cls, inst, given)
        return result
    interp.hypothetical += 1
    try:
        frame = Frame(env)
        frame.vars = env.globals
        inst = interp.instantiate(cls, (), {}, cls.node, frame)
        return run_instance(interp, env, cls, inst, given)
    finally:
        interp.hypothetical -= 1


_WORD = re.compile(r"\w+")
MAX_INSTANCES = 3   # instances of one class analysed on an inferred input


def run_instance(interp: Interpreter, env: ModuleEnv, cls, inst, given=None):
    with interp.separate_run():
        return _run_instance(interp, env, cls, inst, given)


def _run_instance(interp: Interpreter, env: ModuleEnv, cls, inst, given=None):
    cls_of, fnode = cls.method("forward")
    fn = cls_of.method_values["forward"]
    params = [a.arg for a in fnode.args.args[1:]]
    required = len(fnode.args.args) - 1 - len(fnode.args.defaults)
    if given is not None:
        named = dict(given.named) if given.named is not None else \
            {params[0]: given.shape} if params and given.shape is not None else {}
        declared, kind = {p: Tensor(named[p]) for p in params if p in named}, "input"
    else:
        declared, kind = declared_inputs(env, cls, fnode)
    site = cls.node
    frame_env = env
    frame = Frame(frame_env)
    frame.vars = env.globals
    set_training(inst, None)   # how the module will be run (train or eval) is not known
    interp.grad_enabled = None
    if kind is not None:
        args = tuple(declared.get(p, Unknown("no declared shape for %s" % p))
                     for p in params[:max(required, len(declared))])
        result = interp.call_module(inst, args, {}, site, frame)
        interp.rec.set_module_source(cls, kind)
        shapes = tuple((p, tuple(v if v is None or type(v) is int else D.format_dim(v)
                                 for v in t.shape))
                       for p, t in declared.items() if t.shape is not None)
        if _ctor_takes_no_args(cls) and kind != "input":
            interp.rec.sample(SampleInput(cls.name, fnode.lineno, shapes, None, kind))
        return result
    # Inferred input: what it records gives way to real samples (Recorder.drop_hypothetical).
    interp.rec.hypothetical += 1
    try:
        return run_inferred(interp, cls, inst, fn, params, required, site, frame)
    finally:
        interp.rec.hypothetical -= 1


def run_inferred(interp, cls, inst, fn, params, required, site, frame):
    # Inferred input: pass 1 (quiet) finds the layer each parameter reaches first.
    probe = InputInference(quiet=True)
    interp.inferring = probe
    interp.rec.muted += 1
    try:
        args = tuple(Tensor(None, None, None, None, p) for p in params[:required])
        interp.call_instance(inst, args, {}, site, frame)
    finally:
        interp.rec.muted -= 1
        interp.inferring = None
    if not probe.demands:
        interp.rec.module_called(cls, fn, tuple(Tensor(None) for _ in params[:required]), {},
                                 Unknown("input not known"), source="none")
        return None
    args = []
    for i, p in enumerate(params[:required]):
        shape = probe.demands.get(p)
        if shape is not None and i > 0:
            shape = _rename(shape, p)
        args.append(Tensor(shape))
    solve = InputInference(quiet=False)
    interp.inferring = solve
    before = set(interp.rec.diagnostics)
    try:
        result = interp.call_module(inst, tuple(args), {}, site, frame)
    finally:
        interp.inferring = None
    interp.rec.set_module_source(cls, "inferred", solve_constraints(solve.constraints))
    found = [k for k in interp.rec.diagnostics if k not in before and
             interp.rec.diagnostics[k].severity == "error"]
    if found:
        confirm_errors(interp, inst, params[:required], args, probe, site, frame, found)
    return result


# An inferred input fixes a rank the module may not be called with: a conv or recurrent first
# layer also takes unbatched input, a Linear-like one any number of leading dims.
DROP_BATCH = ("Conv", "ConvTranspose", "MaxPool", "AvgPool", "AdaptiveAvgPool",
              "AdaptiveMaxPool", "LPPool", "InstanceNorm", "RNN", "LSTM", "GRU",
              "MultiheadAttention", "FractionalMaxPool", "ReflectionPad", "ReplicationPad")
EXTRA_DIM = ("Linear", "Bilinear", "Embedding", "LayerNorm", "RMSNorm", "Identity", "Dropout")


def alternate_input(shape, first_layer: str):
    """The other plausible input of the first layer, or None when its rank is certain."""
    if shape is None or not shape:
        return None
    base = first_layer.rstrip("0123456789d").replace("Lazy", "")
    if base in DROP_BATCH or first_layer.startswith(DROP_BATCH):
        return tuple(shape[1:]) if len(shape) > 1 else None
    if base in EXTRA_DIM:
        return (shape[0], D.sym("L_extra")) + tuple(shape[1:])
    if first_layer == "BatchNorm1d" and len(shape) == 2:
        return tuple(shape) + (D.sym("L_extra"),)
    return None


def confirm_errors(interp, inst, params, args, probe, site, frame, found):
    """Errors found under an inferred input stay errors only when the other plausible input
    rank fails the same way; the others become warnings (they may be an artefact of the rank
    the analysis chose)."""
    alt_args = []
    changed = False
    for p, a in zip(params, args):
        alt = alternate_input(a.shape, probe.first_layers.get(p, ""))
        changed = changed or alt is not None
        alt_args.append(Tensor(alt) if alt is not None else a)
    confirmed = set()
    if changed:
        interp.inferring = InputInference(quiet=False)
        interp.rec.muted += 1
        interp.rec.capture = confirmed
        try:
            interp.call_instance(inst, tuple(alt_args), {}, site, frame)
        finally:
            interp.rec.capture = None
            interp.rec.muted -= 1
            interp.inferring = None
    else:
        confirmed = set(found)
    shown = ", ".join("%s: %s" % (p, format_shape(a.shape)) for p, a in zip(params, args))
    for key in found:
        if key not in confirmed:
            d = interp.rec.diagnostics[key]
            interp.rec.diagnostics[key] = replace(
                d, severity="warning",
                message=d.message + " (with the inferred input %s; an input of another rank "
                "may not fail)" % shown)


def _ctor_takes_no_args(cls) -> bool:
    _, init = cls.method("__init__")
    if init is None:
        return True
    a = init.args
    return len(a.args) - 1 - len(a.defaults) <= 0 and all(
        d is not None for d in a.kw_defaults)


def _rename(shape, param):
    """Symbols of a second input get their own names (they are not the first input's sizes),
    except the batch size N."""
    out = []
    for d in shape:
        if type(d) is D.Sym:
            names = D.names_in(d)
            if names == {"N"}:
                out.append(d)
                continue
            out.append(D.sym("%s_%s" % (D.format_dim(d), param)) if len(names) == 1 else None)
        else:
            out.append(d)
    return tuple(out)


def substitute(d, mapping):
    """A dim with names replaced by dims (ints or Syms)."""
    if type(d) is not D.Sym:
        return d
    total = d.const
    for mono, coef in d.terms:
        term = coef
        for atom in mono:
            if type(atom) is str:
                v = mapping.get(atom, D.sym(atom))
            else:
                v = D.floordiv(substitute(atom.num, mapping), atom.den)
            term = D.mul(term, v)
        total = D.add(total, term)
    return total


def solve_constraints(constraints) -> List[str]:
    """Readable solutions: ``H = W = 32 (32–35 all fit)``; nothing when undetermined."""
    out = []
    seen = set()
    for expr, want, layer in constraints:
        names = sorted(D.names_in(expr))
        key = (tuple(names), want)
        if key in seen or not names:
            continue
        seen.add(key)
        if len(names) == 1:
            name = names[0]
            sols = _search(lambda v: D.evaluate(expr, {name: v}) == want)
            label = name
        elif len(names) == 2 and substitute(expr, {names[0]: D.sym(names[1]),
                                                   names[1]: D.sym(names[0])}) == expr:
            a, b = names
            square = substitute(expr, {b: D.sym(a)})
            sols = _search(lambda v: D.evaluate(square, {a: v}) == want)
            label = "%s = %s" % tuple(sorted(names, key=lambda n: ("HW".find(n), n)))
        else:
            continue
        if not sols:
            continue
        lo, hi = sols[0], sols[-1]
        text = "%s = %d" % (label, lo)
        if hi > lo:
            text += " (%d–%d all fit %s)" % (lo, hi, _layer_label(layer))
        else:
            text += " (fits %s)" % _layer_label(layer)
        out.append(text)
    return out


def _layer_label(layer: Layer) -> str:
    return module_path(layer) or layer.kind


def _search(pred) -> List[int]:
    sols = []
    for v in range(1, SEARCH_LIMIT + 1):
        try:
            if pred(v):
                sols.append(v)
        except (ZeroDivisionError, KeyError):
            continue
        if len(sols) > 64:
            break
    return sols


# ------------------------------------------------------------------ image sizes a model takes

HW = ("H", "W")
FAR = 1024      # the largest height tried for a model that takes no size of the images' proportions


def spatial_constraints(interp, inst, args, index, node, frame) -> Optional[list]:
    """Run ``inst`` (muted) with the height and width of the images ``args[index]``
    (``[..., C, H, W]``) symbolic: the constraints its layers put on H and W, or None when the
    run raised (an error that does not depend on the size)."""
    x = args[index]
    images = Tensor(tuple(x.shape[:-2]) + (D.sym("H"), D.sym("W")), x.dtype)
    solve = InputInference(quiet=False)
    if not run_muted(interp, inst, args[:index] + (images,) + args[index + 1:], node, frame,
                     solve):
        return None
    return solve.constraints


def run_muted(interp, inst, args, node, frame, inferring=None) -> bool:
    """Whether ``inst`` runs on ``args`` without an error, nothing recorded."""
    errors: set = set()
    interp.inferring = inferring or InputInference(quiet=False)    # (no memo either)
    interp.rec.muted += 1
    interp.rec.capture = errors
    try:
        with interp.separate_run():
            result = interp.call_instance(inst, args, {}, node, frame)
    finally:
        interp.rec.capture = None
        interp.rec.muted -= 1
        interp.inferring = None
    return not errors and not (type(result) is Unknown and result.reason.startswith("error"))


def spatial_sizes(constraints, like, stated=()) -> List[Tuple[int, int]]:
    """Sizes (H, W) that meet every constraint on the symbols H and W, best first: the
    ``stated`` sizes (those the code gives the model) that meet them; then the first size along
    the images' proportions (``like``: their (H, W)), moved to the smallest corner of the range
    of sizes around it that fit (LeNet takes 32–35 by 32–35: 32×32); when none keeps the
    proportions, the smallest corner of each range up to FAR, the proportions kept as well as
    they can be, the smallest first.  A size no constraint names stays as in ``like``.  Empty
    when no constraint names H or W, or one names another symbol too."""
    exprs = []
    for expr, want, _ in constraints:
        names = D.names_in(expr)
        if not names & set(HW):
            continue
        if names - set(HW):
            return []
        exprs.append((expr, want))
    if not exprs:
        return []

    def value(expr, h, w):
        try:
            return D.evaluate(expr, {"H": h, "W": w})
        except ZeroDivisionError:
            return None

    def fits(h, w):
        return all(value(e, h, w) == want for e, want in exprs)

    named = set().union(*(D.names_in(e) for e, _ in exprs))
    first = [s for s in stated if fits(*s)]
    if type(like[0]) is int and type(like[1]) is int:
        h0, w0 = like
    elif "H" in named and "W" in named:
        h0 = w0 = 1
    else:
        return first            # a size no constraint names is not known
    # Along the proportions, the longer side counting up.
    if "H" not in named or "W" not in named:
        line = ((h0, w) for w in range(1, SEARCH_LIMIT + 1)) if "H" not in named else \
            ((h, w0) for h in range(1, SEARCH_LIMIT + 1))
    elif w0 > h0:
        line = ((max(1, round(w * h0 / w0)), w) for w in range(1, SEARCH_LIMIT + 1))
    else:
        line = ((h, max(1, round(h * w0 / h0))) for h in range(1, SEARCH_LIMIT + 1))
    found = next((size for size in line if fits(*size)), None)
    if found is not None:
        h, w = found
        while "H" in named and h > 1 and fits(h - 1, w):
            h -= 1
        while "W" in named and w > 1 and fits(h, w - 1):
            w -= 1
        return first + [s for s in [(h, w)] if s not in first]
    if "H" not in named or "W" not in named:
        return first
    # Every H up to FAR with the smallest W that fits (found by bisection on a constraint's
    # value: a layer's features grow with the size; each size kept meets them all exactly).
    sizes = []
    for h in range(1, FAR + 1):
        w = _smallest(lambda w: value(exprs[0][0], h, w), exprs[0][1])
        if w is not None and fits(h, w) and not fits(h - 1, w):
            sizes.append((h, w))
    sizes.sort(key=lambda s: (abs(math.log(s[0] * w0 / (s[1] * h0))), s[0] * s[1], s))
    return first + [s for s in sizes if s not in first]


def _smallest(value, want) -> Optional[int]:
    """The smallest w in 1..SEARCH_LIMIT with value(w) == want, found by bisection when value
    does not decrease; None when there is none."""
    lo, hi = 1, SEARCH_LIMIT
    while lo < hi:
        mid = (lo + hi) // 2
        v = value(mid)
        if v is not None and v >= want:
            hi = mid
        else:
            lo = mid + 1
    return lo if value(lo) == want else None
