"""Python's builtins (``range``, ``len``, ``zip``, ``isinstance``, ``getattr``...)."""
from __future__ import annotations

import ast
from typing import Optional

from .. import dims as D
from ..rules import FUNCTIONS, LAYERS
from ..rules.call import UNKNOWN, as_int, as_python
from ..rules.modules import LAYER_FAMILIES
from ..values import (
    AttrView,
    BoundMethod,
    Const,
    Container,
    DictVal,
    Instance,
    Layer,
    ListVal,
    SetVal,
    Stream,
    Tensor,
    TorchRef,
    TupleVal,
    Unknown,
    join,
    visible,
)
from .budget import MAX_LENGTH
from .expressions import is_number
from .members import class_of
from .program import SELF_KEY, BoundFunction, Builtin, ClassRef, Function, Partial, SuperRef


class Builtins:
    """Python's builtins."""

    def attribute_or_default(self, obj, attr, value, default):
        """``getattr(obj, attr, default)``: ``value`` (what reading the attribute gave) when
        the attribute exists, ``default`` when it does not, their common knowledge when the
        analysis cannot tell (a value it cannot see may be the attribute's, and a method of a
        torch value may be one torch does not have)."""
        exists = self.has_attribute(obj, attr)
        if exists is False:
            return default
        kind = type(value)
        if exists is None and (kind is Unknown or kind is BoundMethod or (
                kind is TorchRef and value.qualname not in FUNCTIONS and
                value.qualname[9:] not in LAYERS)):
            return join(value, default)
        return value

    def call_builtin(self, name, args, kwargs, node, frame):
        if name == "range":
            ints = [as_int(a) for a in args]
            if all(type(i) is int for i in ints) and 1 <= len(ints) <= 3:
                r = range(*ints)
                if len(r) <= MAX_LENGTH and self.budget.fold(len(r)):
                    return TupleVal(tuple(Const(i) for i in r))
            return Unknown("range of unknown length")
        if name == "len":
            if args:
                v = visible(args[0])
                if type(v) is Instance and SELF_KEY in v.attrs:
                    v = visible(v.attrs[SELF_KEY])
                if type(v) in (TupleVal, ListVal):
                    return Const(len(v.items))
                if type(v) in (DictVal, SetVal):
                    return Const(len(v.items))
                if type(v) is Container:
                    return Const(len(v.items))
                if type(v) is Tensor and v.shape:
                    return Const(v.shape[0]) if v.shape[0] is not None else Unknown("len")
                if type(v) is Const and isinstance(v.value, (str, bytes)):
                    return Const(len(v.value))
                out = self.data_builtin(name, args, node, frame)
                if out is not None:
                    return out
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
            if name in ("int", "float", "bool") or (args and is_number(args[0])):
                # a number whatever it was given (or an exception)
                return Unknown("%s() of a value the analysis cannot see" % name, number=True)
            return Unknown(name)
        if name in ("set", "frozenset"):
            return self.make_set(self.iterate(args[0]) if args else [])
        if name in ("list", "tuple"):
            if not args:
                return ListVal([]) if name == "list" else TupleVal(())
            items = self.iterate(args[0])
            if items is None:
                return Unknown(name)
            return ListVal(list(items)) if name == "list" else TupleVal(tuple(items))
        if name == "dict":
            if not args:
                return DictVal(dict(kwargs))
            source = visible(args[0])
            if type(source) is DictVal:
                if not self.budget.fold(len(source.items)):
                    return Unknown("a dict too large for the analysis")
                return DictVal({**source.items, **kwargs})
            pairs = [self.iterate(p) for p in self.iterate(source) or [None]]
            if any(p is None or len(p) != 2 for p in pairs) or \
                    any(as_python(k) is UNKNOWN for k, _ in pairs):
                return Unknown("dict of entries the analysis cannot see")
            return DictVal({**{as_python(k): v for k, v in pairs}, **kwargs})
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
        if name == "sum" and args:
            return self.sum_of(self.iterate(args[0]),
                               args[1] if len(args) > 1 else kwargs.get("start", Const(0)))
        if name in ("min", "max"):
            items = list(args)
            if len(args) == 1:
                items = self.iterate(args[0])
            if items and all(type(i) is Const and type(i.value) in (int, float) for i in items):
                vals = [i.value for i in items]
                return Const({"min": min, "max": max, "sum": sum}[name](vals))
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
        if name == "record_init":      # super().__init__(...) reaching a @dataclass base
            self.record_init(args[0], args[2:], kwargs, args[1].info, node, frame)
            return Const(None)
        if name == "print":
            return Const(None)
        if name == "getattr":
            if len(args) >= 2 and type(args[1]) is Const and isinstance(args[1].value, str):
                v = self.get_attribute(args[0], args[1].value, node, frame)
                if len(args) == 2:
                    return v
                return self.attribute_or_default(args[0], args[1].value, v, args[2])
            return Unknown("getattr")
        if name in ("setattr", "delattr"):
            if len(args) == 3 - (name == "delattr") and type(args[1]) is Const and \
                    isinstance(args[1].value, str):
                if name == "setattr":
                    self.set_attribute(args[0], args[1].value, args[2], node, frame)
                else:
                    self.delete_attribute(args[0], args[1].value)
            elif args:
                self.havoc(args[0], "%s with a name the analysis cannot see" % name,
                           deep=False)
            return Const(None)
        if name == "hasattr":
            if len(args) == 2 and type(args[1]) is Const and isinstance(args[1].value, str):
                answer = self.has_attribute(args[0], args[1].value)
                if answer is not None:
                    return Const(answer)
            return Unknown("hasattr")
        if name == "divmod" and len(args) == 2 and all(type(a) is Const for a in args):
            try:
                q, r = divmod(args[0].value, args[1].value)
                return TupleVal((Const(q), Const(r)))
            except Exception:
                return Unknown("divmod")
        if name == "vars" and args and type(args[0]) is Instance and \
                not args[0].cls.is_module and "__dict__" not in args[0].attrs:
            return AttrView(args[0])
        if name == "vars" and args and type(args[0]) in (Instance, Layer, Container):
            return Unknown("internals (__dict__) of an object", receiver=args[0])
        if name == "type" and len(args) == 1:
            return class_of(args[0])
        if name in ("all", "any") and len(args) == 1:
            items = self.iterate(args[0])
            truths = [self.truth(i) for i in items] if items is not None else [None]
            decisive = name == "any"        # the item value that decides the answer
            if decisive in truths:
                return Const(decisive)
            return Const(not decisive) if None not in truths else Unknown("%s()" % name)
        if name in ("map", "filter"):
            return self.map_filter(name, args, node, frame)
        if name == "locals" and not args and not kwargs:
            return self.locals_of(frame)
        if name in ("iter", "next") and args and type(args[0]) is Stream:
            return args[0] if name == "iter" else args[0].item
        if name in ("iter", "next"):
            out = self.data_builtin(name, args, node, frame)
            if out is not None:
                return out
        return Unknown("%s() is not modelled" % name)

    def sum_of(self, items, start):
        """``sum(items, start)``: of numbers (symbolic sizes too), or of lists or tuples
        (``sum([[a, b], [c]], [])``, concatenated)."""
        if items is None:
            return Unknown("sum")
        if type(start) is Const and all(type(i) is Const for i in items):
            vals = [start.value] + [i.value for i in items]
            if all(type(v) in (int, float, bool) for v in vals):
                return Const(sum(vals[1:], vals[0]))
            total = as_int(start)
            for i in items:
                total = D.add(total, as_int(i)) if total is not None else None
            return Const(total) if total is not None else Unknown("sum")
        kind = type(start)
        if kind in (ListVal, TupleVal) and not getattr(start, "lost", None) and \
                all(type(i) is kind and not getattr(i, "lost", None) for i in items):
            out = list(start.items)
            for i in items:
                out.extend(i.items)
                if not self.budget.fold(len(out)):
                    return Unknown("a value too large for the analysis")
            return ListVal(out) if kind is ListVal else TupleVal(tuple(out))
        return Unknown("sum")

    def locals_of(self, frame):
        """``locals()`` in a function: a new dict of its variables as they are now (with
        ``__class__`` where the function uses ``super()``, as CPython gives it).  At module
        level it is the live globals dict: not modelled."""
        fn = frame.func.func if type(frame.func) is BoundFunction else frame.func
        if type(fn) is not Function:
            return Unknown("locals() outside a function")
        items = dict(frame.vars)
        if frame.cls is not None and any(type(n) is ast.Name and n.id in ("super", "__class__")
                                         for n in ast.walk(fn.node)):
            items["__class__"] = ClassRef(frame.cls)
        if not self.budget.fold(len(items)):
            return Unknown("a dict too large for the analysis")
        return DictVal(items)

    def map_filter(self, name, args, node, frame):
        """``map(fn, *iterables)`` / ``filter(fn, iterable)``, applied item by item."""
        if len(args) < 2 or (name == "filter" and len(args) != 2):
            return Unknown("%s()" % name)
        fn, seqs = args[0], [self.iterate(a) for a in args[1:]]
        if any(s is None for s in seqs):
            self.escape((fn,), {}, "%s over items the analysis cannot see" % name)
            return Unknown("%s over items the analysis cannot see" % name)
        if name == "map":
            return ListVal([self.call(fn, tuple(items), {}, node, frame)
                            for items in zip(*seqs)])
        out = []
        for item in seqs[0]:
            keep = self.truth(item if type(fn) is Const and fn.value is None else
                              self.call(fn, (item,), {}, node, frame))
            if keep is None:
                return Unknown("filter on a condition the analysis cannot decide")
            if keep:
                out.append(item)
        return ListVal(out)

    def isinstance_check(self, args):
        if len(args) != 2:
            return Unknown("isinstance")
        v, t = args
        if type(t) is TupleVal:
            answers = [self.isinstance_check((v, c)) for c in t.items]
            if any(type(a) is Const and a.value is True for a in answers):
                return Const(True)
            if all(type(a) is Const and a.value is False for a in answers):
                return Const(False)
            return Unknown("isinstance")
        answer = instance_of(v, t)
        return Const(answer) if answer is not None else Unknown("isinstance")


