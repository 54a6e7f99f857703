"""The module calls of a model's forward, as torch's forward hooks would see them.

When module-level code (or a declared/inferred input, see ``infer.py``) calls a model, the
recorder notes the model's structure (its sub-modules in ``named_modules()`` order and the
parameter tensors each owns) and records every call of one of those modules while the forward
runs: nesting, the first input tensor and the first output tensor (what torchinfo shows), the
diagnostic of a call that fails, and the data flow between layer calls and tensor operations.
From this, one :class:`~.report.ModelRun` per model call is built when the report's ``runs`` is
first read (parameter counts, locations): an analysis for diagnostics pays only for the notes.

Calls through ``module(...)`` are hooked; ``module.forward(...)`` inside a forward is not (torch
runs no hooks for it), except as the outermost call, which stands for the model.
"""
from __future__ import annotations

import ast
import functools
from typing import Dict, List, Optional

from . import dims as D
from .report import FlowNode, Loc, ModelRun, ModuleCall, ModuleNode, Range
from .rules import LAYERS
from .rules.call import Call
from .values import Const, Container, DictVal, Instance, Layer, ListVal, Tensor, TupleVal, Unknown
from .widths import element_bytes

# torch.nn layers that hold sub-modules of their own (torch's notion of a leaf decides which
# rows count towards the totals): MultiheadAttention keeps ``out_proj``.
COMPOSITE_LAYERS = {"MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer",
                    "TransformerEncoder", "TransformerDecoder", "Transformer"}
# Layers whose parameters are not called plain ``weight``/``bias`` (``weight_ih_l0``,
# ``in_proj_weight``, ``layers.0.linear1.weight``); every other layer's are.
PREFIXED_PARAMS = COMPOSITE_LAYERS | {"RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"}
MODULE_TYPES = (Layer, Container, Instance)
SELF_KEY = "__self__"


def first_tensor(value, _depth=0) -> Optional[Tensor]:
    """The tensor torchinfo sizes a layer's input or output by: the value itself, the first
    item of a tuple or list (recursively), the last value of a dict."""
    kind = type(value)
    if kind is Tensor:
        return value
    if _depth > 8:
        return None
    if (kind is TupleVal or kind is ListVal) and value.items:
        return first_tensor(value.items[0], _depth + 1)
    if kind is DictVal and value.items:
        return first_tensor(list(value.items.values())[-1], _depth + 1)
    return None


def args_bytes(values, sizes, _depth=0):
    """torchinfo's input size of a call's arguments: the bytes of every tensor in them (inside
    tuples, lists and dicts too; other constants count nothing); None when a value, or a
    tensor's shape or bytes per element (``sizes``: dtype kind -> bytes), is not known."""
    total = 0
    for value in values:
        kind = type(value)
        if kind is Tensor:
            size = sizes.get(value.dtype)
            n = D.prod(value.shape) if value.shape is not None and size else None
            part = D.mul(size, n) if n is not None else None
        elif kind is TupleVal or kind is ListVal:
            part = args_bytes(value.items, sizes, _depth + 1) if _depth < 8 else None
        elif kind is DictVal:
            part = args_bytes(value.items.values(), sizes, _depth + 1) if _depth < 8 else None
        elif kind is Const:
            part = 0
        else:
            return None
        total = D.add(total, part) if part is not None else None
        if total is None:
            return None
    return total


# --------------------------------------------------------------------------- structure

