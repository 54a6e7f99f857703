"""The analysis report: immutable facts about one file, and their JSON form (SPEC §5).

Positions: lines are 1-based, columns are 0-based and count code points (Python ``str``
indices).  The JSON form makes columns 1-based; the language server converts code points to
UTF-16 units.  Both conversions live in their views, not here.
"""
from __future__ import annotations

import contextlib
import functools
import gc
import operator
import pickle
import threading
from dataclasses import dataclass, field, fields
from typing import Any, Optional, Tuple

from .dims import decimal_fits, format_dim
from .values import Shape, format_shape, shape_known

SEVERITIES = ("error", "warning", "information", "hint")


@contextlib.contextmanager
def gc_paused():
    """The cyclic garbage collector paused while a burst of allocation runs (the analysis's
    many short-lived objects; the model runs made from its records): a collection over the
    analysis's heap costs more than the work.  The state before the first of overlapping
    pauses (the server analyses documents in several threads) is restored by the last."""
    global _pauses, _collecting
    with _gc_lock:
        if _pauses == 0:
            _collecting = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _pauses -= 1
            if _pauses == 0 and _collecting:
                gc.enable()


def freeze_when_idle() -> bool:
    """Collect, then move what is alive out of the collector's sight (``gc.freeze``), unless
    an analysis is running in another thread (its garbage would be kept forever).  True when
    done."""
    with _gc_lock:
        if _pauses:
            return False
        gc.collect()
        gc.freeze()
        return True


_gc_lock = threading.Lock()
_pauses = 0                 # gc_paused() blocks running, in all threads
_collecting = True          # whether the collector ran before the first of them


def plain(cls):
    """Class decorator: a slots dataclass pickles as a call of the class with its fields.
    dataclasses' own pickling of slots classes reads ``fields()`` for each object, both ways:
    that made a report of thousands of ranges 2-3 times slower to send from the language
    server's analysis worker."""
    get = operator.attrgetter(*[f.name for f in fields(cls)])

    def __reduce__(self):
        return cls, get(self)
    cls.__reduce__ = __reduce__
    return cls


@plain
@dataclass(frozen=True, slots=True)
class Range:
    start_line: int
    start_col: int
    end_line: int
    end_col: int

    def contains(self, line: int, col: int) -> bool:
        if line < self.start_line or line > self.end_line:
            return False
        if line == self.start_line and col < self.start_col:
            return False
        if line == self.end_line and col > self.end_col:
            return False
        return True

    def size(self) -> tuple:
        return (self.end_line - self.start_line, self.end_col - self.start_col)

    def to_json(self) -> dict:
        return {"start": {"line": self.start_line, "column": self.start_col + 1},
                "end": {"line": self.end_line, "column": self.end_col + 1}}


@plain
@dataclass(frozen=True, slots=True)
class Loc:
    """A range in a file; ``path`` None means the file being analysed."""

    range: Range
    path: Optional[str] = None


@plain
@dataclass(frozen=True, slots=True)
class Related:
    loc: Loc
    message: str


@plain
@dataclass(frozen=True, slots=True)
class TextEdit:
    loc: Loc
    new_text: str


@plain
@dataclass(frozen=True, slots=True)
class Fix:
    title: str
    edits: Tuple[TextEdit, ...]


@plain
@dataclass(frozen=True, slots=True)
class Diagnostic:
    range: Range
    severity: str
    code: str
    message: str
    related: Tuple[Related, ...] = ()
    fixes: Tuple[Fix, ...] = ()


@plain
@dataclass(frozen=True, slots=True)
class ShapeFact:
    """A plain name bound to a tensor (the JSON ``shapes`` entries)."""

    name: str
    range: Range
    shape: Shape


@plain
@dataclass(frozen=True, slots=True)
class ExprShape:
    """The shape of one tensor expression, by source range (hover on any expression)."""

    range: Range
    shape: Shape


