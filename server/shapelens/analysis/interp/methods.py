"""Methods of values: tensors (through the rules table), lists, dicts, torch containers,
layers and module instances; and how the analysis iterates a value."""
from __future__ import annotations

import ast
from typing import Optional

from .. import dims as D
from ..report import Loc
from ..rules import FUNCTIONS, layout
from ..rules.call import UNKNOWN, Call, as_int, as_python
from ..rules.modules import FORWARD_HOOKS, LAYERS_WITH_CHILDREN, READ_ONLY, RETURNS_SELF
from ..rules.tensor_basics import RESHAPES_IN_PLACE
from ..values import (
    DATA_VALUES,
    AttrView,
    Const,
    Container,
    DictVal,
    Distribution,
    Instance,
    Layer,
    ListVal,
    SetVal,
    Stream,
    Tensor,
    TupleVal,
    Unknown,
    set_training,
    visible,
    with_strides,
)
from .budget import MAX_LENGTH, str_result_size
from .containers import MODULE_KINDS, named, positional
from .library import argparser_method
from .program import SELF_KEY, ArgParser, BoundFunction, Function, RefKey, set_key

LIST_READERS = frozenset({"copy", "index", "count", "__len__", "__contains__", "__iter__"})
LIST_MUTATORS = frozenset({"append", "extend", "insert", "pop", "remove", "clear", "reverse",
                           "sort", "__setitem__", "__delitem__", "__iadd__",
                           # collections.deque (a list to the analysis)
                           "appendleft", "popleft", "extendleft"})
DEQUE_ONLY = frozenset({"appendleft", "popleft", "extendleft"})
DICT_MUTATORS = frozenset({"update", "pop", "popitem", "setdefault", "clear", "__setitem__",
                           "__delitem__"})


def module_path_from(root, module) -> str:
    """``named_modules()`` name of ``module`` under ``root`` ("" for the root itself)."""
    parts = []
    m = module
    while m is not None and m is not root and m.name is not None and len(parts) < 64:
        if m.name != SELF_KEY:
            parts.append(str(m.name))
        m = m.parent
    return ".".join(reversed(parts))


# Module methods that give tensors the analysis does not list one by one.
STREAMS = {
    "parameters": lambda: Stream(Tensor(None), "parameters()"),
    "buffers": lambda: Stream(Tensor(None), "buffers()"),
    "named_parameters": lambda: Stream(TupleVal((Unknown("parameter name"), Tensor(None))),
                                       "named_parameters()"),
    "named_buffers": lambda: Stream(TupleVal((Unknown("buffer name"), Tensor(None))),
                                    "named_buffers()"),
}

MAX_ROWS = 10_000      # rows of a tensor iterated over one by one (a loop repeats few of them)