class _Structure:
    """A model's modules at the time of its call: for each, (module, path, parent index,
    [(name, parameter tensor)] it owns, reason its parameters are not known).  ``index`` maps
    each module object to its entry (a torch base module shares its instance's)."""

    def __init__(self, root):
        self.entries: List[tuple] = []
        self.index: Dict[int, int] = {}
        self.named: Dict[int, dict] = {}        # id(module) -> {child name: child}
        self._visit(root, "", -1, 0)

    def child(self, module, path: str):
        """The sub-module at a dotted ``path`` under ``module``, or None."""
        for name in path.split("."):
            module = self.named.get(id(module), {}).get(name)
            if module is None:
                return None
        return module

    def _visit(self, module, path, parent, depth):
        if depth > 32:
            return
        index = self.index
        idx = len(self.entries)
        index[id(module)] = idx
        if type(module) is Layer and module.kind not in COMPOSITE_LAYERS:
            self.entries.append((module, path, parent, (), None, False))
            return
        children, tensors, reason = _contents(module)
        if type(module) is Instance and SELF_KEY in module.attrs:
            index[id(module.attrs[SELF_KEY])] = idx
        self.entries.append((module, path, parent, tensors, reason, bool(children)))
        named = self.named[id(module)] = {}
        prefix = path + "." if path else ""
        for name, child in children:
            name = str(name)
            named[name] = child
            if id(child) not in index:      # shared: torch lists a module once
                self._visit(child, prefix + name, idx, depth + 1)

    def nodes(self, trainable_known: bool, sizes) -> List[ModuleNode]:
        out = []
        for module, path, parent, tensors, reason, has_children in self.entries:
            params, trainable, weights, why = _own_params(module, tensors, reason)
            kind = module.cls.name if type(module) is Instance else module.kind
            leaf = not has_children and not (type(module) is Layer and
                                              module.kind in COMPOSITE_LAYERS)
            out.append(ModuleNode(path, kind, parent, _loc_of(module), params,
                                  trainable if trainable_known else None, leaf, why, weights,
                                  _param_bytes(module, tensors, params, sizes)))
        return out


def _param_bytes(module, tensors, params, sizes):
    """Bytes of a module's own parameters: a torch layer's are floats (made at the default
    dtype), a user module's of the dtypes of its nn.Parameter tensors."""
    if params is None or params == 0:
        return params
    if type(module) is Layer:
        return D.mul(sizes.get("float"), params)
    total = 0
    for name, value in tensors:
        if name == SELF_KEY:
            part = _param_bytes(value, (), _own_params(value, (), None)[0], sizes)
        else:
            part = D.mul(sizes.get(value.dtype), D.prod(value.shape))
        total = D.add(total, part)
    return total


def _contents(module):
    """(children [(name, module)], own parameter tensors [(name, tensor)], reason the
    parameters are not known) of a module, as they are now."""
    kind = type(module)
    if kind is Layer:
        if module.kind in COMPOSITE_LAYERS and module.spec is not None:
            return list(LAYERS[module.kind].submodules(module.spec)), (), None
        return [], (), None
    if kind is Container:
        items = module.items.items() if isinstance(module.items, dict) else \
            enumerate(module.items)
    elif module.opaque:
        return [], (), "built by an __init__ the analysis cannot see"
    else:
        items = module.attrs.items()
    children, tensors, reason = [], [], None
    for name, value in items:
        t = type(value)
        if t is Layer or t is Container or t is Instance:
            if name == SELF_KEY:
                sub, own, why = _contents(value)
                children.extend(sub)
                tensors.extend(own)
                tensors.append((SELF_KEY, value))   # the torch module's own parameters
                reason = reason or why
            elif t is not Instance or value.cls.is_module:
                children.append((name, value))
        elif t is Tensor:
            if value.nn_param is not None:
                tensors.append((str(name), value))
        elif t is Unknown and kind is Instance:
            # An attribute the analysis cannot see may hold a module or a parameter.
            reason = reason or "self.%s is a value the analysis cannot see" % name
    return children, tensors, reason


def _own_params(module, tensors, reason):
    """(own parameters, trainable ones, (named weight/bias, other weight-named), reason not
    known) of a module: a layer's from its rule less its sub-layers', a user module's from
    the nn.Parameter tensors it holds."""
    if reason is not None:
        return None, None, (None, None), reason
    if type(module) is Layer:
        rule = LAYERS.get(module.kind)
        if rule is None or module.spec is None:
            return None, None, (None, None), "%s is not modelled" % module.kind
        n = rule.params(module.spec)
        if module.kind in COMPOSITE_LAYERS:
            n = D.sub(n, _sum(_total_params(c) for _, c in rule.submodules(module.spec)))
        if n is None or (type(n) is int and n < 0):
            return None, None, (None, None), "parameters of %s not known" % module.kind
        return n, n, (0, n) if module.kind in PREFIXED_PARAMS else (n, 0), None
    params = trainable = exact = prefixed = 0
    for name, value in tensors:
        if name == SELF_KEY:            # the torch layer a user class extends
            p, tr, (e, x), why = _own_params(value, (), None)
            if why is not None:
                return None, None, (None, None), why
            params, trainable = D.add(params, p), D.add(trainable, tr)
            exact, prefixed = D.add(exact, e), D.add(prefixed, x)
            continue
        n = D.prod(value.shape) if value.shape is not None else None
        if n is None:
            return None, None, (None, None), "shape of parameter %s not known" % name
        params = D.add(params, n)
        trainable = D.add(trainable, n if value.nn_param == "trainable" else
                          0 if value.nn_param == "frozen" else None)
        if name in ("weight", "bias"):
            exact = D.add(exact, n)
        elif "weight" in name or "bias" in name:
            prefixed = D.add(prefixed, n)
    return params, trainable, (exact, prefixed), None