@dataclass(frozen=True, slots=True)
class LayerCall:
    """One application of a layer: input and output shapes, and for conv/pool layers the
    arithmetic of each spatial size with its numbers (computed when a hover asks)."""

    input: Shape
    output: Shape                   # None when the call fails (see ``error``)
    explain: Any = field(default=None, compare=False, repr=False)   # () -> tuple of lines,
                                    # or the lines (computed in another process)
    error: Optional[str] = None     # the diagnostic code when PyTorch rejects this call

    @property
    def arithmetic(self) -> Tuple[str, ...]:
        if type(self.explain) is tuple:
            return self.explain
        try:
            return tuple(self.explain()) if self.explain is not None else ()
        except Exception:
            return ()

    def __reduce__(self):
        # pickled as plain data (the language server's analysis worker sends reports): the
        # lines computed now, the rule and spec they come from stay in this process
        return (LayerCall, (self.input, self.output, self.arithmetic, self.error))


@dataclass(frozen=True, slots=True)
class LayerFact:
    """A torch.nn layer built in the file: where, its configuration, its parameter count, and
    every distinct call the analysis saw.  ``config`` and ``params`` are computed from the
    layer's spec when asked (hovers), not on every analysis."""

    name: str                       # attribute path: "conv1", "features.0", or a variable name
    kind: str                       # "Conv2d"
    loc: Loc                        # the construction expression
    calls: Tuple[LayerCall, ...] = ()
    owner: Optional[str] = None     # class whose __init__ built it
    rule: Any = field(default=None, compare=False, repr=False)
    spec: Any = field(default=None, compare=False, repr=False)
    defined_in: Optional[str] = None  # "torchvision/models/resnet.py:197": built in another file
    said: Optional[tuple] = field(default=None, compare=False, repr=False)  # (config, params)
                                    # computed, when the rule and spec are in another process

    @property
    def config(self) -> Tuple[Tuple[str, str], ...]:
        if self.said is not None:
            return self.said[0]
        if self.rule is None or self.spec is None:
            return ()
        try:
            return tuple(self.rule.config(self.spec))
        except Exception:
            return ()

    @property
    def params(self) -> Optional[int]:
        if self.said is not None:
            return self.said[1]
        if self.rule is None or self.spec is None:
            return None
        try:
            return self.rule.params(self.spec)
        except Exception:
            return None

    def __reduce__(self):
        # plain data: what the rule says about the spec, computed now (see LayerCall)
        return (LayerFact, (self.name, self.kind, self.loc, self.calls, self.owner, None, None,
                            self.defined_in, (self.config, self.params)))


@plain
@dataclass(frozen=True, slots=True)
class LayerRef:
    """A source range (``self.conv1`` in forward, the definition target in ``__init__``) that
    denotes a layer: index into ``Report.layers``."""

    range: Range
    layer: int


@plain
@dataclass(frozen=True, slots=True)
class ModuleSignature:
    """A user ``nn.Module`` class: its forward inputs and outputs as analysed.  ``source`` is
    where the inputs came from: "sample" (code in the file), "comment", "annotation",
    "inferred" (from the first layers, no sample input), or "none"."""

    name: str
    range: Range                    # the class name
    inputs: Tuple[Tuple[str, Shape], ...]
    outputs: Tuple[Shape, ...]
    source: str
    constraints: Tuple[str, ...] = ()   # solved input sizes, e.g. "H = W = 32 (32..35 fit)"
    unknown_reason: Optional[str] = None


@plain
@dataclass(frozen=True, slots=True)
class SampleInput:
    """A declared sample input the probe can run: forward of ``class_name`` called with random
    tensors of ``inputs`` (dims are ints or symbolic names), the class built with
    ``ctor_kwargs`` (None: no arguments)."""

    class_name: str
    line: int                       # the ``def forward`` line
    inputs: Tuple[Tuple[str, Tuple[Any, ...]], ...]
    ctor_kwargs: Optional[Tuple[Tuple[str, Any], ...]] = None
    kind: str = "comment"           # "comment" or "annotation"

    def to_json(self) -> dict:
        return {"class_name": self.class_name, "line": self.line,
                "inputs": {name: list(dims) for name, dims in self.inputs},
                "ctor_kwargs": dict(self.ctor_kwargs) if self.ctor_kwargs is not None else None,
                "kind": self.kind}


