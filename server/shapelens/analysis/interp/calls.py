"""Calls: torch functions and layers (through the rules table), user functions, classes and
modules, and how a rule's answer (a shape or a ShapeError) becomes a value or a diagnostic."""
from __future__ import annotations

import ast
import os
from typing import Dict

from .. import dims as D
from .. import widths
from ..errors import CODES, ShapeError
from ..report import Loc
from ..rules import FUNCTIONS, LAYERS, layout
from ..rules.call import Call
from ..rules.modules import MODULE_WRAPPERS, READS_ARGUMENTS
from ..values import (
    DATA_VALUES,
    BoundMethod,
    Cause,
    Const,
    Container,
    DictVal,
    Instance,
    Layer,
    ListVal,
    Tensor,
    TorchRef,
    TupleVal,
    Unknown,
    Value,
    join,
    module_path,
    same_value,
    with_strides,
)
from .budget import MAX_NESTING, MODULE_CALL
from .data import DATA_ROOTS, DATA_TORCH
from .expressions import math_call
from .library import LIBRARY
from .program import (
    CONTAINERS,
    MAX_DEPTH,
    MAX_RECURSION,
    RAISE,
    RETURN,
    SELF_KEY,
    BoundFunction,
    Builtin,
    ClassInfo,
    ClassRef,
    DataclassField,
    Frame,
    Function,
    Partial,
    Wrapped,
)
from .statements import NO_CHANGE, grad_mode_of