PY_TYPES = {"int": int, "float": float, "str": str, "bool": bool}
# What each abstract collection of collections.abc (and typing) is, for the values whose type
# the analysis knows: (list, tuple, dict, set, str, a number or None, a tensor)
ABSTRACT = {"Iterable": (True, True, True, True, True, False, True),
            "Collection": (True, True, True, True, True, False, True),
            "Sized": (True, True, True, True, True, False, True),
            "Container": (True, True, True, True, True, False, True),
            "Sequence": (True, True, False, False, True, False, False),
            "MutableSequence": (True, False, False, False, False, False, False),
            "Mapping": (False, False, True, False, False, False, False),
            "MutableMapping": (False, False, True, False, False, False, False),
            "Set": (False, False, False, True, False, False, False),
            "Hashable": (False, True, False, False, True, True, True)}


def torch_callable(v) -> bool:
    """A torch layer class or function the rules model (``nn.BatchNorm2d``, ``F.relu``)."""
    return type(v) is TorchRef and (v.qualname in FUNCTIONS or v.qualname[9:] in LAYERS and
                                    v.qualname.startswith("torch.nn."))


def abstract_instance(v, name) -> Optional[bool]:
    """``isinstance(v, collections.abc.<name>)`` when the type of ``v`` is known."""
    answers = ABSTRACT.get(name)
    kind = type(v)
    if answers is None or getattr(v, "lost", None):
        return None
    if kind is ListVal:
        return answers[0] if not v.deque or name in ("Iterable", "Collection", "Sized",
                                                      "Container") else None
    if kind is TupleVal:
        return answers[1]
    if kind is DictVal:
        return answers[2]
    if kind is SetVal:
        return None if name == "Hashable" else answers[3]   # (a frozenset is hashable)
    if kind is Const:
        return answers[4] if isinstance(v.value, (str, bytes)) else answers[5]
    if kind is Tensor:
        return answers[6]
    if kind in (Function, BoundFunction) or (kind is ClassRef and all(
            isinstance(b, ClassRef) or (isinstance(b, TorchRef) and b.qualname.startswith(
                "torch.nn.")) for c in v.info.mro() for b in c.bases)):
        # a function, or a class (of plain classes and torch modules: no metaclass that
        # makes it iterable, as Enum's does) is none of these, but hashable
        return name == "Hashable"
    return None
