"""The abstract interpreter: walks a file's syntax tree once, evaluating every expression to an
abstract value (``values.py``), and records what it learns in a :class:`~.recorder.Recorder`.

One dispatcher (node class -> handler, as pyflakes does), one scope chain per call.  Module-level
code runs in order (``if __name__ == "__main__":`` included, since the file is the program);
calls into user functions, classes and ``nn.Module`` instances are followed with the caller's
values; torch calls go to the op rules (``rules/``).  Nothing is executed.

What the analysis cannot decide it does not guess: an ``if`` on an unknown condition runs both
branches and joins what they bind, a loop over an unknown iterable runs its body once with
unknown targets, and errors found on such paths are reported as warnings.
"""
from __future__ import annotations

import ast
import operator
from typing import Dict, List, Optional

from . import dims as D
from .errors import ShapeError
from .recorder import Recorder
from .report import Loc
from .rules import FUNCTIONS, LAYERS
from .rules import tensor_basics
from .rules.broadcast import inplace_result
from .rules.call import Call, as_int, as_python, UNKNOWN
from .rules.indexing import getitem
from .rules import layout
from .source import Source, annotation_shape
from .values import (BoundMethod, Cause, Const, Container, DictVal, Instance, Layer, ListVal,
                     SliceVal, Tensor, TorchRef, TupleVal, Unknown, Value, join, module_path,
                     set_training)

MAX_DEPTH = 40          # nested user calls
MAX_UNROLL = 256        # loop iterations followed one by one
MAX_WORK = 400_000      # evaluation steps per analysis (a guard against pathological input)

# Where torch names live, for ``import torch.nn as nn`` and friends.
KNOWN_ROOTS = {"torch", "einops", "jaxtyping", "torchtyping", "collections", "math", "typing",
               "numpy", "functools", "itertools", "operator", "torchvision"}
ALIASES = {
    "torch.nn.modules": "torch.nn", "torch.nn.modules.conv": "torch.nn",
    "torch.nn.modules.linear": "torch.nn", "torch.nn.modules.pooling": "torch.nn",
    "torch.nn.modules.activation": "torch.nn", "torch.nn.modules.batchnorm": "torch.nn",
    "torch.nn.modules.container": "torch.nn", "torch.functional": "torch",
    "torch.nn.parameter": "torch.nn", "torch.Tensor": "Tensor", "torch.tensor.Tensor": "Tensor",
    "einops.layers.torch": "einops.layers",
}
CONTAINERS = {"torch.nn.Sequential": "Sequential", "torch.nn.ModuleList": "ModuleList",
              "torch.nn.ModuleDict": "ModuleDict", "torch.nn.ParameterList": "ModuleList",
              "torch.nn.ParameterDict": "ModuleDict"}
MODULE_BASES = {"torch.nn.Module", "torch.nn.modules.module.Module", "pytorch_lightning.LightningModule",
                "lightning.LightningModule", "lightning.pytorch.LightningModule"}
BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv",
          ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.Pow: "pow", ast.BitAnd: "and_",
          ast.BitOr: "or_", ast.BitXor: "xor", ast.LShift: "lshift", ast.RShift: "rshift",
          ast.MatMult: "matmul"}
CMPOPS = {ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge", ast.Eq: "eq", ast.NotEq: "ne"}
PY_CMP = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
          ast.Eq: operator.eq, ast.NotEq: operator.ne}

RETURN, BREAK, CONTINUE = "return", "break", "continue"


class TooMuchWork(Exception):
    pass


# --------------------------------------------------------------------------- program structure

class ModuleEnv:
    """A file being interpreted: its source, tree, globals and shape comments."""

    def __init__(self, src: Source, tree: ast.Module, name: str, comments: dict,
                 is_main: bool):
        self.src = src
        self.tree = tree
        self.name = name
        self.comments = comments
        self.globals: Dict[str, Value] = {"__name__": Const(name)}
        self.is_main = is_main
        self.classes: List["ClassInfo"] = []


class ClassInfo:
    """A class defined by the user."""

    def __init__(self, node: ast.ClassDef, env: ModuleEnv, bases: list):
        self.node = node
        self.name = node.name
        self.env = env
        self.bases = bases                    # Values: ClassRef of user classes, TorchRefs
        self.methods: Dict[str, ast.FunctionDef] = {}
        self.attrs: Dict[str, Value] = {}
        self.forward_called = False
        self.signature = None                 # first (inputs, outputs, source)
        self.fields: list = []                # annotated class attributes, in order
        names = {(ast.unparse(d.func) if isinstance(d, ast.Call) else ast.unparse(d))
                 .rsplit(".", 1)[-1] for d in node.decorator_list}
        self.record_like = bool(names & RECORD_DECORATORS) or any(
            isinstance(b, TorchRef) and b.qualname.rsplit(".", 1)[-1] in RECORD_BASES
            for b in bases)

    def mro(self):
        out = [self]
        for b in self.bases:
            if isinstance(b, ClassRef):
                for c in b.info.mro():
                    if c not in out:
                        out.append(c)
        return out

    def method(self, name):
        for c in self.mro():
            if name in c.methods:
                return c, c.methods[name]
        return None, None

    @property
    def torch_base(self) -> Optional[str]:
        """The torch.nn class this class extends, when it extends a layer or a container
        (``class Block(nn.Sequential)``, ``class MyConv(nn.Conv2d)``); None otherwise."""
        for c in self.mro():
            for b in c.bases:
                if isinstance(b, TorchRef) and b.qualname.startswith("torch.nn.") and (
                        b.qualname in CONTAINERS or b.qualname[9:] in LAYERS):
                    return b.qualname
        return None

    @property
    def is_module(self) -> bool:
        for b in self.bases:
            if isinstance(b, TorchRef) and (b.qualname in MODULE_BASES or
                                            b.qualname.startswith("torch.nn.")):
                return True
            if isinstance(b, ClassRef) and b.info.is_module:
                return True
        return False


class ClassRef(Value):
    __slots__ = ("info",)

    def __init__(self, info: ClassInfo):
        self.info = info


class Function(Value):
    """A user function or method: its node, the env it was defined in, its closure frame and
    defaults evaluated at definition time (as Python does)."""

    __slots__ = ("node", "env", "closure", "defaults", "kw_defaults", "owner")

    def __init__(self, node, env, closure, defaults, kw_defaults, owner=None):
        self.node = node
        self.env = env
        self.closure = closure
        self.defaults = defaults
        self.kw_defaults = kw_defaults
        self.owner = owner


class BoundFunction(Value):
    __slots__ = ("obj", "func", "cls")

    def __init__(self, obj, func, cls=None):
        self.obj = obj
        self.func = func
        self.cls = cls


class SuperRef(Value):
    __slots__ = ("obj", "after")

    def __init__(self, obj, after):
        self.obj = obj
        self.after = after       # the ClassInfo whose method called super()


class Builtin(Value):
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


class UserModuleRef(Value):
    """An imported workspace module (``import mymodels``)."""

    __slots__ = ("env",)

    def __init__(self, env):
        self.env = env


class Frame:
    __slots__ = ("vars", "env", "parent", "returns", "func", "cls", "self_obj")

    def __init__(self, env: ModuleEnv, parent: Optional["Frame"] = None, func=None, cls=None,
                 self_obj=None):
        self.vars: Dict[str, Value] = {}
        self.env = env
        self.parent = parent
        self.returns: List[Value] = []
        self.func = func
        self.cls = cls
        self.self_obj = self_obj


BUILTIN_NAMES = ("range", "len", "int", "float", "bool", "str", "list", "tuple", "dict", "set",
                 "zip", "enumerate", "reversed", "sorted", "min", "max", "abs", "sum", "round",
                 "isinstance", "super", "print", "getattr", "setattr", "hasattr", "divmod", "any",
                 "all", "iter", "next", "map", "callable", "type", "id", "repr", "format", "hash",
                 "issubclass", "vars", "open", "input", "object", "pow", "slice", "frozenset",
                 "NotImplementedError", "ValueError", "RuntimeError", "TypeError", "Exception",
                 "AssertionError", "KeyError", "IndexError")


BUILTINS = {n: Builtin(n) for n in BUILTIN_NAMES}


# --------------------------------------------------------------------------- the interpreter