class Methods:
    """Methods of values, and iteration."""

    def make_container(self, kind, args, kwargs, node, frame):
        loc = Loc(frame.env.src.range(node), self.path_of(frame.env))
        args = tuple(visible(a) for a in args)
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

    def make_ordered_dict(self, args, kwargs):
        """``OrderedDict(mapping or pairs, **kwargs)`` (``defaultdict`` past its factory)."""
        args = tuple(visible(a) for a in args)
        lost = DictVal({}, "built from entries the analysis cannot see")
        items = {}
        if len(args) > 1:
            return lost
        if args and type(args[0]) is DictVal:
            items = dict(args[0].items)
        elif args:
            pairs = self.iterate(args[0])
            if pairs is None:
                return lost
            for pair in pairs:
                kv = self.iterate(pair)
                key = as_python(kv[0]) if kv and len(kv) == 2 else UNKNOWN
                try:
                    if key is UNKNOWN:
                        raise TypeError
                    items[key] = kv[1]
                except TypeError:       # (a key that is not hashable raises in Python)
                    return lost
        items.update(kwargs)
        if not self.budget.fold(len(items)):
            return DictVal({}, "a dict too large for the analysis")
        return DictVal(items)

    def make_set(self, items):
        """A set of ``items`` (None: of items the analysis cannot see)."""
        values = [set_key(i) for i in items] if items is not None else [UNKNOWN]
        try:
            if UNKNOWN in values or not self.budget.fold(len(values)):
                raise TypeError
            return SetVal(set(values))
        except TypeError:       # (an item that is not hashable raises in Python)
            return SetVal(set(), "a set of items the analysis cannot see")

    def set_method(self, obj, name, args, kwargs):
        if name in ("add", "discard", "remove", "update", "clear", "pop",
                    "difference_update", "intersection_update"):
            self.mutating(obj)
            if obj.lost:
                return Unknown(obj.lost)
            new = self.make_set(self.iterate(args[0]) if name.endswith("update") and args
                                else args[:1])
            if new.lost or name == "pop" or (name == "remove" and not new.items <= obj.items):
                obj.items, obj.lost = set(), "changed in a way the analysis cannot follow"
                return Unknown("set.%s" % name)
            if name in ("add", "update"):
                obj.items |= new.items
            elif name in ("discard", "remove", "difference_update"):
                obj.items -= new.items
            elif name == "intersection_update":
                obj.items &= new.items
            else:
                obj.items.clear()
            return Const(None)
        if name == "copy" and not obj.lost:
            return SetVal(set(obj.items))
        return Unknown("set.%s" % name)

    def call_method(self, obj, name, args, kwargs, node, frame):
        kind = type(obj)
        if kind is Tensor:
            return self.tensor_method(obj, name, args, kwargs, node, frame)
        if kind is ListVal:
            return self.list_method(obj, name, args, kwargs)
        if kind is DictVal:
            return self.dict_method(obj, name, args, kwargs)
        if kind is SetVal:
            return self.set_method(obj, name, args, kwargs)
        if kind in (Layer, Instance, Container):
            return self.module_method(obj, name, args, kwargs, node, frame)
        if kind is Const and isinstance(obj.value, str):
            return str_method(obj.value, name, args, kwargs)
        if kind is ArgParser:
            return argparser_method(self, obj, name, args, kwargs)
        if kind is AttrView:
            return self.attr_view_method(obj, name, args, kwargs, node, frame)
        if kind is Distribution:
            q = "torch.distributions.Distribution." + name
            rule = FUNCTIONS.get(q)
            if rule is None:
                return Unknown("method %s of a distribution" % name)
            return self.rule_result(rule(Call(q, (obj,) + args, kwargs)), node, frame, q,
                                    (obj,) + args)
        if kind is TupleVal and obj.size and name == "numel":
            return Const(D.prod(as_int(i) for i in obj.items) or Unknown("numel"))
        if kind in DATA_VALUES:
            return self.data_method(obj, name, args, kwargs, node, frame)
        return Unknown("method %s" % name)

    def tensor_method(self, obj, name, args, kwargs, node, frame):
        q = "Tensor." + name
        rule = FUNCTIONS.get(q)
        if rule is None:
            if name.endswith("_") and not name.endswith("__"):
                # An in-place method the rules do not know may change the tensor's shape.
                self.changed_in_place(obj, Tensor(None))
                return Tensor(None)
            return Unknown("tensor method %s is not modelled" % name)
        call = Call(q, (obj,) + args, kwargs)
        result = self.rule_result(rule(call), node, frame, q, (obj,) + args,
                                  rerun=lambda a: rule(Call(q, a, kwargs)))
        if name in layout.LAYOUT_METHODS and type(result) is Tensor:
            result = self.with_layout(name, obj, call, result, node, frame)
        elif q in layout.POINTWISE_FUNCTIONS and type(result) is Tensor:
            result = with_strides(result, layout.pointwise(obj))
        if name in RESHAPES_IN_PLACE:
            self.changed_in_place(obj, result)
        return result

    def module_method(self, obj, name, args, kwargs, node, frame):
        """A method of a module (torch layer, container or user module) that no user code
        defines: ``rules/modules.py`` says what it does; anything else forgets the module."""
        kind = type(obj)
        base = obj.attrs.get(SELF_KEY) if kind is Instance else None
        if name == "__torch_init__":
            return self.torch_init(obj, args, kwargs, node, frame)
        if name in ("eval", "train"):
            mode = False if name == "eval" else True
            if name == "train" and (args or "mode" in kwargs):
                mode = self.truth(args[0] if args else kwargs["mode"])
            set_training(obj, None if self.uncertain else mode)
            return obj
        if name in ("forward", "__call__"):
            return self.call_module(obj, args, kwargs, node, frame, hooked=name == "__call__")
        if name in ("__setattr__", "__getattr__", "__getattribute__", "__delattr__"):
            value = self.call_builtin(name.strip("_").replace("attribute", "attr"),
                                      (obj,) + args, kwargs, node, frame)
            if name == "__getattr__" and type(value) not in (Layer, Container, Instance, Tensor):
                # nn.Module.__getattr__ finds parameters, buffers and sub-modules only
                return Unknown("Module.__getattr__ of something else raises AttributeError")
            return value
        if name in RETURNS_SELF:
            return obj
        if name in STREAMS:
            return STREAMS[name]()      # new tensors: an in-place change to one is its own
        if name in READ_ONLY:
            return Unknown("%s() is not modelled" % name)
        if name in FORWARD_HOOKS:
            self.havoc(obj, "a forward hook may change what it returns", deep=False)
            return Unknown("hook handle")
        if name in ("add_module", "register_module", "register_buffer", "register_parameter"):
            key = as_python(args[0] if args else kwargs.get("name", Const(None)))
            value = args[1] if len(args) > 1 else kwargs.get(
                "module", kwargs.get("tensor", kwargs.get("param", Const(None))))
            if kind is Layer:
                if name in ("add_module", "register_module") or type(key) is not str:
                    self.havoc(obj, "a child added to a torch layer", deep=False)
                else:       # a parameter or buffer: as ``layer.weight = ...``
                    self.set_attribute(obj, key, value, node, frame)
            elif kind is Container or type(base) is Container:
                self.container_add(obj if kind is Container else base,
                                   key if type(key) is str else None, value)
            elif type(key) is str:
                self.set_attribute(obj, key, value, node, frame)
            else:
                self.havoc(obj, "a child added under a name the analysis cannot see",
                           deep=False)
            return Const(None)
        if name in ("children", "named_children", "modules", "named_modules"):
            return self.module_listing(obj, name)
        if name == "get_submodule":
            return self.submodule(obj, as_python(args[0]) if args else UNKNOWN)
        if name == "apply" and args:
            self.apply_to_modules(obj, args[0], node, frame)
            return obj
        if kind is Container or type(base) is Container:
            return self.container_method(obj if kind is Container else base, name, args,
                                         kwargs, node, frame)
        self.havoc(obj, "%s() is not modelled" % name)
        return Unknown("%s() is not modelled" % name)

    def container_method(self, c, name, args, kwargs, node, frame):
        if name == "append" and args:
            self.container_append(c, [args[0]])
        elif name == "extend" and args:
            self.container_append(c, self.iterate(args[0]))
        elif name == "insert" and len(args) == 2:
            self.container_insert(c, args[0], args[1])
        elif name == "pop" and args:
            return self.container_pop(c, args[0])
        elif name == "update" and args and not positional(c):
            pairs = self.iterate(self.call_method(args[0], "items", (), {}, node, frame)) \
                if type(args[0]) in (DictVal, Container) else self.iterate(args[0])
            kvs = [self.iterate(p) for p in pairs] if pairs is not None else None
            if kvs is None or any(kv is None or len(kv) != 2 for kv in kvs):
                self.havoc(c, "update with modules the analysis cannot see", deep=False)
            else:
                for k, v in kvs:
                    self.container_set(c, k, v)
        elif name in ("items", "keys", "values") and not positional(c):
            if c.lost:
                return Unknown(c.lost)
            return self.dict_method(DictVal(named(c)), name, (), {})
        elif name in ("__getitem__", "__len__", "__iter__", "__contains__", "index"):
            return Unknown("%s() is not modelled" % name)
        else:
            self.havoc(c, "%s() is not modelled" % name)
            return Unknown("%s() is not modelled" % name)
        return Const(None)

    def module_tree(self, obj) -> Optional[list]:
        """``obj`` and every module under it, in ``named_modules()`` order; None when part of
        the tree is not known."""
        out, seen = [], set()

        def walk(m):
            if id(m) in seen:
                return True
            seen.add(id(m))
            out.append(m)
            kids = self.module_children(m)
            if kids is None:
                return False
            return all(walk(k) for _, k in kids)
        return out if walk(obj) else None

    def module_children(self, obj) -> Optional[list]:
        """(name, child) pairs of a module, as ``named_children()``; None when not known."""
        kind = type(obj)
        if kind is Container:
            return None if obj.lost else list(named(obj).items())
        if kind is Layer:
            return [] if obj.spec is not None and obj.kind not in LAYERS_WITH_CHILDREN else None
        if kind is Instance:
            if obj.lost or obj.opaque:
                return None
            out = []
            for k, v in obj.attrs.items():
                if k == SELF_KEY:
                    inner = self.module_children(v)
                    if inner is None:
                        return None
                    out.extend(inner)
                elif type(v) in MODULE_KINDS:
                    out.append((k, v))
            return out
        return None

    def module_listing(self, obj, name):
        if name in ("children", "named_children"):
            kids = self.module_children(obj)
            if kids is None:
                return Unknown("%s() of a module the analysis does not know in full" % name,
                               receiver=obj)
            if name == "children":
                return ListVal([m for _, m in kids])
            return ListVal([TupleVal((Const(k), m)) for k, m in kids])
        tree = self.module_tree(obj)
        if tree is None:
            return Unknown("%s() of a module the analysis does not know in full" % name,
                           receiver=obj)
        if name == "modules":
            return ListVal(tree)
        return ListVal([TupleVal((Const(module_path_from(obj, m)), m)) for m in tree])

    def submodule(self, obj, path):
        if type(path) is not str:
            return Unknown("submodule not known", receiver=obj)
        m = obj
        for part in [p for p in path.split(".") if p]:
            kids = dict(self.module_children(m) or ())
            if part not in kids:
                return Unknown("submodule %s not known" % path, receiver=obj)
            m = kids[part]
        return m

    def apply_to_modules(self, obj, fn, node, frame):
        """``module.apply(fn)``: ``fn`` on every module under it, children first, as torch.
        The children of a torch layer that the analysis does not list one by one
        (``MultiheadAttention.out_proj``) are given to ``fn`` as unknown modules, which is
        enough when ``fn`` only reads what it is given (an init function); a part of the tree
        the analysis does not know is handed to unseen code with ``fn``."""
        reads = only_reads(fn)

        def visit(m):
            kids = self.module_children(m)
            if kids is None and not (type(m) is Layer and m.spec is not None and reads):
                self.escape((m, fn), {}, "apply() over modules the analysis does not know")
                return
            for _, child in kids or ():
                visit(child)
            if kids is None:
                self.call(fn, (Unknown("a module inside %s" % m.kind),), {}, node, frame)
            self.call(fn, (m,), {}, node, frame)
        visit(obj)

    def with_layout(self, name, x, call, out, node, frame):
        """Strides of a view-making op's result; a view that torch cannot make is an error."""
        if name == "view":
            err = layout.view_error(x, out)
            if err is not None:
                return self.report_error(err, node, frame, (x,), fixes=view_fix(node, frame))
        return with_strides(out, layout.after(name, x, call, out))

    def list_method(self, obj, name, args, kwargs):
        if name in LIST_READERS:
            if obj.lost:
                return Unknown(obj.lost)
            if name == "copy":
                return ListVal(list(obj.items)) if self.budget.fold(len(obj.items)) else \
                    Unknown("a list too large for the analysis")
            return Unknown("list.%s" % name)
        if name not in LIST_MUTATORS or (name in DEQUE_ONLY and not obj.deque):
            return Unknown("list has no method %s" % name)
        self.mutating(obj)
        if obj.lost:
            return Unknown(obj.lost) if name == "pop" else Const(None)
        items = obj.items
        if name == "append" and len(args) == 1:
            items.append(args[0])
        elif name == "extend" and len(args) == 1 and self.iterate(args[0]) is not None and \
                self.budget.fold(len(items) + len(self.iterate(args[0]))):
            items.extend(self.iterate(args[0]))
        elif name == "__setitem__" and len(args) == 2:
            self.set_item(obj, args[0], args[1])
        elif name == "__delitem__" and len(args) == 1:
            self.delete_item(obj, args[0])
        elif name == "insert" and len(args) == 2 and type(as_int(args[0])) is int:
            items.insert(as_int(args[0]), args[1])
        elif name == "appendleft" and len(args) == 1:
            items.insert(0, args[0])
        elif name == "extendleft" and len(args) == 1 and self.iterate(args[0]) is not None and \
                self.budget.fold(len(items) + len(self.iterate(args[0]))):
            items[:0] = reversed(self.iterate(args[0]))
        elif name == "popleft" and not args:
            if items:
                return items.pop(0)
            return Unknown("popleft from an empty deque raises")
        elif name == "pop" and len(args) <= 1:
            i = as_int(args[0]) if args else -1
            if type(i) is int and -len(items) <= i < len(items):
                return items.pop(i)
            self.havoc(obj, "pop at an index the analysis cannot see", deep=False)
            return Unknown("pop")
        elif name == "clear":
            items.clear()
        elif name == "reverse":
            items.reverse()
        elif name == "sort" and not args and not kwargs and \
                all(type(i) is Const and type(i.value) in (int, float, str) for i in items):
            try:
                items.sort(key=lambda c: c.value)
            except TypeError:
                self.havoc(obj, "sort", deep=False)
        else:
            self.havoc(obj, "list.%s the analysis cannot follow" % name, deep=False)
        return Const(None)

    def list_in_place(self, obj, op, other):
        """``lst += other`` (extend) and ``lst *= n`` (repeat), in place."""
        if isinstance(op, ast.Add):
            self.list_method(obj, "extend", (other,), {})
            return
        self.mutating(obj)
        n = as_int(visible(other))
        if obj.lost:
            return
        if type(n) is int and len(obj.items) * max(n, 0) <= 4096:
            obj.items[:] = obj.items * max(n, 0)
        else:
            self.havoc(obj, "repeated a number of times the analysis cannot see", deep=False)

    def attr_view_method(self, view, name, args, kwargs, node, frame):
        """Methods of ``obj.__dict__``: its entries are ``obj``'s attributes."""
        obj = view.obj
        if name in ("__getitem__", "get") and args and not obj.lost:
            key = as_python(args[0])
            if type(key) is str and key in obj.attrs:
                return obj.attrs[key]
            if name == "get" and type(key) is str and key not in obj.cls.attrs:
                return args[1] if len(args) > 1 else Const(None)
            return Unknown("attribute %r not known" % (key,))
        if name in ("update", "__setitem__"):
            entries = DictVal({})
            if name == "update":
                self.dict_method(entries, "update", args, kwargs)
            else:
                self.set_item(entries, args[0], args[1])
            if not entries.lost and all(type(k) is str for k in entries.items):
                for k, v in entries.items.items():
                    self.set_attribute(obj, k, v, node, frame)
                return Const(None)
        if name not in ("keys", "items", "values", "copy", "__contains__", "__len__"):
            self.havoc(obj, "changed through its __dict__ in a way the analysis cannot see")
        return Unknown("%s of an object's __dict__" % name)

    def dict_method(self, obj, name, args, kwargs=None):
        kwargs = kwargs or {}
        if obj.lost:
            if name in DICT_MUTATORS:
                self.mutating(obj)
            return Unknown(obj.lost)
        if name == "items":
            return ListVal([TupleVal((Const(k), v)) for k, v in obj.items.items()])
        if name == "keys":
            return ListVal([Const(k) for k in obj.items])
        if name == "values":
            return ListVal(list(obj.items.values()))
        if name == "copy":
            return DictVal(dict(obj.items))
        if name == "get" and args:
            key = as_python(args[0])
            if key is UNKNOWN:
                return Unknown("dict entry not known")
            if key in obj.items:
                return obj.items[key]
            return args[1] if len(args) > 1 else Const(None)
        if name not in DICT_MUTATORS:
            return Unknown("dict.%s" % name)
        self.mutating(obj)
        if name == "update":
            source = args[0] if args else None
            pairs = [] if source is None else (list(source.items.items())
                                               if type(source) is DictVal and not source.lost
                                               else None)
            if pairs is None and source is not None:
                kvs = [self.iterate(p) for p in self.iterate(source) or [None]]
                if all(kv is not None and len(kv) == 2 for kv in kvs):
                    pairs = [(as_python(k), v) for k, v in kvs]
            if pairs is None or any(k is UNKNOWN for k, _ in pairs):
                self.havoc(obj, "update with entries the analysis cannot see", deep=False)
                return Const(None)
            obj.items.update(pairs)
            obj.items.update(kwargs)
            return Const(None)
        key = as_python(args[0]) if args else UNKNOWN
        if name in ("pop", "setdefault") and key is not UNKNOWN:
            try:
                if name == "pop":
                    if key in obj.items:
                        return obj.items.pop(key)
                    return args[1] if len(args) > 1 else Unknown("KeyError")
                return obj.items.setdefault(key, args[1] if len(args) > 1 else Const(None))
            except TypeError:
                pass
        if name == "clear":
            obj.items.clear()
            return Const(None)
        if name == "__setitem__" and len(args) == 2:
            self.set_item(obj, args[0], args[1])
            return Const(None)
        if name == "__delitem__" and len(args) == 1:
            self.delete_item(obj, args[0])
            return Const(None)
        self.havoc(obj, "dict.%s the analysis cannot follow" % name, deep=False)
        return Unknown("dict.%s" % name)

    def iterate(self, value) -> Optional[list]:
        """The items of an iterable value, when the analysis knows them."""
        if type(value) is Instance and SELF_KEY in value.attrs:
            value = value.attrs[SELF_KEY]
        value = visible(value)
        kind = type(value)
        if kind in (TupleVal, ListVal):
            # a copy: counted, so that copying a long list in every step stays bounded
            return list(value.items) if self.budget.fold(len(value.items)) else None
        if kind is Container:
            if isinstance(value.items, dict):
                return [Const(k) for k in value.items] if value.kind == "ModuleDict" else \
                    list(value.items.values())
            return list(value.items)
        if kind is DictVal:
            return [Const(k) for k in value.items]
        if kind is SetVal and len(value.items) <= 1 and \
                not any(type(k) is RefKey for k in value.items):    # (the order of more
            return [Const(k) for k in value.items]                  # is not known)
        if kind is Tensor and value.shape and type(value.shape[0]) is int and \
                value.shape[0] <= MAX_ROWS:
            return [value.with_shape(value.shape[1:]) for _ in range(value.shape[0])]
        if kind is Const and isinstance(value.value, str) and self.budget.fold(len(value.value)):
            return [Const(c) for c in value.value]
        if kind in DATA_VALUES:
            return self.data_iterate(value)
        return None


