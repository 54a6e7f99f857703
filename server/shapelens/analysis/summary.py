"""The shape summary of a model: torchinfo's table, computed from the analysis report.

A pure function of a :class:`~.report.Report`: :func:`summarize` picks the model run of a class
(its sample call, a declared, given or inferred input, or the first call of the class inside
another model) and builds torchinfo 1.8.0's rows and totals from it, the way torchinfo builds
them from forward hooks: one row per module call in call order, containers that were never
called themselves inserted above their called children, parameter counts shown once per module
(``(recursive)`` after), mult-adds by torchinfo's formula (parameters named ``weight``/``bias``
times the output size, without the channel dim for a conv; other weights times the first two
output dims), and totals over leaf rows.  Where a call fails, the rows stop at it and it carries
the diagnostic; the calls around it are marked incomplete.

Sizes count 4 bytes per float element and 8 per integer element, torch's default widths,
unless the program may make tensors of that kind with another width (``.double()``,
``dtype=torch.float16``: see widths.py); then those sizes are not known ("?", with a note), as
are those of tensors whose dtype is not known.  Symbolic dims stay symbolic: a count is a dim
(``1204224*N``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import List, Optional, Tuple

from . import dims as D
from .widths import element_bytes
from .report import Diagnostic, FlowNode, Loc, ModelRun, ModuleCall, Report
from .values import Shape

DEFAULT_DEPTH = 3
DECLARED = ("comment", "annotation", "inferred", "input")


@dataclass
class SummaryRow:
    """One row of the table.  Counts are dims (int or Sym) or None when not known."""

    module: int                     # index into the run's modules
    path: str                       # attribute path from the model ("" for the model itself)
    kind: str                       # class name
    depth: int                      # nesting in the model's structure (torchinfo's depth)
    depth_index: int = 0            # torchinfo's "1-2": the row's number at its depth
    loc: Optional[Loc] = None
    input: Shape = None
    output: Shape = None
    output_dtype: Optional[str] = None
    params: object = 0              # parameters of the module and everything it contains
    trainable_params: object = 0
    macs: object = 0                # torchinfo's mult-adds of this call (0 when not called)
    leaf: bool = True
    called: bool = True             # False: a container shown above its called children
    recursive: bool = False         # the module was shown before (called again)
    call: int = -1                  # index into the run's calls (-1: not called)
    status: str = "ok"              # "ok", "failed" (raises here), "incomplete" (fails inside)
    diagnostic: Optional[Diagnostic] = None
    params_text: str = ""           # the Param # cell, as torchinfo prints it
    macs_text: str = ""
    trainable_text: str = ""
    children: List["SummaryRow"] = field(default_factory=list, repr=False)

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    def leftover_params(self):
        return D.sub(self.params, _sum(c.params if c.leaf else c.leftover_params()
                                       for c in self.children if not c.recursive))

    def leftover_trainable(self):
        return D.sub(self.trainable_params,
                     _sum(c.trainable_params if c.leaf else c.leftover_trainable()
                          for c in self.children if not c.recursive))


@dataclass(frozen=True)
class Summary:
    model: str
    source: str                     # where the input comes from (ModelRun.source)
    line: int
    inputs: Tuple[Tuple[Shape, Optional[str]], ...]
    rows: Tuple[SummaryRow, ...]    # the rows shown (down to ``depth``)
    depth: int
    total_params: object
    trainable_params: object
    total_mult_adds: object
    input_bytes: object
    output_bytes: object            # forward/backward pass size
    param_bytes: object
    failure: Optional[Diagnostic] = None
    notes: Tuple[str, ...] = ()
    flow: Tuple[FlowNode, ...] = ()     # the data flow, up to the failing step
    # For each module call (FlowNode.group, SummaryRow.call): (path, type, enclosing call).
    calls: Tuple[Tuple[str, str, int], ...] = ()

    @property
    def non_trainable_params(self):
        return D.sub(self.total_params, self.trainable_params)

    @property
    def total_bytes(self):
        return _sum((self.input_bytes, self.output_bytes, self.param_bytes))


# --------------------------------------------------------------------------- choosing the run

def model_names(report: Report) -> List[str]:
    """The models the report has a forward of, in order."""
    out = []
    for run in report.runs:
        if run.name not in out:
            out.append(run.name)
    return out


def find_run(report: Report, model: str) -> Optional[ModelRun]:
    """The run to summarise for class ``model``: one on a ``--input`` shape, else its first
    own run, else its first call inside another model's run (source "within NAME")."""
    own = [r for r in report.runs if r.name == model]
    given = [r for r in own if r.source == "input"]
    if given or own:
        return (given or own)[0]
    for run in report.runs:
        if model not in run.called:
            continue
        for i, call in enumerate(run.calls):
            if i and run.modules[call.module].kind == model:
                return replace(_sub_run(run, i), source="within " + run.name)
    return None