class Interpreter:
    """Evaluates files.  ``resolver(module, from_path, level)`` returns (path, text) of a
    workspace module or None; files it reads are listed in ``self.dependencies``."""

    def __init__(self, recorder: Recorder, resolver=None):
        self.rec = recorder
        self.resolver = resolver
        self.depth = 0
        self.uncertain = 0              # > 0 inside branches the analysis cannot decide
        self.work = 0
        self.call_sites: List[tuple] = []   # (node, env) of user calls in progress
        self.memo: Dict[tuple, Value] = {}
        self.active: set = set()        # functions on the call stack (recursion guard)
        self.modules: Dict[str, ModuleEnv] = {}
        self.dependencies: List[str] = []
        self.inferring = None           # InputInference while a module's input is inferred
        self.call_env = None            # env of the call expression being evaluated
        self.grad_enabled = True        # torch.is_grad_enabled(); None when not known
        self.builtins = BUILTINS
        self._stmt = {}
        self._expr = {}

    # ----------------------------------------------------------------- entry points

    def run_module(self, env: ModuleEnv):
        frame = Frame(env)
        frame.vars = env.globals
        try:
            self.exec_block(env.tree.body, frame)
        except TooMuchWork:
            self.rec.note("analysis stopped: file too large to analyse in full")
        return frame

    # ----------------------------------------------------------------- statements

    def exec_block(self, stmts, frame):
        for stmt in stmts:
            flow = self.exec_stmt(stmt, frame)
            if flow is not None:
                return flow
        return None

    def exec_stmt(self, node, frame):
        self.work += 1
        if self.work > MAX_WORK:
            raise TooMuchWork()
        handler = self._stmt.get(node.__class__)
        if handler is None:
            handler = getattr(self, "stmt_" + node.__class__.__name__, self.stmt_other)
            self._stmt[node.__class__] = handler
        try:
            return handler(node, frame)
        except (TooMuchWork, RecursionError):
            raise
        except Exception as exc:  # an analysis bug must never take the report down
            self.rec.internal_error(node, frame.env, exc)
            return None

    def stmt_other(self, node, frame):
        return None

    def stmt_Expr(self, node, frame):
        self.eval(node.value, frame)

    def stmt_Pass(self, node, frame):
        return None

    def stmt_Assign(self, node, frame):
        value = self.eval(node.value, frame)
        value = self.apply_assignment_comment(node, value, frame)
        for target in node.targets:
            self.bind(target, value, frame)

    def stmt_AnnAssign(self, node, frame):
        declared = self.annotation_tensor(node.annotation, frame.env)
        if node.value is None:
            if declared is not None and isinstance(node.target, ast.Name):
                self.bind(node.target, declared, frame)
            return
        value = self.eval(node.value, frame)
        if declared is not None:
            value = self.check_declared(value, declared, node.annotation, frame, "annotation")
        value = self.apply_assignment_comment(node, value, frame)
        self.bind(node.target, value, frame)

    def stmt_AugAssign(self, node, frame):
        current = self.eval(node.target, frame) if not isinstance(node.target, ast.Name) else \
            self.lookup(node.target.id, frame)
        other = self.eval(node.value, frame)
        if type(current) is Tensor:
            result = inplace_result(current, other)
            result = self.rule_result(result, node, frame, "operator.i" + BINOPS.get(
                type(node.op), "op"), (current, other), rerun=lambda a: inplace_result(*a))
        else:
            result = self.binop(node.op, current, other, node, frame)
        self.bind(node.target, result, frame)

    def stmt_Return(self, node, frame):
        value = self.eval(node.value, frame) if node.value is not None else Const(None)
        frame.returns.append(value)
        return RETURN

    def stmt_Break(self, node, frame):
        return BREAK

    def stmt_Continue(self, node, frame):
        return CONTINUE

    def stmt_Delete(self, node, frame):
        for t in node.targets:
            if isinstance(t, ast.Name):
                frame.vars.pop(t.id, None)

    def stmt_Global(self, node, frame):
        return None

    def stmt_Import(self, node, frame):
        for alias in node.names:
            name = alias.name
            root = name.split(".")[0]
            if alias.asname:
                frame.vars[alias.asname] = self.import_value(name, frame.env)
            else:
                frame.vars[root] = self.import_value(root, frame.env)

    def stmt_ImportFrom(self, node, frame):
        module = node.module or ""
        if node.level == 0 and module.split(".")[0] in KNOWN_ROOTS:
            base = ALIASES.get(module, module)
            for alias in node.names:
                if alias.name == "*":
                    continue
                q = normalize(base + "." + alias.name)
                frame.vars[alias.asname or alias.name] = TorchRef(q)
            return
        env = self.load_user_module(module, frame.env, node.level)
        for alias in node.names:
            if alias.name == "*":
                if env is not None:
                    for k, v in env.globals.items():
                        if not k.startswith("_"):
                            frame.vars[k] = v
                continue
            if env is not None and alias.name in env.globals:
                value = env.globals[alias.name]
            elif env is not None:
                sub = self.load_user_module(module + "." + alias.name if module else alias.name,
                                            frame.env, node.level)
                value = UserModuleRef(sub) if sub is not None else \
                    Unknown("%s is not defined in %s" % (alias.name, module))
            else:
                value = Unknown("module %s could not be resolved" % ("." * node.level + module))
            frame.vars[alias.asname or alias.name] = value

    def import_value(self, name, env):
        if name.split(".")[0] in KNOWN_ROOTS:
            return TorchRef(normalize(name))
        loaded = self.load_user_module(name, env, 0)
        if loaded is not None:
            return UserModuleRef(loaded)
        return Unknown("module %s is not in the workspace" % name)

    def load_user_module(self, module, env, level) -> Optional[ModuleEnv]:
        if self.resolver is None:
            return None
        found = self.resolver(module, env.src.path, level)
        if found is None:
            return None
        path, text = found
        if path in self.modules:
            return self.modules[path]
        from .source import find_shape_comments, parse
        tree, _ = parse(text, path)
        if tree is None:
            return None
        src = Source(text, path)
        sub = ModuleEnv(src, tree, module or path, find_shape_comments(src), is_main=False)
        self.modules[path] = sub
        self.dependencies.append(path)
        saved = self.uncertain
        try:
            self.run_module(sub)
        finally:
            self.uncertain = saved
        return sub

    def stmt_FunctionDef(self, node, frame):
        frame.vars[node.name] = self.make_function(node, frame)

    stmt_AsyncFunctionDef = stmt_FunctionDef

    def make_function(self, node, frame, owner=None):
        args = node.args
        defaults = [self.eval(d, frame) for d in args.defaults]
        kw_defaults = [self.eval(d, frame) if d is not None else None for d in args.kw_defaults]
        closure = frame if frame.func is not None else None
        return Function(node, frame.env, closure, defaults, kw_defaults, owner)

    def stmt_ClassDef(self, node, frame):
        bases = [self.eval(b, frame) for b in node.bases]
        info = ClassInfo(node, frame.env, bases)
        frame.vars[node.name] = ClassRef(info)
        frame.env.classes.append(info)
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                info.methods[stmt.name] = stmt
                # defaults of methods evaluated in the enclosing scope
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                saved = frame.vars
                try:
                    value = self.eval(stmt.value, frame) if stmt.value is not None else None
                finally:
                    frame.vars = saved
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for t in targets:
                    if isinstance(t, ast.Name) and value is not None:
                        info.attrs[t.id] = value
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and \
                        "ClassVar" not in ast.unparse(stmt.annotation):
                    info.fields.append((stmt.target.id, value))
        info.method_values = {}
        for name, fnode in info.methods.items():
            info.method_values[name] = self.make_function(fnode, frame, owner=info)

    def stmt_If(self, node, frame):
        cond = self.truth(self.eval(node.test, frame))
        if cond is True:
            return self.exec_block(node.body, frame)
        if cond is False:
            return self.exec_block(node.orelse, frame)
        return self.fork(frame, node.body, node.orelse)

    def fork(self, frame, body, orelse):
        """Run two branches the analysis cannot choose between, then join their bindings."""
        before = dict(frame.vars)
        self.uncertain += 1
        try:
            flow_a = self.exec_block(body, frame)
            vars_a = frame.vars
            frame.vars = dict(before)
            flow_b = self.exec_block(orelse, frame) if orelse else None
            vars_b = frame.vars
        finally:
            self.uncertain -= 1
        if flow_a is not None and flow_b is not None:
            frame.vars = vars_a
            return flow_a if flow_a == flow_b else None
        if flow_a is not None:
            frame.vars = vars_b
            return None
        if flow_b is not None:
            frame.vars = vars_a
            return None
        merged = {}
        for name in vars_a.keys() | vars_b.keys():
            a, b = vars_a.get(name), vars_b.get(name)
            if a is None or b is None:
                merged[name] = a if b is None else b
            else:
                merged[name] = join(a, b)
        frame.vars = merged
        return None

    def stmt_For(self, node, frame):
        items = self.iterate(self.eval(node.iter, frame))
        if items is None or len(items) > MAX_UNROLL:
            self.uncertain += 1
            try:
                self.bind(node.target, Unknown("loop variable"), frame)
                self.fork(frame, node.body, [])
            finally:
                self.uncertain -= 1
            return None
        previous = None
        for i, item in enumerate(items):
            self.bind(node.target, item, frame)
            flow = self.exec_block(node.body, frame)
            if flow == RETURN:
                return flow
            if flow == BREAK:
                return None
            # A loop that reaches a fixed point (same shapes bound as last time) is done.
            state = self.loop_state(frame, item)
            if i >= 2 and state == previous:
                break
            previous = state
        return self.exec_block(node.orelse, frame)

    stmt_AsyncFor = stmt_For

    def loop_state(self, frame, item):
        out = []
        for k, v in frame.vars.items():
            if type(v) is Tensor:
                out.append((k, v.shape))
            elif type(v) is Const:
                out.append((k, v.value))
            else:
                out.append((k, id(v)))
        return (type(item).__name__, tuple(out))

    def stmt_While(self, node, frame):
        cond = self.truth(self.eval(node.test, frame))
        if cond is False:
            return self.exec_block(node.orelse, frame)
        self.uncertain += 1
        try:
            self.fork(frame, node.body, [])
        finally:
            self.uncertain -= 1
        return None

    def stmt_With(self, node, frame):
        grad = self.grad_enabled
        for item in node.items:
            value = self.eval(item.context_expr, frame)
            if item.optional_vars is not None:
                self.bind(item.optional_vars, Unknown("context manager value")
                          if not isinstance(value, Tensor) else value, frame)
            mode = grad_mode_of(item.context_expr, value)
            if mode is not NO_CHANGE:
                grad = mode
        saved = self.grad_enabled
        self.grad_enabled = grad
        try:
            return self.exec_block(node.body, frame)
        finally:
            self.grad_enabled = saved

    stmt_AsyncWith = stmt_With

    def stmt_Try(self, node, frame):
        flow = self.exec_block(node.body, frame)
        if node.handlers:
            self.uncertain += 1
            try:
                for h in node.handlers:
                    if h.name:
                        frame.vars[h.name] = Unknown("exception")
                    self.fork(frame, h.body, [])
            finally:
                self.uncertain -= 1
        if flow is None and node.orelse:
            flow = self.exec_block(node.orelse, frame)
        if node.finalbody:
            self.exec_block(node.finalbody, frame)
        return flow

    stmt_TryStar = stmt_Try

    def stmt_Assert(self, node, frame):
        self.eval(node.test, frame)

    def stmt_Raise(self, node, frame):
        return RETURN if self.uncertain == 0 and frame.func is not None else None

    # ----------------------------------------------------------------- binding

    def bind(self, target, value, frame):
        kind = target.__class__
        if kind is ast.Name:
            frame.vars[target.id] = value
            if type(value) is Tensor:
                self.rec.name_bound(target.id, target, value, frame.env, self.uncertain)
            elif type(value) is Layer and frame.func is None and value.name is None:
                value.name = target.id      # a layer held by a module-level variable
                self.rec.layer_ref(target, value, frame.env)
            return
        if kind is ast.Attribute:
            obj = self.eval(target.value, frame)
            self.set_attribute(obj, target.attr, value, target, frame)
            return
        if kind in (ast.Tuple, ast.List):
            self.unpack(target.elts, value, frame)
            return
        if kind is ast.Subscript:
            obj = self.eval(target.value, frame)
            key = self.eval(target.slice, frame)
            if type(obj) is DictVal:
                k = as_python(key)
                if k is not UNKNOWN:
                    obj.items[k] = value
            elif type(obj) is ListVal:
                i = as_int(key)
                if type(i) is int and -len(obj.items) <= i < len(obj.items):
                    obj.items[i] = value
            return
        if kind is ast.Starred:
            self.bind(target.value, value, frame)

    def unpack(self, targets, value, frame):
        items = self.iterate(value)
        star = [i for i, t in enumerate(targets) if isinstance(t, ast.Starred)]
        if items is not None and not star and len(items) != len(targets):
            items = None
        if items is None:
            for t in targets:
                self.bind(t, Unknown("unpacked from a value the analysis cannot see"), frame)
            return
        if star:
            s = star[0]
            after = len(targets) - s - 1
            if len(items) < len(targets) - 1:
                for t in targets:
                    self.bind(t, Unknown("unpacking"), frame)
                return
            head, mid, tail = items[:s], items[s:len(items) - after], items[len(items) - after:]
            for t, v in zip(targets[:s], head):
                self.bind(t, v, frame)
            self.bind(targets[s].value, ListVal(list(mid)), frame)
            for t, v in zip(targets[s + 1:], tail):
                self.bind(t, v, frame)
            return
        for t, v in zip(targets, items):
            self.bind(t, v, frame)

    def set_attribute(self, obj, attr, value, target, frame):
        if type(obj) is Instance:
            obj.attrs[attr] = value
            if type(value) in (Layer, Container, Instance):
                self.name_module(value, attr, obj)
                if type(value) is Layer:
                    self.rec.layer_ref(target, value, frame.env)
        elif isinstance(obj, ClassRef):
            obj.info.attrs[attr] = value

    def name_module(self, value, name, parent=None):
        """Record where a module is stored (its key and parent), the first time it is."""
        if value.name is not None:
            return
        value.name = name
        value.parent = parent
        if type(value) is Container:
            children = value.items.items() if isinstance(value.items, dict) else \
                enumerate(value.items)
            for key, child in children:
                if type(child) in (Layer, Container, Instance):
                    self.name_module(child, key, value)

    # ----------------------------------------------------------------- expressions

    def eval(self, node, frame) -> Value:
        handler = self._expr.get(node.__class__)
        if handler is None:
            handler = getattr(self, "expr_" + node.__class__.__name__, self.expr_other)
            self._expr[node.__class__] = handler
        value = handler(node, frame)
        if type(value) is Tensor:
            self.rec.expr_shape(node, value, frame.env)
        return value

    def expr_other(self, node, frame):
        return Unknown("%s expressions are not modelled" % node.__class__.__name__)

    def expr_Constant(self, node, frame):
        return Const(node.value)

    def expr_Name(self, node, frame):
        return self.lookup(node.id, frame)

    def lookup(self, name, frame) -> Value:
        f = frame
        while f is not None:
            v = f.vars.get(name)
            if v is not None:
                return v
            f = f.parent
        v = frame.env.globals.get(name)
        if v is not None:
            return v
        v = self.builtins.get(name)
        if v is not None:
            return v
        return Unknown("%s is not defined here" % name)

    def expr_Attribute(self, node, frame):
        obj = self.eval(node.value, frame)
        value = self.get_attribute(obj, node.attr, node, frame)
        if type(value) is Layer:
            self.rec.layer_ref(node, value, frame.env)
        return value

    def get_attribute(self, obj, attr, node=None, frame=None) -> Value:
        kind = type(obj)
        if kind is TorchRef:
            return TorchRef(normalize(obj.qualname + "." + attr))
        if kind is Tensor:
            value = tensor_basics.attribute(obj, attr)
            if value is None:
                return BoundMethod(obj, attr)
            if isinstance(value, ShapeError):
                return self.report_error(value, node, frame, (obj,))
            if attr in ("T", "mT") and type(value) is Tensor:
                value = with_strides(value, layout.after(attr, obj, None, value))
            return value
        if kind is Instance:
            if attr in obj.attrs:
                return obj.attrs[attr]
            if attr == "training":
                return Const(obj.training) if obj.training is not None else \
                    Unknown("train/eval mode not known")
            for c in obj.cls.mro():
                if attr in c.method_values:
                    fn = c.method_values[attr]
                    if any(isinstance(d, ast.Name) and d.id in ("property", "cached_property")
                           for d in fn.node.decorator_list):
                        return self.call_function(fn, (obj,), {}, node, frame)
                    if any(isinstance(d, ast.Name) and d.id == "staticmethod"
                           for d in fn.node.decorator_list):
                        return fn
                    return BoundFunction(obj, fn, c)
                if attr in c.attrs and not obj.opaque:
                    return c.attrs[attr]
            base = obj.attrs.get(SELF_KEY)
            if base is not None:
                return self.get_attribute(base, attr, node, frame)
            if obj.cls.is_module and attr in ("parameters", "children", "modules", "eval",
                                              "train", "to", "cuda", "cpu", "apply",
                                              "named_parameters", "state_dict", "forward",
                                              "register_buffer", "add_module", "zero_grad",
                                              "requires_grad_", "half", "float", "double"):
                return BoundMethod(obj, attr)
            return Unknown("%s has no attribute %s the analysis can see" % (obj.cls.name, attr))
        if kind is ClassRef:
            for c in obj.info.mro():
                if attr in c.attrs:
                    return c.attrs[attr]
                if attr in getattr(c, "method_values", {}):
                    return c.method_values[attr]
            return Unknown("class attribute %s" % attr)
        if kind is Layer:
            rule = LAYERS.get(obj.kind)
            value = rule.attribute(obj.spec, attr) if rule is not None and obj.spec is not None \
                else None
            if value is not None:
                return value
            return BoundMethod(obj, attr)
        if kind in (Container, ListVal, DictVal):
            return BoundMethod(obj, attr)
        if kind is UserModuleRef:
            v = obj.env.globals.get(attr)
            if v is not None:
                return v
            sub = self.load_user_module(obj.env.name + "." + attr, obj.env, 0)
            return UserModuleRef(sub) if sub is not None else Unknown("%s not found" % attr)
        if kind is SuperRef:
            mro = obj.obj.cls.mro() if type(obj.obj) is Instance else []
            if obj.after in mro:
                for c in mro[mro.index(obj.after) + 1:]:
                    if attr in c.method_values:
                        return BoundFunction(obj.obj, c.method_values[attr], c)
            if type(obj.obj) is Instance and obj.obj.cls.torch_base is not None:
                if attr == "__init__":
                    return BoundMethod(obj.obj, "__torch_init__")
                base = obj.obj.attrs.get(SELF_KEY)
                if base is not None:
                    return self.get_attribute(base, attr, node, frame)
            return Builtin("noop")
        if kind is Const and isinstance(obj.value, str) and attr == "format":
            return Builtin("str.format")
        if kind is TupleVal and obj.size and attr == "numel":
            return BoundMethod(obj, attr)
        if kind is TupleVal and len(obj.items) == 2 and attr in ("values", "indices"):
            # torch's (values, indices) named tuples: x.max(dim=1), sort, topk, kthvalue...
            return obj.items[0 if attr == "values" else 1]
        return Unknown("attribute %s of a value the analysis cannot see" % attr)

    def expr_Subscript(self, node, frame):
        obj = self.eval(node.value, frame)
        key = self.eval(node.slice, frame)
        return self.subscript(obj, key, node, frame)

    def subscript(self, obj, key, node, frame):
        if type(obj) is Instance and SELF_KEY in obj.attrs:
            obj = obj.attrs[SELF_KEY]
        kind = type(obj)
        if kind is Tensor:
            result = getitem(obj, key)
            if result is None:
                return Tensor(None, obj.dtype)
            result = self.rule_result(result, node, frame, "Tensor.__getitem__", (obj,))
            if type(result) is Tensor:
                result = with_strides(result, layout.index_strides(obj, key,
                                                                                  result))
            return result
        if kind in (TupleVal, ListVal):
            if type(key) is SliceVal:
                lo, hi, st = (as_python(key.start), as_python(key.stop), as_python(key.step))
                if UNKNOWN in (lo, hi, st) or not all(v is None or type(v) is int
                                                      for v in (lo, hi, st)):
                    return Unknown("slice with unknown bounds")
                items = obj.items[slice(lo, hi, st)]
                return TupleVal(tuple(items), obj.size) if kind is TupleVal else ListVal(list(items))
            i = as_int(key)
            if type(i) is int and -len(obj.items) <= i < len(obj.items):
                return obj.items[i]
            return Unknown("index not known")
        if kind is Container:
            if isinstance(obj.items, dict):
                k = as_python(key)
                return obj.items.get(k, Unknown("no module %r" % (k,))) if k is not UNKNOWN \
                    else Unknown("key not known")
            if type(key) is SliceVal:
                lo, hi, st = (as_python(key.start), as_python(key.stop), as_python(key.step))
                if UNKNOWN in (lo, hi, st):
                    return Unknown("slice with unknown bounds")
                return Container(obj.kind, list(obj.items[slice(lo, hi, st)]), obj.loc)
            i = as_int(key)
            if type(i) is int and -len(obj.items) <= i < len(obj.items):
                return obj.items[i]
            return Unknown("index not known")
        if kind is DictVal:
            k = as_python(key)
            if k is not UNKNOWN and k in obj.items:
                return obj.items[k]
            return Unknown("dict entry not known")
        if kind is Const and isinstance(obj.value, (str, bytes)):
            return Unknown("string indexing")
        return Unknown("subscript of a value the analysis cannot see")

    def expr_Slice(self, node, frame):
        def part(n):
            return self.eval(n, frame) if n is not None else Const(None)
        return SliceVal(part(node.lower), part(node.upper), part(node.step))

    def expr_Tuple(self, node, frame):
        return TupleVal(tuple(self.eval_elts(node.elts, frame)))

    def expr_List(self, node, frame):
        return ListVal(self.eval_elts(node.elts, frame))

    def expr_Set(self, node, frame):
        return Unknown("set")

    def eval_elts(self, elts, frame):
        out = []
        for e in elts:
            if isinstance(e, ast.Starred):
                items = self.iterate(self.eval(e.value, frame))
                if items is None:
                    return [Unknown("starred")]
                out.extend(items)
            else:
                out.append(self.eval(e, frame))
        return out

    def expr_Dict(self, node, frame):
        items = {}
        for k, v in zip(node.keys, node.values):
            if k is None:
                inner = self.eval(v, frame)
                if type(inner) is DictVal:
                    items.update(inner.items)
                continue
            key = as_python(self.eval(k, frame))
            val = self.eval(v, frame)
            if key is not UNKNOWN:
                try:
                    items[key] = val
                except TypeError:
                    pass
        return DictVal(items)

    def expr_JoinedStr(self, node, frame):
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            elif isinstance(v, ast.FormattedValue):
                inner = self.eval(v.value, frame)
                if type(inner) is Const and v.format_spec is None and v.conversion == -1:
                    parts.append(str(inner.value))
                else:
                    return Unknown("formatted string")
        return Const("".join(parts))

    def expr_NamedExpr(self, node, frame):
        value = self.eval(node.value, frame)
        self.bind(node.target, value, frame)
        return value

    def expr_IfExp(self, node, frame):
        cond = self.truth(self.eval(node.test, frame))
        if cond is True:
            return self.eval(node.body, frame)
        if cond is False:
            return self.eval(node.orelse, frame)
        self.uncertain += 1
        try:
            return join(self.eval(node.body, frame), self.eval(node.orelse, frame))
        finally:
            self.uncertain -= 1

    def expr_Lambda(self, node, frame):
        return Unknown("lambda")

    def expr_Await(self, node, frame):
        return self.eval(node.value, frame)

    def expr_Starred(self, node, frame):
        return self.eval(node.value, frame)

    def expr_BoolOp(self, node, frame):
        values = [self.eval(v, frame) for v in node.values]
        truths = [self.truth(v) for v in values]
        if isinstance(node.op, ast.And):
            for v, t in zip(values, truths):
                if t is False:
                    return v
                if t is None:
                    return Unknown("condition")
            return values[-1]
        for v, t in zip(values, truths):
            if t is True:
                return v
            if t is None:
                return Unknown("condition")
        return values[-1]

    def expr_UnaryOp(self, node, frame):
        v = self.eval(node.operand, frame)
        if isinstance(node.op, ast.Not):
            t = self.truth(v)
            return Const(not t) if t is not None else Unknown("condition")
        if type(v) is Const:
            x = v.value
            if isinstance(node.op, ast.USub) and (isinstance(x, (int, float)) or
                                                  type(x) is D.Sym):
                return Const(-x if type(x) is not D.Sym else D.neg(x))
            if isinstance(node.op, ast.UAdd):
                return v
            if isinstance(node.op, ast.Invert) and type(x) is int:
                return Const(~x)
        if type(v) is Tensor:
            return with_strides(v.with_shape(v.shape), layout.pointwise(v))
        return Unknown("unary operation")

    def expr_BinOp(self, node, frame):
        left = self.eval(node.left, frame)
        right = self.eval(node.right, frame)
        return self.binop(node.op, left, right, node, frame)

    def binop(self, op, left, right, node, frame):
        name = BINOPS.get(type(op))
        if type(left) is Tensor or type(right) is Tensor:
            rule = FUNCTIONS.get("operator." + name)
            if rule is None:
                return Tensor(None)
            q = "operator." + name
            result = rule(Call(q, (left, right), {}))
            result = self.rule_result(result, node, frame, q, (left, right),
                                      rerun=lambda a: rule(Call(q, a, {})))
            scalar_op = (type(left) is Tensor) != (type(right) is Tensor) and \
                Const in (type(left), type(right))
            if scalar_op and type(result) is Tensor:
                t = left if type(left) is Tensor else right
                result = with_strides(result, layout.pointwise(t))
            return result
        if type(left) is Const and type(right) is Const:
            return const_binop(name, left.value, right.value)
        if name == "add" and type(left) is type(right) and type(left) in (TupleVal, ListVal):
            if type(left) is TupleVal:
                return TupleVal(left.items + right.items, left.size and right.size)
            return ListVal(left.items + right.items)
        if name == "mul" and type(left) in (TupleVal, ListVal) and type(right) is Const and \
                type(right.value) is int and 0 <= right.value <= 4096:
            if type(left) is TupleVal:
                return TupleVal(left.items * right.value)
            return ListVal(left.items * right.value)
        if name == "mul" and type(right) in (TupleVal, ListVal) and type(left) is Const:
            return self.binop(op, right, left, node, frame)
        return Unknown("operation on values the analysis cannot see")

    def expr_Compare(self, node, frame):
        left = self.eval(node.left, frame)
        result: Optional[bool] = True
        for op, comp in zip(node.ops, node.comparators):
            right = self.eval(comp, frame)
            if type(left) is Tensor or type(right) is Tensor:
                if len(node.ops) == 1 and type(op) in CMPOPS:
                    name = "operator." + CMPOPS[type(op)]
                    out = FUNCTIONS[name](Call(name, (left, right), {}))
                    return self.rule_result(out, node, frame, name, (left, right))
                return Unknown("comparison")
            r = compare(op, left, right)
            if r is None:
                return Unknown("comparison of values the analysis cannot see")
            if r is False:
                result = False
            left = right
        return Const(result)

    def expr_ListComp(self, node, frame):
        out = self.comprehension(node.generators, frame, lambda f: [self.eval(node.elt, f)])
        return ListVal(out) if out is not None else Unknown("comprehension")

    def expr_GeneratorExp(self, node, frame):
        return self.expr_ListComp(node, frame)

    def expr_SetComp(self, node, frame):
        return Unknown("set")

    def expr_DictComp(self, node, frame):
        pairs = self.comprehension(node.generators, frame,
                                   lambda f: [(self.eval(node.key, f), self.eval(node.value, f))])
        if pairs is None:
            return Unknown("comprehension")
        items = {}
        for k, v in pairs:
            key = as_python(k)
            if key is UNKNOWN:
                return Unknown("comprehension keys")
            items[key] = v
        return DictVal(items)

    def comprehension(self, generators, frame, produce):
        inner = Frame(frame.env, frame, frame.func, frame.cls, frame.self_obj)
        out = []

        def run(i):
            if i == len(generators):
                out.extend(produce(inner))
                return True
            gen = generators[i]
            items = self.iterate(self.eval(gen.iter, inner))
            if items is None or len(items) > MAX_UNROLL:
                return False
            for item in items:
                self.bind(gen.target, item, inner)
                ok = True
                for cond in gen.ifs:
                    t = self.truth(self.eval(cond, inner))
                    if t is None:
                        return False
                    ok = ok and t
                if ok and not run(i + 1):
                    return False
            return True

        return out if run(0) else None

    # ----------------------------------------------------------------- calls

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
        kind = type(func)
        if kind is TorchRef:
            return self.call_torch(func.qualname, args, kwargs, node, frame)
        if kind is BoundMethod:
            return self.call_method(func.obj, func.name, args, kwargs, node, frame)
        if kind is Layer:
            return self.call_layer(func, args, kwargs, node, frame)
        if kind is Container:
            return self.call_container(func, args, kwargs, node, frame)
        if kind is Instance:
            return self.call_instance(func, args, kwargs, node, frame)
        if kind is ClassRef:
            return self.instantiate(func.info, args, kwargs, node, frame)
        if kind is Function:
            return self.call_function(func, args, kwargs, node, frame)
        if kind is BoundFunction:
            if func.func.node.name == "forward" and type(func.obj) is Instance:
                return self.call_instance(func.obj, args, kwargs, node, frame)
            return self.call_function(func.func, (func.obj,) + args, kwargs, node, frame,
                                      cls=func.cls)
        if kind is Builtin:
            return self.call_builtin(func.name, args, kwargs, node, frame)
        return Unknown("call of a value the analysis cannot see")

    def call_torch(self, q, args, kwargs, node, frame):
        container = CONTAINERS.get(q)
        if container is not None:
            return self.make_container(container, args, kwargs, node, frame)
        if q == "collections.OrderedDict" or q == "typing.OrderedDict":
            return self.make_ordered_dict(args)
        if q == "torch.Size":
            items = self.iterate(args[0]) if args else []
            return TupleVal(tuple(items or ()), size=True) if items is not None else \
                Unknown("size")
        if q.startswith("math."):
            return math_call(q[5:], args)
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
            if q.startswith("Tensor."):
                return self.call_method(args[0], q[7:], args[1:], kwargs, node, frame) \
                    if args and type(args[0]) is Tensor else Unknown("%s is not modelled" % q)
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

    def make_container(self, kind, args, kwargs, node, frame):
        loc = Loc(frame.env.src.range(node), self.path_of(frame.env))
        if kind == "ModuleDict":
            src = args[0] if args else None
            items = {}
            if type(src) is DictVal:
                items = dict(src.items)
            elif src is not None:
                pairs = self.iterate(src)
                for p in pairs or []:
                    kv = self.iterate(p)
                    if kv and len(kv) == 2 and type(kv[0]) is Const:
                        items[kv[0].value] = kv[1]
            return Container(kind, items, loc)
        if kind == "Sequential" and len(args) == 1 and type(args[0]) is DictVal:
            # nn.Sequential(OrderedDict([...])): children named by their keys
            return Container(kind, dict(args[0].items), loc)
        if kind == "ModuleList":
            items = self.iterate(args[0]) if args else []
            return Container(kind, list(items) if items is not None else [], loc) \
                if items is not None else Unknown("ModuleList of unknown modules")
        return Container(kind, list(args), loc)

    def make_ordered_dict(self, args):
        items = {}
        if args:
            if type(args[0]) is DictVal:
                return DictVal(dict(args[0].items))
            for pair in self.iterate(args[0]) or []:
                kv = self.iterate(pair)
                if kv and len(kv) == 2:
                    key = as_python(kv[0])
                    if key is not UNKNOWN:
                        items[key] = kv[1]
        return DictVal(items)

    def call_method(self, obj, name, args, kwargs, node, frame):
        kind = type(obj)
        if name in ("eval", "train") and kind in (Layer, Instance, Container):
            mode = False if name == "eval" else True
            if name == "train" and (args or "mode" in kwargs):
                mode = self.truth(args[0] if args else kwargs["mode"])
            set_training(obj, None if self.uncertain else mode)
            return obj
        if kind is Tensor:
            q = "Tensor." + name
            rule = FUNCTIONS.get(q)
            if rule is None:
                return Unknown("tensor method %s is not modelled" % name)
            call = Call(q, (obj,) + args, kwargs)
            result = self.rule_result(rule(call), node, frame, q, (obj,) + args,
                                      rerun=lambda a: rule(Call(q, a, kwargs)))
            if name in layout.LAYOUT_METHODS and type(result) is Tensor:
                result = self.with_layout(name, obj, call, result, node, frame)
            elif q in layout.POINTWISE_FUNCTIONS and type(result) is Tensor:
                result = with_strides(result, layout.pointwise(obj))
            return result
        if kind is ListVal:
            return self.list_method(obj, name, args)
        if kind is DictVal:
            return self.dict_method(obj, name, args)
        if kind is Container:
            if name in ("append", "add_module", "extend", "insert") and isinstance(obj.items,
                                                                                    list):
                before = len(obj.items)
                if name == "append" and args:
                    obj.items.append(args[0])
                elif name == "extend" and args:
                    obj.items.extend(self.iterate(args[0]) or [])
                elif name == "insert" and len(args) == 2 and type(as_int(args[0])) is int:
                    obj.items.insert(as_int(args[0]), args[1])
                elif name == "add_module" and len(args) == 2:
                    obj.items.append(args[1])
                if obj.name is not None:     # children added after the container was stored
                    for i, child in enumerate(obj.items[before:], start=before):
                        if type(child) in (Layer, Container, Instance):
                            self.name_module(child, i, obj)
                return Const(None)
            if isinstance(obj.items, dict):
                if name in ("items", "keys", "values"):
                    return self.dict_method(DictVal(obj.items), name, args)
                if name == "__setitem__" and len(args) == 2:
                    obj.items[as_python(args[0])] = args[1]
            if name == "forward":
                return self.call_container(obj, args, kwargs, node, frame)
            return Unknown("container method %s" % name)
        if kind is Layer:
            if name == "forward":
                return self.call_layer(obj, args, kwargs, node, frame)
            if name in ("to", "cuda", "cpu", "float", "double", "half", "requires_grad_"):
                return obj
            return Unknown("layer method %s" % name)
        if kind is Instance:
            if name == "__torch_init__":
                return self.torch_init(obj, args, kwargs, node, frame)
            if SELF_KEY in obj.attrs and name in ("append", "extend", "insert", "add_module"):
                return self.call_method(obj.attrs[SELF_KEY], name, args, kwargs, node, frame)
            if name in ("to", "cuda", "cpu", "float", "double", "half", "requires_grad_", "apply",
                        "zero_grad"):
                return obj
            if name in ("register_buffer", "register_parameter") and len(args) >= 2 and \
                    type(args[0]) is Const:
                obj.attrs[args[0].value] = args[1]
                return Const(None)
            if name == "add_module" and len(args) == 2 and type(args[0]) is Const:
                obj.attrs[args[0].value] = args[1]
                if type(args[1]) in (Layer, Container, Instance):
                    self.name_module(args[1], args[0].value, obj)
                return Const(None)
            if name == "forward":
                return self.call_instance(obj, args, kwargs, node, frame)
            return Unknown("module method %s" % name)
        if kind is TupleVal and obj.size and name == "numel":
            return Const(D.prod(as_int(i) for i in obj.items) or Unknown("numel"))
        return Unknown("method %s" % name)

    def with_layout(self, name, x, call, out, node, frame):
        """Strides of a view-making op's result; a view that torch cannot make is an error."""
        if name == "view":
            err = layout.view_error(x, out)
            if err is not None:
                return self.report_error(err, node, frame, (x,), fixes=view_fix(node, frame))
        return with_strides(out, layout.after(name, x, call, out))

    def list_method(self, obj, name, args):
        items = obj.items
        if name == "append" and len(args) == 1:
            items.append(args[0])
        elif name == "extend" and len(args) == 1:
            more = self.iterate(args[0])
            if more is None:
                items.append(Unknown("extended with unknown items"))
            else:
                items.extend(more)
        elif name == "insert" and len(args) == 2 and type(as_int(args[0])) is int:
            items.insert(as_int(args[0]), args[1])
        elif name == "pop":
            if items:
                i = as_int(args[0]) if args else -1
                if type(i) is int and -len(items) <= i < len(items):
                    return items.pop(i)
            return Unknown("pop")
        elif name == "copy":
            return ListVal(list(items))
        elif name in ("reverse",):
            items.reverse()
        else:
            return Unknown("list method %s" % name)
        return Const(None)

    def dict_method(self, obj, name, args):
        if name == "items":
            return ListVal([TupleVal((Const(k), v)) for k, v in obj.items.items()])
        if name == "keys":
            return ListVal([Const(k) for k in obj.items])
        if name == "values":
            return ListVal(list(obj.items.values()))
        if name == "get" and args:
            key = as_python(args[0])
            if key is not UNKNOWN and key in obj.items:
                return obj.items[key]
            return args[1] if len(args) > 1 else Const(None)
        if name in ("update",) and args and type(args[0]) is DictVal:
            obj.items.update(args[0].items)
            return Const(None)
        return Unknown("dict method %s" % name)

    # ----------------------------------------------------------------- layers and modules

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
        key = (id(inst), tuple(signature_of(a) for a in args),
               tuple((k, signature_of(v)) for k, v in sorted(kwargs.items())), self.uncertain > 0)
        if key in self.memo and self.inferring is None:
            return self.memo[key]
        if fnode.name == "forward":
            inst.cls.forward_called = True
        self.call_sites.append((node, frame.env, inst.cls.name, args))
        try:
            result = self.call_function(fn, (inst,) + args, kwargs, node, frame, cls=cls)
        finally:
            self.call_sites.pop()
        if fnode.name == "forward":
            self.rec.module_called(inst.cls, fn, args, kwargs, result)
        if self.inferring is None:
            self.memo[key] = result
        return result

    def instantiate(self, info: ClassInfo, args, kwargs, node, frame):
        inst = Instance(info)
        cls, fnode = info.method("__init__")
        if fnode is not None:
            fn = cls.method_values["__init__"]
            self.call_function(fn, (inst,) + args, kwargs, node, frame, cls=cls)
        elif info.torch_base is not None:
            self.torch_init(inst, args, kwargs, node, frame)
        elif any(c.record_like for c in info.mro()):
            self.record_init(inst, args, kwargs)
        elif args or kwargs:
            # Arguments go to an __init__ the analysis cannot see (a decorator or a base class
            # outside the workspace writes it): class-level values may not hold.
            inst.opaque = True
        return inst

    def record_init(self, inst, args, kwargs):
        """The __init__ that @dataclass / attrs / NamedTuple / pydantic generate: fields in
        class order (bases first), positional then keyword, defaults from the class body."""
        fields = []
        for c in reversed(inst.cls.mro()):
            for name, default in c.fields:
                fields = [f for f in fields if f[0] != name] + [(name, default)]
        for i, (name, default) in enumerate(fields):
            if i < len(args):
                value = args[i]
            elif name in kwargs:
                value = kwargs[name]
            elif default is not None:
                value = default
            else:
                value = Unknown("field %s not given" % name)
            inst.attrs[name] = value

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
        if self.depth >= MAX_DEPTH or id(fn.node) in self.active:
            return Unknown("recursion")
        callee = Frame(fn.env, fn.closure, fn, cls or fn.owner,
                       args[0] if args and type(args[0]) is Instance else None)
        if not self.bind_params(fn, callee, args, kwargs, node):
            return Unknown("call does not match the signature of %s" % fn.node.name)
        self.depth += 1
        self.active.add(id(fn.node))
        saved_grad = self.grad_enabled
        for deco in fn.node.decorator_list:
            mode = grad_mode_of(deco, None)
            if mode is not NO_CHANGE:
                self.grad_enabled = mode
        try:
            self.exec_block(fn.node.body, callee)
        finally:
            self.depth -= 1
            self.active.discard(id(fn.node))
            self.grad_enabled = saved_grad
        if not callee.returns:
            return Const(None)
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
        for k, v in kwargs.items():
            if any(p.arg == k for p in params) or any(p.arg == k for p in a.kwonlyargs):
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

    # ----------------------------------------------------------------- builtins

    def call_builtin(self, name, args, kwargs, node, frame):
        if name == "range":
            ints = [as_int(a) for a in args]
            if all(type(i) is int for i in ints) and 1 <= len(ints) <= 3:
                r = range(*ints)
                if len(r) <= 100_000:
                    return TupleVal(tuple(Const(i) for i in r))
            return Unknown("range of unknown length")
        if name == "len":
            if args:
                v = args[0]
                if type(v) in (TupleVal, ListVal):
                    return Const(len(v.items))
                if type(v) is DictVal:
                    return Const(len(v.items))
                if type(v) is Instance and SELF_KEY in v.attrs:
                    v = v.attrs[SELF_KEY]
                if type(v) is Container:
                    return Const(len(v.items))
                if type(v) is Tensor and v.shape:
                    return Const(v.shape[0]) if v.shape[0] is not None else Unknown("len")
                if type(v) is Const and isinstance(v.value, str):
                    return Const(len(v.value))
            return Unknown("len")
        if name in ("int", "float", "bool", "str", "round", "abs"):
            if args and type(args[0]) is Const:
                x = args[0].value
                if type(x) is D.Sym:
                    return args[0] if name in ("int", "abs", "round") else Unknown(name)
                try:
                    return Const({"int": int, "float": float, "bool": bool, "str": str,
                                  "round": round, "abs": abs}[name](*[a.value for a in args
                                                                       if type(a) is Const]))
                except Exception:
                    return Unknown(name)
            if not args and name in ("int", "float", "bool", "str"):
                return Const({"int": 0, "float": 0.0, "bool": False, "str": ""}[name])
            return Unknown(name)
        if name in ("list", "tuple"):
            if not args:
                return ListVal([]) if name == "list" else TupleVal(())
            items = self.iterate(args[0])
            if items is None:
                return Unknown(name)
            return ListVal(list(items)) if name == "list" else TupleVal(tuple(items))
        if name == "dict":
            d = DictVal({})
            if args and type(args[0]) is DictVal:
                d.items.update(args[0].items)
            d.items.update(kwargs)
            return d
        if name == "zip":
            seqs = [self.iterate(a) for a in args]
            if any(s is None for s in seqs):
                return Unknown("zip")
            return ListVal([TupleVal(t) for t in zip(*seqs)])
        if name == "enumerate":
            items = self.iterate(args[0]) if args else None
            start = as_int(args[1]) if len(args) > 1 else as_int(kwargs.get("start", Const(0)))
            if items is None or type(start) is not int:
                return Unknown("enumerate")
            return ListVal([TupleVal((Const(i + start), v)) for i, v in enumerate(items)])
        if name == "reversed":
            items = self.iterate(args[0]) if args else None
            return ListVal(list(reversed(items))) if items is not None else Unknown("reversed")
        if name in ("min", "max", "sum"):
            items = list(args)
            if len(args) == 1:
                items = self.iterate(args[0])
            if items and all(type(i) is Const and type(i.value) in (int, float) for i in items):
                vals = [i.value for i in items]
                return Const({"min": min, "max": max, "sum": sum}[name](vals))
            if name == "sum" and items is not None and all(type(i) is Const for i in items):
                total = 0
                for i in items:
                    total = D.add(total, as_int(i))
                return Const(total) if total is not None else Unknown("sum")
            return Unknown(name)
        if name == "isinstance":
            return self.isinstance_check(args)
        if name == "super":
            f = frame
            while f is not None and f.cls is None:
                f = f.parent
            if f is not None and f.self_obj is not None:
                return SuperRef(f.self_obj, f.cls)
            if len(args) == 2 and isinstance(args[0], ClassRef) and type(args[1]) is Instance:
                return SuperRef(args[1], args[0].info)
            return Builtin("noop")
        if name == "noop":
            return Const(None)
        if name == "print":
            return Const(None)
        if name == "getattr":
            if len(args) >= 2 and type(args[1]) is Const and isinstance(args[1].value, str):
                v = self.get_attribute(args[0], args[1].value, node, frame)
                if type(v) is Unknown and len(args) > 2:
                    return args[2]
                return v
            return Unknown("getattr")
        if name == "setattr":
            if len(args) == 3 and type(args[1]) is Const and isinstance(args[1].value, str):
                self.set_attribute(args[0], args[1].value, args[2], node, frame)
            return Const(None)
        if name == "hasattr":
            if len(args) == 2 and type(args[0]) is Instance and type(args[1]) is Const:
                return Const(args[1].value in args[0].attrs) if args[1].value in \
                    args[0].attrs else Unknown("hasattr")
            return Unknown("hasattr")
        if name == "divmod" and len(args) == 2 and all(type(a) is Const for a in args):
            try:
                q, r = divmod(args[0].value, args[1].value)
                return TupleVal((Const(q), Const(r)))
            except Exception:
                return Unknown("divmod")
        if name == "str.format":
            return Unknown("formatted string")
        return Unknown("%s() is not modelled" % name)

    def isinstance_check(self, args):
        if len(args) != 2:
            return Unknown("isinstance")
        v, t = args
        if type(t) is TorchRef and t.qualname in ("Tensor", "torch.Tensor"):
            if type(v) is Tensor:
                return Const(True)
            if type(v) in (Const, TupleVal, ListVal, DictVal, Layer, Container, Instance):
                return Const(False)
        if type(t) is Builtin and type(v) is Const:
            py = {"int": int, "float": float, "str": str, "bool": bool}.get(t.name)
            if py is not None:
                return Const(isinstance(v.value, py) or (py is int and type(v.value) is D.Sym))
        if type(t) is Builtin and t.name in ("tuple", "list"):
            if type(v) in (TupleVal, ListVal):
                return Const((t.name == "tuple") == (type(v) is TupleVal))
            if type(v) in (Const, Tensor):
                return Const(False)
        return Unknown("isinstance")

    # ----------------------------------------------------------------- helpers

    def iterate(self, value) -> Optional[list]:
        """The items of an iterable value, when the analysis knows them."""
        kind = type(value)
        if kind is Instance and SELF_KEY in value.attrs:
            value = value.attrs[SELF_KEY]
            kind = type(value)
        if kind in (TupleVal, ListVal):
            return list(value.items)
        if kind is Container:
            if isinstance(value.items, dict):
                return [Const(k) for k in value.items] if value.kind == "ModuleDict" else \
                    list(value.items.values())
            return list(value.items)
        if kind is DictVal:
            return [Const(k) for k in value.items]
        if kind is Tensor and value.shape and type(value.shape[0]) is int and \
                value.shape[0] <= MAX_UNROLL:
            return [value.with_shape(value.shape[1:]) for _ in range(value.shape[0])]
        if kind is Const and isinstance(value.value, str):
            return [Const(c) for c in value.value]
        return None

    def truth(self, value) -> Optional[bool]:
        kind = type(value)
        if kind is Const:
            v = value.value
            if type(v) is D.Sym:
                return None
            try:
                return bool(v)
            except Exception:
                return None
        if kind in (TupleVal, ListVal, DictVal):
            return bool(value.items)
        if kind in (Layer, Instance, Function, ClassRef, TorchRef, BoundFunction):
            return True
        if kind is Container:
            return True
        return None

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

    def report_error(self, err, node, frame, args, layer=None, cause=None, fixes=()):
        if self.inferring is not None and self.inferring.quiet:
            return Unknown("error while inferring")
        self.rec.shape_error(err, node, frame.env, args, layer, self.uncertain > 0,
                             list(self.call_sites), cause, fixes)
        return Unknown("error: " + err.message.split(".")[0])

    # ----------------------------------------------------------------- declared shapes

    def annotation_tensor(self, annotation, env) -> Optional[Tensor]:
        is_shape, shape, _ = annotation_shape(annotation)
        if not is_shape:
            return None
        return Tensor(shape, None, Loc(env.src.range(annotation), None if env.is_main else
                                       env.src.path))

    def check_declared(self, value, declared: Tensor, node, frame, what):
        """A value meets its declared shape: keep the value, warn on a certain difference;
        an unknown value takes the declared shape."""
        if type(value) is not Tensor or value.shape is None:
            return declared if type(value) in (Tensor, Unknown) else value
        if declared.shape is None:
            return value
        if len(value.shape) != len(declared.shape) or any(
                D.definitely_ne(a, b) for a, b in zip(value.shape, declared.shape)
                if a is not None and b is not None and type(b) is int):
            self.rec.contract_mismatch(node, frame.env, value.shape, declared.shape, what,
                                       self.uncertain > 0)
        return value

    def apply_assignment_comment(self, node, value, frame):
        comment = frame.env.comments.get(node.end_lineno) or frame.env.comments.get(node.lineno)
        if comment is None or comment.named is not None:
            return value
        if comment.error:
            return value
        if comment.shape is None:
            return value
        declared = Tensor(comment.shape, None, Loc(comment.range(frame.env.src.lines),
                                                   self.path_of(frame.env)))
        return self.check_declared(value, declared, node, frame, "comment")

    def check_return(self, fn, result, frame):
        node = fn.node
        declared = None
        if node.returns is not None:
            declared = self.annotation_tensor(node.returns, fn.env)
        if declared is None:
            comment = forward_comment(fn.env, node)
            if comment is not None and comment.returns is not None:
                declared = Tensor(comment.returns)
        if declared is not None and type(result) is Tensor:
            where = node.returns if node.returns is not None else node
            self.check_declared(result, declared, where, frame, "return")