def view_fix(node, frame):
    """Quick fix for a view that torch cannot make: call ``reshape`` instead."""
    from ..report import Fix, Range, TextEdit
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute) or \
            node.func.attr != "view" or not frame.env.is_main:
        return ()
    src = frame.env.src
    line = node.func.end_lineno
    end = src.col(line, node.func.end_col_offset)
    r = Range(line, end - 4, line, end)
    return (Fix("Use .reshape(...) instead of .view(...)", (TextEdit(Loc(r), "reshape"),)),)


# str methods evaluated on constants (safe, bounded): ``"layer{}".format(i)``, ``name.find``...
STR_METHODS = frozenset({"format", "join", "lower", "upper", "replace", "split", "rsplit",
                         "startswith", "endswith", "strip", "lstrip", "rstrip", "find", "rfind",
                         "count", "isdigit", "title", "capitalize", "zfill", "partition",
                         "casefold", "removeprefix", "removesuffix"})


def str_method(text: str, name: str, args, kwargs):
    if name not in STR_METHODS:
        return Unknown("str.%s" % name)
    values = [visible(a) for a in args]
    if name == "join":
        items = values[0].items if values and type(values[0]) in (TupleVal, ListVal) else None
        if items is None or not all(type(i) is Const and type(i.value) is str for i in items):
            return Unknown("str.join")
        values = [[i.value for i in items]]
    elif not all(type(v) is Const and type(v.value) in (int, float, str, bool, type(None))
                 for v in values + [visible(v) for v in kwargs.values()]):
        return Unknown("str.%s of values the analysis cannot see" % name)
    else:
        values = [v.value for v in values]
    if str_result_size(text, name, values) > MAX_LENGTH:
        return Unknown("str.%s: too long a string for the analysis" % name)
    kw = {k: visible(v).value for k, v in kwargs.items()}
    try:
        out = getattr(text, name)(*values, **kw)
    except Exception:
        return Unknown("str.%s raises" % name)
    if isinstance(out, str) and len(out) > 10_000:
        return Unknown("long string")
    if isinstance(out, (list, tuple)):
        return ListVal([Const(o) for o in out]) if isinstance(out, list) else \
            TupleVal(tuple(Const(o) for o in out))
    return Const(out)


