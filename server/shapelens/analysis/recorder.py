"""Collects what the interpreter learns and freezes it into a :class:`~.report.Report`.

This is where a rule's :class:`~.errors.ShapeError` becomes a diagnostic: its range, severity,
related locations (the layer's definition, the sample input, the call site, the layer whose
padding shrank the input) and its fixes as exact text edits.
"""
from __future__ import annotations

import ast
import functools
import os
import re
from typing import Dict, List, Optional

from . import provenance
from .calltree import CallTree
from .dims import format_dim
from .errors import CODES, FixHint, ShapeError
from .report import (
    Diagnostic,
    ExprShape,
    Fix,
    LayerCall,
    LayerFact,
    LayerRef,
    Loc,
    ModuleSignature,
    Range,
    Related,
    Report,
    SampleInput,
    ShapeFact,
    TextEdit,
)
from .rules import LAYERS
from .values import Tensor, TupleVal, format_shape, module_path
from .widths import WIDTHS


class _LayerInfo:
    """A layer built in the analysed file, while the analysis runs."""

    __slots__ = ("layer", "node", "owner", "calls", "index")

    def __init__(self, layer, node, owner, index):
        self.layer = layer
        self.node = node            # the constructor ast.Call
        self.owner = owner
        self.calls: List[LayerCall] = []
        self.index = index


MAX_INCOMPLETE = 3      # "analysis-incomplete" diagnostics at most, per file