MODULE_VALUES = (Layer, Container, Instance)
# Functions and classes of the program, whose type the analysis knows
CALLABLES = (Function, BoundFunction, ClassRef, Partial)


def instance_of(v, t) -> Optional[bool]:
    """``isinstance(v, t)`` for one class ``t``; None when the analysis cannot tell."""
    if type(t) is TorchRef and t.qualname.rsplit(".", 1)[0] in ("collections.abc", "typing"):
        return abstract_instance(v, t.qualname.rsplit(".", 1)[-1])
    if type(t) is TorchRef and t.qualname in ("types.FunctionType", "types.LambdaType"):
        # a def (or lambda) of the program; not a class (torch's layers too), method, partial
        # or constant
        if type(v) is TorchRef and v.qualname.startswith("torch.nn.") and \
                v.qualname[9:] in LAYERS:
            return False
        return type(v) is Function if type(v) in CALLABLES + (Const,) else None
    if type(t) is Builtin and t.name == "type" and (type(v) in CALLABLES + (Const, TupleVal,
                                                                            ListVal, DictVal)
                                                    or torch_callable(v)):
        return type(v) is ClassRef or (type(v) is TorchRef and v.qualname[9:] in LAYERS)
    if type(t) is TorchRef and t.qualname == "functools.partial":
        # (no name of torch's is a partial, nor a constant or a container)
        return type(v) is Partial if type(v) in CALLABLES + (TorchRef, Const, TupleVal, ListVal,
                                                              DictVal, SetVal) else None
    if type(t) is TorchRef and t.qualname == "collections.deque":
        return type(v) is ListVal and v.deque if type(v) in (ListVal, TupleVal, DictVal,
                                                              SetVal, Const) else None
    if type(t) is TorchRef:
        q = t.qualname
        if q in ("Tensor", "torch.Tensor", "torch.nn.Parameter"):
            if type(v) is Tensor:
                return True if q != "torch.nn.Parameter" else None
            return False if type(v) in (Const, TupleVal, ListVal, DictVal) + MODULE_VALUES \
                else None
        if q.startswith("torch.nn.") and q.count(".") == 2:
            name = q[9:]
            if type(v) in (Const, TupleVal, ListVal, DictVal, Tensor):
                return False
            if type(v) is Layer:
                if name == "Module":
                    return True
                family = LAYER_FAMILIES.get(name)
                return v.kind in family if family else v.kind == name
            if type(v) is Container:
                return name in ("Module", v.kind)
            if type(v) is Instance:
                if name == "Module":
                    return v.cls.is_module
                base = v.cls.torch_base
                if base is not None and base.rsplit(".", 1)[-1] == name:
                    return True
                return False if v.cls.is_module and all(
                    isinstance(b, (TorchRef, ClassRef)) for c in v.cls.mro() for b in c.bases) \
                    else None
        return None
    if type(t) is ClassRef:
        if type(v) is Instance:
            return t.info in v.cls.mro() if all(
                isinstance(b, (TorchRef, ClassRef)) for c in v.cls.mro() for b in c.bases) or \
                t.info in v.cls.mro() else None
        if type(v) in (Const, TupleVal, ListVal, DictVal, Tensor, Layer, Container):
            return False
        return None
    if type(t) is Builtin:
        py = PY_TYPES.get(t.name)
        if py is not None and type(v) is Const:
            return isinstance(v.value, py) or (py is int and type(v.value) is D.Sym)
        if t.name in ("tuple", "list"):
            if type(v) in (TupleVal, ListVal):
                return (t.name == "tuple") == (type(v) is TupleVal) and \
                    not (type(v) is ListVal and v.deque)
            if type(v) in (Const, Tensor) + MODULE_VALUES:
                return False
        if t.name == "dict":
            if type(v) is DictVal:
                return True
            if type(v) in (Const, Tensor, TupleVal, ListVal) + MODULE_VALUES:
                return False
        if py is not None and (type(v) in (Tensor, TupleVal, ListVal, DictVal, SetVal) +
                               MODULE_VALUES + CALLABLES or torch_callable(v)):
            return False
    return None