# --------------------------------------------------------------------------- small helpers

NO_CHANGE = object()
# Classes whose __init__ is generated from their annotated fields.
RECORD_DECORATORS = {"dataclass", "define", "frozen", "mutable", "s", "attrs", "dataclasses"}
RECORD_BASES = {"NamedTuple", "BaseModel", "BaseSettings", "TypedDict"}


def with_strides(t: Tensor, strides) -> Tensor:
    """``t`` with another memory layout (the same object when it does not change)."""
    if strides == t.strides:
        return t
    return Tensor(t.shape, t.dtype, t.origin, t.cause, t.param, strides)

SELF_KEY = "__self__"   # where an instance keeps the torch module its torch base class built
TRANSPOSED_OUTPUT = ("MultiheadAttention", "RNN", "LSTM", "GRU")


def grad_mode_of(expr, value):
    """``torch.no_grad()`` / ``torch.inference_mode()`` -> False, ``torch.enable_grad()`` ->
    True, ``torch.set_grad_enabled(flag)`` -> flag; NO_CHANGE for other context managers."""
    call = expr if isinstance(expr, ast.Call) else None
    func = call.func if call is not None else expr
    name = ast.unparse(func) if isinstance(func, (ast.Attribute, ast.Name)) else ""
    last = name.rsplit(".", 1)[-1]
    if last in ("no_grad", "inference_mode"):
        if last == "inference_mode" and call is not None and call.args and \
                isinstance(call.args[0], ast.Constant) and call.args[0].value is False:
            return NO_CHANGE
        return False
    if last == "enable_grad":
        return True
    if last == "set_grad_enabled":
        if call is not None and call.args and isinstance(call.args[0], ast.Constant):
            return bool(call.args[0].value)
        return None
    return NO_CHANGE