def _sub_run(run: ModelRun, start: int) -> ModelRun:
    """The part of ``run`` that is the call ``start`` and what it contains, as a run of its own."""
    first = run.calls[start]
    end = start + 1
    while end < len(run.calls) and run.calls[end].depth > first.depth:
        end += 1
    root = first.module
    inside = {root}
    keep = [root]
    for i, m in enumerate(run.modules):
        if m.parent in inside and i not in inside:
            inside.add(i)
            keep.append(i)
    keep.sort()
    new_index = {old: new for new, old in enumerate(keep)}
    prefix = run.modules[root].path
    modules = []
    for old in keep:
        m = run.modules[old]
        path = "" if old == root else m.path[len(prefix) + 1:] if prefix else m.path
        modules.append(replace(m, path=path, parent=new_index.get(m.parent, -1)))
    call_index = {}
    calls = []
    for i in range(start, end):
        c = run.calls[i]
        if c.module in new_index:
            call_index[i] = len(calls)
            calls.append(replace(c, module=new_index[c.module], depth=c.depth - first.depth))
    flow = _sub_flow(run.flow, call_index, first.input, prefix)
    return ModelRun(run.modules[root].kind, run.source, run.line, ((first.input, None),),
                    tuple(dict.fromkeys(modules[c.module].kind for c in calls)),
                    (tuple(modules), tuple(calls), flow), run.unsure_widths)


def _sub_flow(flow, call_index, input_shape, prefix) -> tuple:
    """The flow nodes inside the kept calls; what they take from outside becomes an input."""
    kept = [i for i, f in enumerate(flow) if f.group in call_index or f.call in call_index]
    if not kept:
        return ()
    out = [FlowNode("input", "input", (), input_shape)]
    index = {}
    for i in kept:
        f = flow[i]
        sources = tuple(sorted({index.get(s, 0) for s in f.inputs}))
        index[i] = len(out)
        label = f.label
        if f.kind == "layer" and prefix and label.startswith(prefix + "."):
            label = label[len(prefix) + 1:]
        out.append(replace(f, label=label, inputs=sources, group=call_index.get(f.group, -1),
                           call=call_index.get(f.call, -1)))
    last = out[-1]
    if last.error is None:
        out.append(FlowNode("output", "output", (len(out) - 1,), last.output))
    return tuple(out)


def _flow_up_to_failure(flow) -> tuple:
    for i, f in enumerate(flow):
        if f.error is not None and f.error.severity == "error":
            return tuple(flow[:i + 1])
    return tuple(flow)


# --------------------------------------------------------------------------- building

def summarize(report: Report, model: str, depth: int = DEFAULT_DEPTH) -> Optional[Summary]:
    """torchinfo's summary of class ``model`` (None when the analysis ran no forward of it)."""
    run = find_run(report, model)
    if run is None:
        return None
    return summarize_run(run, depth)