def _total_params(module, _depth=0):
    """Parameters of a module and everything it contains (None when not known)."""
    children, tensors, reason = _contents(module)
    if _depth > 32:
        return None
    own = _own_params(module, tensors, reason)[0]
    return D.add(own, _sum(_total_params(c, _depth + 1) for _, c in children))


def _sum(values):
    total = 0
    for v in values:
        total = D.add(total, v)
    return total


def _loc_of(module):
    """Where a module is defined: a layer's constructor call, a user module's class name."""
    if type(module) is not Instance:
        return module.loc
    node, src = module.cls.node, module.cls.env.src
    line = src.lines[node.lineno - 1] if node.lineno <= len(src.lines) else ""
    col = max(line.find(node.name, src.col(node.lineno, node.col_offset)), 0)
    return Loc(Range(node.lineno, col, node.lineno, col + len(node.name)),
               None if module.cls.env.is_main else src.path)


# --------------------------------------------------------------------------- calls and flow

class _Open:
    """A call in progress (then done)."""

    __slots__ = ("module", "index", "depth", "input", "output", "dtype", "errors", "start",
                 "args", "flow_start", "flow_node", "loop")

    def __init__(self, module, index, depth, x, start, args=(), flow_start=0):
        self.module = module
        self.index = index
        self.depth = depth
        self.input = x
        self.output = None
        self.dtype = None
        self.errors = []        # ((range, code), calls started) of diagnostics raised in it
        self.start = start      # position of this call in the run's list
        self.args = args
        self.flow_start = flow_start    # flow nodes before it
        self.flow_node = None   # its own flow node, once made
        self.loop = 0           # the line of the loop the call is made in (see loop_of), or
        # (loop_of, tree, node) until it is first read (the tree is walked only for summaries)


class _Run:
    def __init__(self, root, structure, line, inputs, name):
        self.root = root
        self.name = name
        self.structure = structure
        self.line = line
        self.inputs = inputs
        self.calls: List[_Open] = []
        self.open: List[_Open] = []     # the calls in progress, innermost last
        self.tokens: List[Optional[_Open]] = []     # one per module call in progress
        self.source = "sample"
        # Flow nodes: [kind, label, inputs, output, group, call, where, error, bound];
        # ``where`` is a Loc or (src, ast node, path) made into one when the run is built.
        self.flow: List[list] = []
        self.producer: Dict[int, tuple] = {}    # id(tensor) -> (tensor, flow node)
        # (id(ast node), id(its file's Source)) -> its last tensor value (a file the analysed
        # one imports may share its syntax tree: source.parse)
        self.values: Dict[tuple, object] = {}

    def group(self) -> int:
        return self.open[-1].start if self.open else -1

    def add_node(self, kind, label, sources, output, call=-1, where=None, error=None,
                 group=None) -> int:
        self.flow.append([kind, label, tuple(sources), output,
                          self.group() if group is None else group, call, where, error, ()])
        return len(self.flow) - 1

    def produced(self, value, node, _depth=0):
        kind = type(value)
        if kind is Tensor:
            self.producer[id(value)] = (value, node)
        elif (kind is TupleVal or kind is ListVal) and _depth < 3:
            for item in value.items:
                self.produced(item, node, _depth + 1)

    def sources(self, values) -> List[int]:
        out: List[int] = []
        for v in values:
            kind = type(v)
            if kind is Tensor:
                entry = self.producer.get(id(v))
                if entry is not None and entry[1] not in out:
                    out.append(entry[1])
            elif kind is TupleVal or kind is ListVal:
                out.extend(n for n in self.sources(v.items) if n not in out)
        return out


