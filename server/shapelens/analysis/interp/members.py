"""Attribute and subscript access (and attribute assignment) on every kind of value."""
from __future__ import annotations

import ast
import dataclasses
from typing import Optional

from ..errors import ShapeError
from ..rules import LAYERS, distributions, layout, tensor_basics, torch_names
from ..rules.call import UNKNOWN, as_int, as_python
from ..rules.indexing import getitem
from ..rules.modules import MODULE_METHODS
from ..values import (
    DATA_VALUES,
    AttrView,
    BoundMethod,
    Const,
    Container,
    DictVal,
    Distribution,
    Instance,
    Layer,
    ListVal,
    SetVal,
    SliceVal,
    Tensor,
    TorchRef,
    TupleVal,
    Unknown,
    Value,
    with_strides,
)
from .containers import MODULE_KINDS, named, positional, slice_bounds
from .methods import STR_METHODS
from .program import (
    MODULE_BASES,
    SELF_KEY,
    ArgParser,
    BoundFunction,
    Builtin,
    ClassRef,
    Function,
    Partial,
    SuperRef,
    UserModuleRef,
    Wrapped,
    normalize,
)

# Attributes through which code reaches a module's registered children and parameters.
INTERNALS = frozenset({"_modules", "_parameters", "_buffers", "__dict__"})
# Parameters a layer may have that its rule does not give a shape for.
LAYER_PARAMETERS = frozenset({"weight", "bias", "in_proj_weight", "in_proj_bias", "weight_ih",
                              "weight_hh", "bias_ih", "bias_hh", "running_mean", "running_var"})
# Attributes of a torch layer that change nothing its rule reads.
HARMLESS_LAYER_ATTRIBUTES = {"inplace", "_is_hf_initialized"}


def torch_module_has(module, attr: str) -> Optional[bool]:
    """``hasattr`` of a torch layer or container the analysis built and follows: what every
    module has, a child, a field or parameter of the layer; no name that no torch module has
    (torch_names.py) unless the program set it, which leaves the layer or container unknown."""
    if attr in torch_names.MODULE:
        return True
    if type(module) is Container:
        if module.lost:
            return None
        if attr in torch_names.CONTAINER or attr in named(module):
            return True
        return None if torch_names.made_at_run_time(attr) else False
    rule = LAYERS.get(module.kind)
    if rule is None or module.spec is None:
        return None
    if rule.attribute(module.spec, attr) is not None:
        return True
    if attr in torch_names.LAYER or attr in torch_names.CONTAINER or \
            torch_names.made_at_run_time(attr):
        return None
    return False


def layer_has(layer: Layer, attr: str) -> bool:
    """Whether ``attr`` may be something torch's ``layer`` has and its forward reads: a
    field of its configuration, a parameter, a sub-module, or a private name."""
    rule = LAYERS.get(layer.kind)
    if rule is None or layer.spec is None:
        return True
    if attr.startswith("_") or (dataclasses.is_dataclass(layer.spec) and attr in {
            f.name for f in dataclasses.fields(layer.spec)}):
        return True
    return rule.attribute(layer.spec, attr) is not None or \
        any(name == attr for name, _ in rule.submodules(layer.spec))


def adopt(module, parent, name, training=None):
    """Give a sub-module made from a layer's spec (and the children of a container among
    them) its parent and name, so a change to any of them reaches the layer."""
    training = parent.training if type(parent) is Layer else training
    module.parent, module.name = parent, name
    if type(module) is Layer:
        module.training = training
    elif type(module) is Container and not module.lost:
        items = module.items.items() if isinstance(module.items, dict) else \
            ((str(i), m) for i, m in enumerate(module.items))
        for key, item in items:
            if type(item) in (Layer, Container):
                adopt(item, module, key, training)