class Recorder:
    def __init__(self, src):
        self.src = src
        self.muted = 0
        self.capture = None     # a set collecting (range, code) of errors while muted
        self.shapes: List[tuple] = []               # (position key, def node of a parameter)
        self._shape_keys = set()
        self.exprs: Dict[tuple, None] = {}          # positions + shape, in first-seen order
        self.diagnostics: Dict[tuple, Diagnostic] = {}
        self.layers: Dict[int, _LayerInfo] = {}
        self.layer_refs: Dict[tuple, int] = {}
        self.modules: Dict[str, dict] = {}
        self.samples: List[SampleInput] = []
        self.internal: List[str] = []
        self.notes: List[str] = []
        self.stopped_at: Dict[str, int] = {}        # see incomplete()
        self.other_files: Dict[str, object] = {}    # path of an imported file -> its module
        self.uses_torch = False
        self.data: Dict[Range, str] = {}            # range -> hover text of a data value
        self.data_names: Dict[Range, Range] = {}    # name bound to it -> the call's range
        self.calls = CallTree()
        self.record_runs = True     # model runs for the summary (CallTree); off for a check
        self.resize_requests: List[provenance.ResizeRequest] = []   # see resize_fix.py
        # > 0 while a module runs on an input the analysis inferred (no sample gives it): what
        # is recorded then is dropped on lines a real sample reaches (they show the real run).
        self.hypothetical = 0
        self._hypothetical: set = set()             # keys of shapes/exprs/diagnostics so made
        self._real: set = set()

    # ----------------------------------------------------------------- shapes

    def name_bound(self, name, node, value: Tensor, env, uncertain):
        if self.muted or not env.is_main:
            return
        if self.calls.current is not None:
            self.calls.bound(node.lineno, name, value)
        key = (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset, name,
               value.shape)
        self._note_origin(key)
        if key not in self._shape_keys:
            self._shape_keys.add(key)
            self.shapes.append((key, None))

    def param_bound(self, arg, fnode, value: Tensor, env):
        if self.muted or not env.is_main:
            return
        key = (arg.lineno, arg.col_offset, arg.end_lineno, arg.end_col_offset, arg.arg,
               value.shape)
        self._note_origin(key)
        if key not in self._shape_keys:
            self._shape_keys.add(key)
            self.shapes.append((key, fnode))
        self.expr_shape(arg, value, env)

    def _fact(self, key, fnode) -> ShapeFact:
        line, col, end_line, end_col, name, shape = key
        src = self.src
        r = Range(line, src.col(line, col), end_line, src.col(end_line, end_col))
        # Ground truth attributes a parameter to its def line; keep the name's own range when
        # it is on that line (always, for one-line signatures).
        if fnode is not None and line != fnode.lineno:
            name_col = src.col(fnode.lineno, fnode.col_offset)
            r = Range(fnode.lineno, name_col, fnode.lineno, name_col + 3)
        return ShapeFact(name, r, shape)

    def expr_shape(self, node, value: Tensor, env):
        if self.muted:
            return
        if self.calls.current is not None:
            self.calls.expr(node, value, env.src, self.path_of(env))
        if not env.is_main:
            return
        key = (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset, value.shape)
        self._note_origin(("expr",) + key)
        self.exprs[key] = None

    def _note_origin(self, key):
        """Remember what only an inferred-input run recorded (a real run records it too, or
        later, and it stays)."""
        if self.hypothetical:
            if key not in self._real:
                self._hypothetical.add(key)
        else:
            self._real.add(key)
            self._hypothetical.discard(key)

    def _expr(self, key) -> ExprShape:
        line, col, end_line, end_col, shape = key
        return ExprShape(Range(line, self.src.col(line, col), end_line,
                               self.src.col(end_line, end_col)), shape)

    # ----------------------------------------------------------------- layers

    def layer_built(self, layer, node, env, args, kwargs, owner):
        self.uses_torch = True
        if not env.is_main or id(layer) in self.layers:
            return
        self.layers[id(layer)] = _LayerInfo(layer, node, owner, len(self.layers))

    def layer_ref(self, node, layer, env):
        if self.muted or not env.is_main:
            return
        info = self.layers.get(id(layer)) or self.foreign_layer(layer)
        if info is not None:
            self.layer_refs[(node.lineno, node.col_offset, node.end_lineno,
                             node.end_col_offset)] = info.index

    def foreign_layer(self, layer) -> Optional[_LayerInfo]:
        """A layer built in an imported file (a library model's ``conv1``) that this file
        names: recorded so a hover can show it and where it is defined.  Its constructor is in
        the other file, so no quick fix edits it (``node`` None)."""
        loc = layer.loc
        if loc is None or loc.path is None or loc.path not in self.other_files:
            return None
        info = self.layers[id(layer)] = _LayerInfo(layer, None, None, len(self.layers))
        return info

    def layer_called(self, layer, x: Tensor, out: Tensor, rule):
        if self.muted:
            return
        info = self.layers.get(id(layer))
        if info is None:
            return
        spec, shape = layer.spec, x.shape
        call = LayerCall(x.shape, out.shape, lambda: rule.arithmetic(spec, shape))
        if call not in info.calls:
            info.calls.append(call)

    def layer_failed(self, layer, x: Tensor, err):
        if self.muted:
            return
        info = self.layers.get(id(layer))
        if info is None:
            return
        spec, shape, rule = layer.spec, x.shape, None
        rule = LAYERS.get(layer.kind)
        call = LayerCall(x.shape, None, (lambda: rule.arithmetic(spec, shape)) if rule else None,
                         err.code)
        if call not in info.calls:
            info.calls.append(call)

    # ----------------------------------------------------------------- module calls

    def module_enter(self, module, args, node, env, hooked=True):
        """A module call starts (``hooked``: through ``module(...)``, not ``.forward``);
        returns the token to give ``module_exit``."""
        if self.muted or not self.record_runs:
            return None
        return self.calls.enter(module, args, node, env.is_main, hooked,
                                getattr(env, "tree", None))

    def module_exit(self, token, result):
        if not self.muted:
            self.calls.exit(token, result)

    # ----------------------------------------------------------------- modules

    def module_called(self, cls, fn, args, kwargs, result, source="sample"):
        if self.muted or not cls.env.is_main:
            return
        entry = self.modules.get(cls.name)
        if entry is not None and entry["source"] != "inferred-pending":
            return
        params = [p.arg for p in fn.node.args.args[1:]]
        inputs = tuple((p, a.shape if type(a) is Tensor else None) for p, a in zip(params, args))
        outputs = _output_shapes(result)
        self.modules[cls.name] = {"cls": cls, "inputs": inputs, "outputs": outputs,
                                  "source": source, "constraints": ()}

    def set_module_source(self, cls, source, constraints=()):
        entry = self.modules.get(cls.name)
        if entry is not None:
            entry["source"] = source
            entry["constraints"] = tuple(constraints)
        self.calls.set_source(cls.name, source)

    def sample(self, sample: SampleInput):
        self.samples.append(sample)

    # ----------------------------------------------------------------- diagnostics

    def add(self, diag: Diagnostic):
        key = (diag.range, diag.code)
        self._note_origin(("diag",) + key)
        if key not in self.diagnostics:
            self.diagnostics[key] = diag

    def shape_error(self, err: ShapeError, node, env, args, layer, uncertain, call_sites,
                    cause=None, extra_fixes=(), extra_related=()):
        if self.capture is not None and env.is_main:
            self.capture.add((self.src.range(node), err.code))
        if self.muted:
            return
        severity = CODES.get(err.code, "error")
        maybe = uncertain or err.blame == "maybe"
        if maybe and severity == "error":
            severity = "warning"
        message = err.message
        related: List[Related] = list(extra_related)
        fixes: List[Fix] = list(extra_fixes)
        # Where to point: the expression in the analysed file, or the call that led into
        # another file's code.
        if env.is_main:
            r = self.src.range(node)
        else:
            site = next((s for s in reversed(call_sites) if s[1].is_main), None)
            if site is None:
                return
            r = self.src.range(site[0])
            shown = shown_path(env, self.src.path)
            message = "%s (raised in %s, %s:%d)" % (message.rstrip("."), site[2], shown,
                                                    node.lineno)
            related.append(Related(Loc(env.src.range(node), env.src.path), "fails here"))
        if uncertain:
            message += " (on a path the analysis cannot decide)"
        if layer is not None and layer.loc is not None:
            name = module_path(layer) or layer.kind
            related.append(Related(layer.loc, "%s defined here" % name))
            if err.fix is not None and err.blame != "maybe":
                fix = self.layer_fix(layer, err.fix)
                if fix is not None:
                    fixes.append(fix)
        for a in args:
            if type(a) is Tensor and a.origin is not None and env.is_main:
                related.append(Related(a.origin, "input created here: %s"
                                       % format_shape(a.shape)))
        if cause is not None:
            message += (" This comes from %s (padding=%s), which outputs %s; with padding=%s it "
                        "would keep the size and output %s."
                        % (cause.layer, _fmt_padding(cause.padding), format_shape(cause.shape),
                           _fmt_padding(cause.keep), format_shape(cause.kept_shape)))
            related.append(Related(cause.loc, "%s shrinks the spatial size (padding=%s)"
                                   % (cause.layer, _fmt_padding(cause.padding))))
            info = self._info_at(cause.loc)
            if info is not None:
                fix = self.layer_fix(info.layer, FixHint("padding", cause.keep, 4),
                                     "Set padding of %s to %s (keeps the size)"
                                     % (cause.layer, _fmt_padding(cause.keep)))
                if fix is not None:
                    fixes.append(fix)
        for site in call_sites:
            if site[1].is_main and site[0] is not node and env.is_main and \
                    site[0].lineno != node.lineno:
                shapes = ", ".join(format_shape(a.shape) for a in site[3] if type(a) is Tensor)
                related.append(Related(Loc(self.src.range(site[0])),
                                       "called from here%s" % (" with " + shapes if shapes
                                                               else "")))
                break
        # (a model in another file too: the diagnostic is on the call from this one)
        data = provenance.explain(err, layer, args, call_sites, self.src)
        if data is not None:
            related.extend(data[0])
            fixes.extend(data[1])
            request = provenance.resize_request(err, (r, err.code), call_sites)
            if request is not None and severity == "error" and not self.hypothetical:
                self.resize_requests.append(request)
        self.add(Diagnostic(r, severity, err.code, message, tuple(related), tuple(fixes)))
        self.calls.error((r, err.code), node, env.src, self.path_of(env), args, layer)

    def drop_hypothetical(self):
        """On lines that a real sample reaches, the real run is what is shown: shapes and errors
        that only an inferred-input run of the same code found there are dropped."""
        if not self._hypothetical:
            return
        hypo = self._hypothetical
        real_lines = {k[0] for k in self._real if type(k[0]) is int} | \
            {k[1] for k in self._real if k[0] == "expr"}
        self.shapes = [(k, f) for k, f in self.shapes if k not in hypo or k[0] not in real_lines]
        self.exprs = {k: v for k, v in self.exprs.items()
                      if ("expr",) + k not in hypo or k[0] not in real_lines}
        self.diagnostics = {k: d for k, d in self.diagnostics.items()
                            if ("diag",) + k not in hypo or
                            d.range.start_line not in real_lines}

    @staticmethod
    def path_of(env):
        return None if env.is_main else env.src.path

    def raised_since(self, count: int) -> bool:
        """Whether an error diagnostic was added after the first ``count``."""
        return any(d.severity == "error" for d in list(self.diagnostics.values())[count:])

    def _info_at(self, loc):
        for info in self.layers.values():
            if info.layer.loc == loc:
                return info
        return None

    def layer_fix(self, layer, hint: FixHint, title=None) -> Optional[Fix]:
        """A text edit setting the layer's constructor argument ``hint.param``."""
        info = self.layers.get(id(layer))
        if info is None or not isinstance(info.node, ast.Call):
            return None
        value = hint.value
        if isinstance(value, str) and value != "same":
            return None
        text = repr(value) if isinstance(value, (int, str, tuple)) else format_dim(value)
        if not isinstance(value, (int, str, tuple)):
            return None
        call = info.node
        target = None
        for kw in call.keywords:
            if kw.arg == hint.param:
                target = kw.value
        if target is None and hint.index is not None and hint.index < len(call.args) and \
                not any(isinstance(a, ast.Starred) for a in call.args[:hint.index + 1]):
            target = call.args[hint.index]
        title = title or "Set %s of %s to %s" % (hint.param, module_path(layer) or layer.kind,
                                                 text)
        if target is not None:
            return Fix(title, (TextEdit(Loc(self.src.range(target)), text),))
        # Not passed: add it as a keyword before the closing parenthesis.
        end = self.src.range(call)
        insert = Range(end.end_line, end.end_col - 1, end.end_line, end.end_col - 1)
        sep = ", " if call.args or call.keywords else ""
        return Fix(title, (TextEdit(Loc(insert), "%s%s=%s" % (sep, hint.param, text)),))

    def contract_mismatch(self, node, env, actual, declared, what, uncertain):
        if self.muted or not env.is_main:
            return
        label = {"annotation": "annotated", "comment": "commented",
                 "return": "declared return"}.get(what, what)
        self.add(Diagnostic(self.src.range(node), "warning", "shape-contract",
                            "shape %s does not match the %s shape %s"
                            % (format_shape(actual), label, format_shape(declared))))

    def comment_error(self, comment, message):
        self.add(Diagnostic(comment.range(self.src.lines), CODES["shape-comment"],
                            "shape-comment", "cannot parse shape comment: %s" % message))

    def data_fact(self, node, text, env):
        """Hover text for a dataset, loader or Compose built at ``node``."""
        if not self.muted and env.is_main and node is not None:
            self.data.setdefault(self.src.range(node), text)

    def data_alias(self, node, value, env):
        """A name bound to a data value shows the hover of the call that made it."""
        loc = getattr(value, "loc", None)
        if not self.muted and env.is_main and loc is not None and loc.path is None:
            self.data_names.setdefault(self.src.range(node), loc.range)

    def data_fact_loc(self, loc, text, env):
        if not self.muted and loc is not None and loc.path is None:
            self.data.setdefault(loc.range, text)

    def internal_error(self, node, env, exc):
        self.internal.append("%s:%s: %s: %s" % (env.src.path, getattr(node, "lineno", "?"),
                                                type(exc).__name__, exc))
        if env.is_main and not self.muted:
            self.incomplete(getattr(node, "lineno", 1), "an internal error of the analysis "
                            "(%s: %s); what this line does is unknown"
                            % (type(exc).__name__, str(exc)[:120]))

    def note(self, message):
        self.notes.append(message)

    def incomplete(self, line: int, message: str):
        """Tell the user, on ``line``, that the analysis stopped following the code there
        (a budget reached, an internal error): a note, and an information diagnostic."""
        self.note(message)
        if len(self.stopped_at) < MAX_INCOMPLETE:
            self.stopped_at.setdefault(message, line)

    # ----------------------------------------------------------------- report

    def build(self, path, dependencies=(), skipped=()) -> Report:
        layers = []
        for info in sorted(self.layers.values(), key=lambda i: i.index):
            layer = info.layer
            defined_in = None
            if layer.loc is not None and layer.loc.path is not None:
                env = self.other_files.get(layer.loc.path)
                defined_in = "%s:%d" % (shown_path(env, self.src.path) if env is not None
                                        else layer.loc.path, layer.loc.range.start_line)
            layers.append(LayerFact(module_path(layer) or layer.kind, layer.kind, layer.loc,
                                    tuple(info.calls), info.owner, LAYERS.get(layer.kind),
                                    layer.spec, defined_in))
        modules = []
        for name, m in self.modules.items():
            cls = m["cls"]
            r = self.src.range(cls.node)
            name_col = self.src.lines[r.start_line - 1].find(cls.name)
            if name_col >= 0:
                r = Range(r.start_line, name_col, r.start_line, name_col + len(cls.name))
            modules.append(ModuleSignature(name, r, m["inputs"], m["outputs"], m["source"],
                                           m["constraints"]))
        self.drop_hypothetical()
        diagnostics = list(self.diagnostics.values()) + [
            Diagnostic(self.src.line_range(line), "information", "analysis-incomplete",
                       "ShapeLens stopped following the code here: %s" % message)
            for message, line in self.stopped_at.items()]
        diagnostics = sorted(diagnostics,
                             key=lambda d: (d.range.start_line, d.range.start_col, d.code))
        return Report(
            path=path,
            diagnostics=tuple(diagnostics),
            shapes=tuple(self._fact(key, fnode) for key, fnode in self.shapes),
            expr_shapes=tuple(self._expr(key) for key in self.exprs),
            layers=tuple(layers),
            layer_refs=tuple(LayerRef(Range(l, self.src.col(l, c), el, self.src.col(el, ec)), i)
                             for (l, c, el, ec), i in self.layer_refs.items()),
            modules=tuple(modules),
            samples=tuple(self.samples),
            runs_made=functools.partial(self.calls.build, dict(self.diagnostics),
                                        not _freezes(self.src.text), _unsure_widths())
            if self.record_runs else (),
            dependencies=tuple(dependencies),
            skipped_lines=tuple(skipped),
            uses_torch=self.uses_torch,
            extra={"internal_errors": tuple(self.internal), "notes": tuple(self.notes),
                   "data": tuple(self.data.items()) + tuple(
                       (name, self.data[made]) for name, made in self.data_names.items()
                       if made in self.data)},
        )