def summarize_run(run: ModelRun, depth: int = DEFAULT_DEPTH) -> Summary:
    modules = run.modules
    calls, failing_at, failure = _up_to_failure(run.calls)
    totals = _module_totals(run)
    rows = _insert_containers(_rows(run, calls, totals, failing_at), modules, totals)
    _link_children(rows)
    sizes = element_bytes(dict(run.unsure_widths))
    if run.source in DECLARED:
        # A declared input of no given dtype is a float tensor (torchinfo's ``input_size``),
        # so are the tensors made from it whose dtype the rules leave open.
        sizes[None] = sizes.get("float")
    total_params = trainable = mult_adds = output_bytes = param_bytes = 0
    for row in rows:
        if row.leaf:
            mult_adds = D.add(mult_adds, row.macs)
            if _sign(row.params) != 0 and row.called and row.status == "ok":
                output_bytes = D.add(output_bytes,
                                     D.mul(2, _bytes(row.output, row.output_dtype, sizes)))
            if row.recursive:
                continue
            total_params = D.add(total_params, _at_least_zero(row.params))
            trainable = D.add(trainable, _at_least_zero(row.trainable_params))
            param_bytes = D.add(param_bytes, modules[row.module].param_bytes)
        elif not row.recursive:
            total_params = D.add(total_params, _at_least_zero(row.leftover_params()))
            trainable = D.add(trainable, _at_least_zero(row.leftover_trainable()))
    for row in rows:
        reached = row.depth == depth
        row.params_text = _params_text(row, reached)
        row.macs_text = _macs_text(row, reached)
        row.trainable_text = _trainable_text(row)
    input_bytes = _input_bytes(run, sizes)
    loops = sorted({c.loop for c in calls[1:] if c.loop})
    if loops:
        # torch calls the layers in these loops once per run; the analysis may have followed
        # fewer runs (the rows show the ones it followed): no sums over the calls.
        mult_adds = output_bytes = None
    if total_params is None:
        # A module whose parameters are not known may hold calls the analysis did not see:
        # the sums over the rows would be short.
        param_bytes = mult_adds = output_bytes = None
    notes = tuple("parameters of %s (%s) not known: %s" % (m.path or run.name, m.kind,
                                                           m.unknown_reason)
                  for m in modules if m.params is None and m.unknown_reason)
    if loops:
        notes += ("layers called in the loop%s at line%s %s: the rows show the runs the "
                  "analysis followed, torch makes one call per run; mult-adds and "
                  "activation sizes not summed" % (
                      "s" if len(loops) > 1 else "", "s" if len(loops) > 1 else "",
                      ", ".join(map(str, loops))),)
    notes += _width_notes(run, (input_bytes, output_bytes, param_bytes))
    shown = tuple(r for r in rows if r.depth <= depth)
    return Summary(run.name, run.source, run.line, run.inputs, shown, depth, total_params,
                   trainable, mult_adds, input_bytes, output_bytes, param_bytes, failure, notes,
                   _flow_up_to_failure(run.flow), _call_tree(run))


def _input_bytes(run: ModelRun, sizes):
    """torchinfo's input size: the bytes of the tensors the forward is called with (what the
    file passes); a declared or given input is a float tensor of its shape, as torchinfo's
    ``input_size``."""
    if run.source in DECLARED:
        if any(shape is None for shape, _ in run.inputs):
            return None
        return _sum(_bytes(shape, dtype, sizes) for shape, dtype in run.inputs)
    return run.calls[0].input_bytes if run.calls else None


def _width_notes(run: ModelRun, totals) -> Tuple[str, ...]:
    """Why sizes are not known, where a dtype's width is not certain (widths.py)."""
    if all(t is not None for t in totals):
        return ()
    return tuple("sizes of %s tensors not known: the program may make some of another width "
                 "than %s (%s)" % (_KIND_WORDS.get(kind, (kind, kind)) + (why,))
                 for kind, why in run.unsure_widths)


_KIND_WORDS = {"float": ("float", "float32"), "long": ("integer", "int64")}


def _call_tree(run: ModelRun):
    out = []
    open_calls: List[int] = []
    for i, c in enumerate(run.calls):
        del open_calls[c.depth:]
        m = run.modules[c.module]
        out.append((m.path, m.kind, open_calls[-1] if open_calls else -1))
        open_calls.append(i)
    return tuple(out)


def _up_to_failure(calls: Tuple[ModuleCall, ...]):
    """(the calls torch makes before it raises, the failing call's index and diagnostic)."""
    failing = [(c.error_at, i) for i, c in enumerate(calls)
               if c.error is not None and c.error.severity == "error"]
    if not failing:
        return calls, None, None
    at, i = min(failing)
    return calls[:at], i, calls[i].error


def _module_totals(run: ModelRun):
    """For each module: (parameters, trainable, weight-named parameters of its sub-modules)
    counting everything it contains."""
    modules = run.modules
    totals = [[m.params, m.trainable, 0] for m in modules]
    for i in range(len(modules) - 1, 0, -1):
        m = modules[i]
        parent = totals[m.parent]
        mine = totals[i]
        parent[0] = D.add(parent[0], mine[0])
        parent[1] = D.add(parent[1], mine[1])
        parent[2] = D.add(parent[2], D.add(mine[2], D.add(*m.weight_params)))
    return totals