class _LoopLines:
    """``(tree, node) -> line`` of the loop (``for``, ``while``, a comprehension) around
    ``node`` in its function whose runs the analysis may not follow one by one (it stops once a
    run changes nothing the last did), else 0.  A ``for`` over a module's sub-modules
    (``for layer in self.layers``) is followed item by item.  Each tree is walked once, when a
    summary first asks (a separate object: the calls keep it, and a method of the call tree
    would make the tree and everything it holds cyclic garbage)."""

    def __init__(self):
        self._lines: Dict[int, tuple] = {}      # id(tree) -> (tree, {id(node): loop line})

    def __call__(self, tree, node) -> int:
        entry = self._lines.get(id(tree))
        if entry is None or entry[0] is not tree:
            entry = self._lines[id(tree)] = (tree, _loop_lines(tree))
        return entry[1].get(id(node), 0)


class CallTree:
    """Records model runs while the interpreter runs (see the module docstring)."""

    def __init__(self):
        self.runs: List[_Run] = []
        self.current: Optional[_Run] = None
        self._subtrees: Dict[tuple, list] = {}   # replay of memoised forwards
        self.loop_of = _LoopLines()

    def enter(self, module, args, node, is_main, hooked, tree=None):
        run = self.current
        if run is None:
            if not is_main:
                return None
            inputs = tuple((a.shape, a.dtype) if type(a) is Tensor else (None, None)
                           for a in args)
            run = self.current = _Run(module, _Structure(module), getattr(node, "lineno", 0),
                                      inputs, _model_name(module, node))
            self.runs.append(run)
            names = _forward_params(module)
            for i, a in enumerate(args):
                if type(a) is Tensor:
                    label = names[i] if i < len(names) else "input %d" % (i + 1)
                    run.produced(a, run.add_node("input", label, (), a.shape, group=-1))
        elif not hooked:
            run.tokens.append(None)
            return None
        index = run.structure.index.get(id(module))
        top = run.open[-1] if run.open else None
        if index is None or (top is not None and top.index == index and
                             top.module is not module):
            run.tokens.append(None)     # not a registered sub-module, or a torch base module
            return None
        x = first_tensor(args[0]) if args else None
        call = _Open(module, index, len(run.open), x.shape if x is not None else None,
                     len(run.calls), args, len(run.flow))
        if tree is not None and node is not None:
            call.loop = (self.loop_of, tree, node)
        run.calls.append(call)
        run.open.append(call)
        run.tokens.append(call)
        return call

    def exit(self, call, result):
        run = self.current
        if run is None:
            return
        run.tokens.pop()
        out = None
        if call is not None:
            run.open.pop()
            out = first_tensor(result)
            if out is not None:
                call.output, call.dtype = out.shape, out.dtype
            if type(call.module) is Instance:
                self._replay(run, call)
            elif type(call.module) is Layer and call.module.kind in COMPOSITE_LAYERS and \
                    not _failed(result):
                self._expand(run, call)
            self._flow_exit(run, call, result, out)
        if not run.tokens:
            self.current = None
            if not any(f[7] is not None for f in run.flow):
                run.add_node("output", "output", run.sources((result,)),
                             out.shape if out is not None else None, group=-1)
            run.producer = {}
            run.values = {}

    def _expand(self, run, call, _depth=0):
        """The calls torch makes inside a layer that holds sub-layers (a transformer's)."""
        layer = call.module
        children = run.structure.named.get(id(layer))
        if not children or _depth > 8:
            return
        try:
            inner = LAYERS[layer.kind].inner_calls(layer.spec, children,
                                                   Call(layer.kind, call.args, {}, False))
        except Exception:
            return
        for name, args, out in inner:
            child = run.structure.child(layer, name)
            index = run.structure.index.get(id(child))
            if index is None:
                continue
            x = first_tensor(args[0]) if args else None
            c = _Open(child, index, call.depth + 1, x.shape if x is not None else None,
                      len(run.calls), args)
            t = first_tensor(out)
            if t is not None:
                c.output, c.dtype = t.shape, t.dtype
            run.calls.append(c)
            if type(child) is Layer and child.kind in COMPOSITE_LAYERS:
                self._expand(run, c, _depth + 1)

    def _replay(self, run, call):
        """A forward the interpreter answered from its memo ran no calls: repeat the calls the
        first run of it made."""
        key = (id(call.module), tuple(_signature(a) for a in call.args))
        inner = run.calls[call.start + 1:]
        if inner:
            self._subtrees.setdefault(key, [(c.module, c.depth - call.depth, c.input,
                                             c.output, c.dtype, c.args, c.loop)
                                            for c in inner])
            return
        for module, rel, x, out, dtype, args, loop in self._subtrees.get(key, ()):
            index = run.structure.index.get(id(module))
            if index is None:
                continue
            c = _Open(module, index, call.depth + rel, x, len(run.calls), args)
            c.loop = loop
            c.output, c.dtype = out, dtype
            run.calls.append(c)

    def _flow_exit(self, run, call, result, out):
        """A layer call (or a module whose forward showed no steps) is one node."""
        if call.flow_node is not None or _failed(result):
            return
        module = call.module
        leaf = type(module) is Layer or not run.structure.named.get(id(module))
        if not leaf and len(run.flow) > call.flow_start:
            return
        entry = run.structure.entries[call.index]
        call.flow_node = run.add_node("layer", entry[1] or _kind(module),
                                      run.sources(call.args), out.shape if out else None,
                                      call=call.start, where=_loc_of(module))
        run.produced(result, call.flow_node)

    def expr(self, node, value, src, path):
        """A tensor expression evaluated inside a run: a new tensor made by an operation is a
        flow node fed by the tensors of its operands."""
        run = self.current
        run.values[(id(node), id(src))] = value
        if id(value) in run.producer:
            return
        label = _op_label(node)
        if label is None:
            return
        values = run.values
        operands = [values.get((id(c), id(src))) for c in _operands(node)]
        n = run.add_node("op", label, run.sources([v for v in operands if v is not None]),
                         value.shape, where=(src, node, path))
        run.produced(value, n)

    def bound(self, line: int, name: str, value):
        """``name`` is bound to ``value`` on ``line`` (of the analysed file) inside a run."""
        entry = self.current.producer.get(id(value))
        if entry is not None:
            node = self.current.flow[entry[1]]
            if (line, name) not in node[8]:
                node[8] += ((line, name),)

    def error(self, key, node, src, path, args, layer):
        """A diagnostic raised now belongs to the innermost call in progress, and is a failing
        node of the flow."""
        run = self.current
        if run is None:
            return
        call = run.open[-1] if run.open else None
        if call is not None:
            call.errors.append((key, len(run.calls)))
        if layer is not None and call is not None and call.module is layer:
            parent = run.open[-2] if len(run.open) > 1 else None
            call.flow_node = run.add_node(
                "layer", run.structure.entries[call.index][1] or layer.kind,
                run.sources(call.args), None, call=call.start, where=_loc_of(layer),
                error=key, group=parent.start if parent is not None else -1)
        else:
            label = _op_label(node) if node is not None else None
            run.add_node("op", label or "error", run.sources(args), None,
                         where=(src, node, path) if node is not None else None, error=key)

    def set_source(self, cls_name, source):
        for run in reversed(self.runs):
            if type(run.root) is Instance and run.root.cls.name == cls_name:
                run.source = source
                return

    def build(self, diagnostics, trainable_known=True, unsure_widths=()) -> tuple:
        """The model runs; ``diagnostics`` maps (range, code) to the final diagnostic,
        ``unsure_widths`` lists the dtype kinds whose width is not certain (widths.py).  Each
        run's parts are made when first read."""
        sizes = element_bytes(dict(unsure_widths))
        return tuple(ModelRun(run.name, run.source, run.line, run.inputs,
                              tuple(dict.fromkeys(_kind(c.module) for c in run.calls)),
                              functools.partial(_parts, run, diagnostics, trainable_known,
                                                sizes), unsure_widths)
                     for run in self.runs)