@plain
@dataclass(frozen=True, slots=True)
class ModuleNode:
    """One module of a model, in ``named_modules()`` order: the model itself (path ``""``),
    then each sub-module under its attribute path relative to the model."""

    path: str
    kind: str                       # its class name: "Conv2d", "Sequential", "ResBlock"
    parent: int                     # index of its parent module; -1 for the model
    loc: Optional[Loc]              # where it is defined (constructor call, or class name)
    params: Any                     # parameters it owns itself, not its sub-modules' (a dim;
                                    # None: not known)
    trainable: Any                  # how many of those require grad (None: not known)
    leaf: bool                      # has no sub-modules (torch's notion)
    unknown_reason: Optional[str] = None    # why ``params`` is not known
    # Of ``params``: those named ``weight``/``bias``, and those whose name only contains one
    # of the words (``weight_ih_l0``, ``in_proj_bias``): torchinfo counts mult-adds by name.
    weight_params: Tuple[Any, Any] = (0, 0)
    param_bytes: Any = None         # bytes of ``params`` (None: not known, see widths.py)


@plain
@dataclass(frozen=True, slots=True)
class ModuleCall:
    """One call of a model's module, in call order (as torch's forward hooks see them)."""

    module: int                     # index into ``ModelRun.modules``
    depth: int                      # call nesting: 0 for the model's forward
    input: Shape                    # the first input tensor (what torchinfo shows)
    output: Shape                   # the first output tensor; None when not known or failed
    output_dtype: Optional[str]
    error: Optional[Diagnostic] = None   # the first diagnostic raised inside this call itself
    error_at: int = 0               # how many calls of the run had started when it was raised
    input_bytes: Any = None         # bytes of the tensors in its arguments (None: not known)
    loop: int = 0                   # the line of a loop it is made in (the analysis may follow
                                    # fewer runs of it than torch makes), else 0


@plain
@dataclass(frozen=True, slots=True)
class FlowNode:
    """One step of a model's forward, for the data-flow diagram: an input, a layer call, a
    tensor operation (``cat``, ``+``, ``view``), or the output."""

    kind: str                       # "input", "layer", "op", "output"
    label: str                      # "x", "conv1", "cat", "+", "[:, -1]"
    inputs: Tuple[int, ...]         # the nodes whose results it takes (indices into flow)
    output: Shape
    group: int = -1                 # the module call it happens in (index into calls)
    call: int = -1                  # a layer node: its own call (index into calls)
    loc: Optional[Loc] = None
    error: Optional[Diagnostic] = None  # it raises this
    bound: Tuple[Tuple[int, str], ...] = ()     # (line, name) of names bound to its result


@dataclass(frozen=True)
class ModelRun:
    """One forward of a model the analysis followed: a sample call, or a declared, inferred
    or given (``--input``) input.  ``source`` is "sample", "comment", "annotation",
    "inferred" or "input".  Its ``modules``, ``calls`` and ``flow`` are made when first read
    (``parts``: that tuple, or a function that makes it), so a report with many models pays
    only for the one summarised."""

    name: str                       # the model's class name; a torch module called as a
                                    # model: the name it is called through (``conv_layer``)
    source: str
    line: int                       # the sample call (or the class, for other sources)
    inputs: Tuple[Tuple[Shape, Optional[str]], ...]   # (shape, dtype) of each positional arg
    called: Tuple[str, ...] = ()    # class names of the modules called in it
    parts: Any = field(default=((), (), ()), compare=False, repr=False)
    # (kind, why) of the dtype kinds whose bytes per element are not known (widths.py)
    unsure_widths: Tuple[Tuple[str, str], ...] = ()

    def _parts(self):
        made = self.parts
        if callable(made):
            with gc_paused():
                made = made()
            object.__setattr__(self, "parts", made)
        return made

    def __reduce__(self):
        # plain data: the parts made now (see LayerCall), and read back only when asked
        # for (most analyses the server receives never have their summary read)
        parts = pickle.dumps(self._parts(), protocol=pickle.HIGHEST_PROTOCOL)
        return (ModelRun, (self.name, self.source, self.line, self.inputs, self.called,
                           functools.partial(pickle.loads, parts), self.unsure_widths))

    @property
    def modules(self) -> Tuple[ModuleNode, ...]:
        return self._parts()[0]

    @property
    def calls(self) -> Tuple[ModuleCall, ...]:
        return self._parts()[1]

    @property
    def flow(self) -> Tuple[FlowNode, ...]:
        return self._parts()[2]