def shown_path(env, analysed: str) -> str:
    """How a message names another file: a library module by its place in its package
    (``torchvision/models/resnet.py``), a workspace file relative to the analysed one."""
    path = env.src.path
    if getattr(env, "library", False) and env.name:
        tail = "/__init__.py" if os.path.basename(path) == "__init__.py" else ".py"
        return env.name.replace(".", "/") + tail
    if os.path.isabs(path) and not analysed.startswith("<"):
        return _relative_path(path, analysed, os.getcwd())
    return path


@functools.lru_cache(maxsize=4096)
def _relative_path(path: str, analysed: str, cwd: str) -> str:
    # (every file a cached module imported is named again by each analysis that imports it)
    return os.path.relpath(path, os.path.dirname(os.path.abspath(analysed)))


def _unsure_widths() -> tuple:
    """(kind, why) of the dtype kinds whose width this analysis cannot be sure of."""
    noted = WIDTHS.get()
    return tuple(noted.kinds.items()) if noted is not None else ()


# Code that may freeze parameters (``p.requires_grad = False``, ``m.requires_grad_(False)``):
# which ones the analysis does not follow, so no module's trainable count is known.
_FREEZES = re.compile(r"\.requires_grad\s*=[^=]|requires_grad_\(")


def _freezes(text: str) -> bool:
    return "requires_grad" in text and _FREEZES.search(text) is not None


def _output_shapes(result):
    if type(result) is Tensor:
        return (result.shape,)
    if type(result) is TupleVal:
        return tuple(i.shape for i in result.items if type(i) is Tensor)
    return (None,)


def _fmt_padding(p) -> str:
    if isinstance(p, tuple):
        if len(set(p)) == 1:
            return format_dim(p[0])
        return "(" + ", ".join(format_dim(x) for x in p) + ")"
    if isinstance(p, str):
        return repr(p)
    return format_dim(p)