def view_fix(node, frame):
    """Quick fix for a view that torch cannot make: call ``reshape`` instead."""
    from .report import Fix, Loc, Range, TextEdit
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute) or \
            node.func.attr != "view" or not frame.env.is_main:
        return ()
    src = frame.env.src
    line = node.func.end_lineno
    end = src.col(line, node.func.end_col_offset)
    r = Range(line, end - 4, line, end)
    return (Fix("Use .reshape(...) instead of .view(...)", (TextEdit(Loc(r), "reshape"),)),)


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


_NORMALIZED: Dict[str, str] = {}


def normalize(q: str) -> str:
    """Canonical qualified name (``torch.nn.modules.conv.Conv2d`` -> ``torch.nn.Conv2d``)."""
    out = _NORMALIZED.get(q)
    if out is None:
        out = _NORMALIZED[q] = _normalize(q)
    return out


def _normalize(q: str) -> str:
    for prefix, replacement in ALIASES.items():
        if q == prefix:
            return replacement
        if q.startswith(prefix + "."):
            rest = q[len(prefix) + 1:]
            if replacement == "Tensor":
                return "Tensor." + rest
            return replacement + "." + rest
    return q


def signature_of(value):
    kind = type(value)
    if kind is Tensor:
        return ("T", value.shape, value.dtype)
    if kind is Const:
        return ("C", value.value if not isinstance(value.value, (list, dict)) else id(value))
    if kind is TupleVal:
        return ("U", tuple(signature_of(i) for i in value.items))
    return ("O", id(value))