@dataclass(frozen=True)
class Report:
    """Everything the analysis found in one file."""

    path: str
    diagnostics: Tuple[Diagnostic, ...] = ()
    shapes: Tuple[ShapeFact, ...] = ()
    expr_shapes: Tuple[ExprShape, ...] = ()
    layers: Tuple[LayerFact, ...] = ()
    layer_refs: Tuple[LayerRef, ...] = ()
    modules: Tuple[ModuleSignature, ...] = ()
    samples: Tuple[SampleInput, ...] = ()
    # Model forwards, for the shape summary: a tuple, or a function that makes it when ``runs``
    # is first read (most analyses never need them).
    runs_made: Any = field(default=(), compare=False, repr=False)
    dependencies: Tuple[str, ...] = ()       # other files read to resolve imports
    skipped_lines: Tuple[int, ...] = ()      # lines blanked to recover from syntax errors
    uses_torch: bool = False                 # the file defines or uses torch modules
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def runs(self) -> Tuple[ModelRun, ...]:
        """The forwards of models the analysis followed (see ``calltree.py``)."""
        made = self.runs_made
        if callable(made):
            with gc_paused():
                made = made()
            object.__setattr__(self, "runs_made", made)
        return made

    def __reduce__(self):
        # plain data: the runs made now (see LayerCall)
        values = [getattr(self, f.name) for f in fields(self)]
        values[[f.name for f in fields(self)].index("runs_made")] = self.runs
        return (Report, tuple(values))

    def to_json(self) -> dict:
        """The file entry of ``shapelens check --format json``.

        ``shapes`` lists only fully known shapes: a shape with an unknown dim would be a guess,
        and the editor views show partial shapes from ``expr_shapes`` instead.
        """
        return {
            "path": self.path,
            "diagnostics": [diagnostic_json(d, self.path) for d in self.diagnostics],
            "shapes": [{"range": f.range.to_json(), "name": f.name, "shape": shape_json(f.shape)}
                       for f in self.shapes if shape_known(f.shape)],
        }


def shape_json(shape: Shape):
    """Dims as JSON: an int, or the printed expression (a symbolic dim, or an int too long
    for a JSON reader to parse: Python's ``json`` refuses over 4300 digits), or null."""
    if shape is None:
        return None
    return [d if d is None or (type(d) is int and decimal_fits(d)) else format_dim(d)
            for d in shape]


def loc_json(loc: Loc, path: str) -> dict:
    return {"path": loc.path or path, "range": loc.range.to_json()}


def diagnostic_json(d: Diagnostic, path: str) -> dict:
    out = {"range": d.range.to_json(), "severity": d.severity, "code": d.code,
           "message": d.message,
           "related": [dict(loc_json(r.loc, path), message=r.message) for r in d.related]}
    if d.fixes:
        out["fixes"] = [{"title": f.title,
                         "edits": [dict(loc_json(e.loc, path), newText=e.new_text)
                                   for e in f.edits]} for f in d.fixes]
    return out


__all__ = [
    "Range", "Loc", "Related", "TextEdit", "Fix", "Diagnostic", "ShapeFact", "ExprShape",
    "LayerCall", "LayerFact", "LayerRef", "ModuleSignature", "SampleInput", "ModuleNode",
    "ModuleCall", "FlowNode", "ModelRun", "Report",
    "SEVERITIES", "format_shape", "shape_json",
]