def _parts(run: _Run, diagnostics, trainable_known, sizes):
    """(modules, calls, flow) of a recorded run."""
    calls = tuple(ModuleCall(c.index, c.depth, c.input, c.output, c.dtype,
                             *_first_error(c.errors, diagnostics), args_bytes(c.args, sizes),
                             c.loop[0](*c.loop[1:]) if type(c.loop) is tuple else c.loop)
                  for c in run.calls)
    flow = tuple(FlowNode(kind, label, sources, output, group, call, _where(where),
                          diagnostics.get(error) if error is not None else None, bound)
                 for kind, label, sources, output, group, call, where, error, bound
                 in run.flow)
    return tuple(run.structure.nodes(trainable_known, sizes)), calls, flow


def _where(where):
    if where is None or type(where) is Loc:
        return where
    src, node, path = where
    return Loc(src.range(node), path)


_BINOP_LABELS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
                 ast.MatMult: "@", ast.Pow: "**", ast.Mod: "%"}


def _op_label(node) -> Optional[str]:
    kind = type(node)
    if kind is ast.Call:
        func = node.func
        if isinstance(func, ast.Attribute):
            return func.attr
        if isinstance(func, ast.Name):
            return func.id
        return "call"
    if kind is ast.BinOp:
        return _BINOP_LABELS.get(type(node.op), "op")
    if kind is ast.Subscript:
        try:
            text = ast.unparse(node.slice)
        except Exception:
            text = "…"
        return "[%s]" % (text if len(text) <= 24 else text[:23] + "…")
    if kind is ast.UnaryOp:
        return "-" if isinstance(node.op, ast.USub) else "op"
    if kind is ast.Compare:
        return "compare"
    return None


