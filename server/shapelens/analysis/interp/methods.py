"""Methods of values: tensors (through the rules table), lists, dicts, torch containers,
layers and module instances; and how the analysis iterates a value."""
from __future__ import annotations

import ast
from typing import Optional

from .. import dims as D
from ..report import Loc
from ..rules import FUNCTIONS, layout
from ..rules.call import UNKNOWN, Call, as_int, as_python
from ..values import (
    Const,
    Container,
    DictVal,
    Instance,
    Layer,
    ListVal,
    Tensor,
    TupleVal,
    Unknown,
    set_training,
    with_strides,
)
from .program import MAX_UNROLL, SELF_KEY


class Methods:
    """Methods of values, and iteration."""

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