def _rows(run: ModelRun, calls, totals, failing_at) -> List[SummaryRow]:
    modules = run.modules
    open_depths = set()
    if failing_at is not None:
        # The calls that contain the failing one: each nearest earlier call one level up.
        want = calls[failing_at].depth - 1
        for i in range(failing_at - 1, -1, -1):
            if calls[i].depth == want:
                open_depths.add(i)
                want -= 1
    rows = []
    seen = set()
    for i, c in enumerate(calls):
        m = modules[c.module]
        params, trainable, inner_weights = totals[c.module]
        status = "failed" if i == failing_at else "incomplete" if i in open_depths else "ok"
        done = status == "ok"
        row = SummaryRow(c.module, m.path, m.kind, _depth(m.path), loc=m.loc, input=c.input,
                         output=c.output if done else None,
                         output_dtype=c.output_dtype, params=params,
                         trainable_params=trainable, leaf=m.leaf,
                         recursive=c.module in seen, call=i, status=status,
                         diagnostic=c.error)
        row.macs = _macs(m.kind, m.weight_params, inner_weights, row.output) if done else 0
        seen.add(c.module)
        rows.append(row)
    return rows


def _insert_containers(rows: List[SummaryRow], modules, totals) -> List[SummaryRow]:
    """torchinfo's ``add_missing_container_layers``: a module none of whose calls were seen
    but whose sub-modules were called (a ModuleList) gets a row above them.  (torchinfo
    inserts one row object per module, so a second insertion marks both recursive.)"""
    out: List[SummaryRow] = []
    layer_ids = {r.module for r in rows}
    current = {}
    fallback = {}
    for row in rows:
        hierarchy = {}
        parent = modules[row.module].parent
        while parent > 0:
            hierarchy[_depth(modules[parent].path)] = parent
            parent = modules[parent].parent
        for d in range(1, row.depth):
            a = hierarchy.get(d)
            if a is None:
                continue
            cur = current.get(d)
            if (cur is None or cur.module != a) and not (out and out[-1] is fallback.get(a)):
                fb = fallback.get(a)
                if fb is None:
                    m = modules[a]
                    fb = fallback[a] = SummaryRow(a, m.path, m.kind, d, loc=m.loc,
                                                  params=totals[a][0],
                                                  trainable_params=totals[a][1],
                                                  leaf=m.leaf, called=False)
                if a in layer_ids:
                    fb.recursive = True
                out.append(fb)
                layer_ids.add(a)
                current[d] = fb
        current[row.depth] = row
        d = row.depth + 1
        while d in current:
            current.pop(d)
            d += 1
        out.append(row)
    return out


def _link_children(rows: List[SummaryRow]) -> None:
    """torchinfo's ``set_children_layers``: numbering per depth; a row's children are all
    the rows below it that are deeper, up to the next row that is not."""
    counts = {}
    for i, row in enumerate(rows):
        counts[row.depth] = counts.get(row.depth, 0) + 1
        row.depth_index = counts[row.depth]
        row.children = []
        for other in rows[i + 1:]:
            if other.depth <= row.depth:
                break
            row.children.append(other)


def _depth(path: str) -> int:
    return path.count(".") + 1 if path else 0


def _macs(kind, weight_params, inner_weights, output: Shape):
    """torchinfo's ``calculate_macs``: parameters named weight/bias times the output size
    (without the channel dim for a conv), other weights times the first two output dims."""
    exact, prefixed = weight_params
    others = D.add(prefixed, inner_weights)
    if output is None:
        return 0 if _sign(exact) == 0 and _sign(others) == 0 else None
    terms = []
    if _sign(exact) != 0:
        if not output:
            return None
        scale = D.prod(output[:1] + output[2:]) if "Conv" in kind else output[0]
        terms.append(D.mul(exact, scale))
    if _sign(others) != 0:
        terms.append(D.mul(others, D.prod(output[:2])))
    return _sum(terms)


def _bytes(shape: Shape, dtype: Optional[str], sizes):
    if shape is None:
        return None
    size = sizes.get(dtype)
    return D.mul(size, D.prod(shape)) if size else None


# --------------------------------------------------------------------------- torchinfo's cells

def _params_text(row: SummaryRow, reached_max_depth: bool) -> str:
    sign = _sign(row.params)
    if sign == 0:
        return "--"
    if row.recursive:
        return "(recursive)"
    if row.params is None:
        return "?"
    if reached_max_depth or row.leaf:
        text = format_count(row.params)
        return text if _sign(row.trainable_params) != 0 else "(%s)" % text
    left = row.leftover_params()
    if left is None:
        return "?"
    return format_count(left) if _sign(left) == 1 else "--"