class Calls:
    """Calls of every kind of callable value."""

    def expr_Call(self, node, frame):
        func = self.eval(node.func, frame)
        args = []
        for a in node.args:
            if isinstance(a, ast.Starred):
                items = self.iterate(self.eval(a.value, frame))
                if items is None:
                    return Unknown("arguments unpacked from an unknown value")
                args.extend(items)
            else:
                args.append(self.eval(a, frame))
        kwargs = {}
        for kw in node.keywords:
            value = self.eval(kw.value, frame)
            if kw.arg is None:
                if type(value) is DictVal:
                    kwargs.update({k: v for k, v in value.items.items() if isinstance(k, str)})
                else:
                    return Unknown("keyword arguments from an unknown value")
            else:
                kwargs[kw.arg] = value
        return self.call(func, tuple(args), kwargs, node, frame)

    def call(self, func, args, kwargs, node, frame) -> Value:
        self.call_env = frame.env
        changes = widths.check_call(func, widths.call_name(func, node), args, kwargs)
        if changes is not None:
            self.width_changed(changes, node, frame.env)
        kind = type(func)
        if kind is TorchRef:
            return self.call_torch(func.qualname, args, kwargs, node, frame)
        if kind is BoundMethod:
            return self.call_method(func.obj, func.name, args, kwargs, node, frame)
        if kind is Layer or kind is Container or kind is Instance:
            return self.call_module(func, args, kwargs, node, frame)
        if kind is ClassRef:
            return self.instantiate(func.info, args, kwargs, node, frame)
        if kind is Function:
            return self.call_function(func, args, kwargs, node, frame)
        if kind is BoundFunction:
            if getattr(func.func.node, "name", None) == "forward" and \
                    type(func.obj) is Instance:
                return self.call_module(func.obj, args, kwargs, node, frame, hooked=False)
            return self.call_function(func.func, (func.obj,) + args, kwargs, node, frame,
                                      cls=func.cls)
        if kind is Builtin:
            return self.call_builtin(func.name, args, kwargs, node, frame)
        if kind in DATA_VALUES:
            return self.call_data_value(func, args, kwargs, node, frame)
        if kind is Wrapped:
            return self.call(func.module, args, kwargs, node, frame)
        if kind is Partial:
            return self.call(func.func, func.args + tuple(args), {**func.kwargs, **kwargs},
                             node, frame)
        if kind is Unknown and func.options:
            return self.call_one_of(func.options, args, kwargs, node, frame)
        if kind is Unknown:
            self.unknown_receiver_call(func, args, kwargs)
            return Unknown("result of %s" % func.reason)
        self.escape(args, kwargs, "given to a call the analysis cannot see")
        return Unknown("call of a value the analysis cannot see")

    def call_one_of(self, options, args, kwargs, node, frame):
        """A call of one of several modules (branches the analysis could not choose between
        made it): each call runs as a branch (their errors are maybes, their changes joined)."""
        results = []

        def from_option(i):
            def call_it(f):
                results.append(self.call(options[i], args, kwargs, node, f))
            if i == len(options) - 1:
                return call_it
            return lambda f: self.fork(f, call_it, from_option(i + 1))
        made_by_library = all(self.made_by_library(o) for o in options)
        self.library_forks += made_by_library
        try:
            from_option(0)(frame)
        finally:
            self.library_forks -= made_by_library
        # The same value from each (a dropout or an identity), or tensors of one shape (a
        # layer scale or an identity): that.  Different ones stay unknown: a shape with the
        # dims they differ in unknown would pass a later layer that every one of them fails
        # (torch raises on each path there).
        first = results[0]
        if all(same_value(r, first) for r in results[1:]):
            return first
        if type(first) is Tensor and first.shape is not None and all(
                type(r) is Tensor and r.shape == first.shape for r in results[1:]):
            result = first
            for r in results[1:]:
                result = join(result, r)
            return result
        return Unknown("the modules it may be give different results")

    def made_by_library(self, module) -> bool:
        """A module built by library code (the paths that chose it are the library's)."""
        if type(module) is Instance:
            return module.cls.env.library
        loc = getattr(module, "loc", None)
        env = self.modules.get(loc.path) if loc is not None else None
        return env is not None and env.library

    def width_changed(self, changes, node, env):
        """A call that may make tensors of another width than the default (widths.py)."""
        kinds, what = changes
        line = getattr(node, "lineno", None)
        where = "" if line is None else " at line %d" % line if env.is_main else \
            " at %s:%d" % (os.path.basename(env.src.path), line)
        for kind in kinds:
            widths.unsure(kind, what + where)

    def call_module(self, module, args, kwargs, node, frame, hooked=True):
        """A layer, container or user module called: recorded as one call of the model's
        forward for the shape summary (``hooked``: through ``module(...)``, which runs torch's
        hooks, rather than ``module.forward(...)``)."""
        budget = self.budget
        budget.steps += MODULE_CALL
        if budget.steps > budget.max_steps:
            budget.out_of_steps()
        if budget.depth >= MAX_NESTING:   # a Sequential that contains itself
            budget.too_deep("module calls")
            self.escape(args, kwargs, "given to a module called too deeply")
            return Unknown("module called too deeply")
        token = self.rec.module_enter(module, args, node, frame.env, hooked)
        result = None
        budget.depth += 1
        try:
            kind = type(module)
            if kind is Layer:
                result = self.call_layer(module, args, kwargs, node, frame)
            elif kind is Container:
                result = self.call_container(module, args, kwargs, node, frame)
            else:
                result = self.call_instance(module, args, kwargs, node, frame)
            return result
        finally:
            budget.depth -= 1
            self.rec.module_exit(token, result)

    def call_torch(self, q, args, kwargs, node, frame):
        if q.startswith(DATA_ROOTS) or q in DATA_TORCH:
            out = self.call_data(q, args, kwargs, node, frame)
            if out is not None:
                return out
        container = CONTAINERS.get(q)
        if container is not None:
            return self.make_container(container, args, kwargs, node, frame)
        if q == "collections.OrderedDict" or q == "typing.OrderedDict":
            return self.make_ordered_dict(args, kwargs)
        if q == "torch.Size":
            items = self.iterate(args[0]) if args else []
            return TupleVal(tuple(items or ()), size=True) if items is not None else \
                Unknown("size")
        if q.startswith("math."):
            return math_call(q[5:], args)
        library = LIBRARY.get(q)
        if library is not None:
            return library(self, args, kwargs, node, frame)
        if q.startswith("torch.nn.") and q.count(".") == 2 and q[9:10].isupper():
            kind = q[9:]
            rule = LAYERS.get(kind)
            if rule is not None:
                return self.build_layer(kind, rule, args, kwargs, node, frame)
            # A torch.nn module the rules do not model: its calls give tensors of unknown shape.
            if kind not in ("Module", "Parameter", "Buffer"):
                return Layer(kind, None, Loc(frame.env.src.range(node), self.path_of(frame.env)))
        rule = FUNCTIONS.get(q)
        if rule is None:
            if q.startswith("Tensor.") and args and type(args[0]) is Tensor:
                return self.call_method(args[0], q[7:], args[1:], kwargs, node, frame)
            if q in MODULE_WRAPPERS and args:
                return args[0]
            if q not in READS_ARGUMENTS:
                # Library functions change no tensor's shape in place, but an ``out=``.
                self.escape(args, kwargs, "given to %s, which the analysis does not follow" % q,
                            tensors=False)
                if type(kwargs.get("out")) is Tensor:
                    self.changed_in_place(kwargs["out"], Tensor(None))
            return Unknown("%s is not modelled" % q)
        call = Call(q, args, kwargs)
        result = rule(call)
        short = q.rsplit(".", 1)[-1]
        if type(result) is Tensor and args and type(args[0]) is Tensor:
            if short in layout.LAYOUT_METHODS and q.startswith("torch."):
                result = with_strides(result, layout.after(short, args[0], call,
                                                                          result))
            elif q in layout.POINTWISE_FUNCTIONS:
                result = with_strides(result, layout.pointwise(args[0]))
        if type(result) is Tensor and result.origin is None and q.startswith("torch.") and \
                q.rsplit(".", 1)[-1] in SAMPLE_FACTORIES:
            result = Tensor(result.shape, result.dtype, Loc(frame.env.src.range(node),
                                                           self.path_of(frame.env)))
        return self.rule_result(result, node, frame, q, args,
                                rerun=lambda a: rule(Call(q, a, kwargs)))

    def path_of(self, env):
        return None if env.is_main else env.src.path

    def build_layer(self, kind, rule, args, kwargs, node, frame):
        loc = Loc(frame.env.src.range(node), self.path_of(frame.env))
        try:
            spec = rule.build(kind, Call("torch.nn." + kind, args, kwargs))
        except Exception as exc:
            self.rec.internal_error(node, frame.env, exc)
            spec = None
        if isinstance(spec, ShapeError):
            self.report_error(spec, node, frame, ())
            spec = None
        layer = Layer(kind, spec, loc)
        self.rec.layer_built(layer, node, frame.env, args, kwargs, self.current_class(frame))
        return layer

    def current_class(self, frame):
        f = frame
        while f is not None:
            if f.cls is not None:
                return f.cls.name
            f = f.parent
        return None

    def call_layer(self, layer, args, kwargs, node, frame, label=None):
        rule = LAYERS.get(layer.kind)
        if rule is None or layer.spec is None:
            x = args[0] if args else None
            return Tensor(None, x.dtype if type(x) is Tensor else None) if type(x) in \
                (Tensor, Unknown) else Unknown("%s is not modelled" % layer.kind)
        x = args[0] if args else None
        if self.inferring is not None and type(x) is Tensor and x.param and x.shape is None:
            self.inferring.demand(x.param, rule.expected_input(layer.spec), layer)
        if self.inferring is not None and type(x) is Tensor and x.shape is not None:
            self.inferring.constrain(x, rule.expected_input(layer.spec), layer)
        try:
            result = rule.forward(layer.spec, Call(layer.kind, args, kwargs, layer.training))
        except Exception as exc:
            self.rec.internal_error(node, frame.env, exc)
            result = None
        if result is None:
            result = Tensor(None) if type(x) in (Tensor, Unknown) else \
                Unknown("%s called with a value that is not a tensor" % layer.kind)
        if type(result) is Tensor and type(x) is Tensor:
            try:
                result = self.padding_cause(rule, layer, x, result)
            except Exception as exc:
                self.rec.internal_error(node, frame.env, exc)
            self.rec.layer_called(layer, x, result, rule)
            if layer.kind in layout.POINTWISE_LAYERS:
                result = with_strides(result, layout.pointwise(x))
        elif isinstance(result, ShapeError) and type(x) is Tensor:
            self.rec.layer_failed(layer, x, result)
        elif layer.kind in TRANSPOSED_OUTPUT and type(result) is TupleVal and result.items \
                and type(result.items[0]) is Tensor:
            result = TupleVal((self.batch_first_layout(layer, result.items[0]),) +
                              result.items[1:])
        return self.rule_result(result, node, frame, layer.kind, args, layer=layer,
                                rerun=lambda a: rule.forward(layer.spec, Call(
                                    layer.kind, a, kwargs, layer.training)))

    def batch_first_layout(self, layer, out: Tensor) -> Tensor:
        """RNN/LSTM/GRU and MultiheadAttention with batch_first=True return their output as a
        transposed view of an [L, N, E] buffer; MultiheadAttention's fast path (eval mode with
        grad disabled) does not, and its layout is left unknown."""
        shape = out.shape
        if getattr(layer.spec, "batch_first", False) is not True or shape is None or \
                len(shape) != 3 or not all(type(d) is int for d in shape):
            return out
        slow_path = layer.kind != "MultiheadAttention" or layer.training is True or \
            self.grad_enabled is True
        if not slow_path:
            return with_strides(out, "?")
        n, length, e = shape
        return with_strides(out, (e, n * e, 1) if n > 1 and length > 1 else None)

    def padding_cause(self, rule, layer, x, out):
        """Remember a conv/pool whose padding shrank the spatial size (for later mismatches)."""
        if x.shape is None or out.shape is None or len(x.shape) != len(out.shape):
            return out
        n = getattr(layer.spec, "n", None)
        if not n or len(x.shape) < n:
            return out
        if all(a == b for a, b in zip(x.shape[-n:], out.shape[-n:])):
            return out
        keep = rule.keep_padding(layer.spec)
        if keep is None:
            return out
        value, kept_spec = keep

        def kept_shape():
            kept = rule.forward(kept_spec, Call(layer.kind, (x,), {}))
            return kept.shape if type(kept) is Tensor else None

        padding = getattr(layer.spec, "padding", None)
        cause = Cause(module_path(layer) or layer.kind, layer.loc, padding, value, out.shape,
                      kept_shape)
        return Tensor(out.shape, out.dtype, out.origin, cause)

    def call_container(self, container, args, kwargs, node, frame):
        if container.kind != "Sequential":
            return Unknown("%s is not callable" % container.kind)
        if container.lost:
            return Unknown(container.lost)
        children = list(container.items.values()) if isinstance(container.items, dict) else \
            container.items
        value = args[0] if args else Unknown("no input")
        for child in children:
            if type(value) is Unknown and value.reason.startswith("error"):
                break
            value = self.call(child, (value,), {}, node, frame)
        return value

    def call_instance(self, inst, args, kwargs, node, frame):
        cls, fnode = inst.cls.method("forward")
        if fnode is None:
            cls, fnode = inst.cls.method("__call__")
        if fnode is None:
            base = inst.attrs.get(SELF_KEY)
            if base is not None:
                return self.call(base, args, kwargs, node, frame)
            return Unknown("%s has no forward" % inst.cls.name)
        fn = cls.method_values[fnode.name]
        # (each call runs: a forward may read what an earlier call, or code between the calls,
        # changed, and its result may be changed in place after it returns)
        if fnode.name == "forward":
            inst.cls.forward_called = True
        self.call_sites.append((node, frame.env, inst.cls.name, args, inst))
        try:
            result = self.call_function(fn, (inst,) + args, kwargs, node, frame, cls=cls)
        finally:
            self.call_sites.pop()
        if fnode.name == "forward":
            self.rec.module_called(inst.cls, fn, args, kwargs, result)
        return result

    def instantiate(self, info: ClassInfo, args, kwargs, node, frame):
        inst = Instance(info)
        if not self.hypothetical and info.env.is_main:
            # (for classes the analysed file defines, run on their inputs after its top level:
            # a class of an imported module is shared by later analyses, which must not keep
            # every instance each of them built)
            info.instances.append(inst)
        cls, fnode = info.method("__init__")
        if fnode is not None:
            fn = cls.method_values["__init__"]
            self.call_function(fn, (inst,) + args, kwargs, node, frame, cls=cls)
        elif info.torch_base is not None:
            self.torch_init(inst, args, kwargs, node, frame)
        elif any(c.record_like for c in info.mro()):
            self.record_init(inst, args, kwargs, info, node, frame)
        elif args or kwargs:
            # Arguments go to an __init__ the analysis cannot see (a decorator or a base class
            # outside the workspace writes it): class-level values may not hold.
            inst.opaque = True
        return inst

    def record_init(self, inst, args, kwargs, record, node, frame):
        """The __init__ that @dataclass / attrs / NamedTuple / pydantic generate for
        ``record`` (the instance's class, or a base reached by ``super().__init__``): fields
        in class order (bases first), positional then keyword, defaults from the class body;
        then ``__post_init__`` as dataclasses call it."""
        fields = record.record_fields()
        for i, (name, default) in enumerate(fields):
            if i < len(args):
                value = args[i]
            elif name in kwargs:
                value = kwargs[name]
            elif type(default) is DataclassField:     # field(default=..., default_factory=...)
                value = default.default if default.factory is None else \
                    self.call(default.factory, (), {}, node, frame)
            elif default is not None:
                value = default
            else:
                value = None
            inst.attrs[name] = value if value is not None else \
                Unknown("field %s not given" % name)
        cls, fnode = inst.cls.method("__post_init__")
        if fnode is not None:
            # InitVar arguments (fields the analysis does not tell apart) make the call not
            # match: the instance is then unknown past its fields
            extra = tuple(args[len(fields):])
            fn = cls.method_values["__post_init__"]
            result = self.call_function(fn, (inst,) + extra, {}, node, frame, cls=cls)
            if type(result) is Unknown:
                inst.opaque = True

    def torch_init(self, inst, args, kwargs, node, frame):
        """``super().__init__(...)`` of a class extending a torch layer or container: build
        that module; the instance stands for it (calls, iteration, attributes)."""
        base = inst.cls.torch_base
        module = self.call_torch(base, args, kwargs, node, frame)
        if type(module) in (Layer, Container):
            self.name_module(module, SELF_KEY, inst)
            inst.attrs[SELF_KEY] = module
        return Const(None)

    def call_function(self, fn: Function, args, kwargs, node, frame, cls=None):
        if fn.env.library and not frame.env.library:
            return self.enter_library(fn, args, kwargs, node, frame, cls)
        key = self.shared_key(fn, args, kwargs)
        if key is not None:     # a result every importer shares (shared.py)
            return self.call_shared(key, fn, lambda: self.run_function(fn, args, kwargs, node,
                                                                       frame, cls))
        return self.run_function(fn, args, kwargs, node, frame, cls)

    def run_function(self, fn: Function, args, kwargs, node, frame, cls=None):
        # recursion is followed a few levels deep (a tree of blocks built and run by one
        # class's methods, each level another instance); functions told apart by node and
        # module (an imported copy of the analysed file shares its syntax tree)
        active = (id(fn.node), id(fn.env))
        if self.depth >= MAX_DEPTH or self.active.get(active, 0) >= MAX_RECURSION:
            self.escape(args, kwargs, "given to a recursive call the analysis does not follow")
            return Unknown("recursion")
        callee = Frame(fn.env, fn.closure, fn, cls or fn.owner,
                       args[0] if args and type(args[0]) is Instance else None)
        if not self.bind_params(fn, callee, args, kwargs, node):
            self.escape(args, kwargs, "given to a call the analysis cannot match")
            return Unknown("call does not match the signature of %s" % getattr(
                fn.node, "name", "a lambda"))
        self.depth += 1
        self.active[active] = self.active.get(active, 0) + 1
        saved_grad = self.grad_enabled
        for deco in getattr(fn.node, "decorator_list", ()):
            mode = grad_mode_of(deco, None)
            if mode is not NO_CHANGE:
                self.grad_enabled = mode
        try:
            if isinstance(fn.node, ast.Lambda):
                callee.returns.append(self.eval(fn.node.body, callee))
                flow = RETURN
            else:
                flow = self.exec_block(fn.node.body, callee)
            self.land(callee, callee.exits, False)
        finally:
            self.depth -= 1
            self.active[active] -= 1
            self.grad_enabled = saved_grad
        if not callee.returns:
            return Unknown("the call raises") if flow == RAISE else Const(None)
        result = callee.returns[0]
        for r in callee.returns[1:]:
            result = join(result, r)
        self.check_return(fn, result, callee)
        return result

    def bind_params(self, fn, callee, args, kwargs, node) -> bool:
        a = fn.node.args
        params = a.posonlyargs + a.args
        n_defaults = len(fn.defaults)
        bound: Dict[str, Value] = {}
        for i, p in enumerate(params):
            if i < len(args):
                bound[p.arg] = args[i]
        extra = list(args[len(params):])
        if extra and a.vararg is None:
            return False
        kw_extra = {}
        if kwargs:
            names = {p.arg for p in params}
            names.update(p.arg for p in a.kwonlyargs)
            for k, v in kwargs.items():
                if k in names:
                    bound[k] = v
                else:
                    kw_extra[k] = v
        if kw_extra and a.kwarg is None:
            return False
        for i, p in enumerate(params):
            if p.arg not in bound:
                j = i - (len(params) - n_defaults)
                bound[p.arg] = fn.defaults[j] if j >= 0 else Unknown("argument %s not given"
                                                                     % p.arg)
        for p, d in zip(a.kwonlyargs, fn.kw_defaults):
            if p.arg not in bound:
                bound[p.arg] = d if d is not None else Unknown("argument %s not given" % p.arg)
        for p in params + a.kwonlyargs:
            value = bound[p.arg]
            if p.annotation is not None and type(value) is Tensor:
                declared = self.annotation_tensor(p.annotation, fn.env)
                if declared is not None:
                    # A mismatch is the caller's: point at the call when it is in this file.
                    where = node if isinstance(node, ast.Call) and self.call_env and \
                        self.call_env.is_main else p.annotation
                    where_env = self.call_env if where is node else fn.env
                    value = self.check_declared(value, declared, where, Frame(where_env),
                                                "annotation")
                    bound[p.arg] = value
            callee.vars[p.arg] = value
            if type(value) is Tensor:
                self.rec.param_bound(p, fn.node, value, fn.env)
        if a.vararg is not None:
            callee.vars[a.vararg.arg] = TupleVal(tuple(extra))
        if a.kwarg is not None:
            callee.vars[a.kwarg.arg] = DictVal(kw_extra)
        return True

    def rule_result(self, result, node, frame, op, args, layer=None, rerun=None):
        """Turn a rule's answer into a value, reporting a ShapeError at ``node``.  ``rerun``
        calls the rule again with other arguments (to test a padding cause, see below)."""
        if result is None:
            if any(type(a) is Tensor for a in args):
                return Tensor(None)
            return Unknown("%s: not applicable to these arguments" % op)
        if isinstance(result, ShapeError):
            if any(t.shape is not None and 0 in t.shape for t in _tensors_in(args)):
                # Empty tensors take special paths in torch that differ from op to op and
                # backend to backend: no promise either way.
                return Tensor(None)
            return self.report_error(result, node, frame, args, layer,
                                     relevant_cause(result, args, rerun))
        return result

    def report_error(self, err, node, frame, args, layer=None, cause=None, fixes=(),
                     related=()):
        if self.inferring is not None and self.inferring.quiet:
            return Unknown("error while inferring")
        if frame.env.library and self.library_forks:
            # on a path inside library code the analysis could not decide (an ``except``
            # handler, a branch on a value it cannot see): the user can do nothing about it,
            # and it is most likely a path torch does not take
            return Unknown("error on an undecided path in library code")
        self.rec.shape_error(err, node, frame.env, args, layer, self.uncertain > 0,
                             list(self.call_sites), cause, fixes, related)
        if CODES.get(err.code, "error") == "error":
            self.raised()
        return Unknown("error: " + err.message.split(".")[0])