def const_binop(name, a, b):
    if name is None:
        return Unknown("operation")
    if type(a) is D.Sym or type(b) is D.Sym:
        if not all(type(x) in (int, D.Sym) for x in (a, b)):
            return Unknown("symbolic arithmetic")
        fn = {"add": D.add, "sub": D.sub, "mul": D.mul, "floordiv": D.floordiv,
              "mod": D.mod}.get(name)
        if fn is None:
            if name == "truediv":
                out = D.divide_exact(a, b)
                return Const(out) if out is not None else Unknown("division")
            return Unknown("symbolic %s" % name)
        out = fn(a, b)
        return Const(out) if out is not None else Unknown("symbolic arithmetic")
    op = getattr(operator, name, None)
    if op is None:
        return Unknown("operation")
    try:
        if name == "pow" and isinstance(b, int) and abs(b) > 64:
            return Unknown("large power")
        if name == "mul" and isinstance(a, str) and isinstance(b, int) and b > 10_000:
            return Unknown("large string")
        return Const(op(a, b))
    except Exception:
        return Unknown("arithmetic error")


def compare(op, left, right) -> Optional[bool]:
    if isinstance(op, (ast.Is, ast.IsNot)):
        def is_none(v):
            if type(v) is Const:
                return v.value is None
            if type(v) in (Tensor, Layer, Container, Instance, TupleVal, ListVal, DictVal):
                return False
            return None
        ln, rn = is_none(left), is_none(right)
        if ln is None or rn is None:
            return None
        if not (ln or rn):
            return None          # two objects: identity is not something the analysis tracks
        same = ln == rn
        return same if isinstance(op, ast.Is) else not same
    if isinstance(op, (ast.In, ast.NotIn)):
        if type(right) in (TupleVal, ListVal) and type(left) is Const:
            vals = [i.value for i in right.items if type(i) is Const]
            if len(vals) != len(right.items):
                return None
            r = left.value in vals
            return r if isinstance(op, ast.In) else not r
        if type(right) is DictVal and type(left) is Const:
            r = left.value in right.items
            return r if isinstance(op, ast.In) else not r
        if type(right) is Const and type(left) is Const and isinstance(right.value, str):
            try:
                r = left.value in right.value
            except TypeError:
                return None
            return r if isinstance(op, ast.In) else not r
        return None
    if type(left) is Const and type(right) is Const:
        a, b = left.value, right.value
        if type(a) is D.Sym or type(b) is D.Sym:
            if isinstance(op, ast.Eq) and D.definitely_ne(a, b):
                return False
            if isinstance(op, ast.NotEq) and D.definitely_ne(a, b):
                return True
            if a == b and isinstance(op, (ast.Eq, ast.LtE, ast.GtE)):
                return True
            return None
        try:
            return bool(PY_CMP[type(op)](a, b))
        except Exception:
            return None
    if type(left) is TupleVal and type(right) is TupleVal and isinstance(op, (ast.Eq, ast.NotEq)):
        if len(left.items) != len(right.items):
            return isinstance(op, ast.NotEq)
        return None
    return None


def math_call(name, args):
    vals = [a.value for a in args if type(a) is Const]
    if len(vals) != len(args) or any(type(v) is D.Sym for v in vals):
        return Unknown("math.%s" % name)
    import math
    fn = getattr(math, name, None)
    if fn is None or not callable(fn):
        return Unknown("math.%s" % name)
    try:
        return Const(fn(*vals))
    except Exception:
        return Unknown("math.%s" % name)


def forward_comment(env: ModuleEnv, node):
    """The ``# shape:`` comment on a def line (after the signature's first line) or just above."""
    first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
    for line in (node.lineno, first - 1):
        c = env.comments.get(line)
        if c is not None:
            return c
    # A comment after the signature closes, on a multi-line def.
    body_line = node.body[0].lineno if node.body else node.lineno
    for line in range(node.lineno + 1, body_line):
        c = env.comments.get(line)
        if c is not None and c.named is not None:
            return c
    return None
