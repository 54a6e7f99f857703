"""What the interpreter knows of the program itself: files (ModuleEnv), user classes,
functions and scopes (Frame), and the names torch lives under."""
from __future__ import annotations

import ast
from typing import Dict, List, Optional

from ..rules import LAYERS
from ..rules.call import as_python
from ..source import Source
from ..values import Const, TorchRef, Value, next_serial

MAX_DEPTH = 40          # nested user calls
MAX_RECURSION = 6       # calls of one function on the stack at once


MAX_UNROLL = 256        # loop iterations followed one by one
MAX_UNROLL_IMPORTING = 4_096    # ... in a package's top level (statements.unroll_limit)



# Where torch names live, for ``import torch.nn as nn`` and friends.
KNOWN_ROOTS = {"torch", "einops", "jaxtyping", "torchtyping", "collections", "math", "typing",
               "numpy", "functools", "itertools", "operator", "copy", "argparse", "types",
               "PIL", "tqdm", "dataclasses", "sys"}


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


RETURN, BREAK, CONTINUE, RAISE = "return", "break", "continue", "raise"   # ways out of a block


class ModuleEnv:
    """A file being interpreted: its source, tree, globals and shape comments.  ``library``:
    installed code (its statements count against the library budget, imports.py)."""

    library = False
    token = None        # set once shared (modules.py): stale when an importer changed it

    def __init__(self, src: Source, tree: ast.Module, name: str, comments: dict,
                 is_main: bool):
        self.src = src
        self.tree = tree
        self.name = name
        self.comments = comments
        self.globals: Dict[str, Value] = {"__name__": Const(name)}
        self.is_main = is_main
        self.classes: List["ClassInfo"] = []
        self.results: Dict[tuple, Value] = {}  # its functions' shared results (shared.py)


class ClassInfo:
    """A class defined by the user."""

    def __init__(self, node: ast.ClassDef, env: ModuleEnv, bases: list):
        self.node = node
        self.name = node.name
        self.env = env
        self.bases = bases                    # Values: ClassRef of user classes, TorchRefs
        self.serial = next_serial()           # its class attributes can change (soundness.py)
        self.instances: list = []             # instances the analysed file built
        self.methods: Dict[str, ast.FunctionDef] = {}
        self.attrs: Dict[str, Value] = {}
        self.forward_called = False
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

    def record_fields(self) -> list:
        """(name, default) of the fields the generated __init__ takes, in dataclasses' order:
        bases first; a field a subclass declares again keeps its place, with the new
        default."""
        fields: dict = {}
        for c in reversed(self.mro()):
            fields.update(c.fields)
        return list(fields.items())

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


class Partial(Value):
    """``functools.partial(func, *args, **kwargs)``."""

    __slots__ = ("func", "args", "kwargs")

    def __init__(self, func, args, kwargs):
        self.func = func
        self.args = args
        self.kwargs = kwargs


class Wrapped(Value):
    """``nn.DataParallel(module)`` / ``DistributedDataParallel(module)``: calls go to
    ``module``, which is also its ``.module``."""

    __slots__ = ("module",)

    def __init__(self, module):
        self.module = module


class DataclassField(Value):
    """``dataclasses.field(default=..., default_factory=...)`` in a class body: what the
    generated ``__init__`` gives a field not passed (``record_init``)."""

    __slots__ = ("default", "factory")

    def __init__(self, default, factory):
        self.default = default      # a Value, or None when it has none
        self.factory = factory


class ArgParser(Value):
    """An ``argparse.ArgumentParser``: the arguments added so far (``items``: dest -> default
    value, or Unknown for one the command line must give), mutable like a dict."""

    __slots__ = ("items", "lost", "serial")

    def __init__(self):
        self.items: dict = {}
        self.lost = None
        self.serial = next_serial()


class Frame:
    """One scope: its variables, and the paths that left it early (``exits``: returns waiting
    for the function's end; ``loops``: breaks and continues waiting for their loop, see
    soundness.py)."""

    __slots__ = ("vars", "env", "parent", "returns", "func", "cls", "self_obj", "exits", "loops")

    def __init__(self, env: ModuleEnv, parent: Optional["Frame"] = None, func=None, cls=None,
                 self_obj=None):
        self.vars: Dict[str, Value] = {}
        self.env = env
        self.parent = parent
        self.returns: List[Value] = []
        self.func = func
        self.cls = cls
        self.self_obj = self_obj
        self.exits: list = []
        self.loops: list = []


BUILTIN_NAMES = ("range", "len", "int", "float", "bool", "str", "list", "tuple", "dict", "set",
                 "zip", "enumerate", "reversed", "sorted", "min", "max", "abs", "sum", "round",
                 "isinstance", "super", "print", "getattr", "setattr", "hasattr", "divmod", "any",
                 "all", "iter", "next", "map", "callable", "type", "id", "repr", "format", "hash",
                 "issubclass", "vars", "locals", "open", "input", "object", "pow", "slice", "frozenset",
                 "NotImplementedError", "ValueError", "RuntimeError", "TypeError", "Exception",
                 "AssertionError", "KeyError", "IndexError")


BUILTINS = {n: Builtin(n) for n in BUILTIN_NAMES}


# Classes whose __init__ is generated from their annotated fields.
RECORD_DECORATORS = {"dataclass", "define", "frozen", "mutable", "s", "attrs", "dataclasses"}


RECORD_BASES = {"NamedTuple", "BaseModel", "BaseSettings", "TypedDict"}


SELF_KEY = "__self__"   # where an instance keeps the torch module its torch base class built


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


# ``argparse.Namespace`` / ``types.SimpleNamespace``: instances of a class with no methods.
NAMESPACE = ClassInfo(ast.ClassDef(name="Namespace", bases=[], keywords=[], body=[],
                                   decorator_list=[], type_params=[]), None, [])
NAMESPACE.method_values = {}


class RefKey(tuple):
    """A set's key for a class or function (by identity, as Python hashes them)."""


def set_key(value):
    """How a set holds ``value``: a constant as itself, a class or function of the program or
    a torch name by identity; UNKNOWN for anything else."""
    kind = type(value)
    if kind is ClassRef:
        return RefKey(("class", id(value.info)))
    if kind is Function:
        return RefKey(("function", id(value)))
    if kind is TorchRef:
        return RefKey(("torch", value.qualname))
    return as_python(value)