TRANSPOSED_OUTPUT = ("MultiheadAttention", "RNN", "LSTM", "GRU")



CAUSE_CODES = ("shape-mismatch", "linear-in-features", "matmul-mismatch", "reshape-numel")


def relevant_cause(err, args, rerun):
    """The padding cause carried by an argument, when the padding that keeps the size would
    have made this op succeed (so naming it is right, and its quick fix removes the error)."""
    if rerun is None or err.code not in CAUSE_CODES:
        return None
    for t in _tensors_in(args):
        cause = t.cause
        if cause is None or cause.kept_shape is None:
            continue
        kept = _kept_variant(t, cause, cause.kept_shape)
        if kept is None:
            continue
        try:
            again = rerun(_replace(args, t, kept))
        except Exception:
            continue
        if again is not None and not isinstance(again, ShapeError):
            return cause
    return None


def _tensors_in(args):
    for a in args:
        if type(a) is Tensor:
            yield a
        elif type(a) in (TupleVal, ListVal):
            yield from _tensors_in(a.items)


def _replace(args, old, new):
    out = []
    for a in args:
        if a is old:
            out.append(new)
        elif type(a) is TupleVal:
            out.append(TupleVal(tuple(_replace(a.items, old, new)), a.size))
        elif type(a) is ListVal:
            out.append(ListVal(_replace(a.items, old, new)))
        else:
            out.append(a)
    return tuple(out) if isinstance(args, tuple) else out


def _kept_variant(t, cause, kept_shape):
    """``t`` as it would be with the size-keeping padding: the kept shape itself, or for a
    flattened ``[N, F]`` tensor, ``F`` scaled by the spatial sizes' ratio."""
    if t.shape == cause.shape:
        return Tensor(kept_shape, t.dtype)
    if t.shape is None or len(t.shape) != 2 or cause.shape is None or \
            len(cause.shape) <= 2 or len(kept_shape) != len(cause.shape):
        return None
    now = D.prod(cause.shape[2:])
    kept = D.prod(kept_shape[2:])
    features = D.divide_exact(D.mul(t.shape[-1], kept), now) if now else None
    if features is None:
        return None
    return Tensor(t.shape[:-1] + (features,), t.dtype)


SAMPLE_FACTORIES = {"randn", "rand", "zeros", "ones", "empty", "full", "randint", "tensor",
                    "arange", "randn_like", "rand_like", "zeros_like", "ones_like", "eye",
                    "as_tensor", "linspace"}