# Calls that may take what a module holds without changing its shape (initialisers).
READING_ROOTS = frozenset({"nn", "torch", "init", "F", "math", "isinstance", "hasattr",
                           "getattr", "type", "len", "print", "str", "repr", "float", "int"})


def only_reads(fn) -> bool:
    """Whether a function given a module (``apply(fn)``) can only read it and change its
    tensors' values: no attribute or item of it stored or deleted, nothing of it handed to
    code other than torch's, no method of it called but those that change no shape."""
    func = fn.func if type(fn) is BoundFunction else fn
    if type(func) is not Function:
        return False
    params = func.node.args.args[1 if type(fn) is BoundFunction else 0:]
    if not params:
        return True
    name = params[0].arg
    body = func.node.body if isinstance(func.node.body, list) else [func.node.body]

    def rooted(n):
        while type(n) in (ast.Attribute, ast.Subscript):
            n = n.value
        return type(n) is ast.Name and n.id == name

    def root_name(n):
        while type(n) in (ast.Attribute, ast.Subscript, ast.Call):
            n = n.func if type(n) is ast.Call else n.value
        return n.id if type(n) is ast.Name else None

    for stmt in body:
        for n in ast.walk(stmt):
            kind = type(n)
            if kind in (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete):
                targets = n.targets if kind in (ast.Assign, ast.Delete) else [n.target]
                if any(t is not None and type(t) is not ast.Name and rooted(t)
                       for tt in targets for t in ast.walk(tt)):
                    return False
            elif kind is ast.Call:
                func_node = n.func
                if type(func_node) is ast.Attribute and rooted(func_node.value):
                    if func_node.attr in RESHAPES_IN_PLACE or (
                            type(func_node.value) is ast.Name and
                            func_node.attr not in RETURNS_SELF | READ_ONLY):
                        return False
                elif root_name(func_node) not in READING_ROOTS and \
                        any(rooted(a) for a in list(n.args) + [k.value for k in n.keywords]):
                    return False
    return True