class Members:
    """Attributes and subscripts."""

    def layer_child(self, layer: Layer, name: str):
        """A sub-module torch builds inside ``layer`` (``nn.Transformer``'s ``encoder``), the
        same object on every read (made from the layer's spec when first read, or what was
        assigned in its place); a change to it makes the layer unknown (Soundness.mutating),
        since the layer's rule computes from its spec."""
        entry = self.layer_children.get((id(layer), name))
        if entry is not None and entry[0] is layer:
            return entry[1]
        rule = LAYERS.get(layer.kind)
        if rule is None or layer.spec is None:
            return None
        child = dict(rule.submodules(layer.spec)).get(name)
        if child is None:
            return None
        adopt(child, layer, name)
        self.layer_children[(id(layer), name)] = (layer, child)
        return child

    def replace_layer_child(self, layer: Layer, name: str, value) -> bool:
        """``layer.<name> = value`` for a sub-module torch built inside it: the others stay
        what they were (made now), this one is ``value``; False when ``name`` is none."""
        rule = LAYERS.get(layer.kind)
        names = [n for n, _ in rule.submodules(layer.spec)] if rule is not None and \
            layer.spec is not None else []
        if name not in names:
            return False
        for other in names:
            self.layer_child(layer, other)
        if self.uncertain:
            # on a path the analysis cannot choose (the table is not joined like the layer)
            value = Unknown("%s.%s replaced on some paths" % (layer.kind, name))
        self.layer_children[(id(layer), name)] = (layer, value)
        return True

    def set_attribute(self, obj, attr, value, target, frame):
        kind = type(obj)
        if kind is Instance:
            base = obj.attrs.get(SELF_KEY)
            if type(base) is Container and type(value) in MODULE_KINDS:
                # A module assigned on a Sequential/ModuleList/ModuleDict subclass becomes one of
                # its children (torch registers it in ``_modules``).
                self.container_add(base, attr, value)
                return
            if type(base) is Layer and layer_has(base, attr):
                # the torch layer this instance extends reads it in its own forward
                self.set_attribute(base, attr, value, target, frame)
            self.mutating(obj)
            obj.attrs[attr] = value
            if type(value) in MODULE_KINDS:
                self.name_module(value, attr, obj)
                if type(value) is Layer:
                    self.rec.layer_ref(target, value, frame.env)
        elif kind is Container:
            if type(value) in MODULE_KINDS:
                self.container_add(obj, attr, value)
            else:
                # kept in the module's __dict__, which the analysis does not hold for a
                # container: what it has is no longer known (hasattr, below)
                self.havoc(obj, "an attribute set on it", deep=False)
        elif kind is Layer:
            rule = LAYERS.get(obj.kind)
            self.replace_layer_child(obj, attr, value)
            spec = rule.assigned(obj.spec, attr, value) if rule is not None and \
                obj.spec is not None else None
            if attr not in HARMLESS_LAYER_ATTRIBUTES and spec is not obj.spec:
                self.mutating(obj)
                obj.spec = spec         # None: changed in a way the rule does not follow
        elif kind is ClassRef:
            self.mutating(obj.info)
            obj.info.attrs[attr] = value
        elif kind is Tensor:
            if attr == "data":
                self.changed_in_place(obj, value)
        elif kind is Unknown:
            self.changed_through(obj)

    def changed_through(self, value: Unknown):
        """A change made through a value the analysis cannot see: the object it was read
        from, or each of the modules it may be, may have changed."""
        if value.receiver is not None or value.options:
            self.havoc(value.receiver if value.receiver is not None else value,
                       "changed through %s" % value.reason)

    def has_attribute(self, obj, attr: str) -> Optional[bool]:
        """``hasattr(obj, attr)`` when the analysis can tell."""
        if type(obj) is UserModuleRef and attr in obj.env.globals:
            return True         # (not there: it may be a submodule not imported yet)
        if type(obj) in (Layer, Container):
            return torch_module_has(obj, attr)
        if type(obj) is not Instance:
            return None
        if attr in obj.attrs:
            return True
        base = obj.attrs.get(SELF_KEY)
        if type(base) is Container and self.container_attribute(base, attr) is not None:
            return True
        mro = obj.cls.mro()
        if any(attr in c.method_values or attr in c.attrs for c in mro):
            return True
        if obj.cls.is_module and (attr in MODULE_METHODS or attr in torch_names.MODULE):
            return True
        if obj.lost or obj.opaque or not all(
                type(b) is ClassRef or (type(b) is TorchRef and (
                    b.qualname in MODULE_BASES or b.qualname.startswith("torch.nn."))) or
                (type(b) is Builtin and b.name == "object") for c in mro for b in c.bases):
            return None
        # Every base is known (classes of the program, torch's modules, object): nothing else
        # defines it (a torch base: what that layer or container has).
        if type(base) in (Layer, Container):
            return torch_module_has(base, attr)
        if base is not None or (attr.startswith("_") and not obj.cls.is_module) or \
                (obj.cls.is_module and torch_names.made_at_run_time(attr)):
            return None
        return False

    def delete_attribute(self, obj, attr):
        kind = type(obj)
        if kind is Instance:
            base = obj.attrs.get(SELF_KEY)
            if type(base) is Container and attr not in obj.attrs:
                self.container_delete(base, Const(attr)) if not positional(base) else \
                    self.havoc(base, "a child deleted by name")
                return
            self.mutating(obj)
            obj.attrs.pop(attr, None)
        elif kind is Layer:
            self.mutating(obj)
            obj.spec = None
        elif kind is Container:
            self.havoc(obj, "a child deleted by name")
        elif kind is Unknown:
            self.changed_through(obj)

    def set_item(self, obj, key, value, node=None, frame=None):
        """``obj[key] = value``."""
        if type(obj) is Instance and SELF_KEY in obj.attrs:
            obj = obj.attrs[SELF_KEY]
        kind = type(obj)
        if kind is AttrView:
            self.attr_view_method(obj, "__setitem__", (key, value), {}, None, None)
            return
        if kind is DictVal:
            k = as_python(key)
            self.mutating(obj)
            if obj.lost:
                return
            try:
                if k is UNKNOWN:
                    raise TypeError
                obj.items[k] = value
            except TypeError:
                self.havoc(obj, "an entry stored under a key the analysis cannot see")
        elif kind is ListVal:
            self.mutating(obj)
            if obj.lost:
                return
            if type(key) is SliceVal:
                s = slice_bounds(key)
                new = self.iterate(value)
                if s is None or new is None or (s.step not in (None, 1) and
                                                len(obj.items[s]) != len(new)):
                    self.havoc(obj, "a slice stored that the analysis cannot see")
                else:
                    obj.items[s] = new
                return
            i = as_int(key)
            if type(i) is int and -len(obj.items) <= i < len(obj.items):
                obj.items[i] = value
            else:
                self.havoc(obj, "an item stored at an index the analysis cannot see")
        elif kind is Container:
            self.container_set(obj, key, value)
        elif kind is Instance:
            cls, fnode = obj.cls.method("__setitem__")
            if fnode is not None and frame is not None:
                self.call_function(cls.method_values["__setitem__"], (obj, key, value), {},
                                   node, frame, cls=cls)
            else:
                self.havoc(obj, "__setitem__ the analysis cannot see")
        elif kind is Unknown:
            self.changed_through(obj)

    def delete_item(self, obj, key):
        """``del obj[key]``."""
        if type(obj) is Instance and SELF_KEY in obj.attrs:
            obj = obj.attrs[SELF_KEY]
        kind = type(obj)
        if kind is Container:
            self.container_delete(obj, key)
        elif kind in (ListVal, DictVal):
            self.mutating(obj)
            if obj.lost:
                return
            try:
                if kind is ListVal:
                    if type(key) is SliceVal:
                        s = slice_bounds(key)
                        if s is None:
                            raise TypeError
                        del obj.items[s]
                    else:
                        i = as_int(key)
                        if type(i) is not int:
                            raise TypeError
                        del obj.items[i]
                else:
                    k = as_python(key)
                    if k is UNKNOWN:
                        raise TypeError
                    del obj.items[k]
            except (TypeError, IndexError, KeyError):
                self.havoc(obj, "an item deleted that the analysis cannot pin down")
        elif kind is Instance:
            self.havoc(obj, "__delitem__ the analysis cannot see")
        elif kind is Unknown:
            self.changed_through(obj)

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

    def expr_Attribute(self, node, frame):
        obj = self.eval(node.value, frame)
        value = self.get_attribute(obj, node.attr, node, frame)
        if type(value) is Layer:
            self.rec.layer_ref(node, value, frame.env)
        return value

    def get_attribute(self, obj, attr, node=None, frame=None) -> Value:
        kind = type(obj)
        if attr == "__class__":
            return class_of(obj)
        if attr == "__name__" and kind in (ClassRef, TorchRef):
            return Const(obj.info.name if kind is ClassRef else obj.qualname.rsplit(".", 1)[-1])
        if attr == "__dict__" and kind is Instance and not obj.cls.is_module and \
                attr not in obj.attrs:
            return AttrView(obj)
        if attr in INTERNALS and kind in (Instance, Layer, Container) and \
                not (kind is Instance and attr in obj.attrs):
            # ``self._modules[...] = m``, ``vars(self)``: changes through these are not followed.
            return Unknown("internals (%s) of a module" % attr, receiver=obj)
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
            if attr == "__module__":
                return Const(obj.cls.env.name)
            for c in obj.cls.mro():
                if attr in c.method_values:
                    fn = c.method_values[attr]
                    if any(isinstance(d, ast.Name) and d.id in ("property", "cached_property")
                           for d in fn.node.decorator_list):
                        return self.call_function(fn, (obj,), {}, node, frame)
                    if any(isinstance(d, ast.Name) and d.id == "staticmethod"
                           for d in fn.node.decorator_list):
                        return fn
                    if is_classmethod(fn):
                        return BoundFunction(ClassRef(obj.cls), fn, c)
                    return BoundFunction(obj, fn, c)
                if attr in c.attrs and not obj.opaque and not obj.lost:
                    return c.attrs[attr]
            base = obj.attrs.get(SELF_KEY)
            if base is not None:
                return self.get_attribute(base, attr, node, frame)
            if obj.cls.is_module and attr in MODULE_METHODS:
                return BoundMethod(obj, attr)
            if obj.lost:
                return Unknown(obj.lost, receiver=obj)
            return Unknown("%s has no attribute %s the analysis can see" % (obj.cls.name, attr),
                           receiver=obj)
        if kind is ClassRef:
            for c in obj.info.mro():
                if attr in c.attrs:
                    return c.attrs[attr]
                if attr in getattr(c, "method_values", {}):
                    fn = c.method_values[attr]
                    return BoundFunction(obj, fn, c) if is_classmethod(fn) else fn
            if attr in ("__name__", "__qualname__"):
                return Const(obj.info.name)
            if attr == "__module__":
                return Const(obj.info.env.name)
            return Unknown("class attribute %s" % attr)
        if kind is Layer:
            rule = LAYERS.get(obj.kind)
            value = rule.attribute(obj.spec, attr) if rule is not None and obj.spec is not None \
                else None
            if type(value) is Tensor:
                # A parameter: changing it in place (``.data = ...``) changes the layer.
                return dataclasses.replace(value, owner=obj)
            if value is not None:
                return value
            child = self.layer_child(obj, attr)
            if child is not None:
                return child
            if attr in MODULE_METHODS or attr not in LAYER_PARAMETERS:
                return BoundMethod(obj, attr)
            return Unknown("%s.%s" % (obj.kind, attr), receiver=obj)
        if kind is Container:
            child = self.container_attribute(obj, attr)
            return child if child is not None else BoundMethod(obj, attr)
        if kind in (ListVal, DictVal, SetVal, ArgParser):
            return BoundMethod(obj, attr)
        if kind is Unknown and obj.receiver is not None and obj.reason.startswith("internals"):
            # ``self._modules.update(...)``, ``vars(self)["fc"] = ...``: still the object.
            return Unknown(obj.reason, receiver=obj.receiver)
        if kind is Unknown and obj.options:
            # an attribute of one of several modules: a change through it changes that one
            return Unknown("attribute %s of one of several modules" % attr, receiver=obj)
        if kind is Partial and attr in ("func", "args", "keywords"):
            # (keywords: the partial's own dict, as in Python)
            return obj.func if attr == "func" else TupleVal(tuple(obj.args)) \
                if attr == "args" else DictVal(obj.kwargs)
        if kind is Wrapped:
            if attr == "module":
                return obj.module
            return self.get_attribute(obj.module, attr, node, frame) if attr in MODULE_METHODS \
                else Unknown("DataParallel has no attribute %s" % attr)
        if kind is UserModuleRef:
            v = obj.env.globals.get(attr)
            if v is not None:
                return v
            return self.package_attribute(obj.env, attr)
        if kind is Const and isinstance(obj.value, str) and attr in STR_METHODS:
            return BoundMethod(obj, attr)
        if kind is Function and attr in ("__name__", "__qualname__", "__module__"):
            return Const(obj.node.name if attr != "__module__" else obj.env.name)
        if kind is SuperRef:
            mro = obj.obj.cls.mro() if type(obj.obj) is Instance else []
            if obj.after in mro:
                for c in mro[mro.index(obj.after) + 1:]:
                    if attr in c.method_values:
                        return BoundFunction(obj.obj, c.method_values[attr], c)
                    if attr == "__init__" and c.record_like:
                        # the __init__ @dataclass (attrs, NamedTuple...) wrote for that base
                        return Partial(Builtin("record_init"), (obj.obj, ClassRef(c)), {})
            if type(obj.obj) is Instance and obj.obj.cls.torch_base is not None:
                if attr == "__init__":
                    return BoundMethod(obj.obj, "__torch_init__")
                base = obj.obj.attrs.get(SELF_KEY)
                if base is not None:
                    return self.get_attribute(base, attr, node, frame)
            return Builtin("noop")
        if kind is Const and isinstance(obj.value, str) and attr in STR_METHODS:
            return BoundMethod(obj, attr)
        if kind is TupleVal and obj.size and attr == "numel":
            return BoundMethod(obj, attr)
        if kind is TupleVal and len(obj.items) == 2 and attr in ("values", "indices"):
            # torch's (values, indices) named tuples: x.max(dim=1), sort, topk, kthvalue...
            return obj.items[0 if attr == "values" else 1]
        if kind in DATA_VALUES:
            return self.data_attribute(obj, attr, node, frame)
        if kind is AttrView:
            return BoundMethod(obj, attr)
        if kind is Distribution:
            value = distributions.attribute(obj, attr)
            return value if value is not None else BoundMethod(obj, attr)
        return Unknown("attribute %s of a value the analysis cannot see" % attr)

    def expr_Subscript(self, node, frame):
        obj = self.eval(node.value, frame)
        key = self.eval(node.slice, frame)
        return self.subscript(obj, key, node, frame)

    def subscript(self, obj, key, node, frame):
        if type(obj) is Instance and SELF_KEY in obj.attrs:
            obj = obj.attrs[SELF_KEY]
        kind = type(obj)
        if kind is AttrView:
            return self.attr_view_method(obj, "__getitem__", (key,), {}, node, frame)
        if kind is Tensor:
            result = getitem(obj, key)
            if result is None:
                return Tensor(None, obj.dtype)
            result = self.rule_result(result, node, frame, "Tensor.__getitem__", (obj,))
            if type(result) is Tensor:
                result = with_strides(result, layout.index_strides(obj, key,
                                                                                  result))
            return result
        if kind is ListVal and obj.lost:
            return Unknown(obj.lost)
        if kind in (TupleVal, ListVal):
            if type(key) is SliceVal:
                s = slice_bounds(key)
                if s is None:
                    return Unknown("slice with unknown bounds")
                items = obj.items[s]
                return TupleVal(tuple(items), obj.size) if kind is TupleVal else ListVal(list(items))
            i = as_int(key)
            if type(i) is int and -len(obj.items) <= i < len(obj.items):
                return obj.items[i]
            return Unknown("index not known")
        if kind is Container:
            return self.container_item(obj, key)
        if kind is DictVal:
            if obj.lost:
                return Unknown(obj.lost)
            k = as_python(key)
            if k is not UNKNOWN and k in obj.items:
                return obj.items[k]
            if obj.default is not None:
                # a defaultdict adds the key, with what its factory makes
                if k is UNKNOWN:
                    self.havoc(obj, "a defaultdict read at a key the analysis cannot see")
                    return Unknown("dict entry not known")
                value = self.call(obj.default, (), {}, node, frame)
                self.mutating(obj)
                obj.items[k] = value
                return value
            return Unknown("dict entry not known")
        if kind is TorchRef and obj.qualname == "sys.modules":
            name = as_python(key)
            found = [e for e in self.modules.values() if e.name == name] if \
                isinstance(name, str) else []
            return UserModuleRef(found[0]) if found else Unknown("sys.modules[%r]" % (name,))
        if kind is Unknown and obj.receiver is not None and obj.reason.startswith("internals"):
            # ``self._modules.update(...)``, ``vars(self)["fc"] = ...``: still the object.
            return Unknown(obj.reason, receiver=obj.receiver)
        if kind is Const and type(obj.value) in (str, bytes):
            # s[i], s[a:b]: a shorter string (bytes: an int for an index)
            k = slice_bounds(key) if type(key) is SliceVal else as_int(key)
            if type(k) in (int, slice):
                try:
                    return Const(obj.value[k])
                except IndexError:
                    return Unknown("string index out of range")
            return Unknown("string indexing")
        if kind in DATA_VALUES:
            return self.data_subscript(obj, key, node, frame)
        if kind is Instance and obj.cls.method("__getitem__")[1] is not None:
            return self.instance_getitem(obj, key, node, frame)
        return Unknown("subscript of a value the analysis cannot see")


def is_classmethod(fn) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "classmethod" for d in fn.node.decorator_list)


def class_of(value) -> Value:
    """``value.__class__``."""
    kind = type(value)
    if kind is Instance:
        return ClassRef(value.cls)
    if kind is Layer or kind is Container:
        return TorchRef("torch.nn." + value.kind)
    if kind is Tensor:      # a plain tensor or an nn.Parameter: not always told apart
        return TorchRef("torch.nn.Parameter") if value.nn_param else \
            Unknown("torch.Tensor or a subclass")
    return Unknown("class of a value the analysis cannot see")