def _macs_text(row: SummaryRow, reached_max_depth: bool) -> str:
    if not row.leaf and not reached_max_depth:
        return "--"             # torchinfo shows a container's only at the last depth
    if row.macs is None:
        return "?"
    if _sign(row.macs) != 1:
        return "--"
    if row.leaf:
        return format_count(row.macs)
    if reached_max_depth:
        inner = _sum(c.macs for c in row.children if c.leaf)
        return "?" if inner is None else format_count(inner)
    return "--"


def _trainable_text(row: SummaryRow) -> str:
    if _sign(row.params) == 0:
        return "--"
    if row.params is None or row.trainable_params is None:
        return "?"
    if _sign(row.trainable_params) == 0:
        return "False"
    if row.params == row.trainable_params:
        return "True"
    return "Partial"


# --------------------------------------------------------------------------- arithmetic

def _sum(values):
    total = 0
    for v in values:
        total = v if total == 0 else D.add(total, v)   # keeps a lone product's written form
        if total is None:
            return None
    return total


def _sign(d) -> Optional[int]:
    """-1, 0 or 1; None when not known.  Symbolic counts are products of sizes: positive
    when every coefficient is."""
    if d is None:
        return None
    if type(d) is int:
        return (d > 0) - (d < 0)
    if d.const >= 0 and all(c > 0 for _, c in d.terms):
        return 1
    return None


def _at_least_zero(d):
    return 0 if _sign(d) == -1 else d


def format_count(d) -> str:
    """``1,204,224`` as torchinfo prints counts; a symbolic count term by term
    (``1,204,224·N``)."""
    if d is None:
        return "?"
    if type(d) is int:
        return "{:,}".format(d)
    if d.display is not None:       # a product as written: 448·N·(H - 2)·(W - 2)
        return re.sub(r"\d{4,}", lambda m: "{:,}".format(int(m.group())),
                      d.display.replace("*", "·"))
    return _format_terms(d, lambda c: "{:,}".format(c))


def format_scaled(d, unit: float, decimals: int = 2) -> str:
    """A count in units (``0.42`` for 420,000 in millions); a symbolic one term by term."""
    if d is None:
        return "?"
    if type(d) is int:
        return "%.*f" % (decimals, d / unit)
    return _format_terms(d, lambda c: "%.*f" % (decimals, c / unit))


def _format_terms(d: D.Sym, coef_text) -> str:
    parts = []
    for mono, coef in d.terms:
        names = D.format_dim(D.Sym(((mono, 1),), 0)).replace("*", "·")
        parts.append((" - " if coef < 0 else " + ", "%s·%s" % (coef_text(abs(coef)), names)
                      if abs(coef) != 1 else names))
    if d.const:
        parts.append((" - " if d.const < 0 else " + ", coef_text(abs(d.const))))
    text = "".join(sign + body for sign, body in parts)
    return text[3:] if parts[0][0] == " + " else "-" + text[3:]


def format_mult_adds(d) -> str:
    """Mult-adds with torchinfo's unit, a symbolic count with the unit before its dims:
    ``0.42 M``, ``138.89 M·N``, ``(1.20 M·H·N + 0.30 M·N)`` when it has several terms (a term
    under 0.01 M: the plain count, ``2,768·H·N·W + 170·N``)."""
    if d is None:
        return "?"
    unit, scale = mult_adds_unit(d)
    if type(d) is int:
        return "%.2f %s" % (d / scale, unit)
    if any(abs(c) < scale / 100 for _, c in d.terms) or 0 < abs(d.const) < scale / 100:
        return format_count(d)      # 2,768·H·N·W + 170·N rather than 0.00 M·H·N·W
    parts = []
    for mono, coef in d.terms:
        names = D.format_dim(D.Sym(((mono, 1),), 0)).replace("*", "·")
        parts.append((coef < 0, "%.2f %s·%s" % (abs(coef) / scale, unit, names)))
    if d.const:
        parts.append((d.const < 0, "%.2f %s" % (abs(d.const) / scale, unit)))
    text = "".join((" - " if neg else " + ") + body for neg, body in parts)
    text = text[3:] if not parts[0][0] else "-" + text[3:]
    return text if len(parts) == 1 else "(%s)" % text


def mult_adds_unit(d) -> Tuple[str, float]:
    """torchinfo's unit for the total mult-adds: T, G or M by size (M for symbolic counts)."""
    if type(d) is int:
        if d >= 1e12:
            return "T", 1e12
        if d >= 1e9:
            return "G", 1e9
    return "M", 1e6