def _operands(node):
    """The sub-expressions whose values an operation takes (inside lists and tuples too)."""
    kind = type(node)
    if kind is ast.Call:
        parts = list(node.args) + [k.value for k in node.keywords]
        if isinstance(node.func, ast.Attribute):
            parts.insert(0, node.func.value)
    elif kind is ast.BinOp:
        parts = [node.left, node.right]
    elif kind is ast.Subscript:
        parts = [node.value]
    elif kind is ast.UnaryOp:
        parts = [node.operand]
    elif kind is ast.Compare:
        parts = [node.left] + list(node.comparators)
    else:
        parts = []
    out = []
    for p in parts:
        if isinstance(p, (ast.List, ast.Tuple)):
            out.extend(e.value if isinstance(e, ast.Starred) else e for e in p.elts)
        elif isinstance(p, ast.Starred):
            out.append(p.value)
        else:
            out.append(p)
    return out


def _failed(result) -> bool:
    return type(result) is Unknown and result.reason.startswith("error")


def _kind(module) -> str:
    return module.cls.name if type(module) is Instance else module.kind


def _model_name(module, node) -> str:
    """A user model by its class; a torch layer or container called as a model by the
    variable it is called through (``conv_layer(x)``), else its class."""
    if type(module) is Instance:
        return module.cls.name
    func = node.func if isinstance(node, ast.Call) else None
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return module.kind


def _forward_params(module) -> List[str]:
    if type(module) is not Instance:
        return []
    _, fnode = module.cls.method("forward")
    return [a.arg for a in fnode.args.args[1:]] if fnode is not None else []


_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _loop_lines(tree) -> Dict[int, int]:
    """{id(call node): line of the loop around it} for the calls of ``tree`` inside a loop
    the analysis may cut short (see ``CallTree.loop_of``)."""
    out: Dict[int, int] = {}

    def visit(node, loop):
        for child in ast.iter_child_nodes(node):
            inner = loop
            if isinstance(child, _SCOPES):
                inner = 0
            elif isinstance(child, _LOOPS) and not _over_submodules(child):
                inner = child.lineno
            elif isinstance(child, _COMPREHENSIONS) and not all(
                    _over_submodules(g, child) for g in child.generators):
                inner = child.lineno
            if inner and isinstance(child, ast.Call):
                out[id(child)] = inner
            visit(child, inner)

    visit(tree, 0)
    return out


def _over_submodules(loop, body=None) -> bool:
    """``for layer in self.layers`` (also ``enumerate``/``zip``/``reversed`` of it, or its
    ``.values()``/``.children()``/...) whose body reads the loop variable: the analysis runs
    it once per sub-module."""
    if isinstance(loop, ast.While):
        return False
    it = loop.iter
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and \
            it.func.id in ("enumerate", "zip", "reversed") and it.args:
        it = it.args[0]
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and not it.args and \
            it.func.attr in ("values", "items", "children", "named_children", "modules"):
        it = it.func.value
    root = it
    while isinstance(root, ast.Attribute):
        root = root.value
    if not (isinstance(it, ast.Attribute) and isinstance(root, ast.Name) and root.id == "self"):
        return False
    names = {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}
    where = body if body is not None else ast.Module(loop.body, [])
    return any(isinstance(n, ast.Name) and n.id in names and isinstance(n.ctx, ast.Load)
               for n in ast.walk(where))


def _first_error(errors, diagnostics):
    """(diagnostic, calls started before it): the call's first error, else its first
    diagnostic of any severity."""
    found = [(diagnostics[k], n) for k, n in errors if k in diagnostics]
    return next((f for f in found if f[0].severity == "error"),
                found[0] if found else (None, 0))


def _signature(value):
    if type(value) is Tensor:
        return ("T", value.shape, value.dtype)
    if type(value) in (TupleVal, ListVal):
        return tuple(_signature(v) for v in value.items[:8])
    return type(value).__name__
