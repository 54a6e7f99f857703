"""Python's standard library as model code uses it: ``functools.partial`` layer factories,
``copy.deepcopy`` of modules (``clones(layer, N)``), ``typing.cast``, ``functools.reduce``,
``itertools.chain``/``product``/``repeat``, ``operator`` functions, ``argparse`` defaults.

Each entry of :data:`LIBRARY` maps a qualified name to ``(interp, args, kwargs, node, frame) ->
Value``.  A name that is not here is an operation the analysis does not follow (calls.py).
"""
from __future__ import annotations

import itertools
import operator as py_operator

from ..rules.call import UNKNOWN, as_python
from ..values import (
    Const,
    Container,
    DictVal,
    Instance,
    Layer,
    ListVal,
    SetVal,
    Tensor,
    TupleVal,
    Unknown,
    Value,
    visible,
)
from .program import NAMESPACE, ArgParser, DataclassField, Partial, Wrapped


def partial(interp, args, kwargs, node, frame):
    if not args:
        return Unknown("partial()")
    return Partial(args[0], tuple(args[1:]), dict(kwargs))


def cast(interp, args, kwargs, node, frame):
    return args[1] if len(args) == 2 else Unknown("cast")


def identity(interp, args, kwargs, node, frame):
    return args[0] if args else Unknown("no argument")


def deepcopy(interp, args, kwargs, node, frame):
    if not args:
        return Unknown("deepcopy()")
    return clone(interp, args[0], {}, deep=True)


def shallow_copy(interp, args, kwargs, node, frame):
    if not args:
        return Unknown("copy()")
    return clone(interp, args[0], {}, deep=False)


def clone(interp, value: Value, memo: dict, deep: bool) -> Value:
    """A copy of ``value`` with fresh mutable objects (all of them when ``deep``)."""
    if id(value) in memo:
        return memo[id(value)]
    kind = type(value)

    def inner(v):
        return clone(interp, v, memo, deep) if deep else v
    if kind is ListVal:
        out = ListVal([], value.lost, deque=value.deque)
        memo[id(value)] = out
        out.items = [inner(v) for v in value.items]
    elif kind is DictVal:
        out = DictVal({}, value.lost)
        memo[id(value)] = out
        out.items = {k: inner(v) for k, v in value.items.items()}
    elif kind is SetVal:
        out = SetVal(set(value.items), value.lost)
    elif kind is TupleVal:
        out = TupleVal(tuple(inner(v) for v in value.items), value.size)
    elif kind is Container:
        out = Container(value.kind, None, value.loc, lost=value.lost)
        memo[id(value)] = out
        out.items = {k: inner(v) for k, v in value.items.items()} \
            if isinstance(value.items, dict) else [inner(v) for v in value.items]
        relink(out)
    elif kind is Layer:
        out = Layer(value.kind, value.spec, value.loc, training=value.training)
        interp.rec.layer_cloned(value, out)
    elif kind is Instance:
        out = Instance(value.cls, {}, training=value.training, opaque=value.opaque,
                       lost=value.lost)
        memo[id(value)] = out
        out.attrs = {k: inner(v) for k, v in value.attrs.items()}
        relink(out)
    else:
        return value
    memo[id(value)] = out
    return out


def relink(module):
    """A copied module's children name it as their parent (their copies, when deep)."""
    children = module.attrs.items() if type(module) is Instance else \
        (module.items.items() if isinstance(module.items, dict) else enumerate(module.items))
    for key, child in children:
        if type(child) in (Layer, Container, Instance) and child.name is None:
            child.name = key
            child.parent = module


def reduce(interp, args, kwargs, node, frame):
    if len(args) < 2:
        return Unknown("reduce()")
    items = interp.iterate(args[1])
    if items is None:
        return Unknown("reduce over items the analysis cannot see")
    acc, rest = (args[2], items) if len(args) > 2 else (items[0] if items else None, items[1:])
    if acc is None:
        return Unknown("reduce() of an empty sequence")
    for item in rest:
        acc = interp.call(args[0], (acc, item), {}, node, frame)
    return acc


def chain(interp, args, kwargs, node, frame):
    out = []
    for a in args:
        items = interp.iterate(a)
        if items is None:
            return Unknown("chain of items the analysis cannot see")
        out.extend(items)
    return ListVal(out)


def product(interp, args, kwargs, node, frame):
    seqs = [interp.iterate(a) for a in args]
    repeat = as_python(kwargs.get("repeat", Const(1)))
    if any(s is None for s in seqs) or type(repeat) is not int:
        return Unknown("product of items the analysis cannot see")
    combos = list(itertools.islice(itertools.product(*seqs, repeat=repeat), 4097))
    if len(combos) > 4096:
        return Unknown("product too long")
    return ListVal([TupleVal(c) for c in combos])


def repeat(interp, args, kwargs, node, frame):
    times = as_python(args[1]) if len(args) > 1 else as_python(kwargs.get("times", Const(None)))
    if not args or type(times) is not int or not 0 <= times <= 4096:
        return Unknown("repeat()")
    return ListVal([args[0]] * times)


def operator_function(name):
    fn = getattr(py_operator, name)

    def call(interp, args, kwargs, node, frame):
        if len(args) == 2:
            from .expressions import BINOPS_BY_NAME
            op = BINOPS_BY_NAME.get(name)
            if op is not None:
                return interp.binop(op, args[0], args[1], node, frame)
        values = [as_python(visible(a)) for a in args]
        if UNKNOWN in values or any(type(a) is not Const for a in args):
            return Unknown("operator.%s" % name)
        try:
            return Const(fn(*values))
        except Exception:
            return Unknown("operator.%s" % name)
    return call


def data_parallel(interp, args, kwargs, node, frame):
    """``nn.parallel.data_parallel(module, inputs, ...)``: the module's own call."""
    module = args[0] if args else kwargs.get("module")
    inputs = args[1] if len(args) > 1 else kwargs.get("inputs")
    if module is None or inputs is None:
        return Unknown("data_parallel()")
    if type(inputs) is TupleVal:
        return interp.call(module, inputs.items, {}, node, frame)
    return interp.call(module, (inputs,), {}, node, frame)


def wrap_module(interp, args, kwargs, node, frame):
    module = args[0] if args else kwargs.get("module")
    return Wrapped(module) if module is not None else Unknown("wrapper of no module")


def argument_parser(interp, args, kwargs, node, frame):
    return ArgParser()


def namespace(interp, args, kwargs, node, frame):
    return Instance(NAMESPACE, dict(kwargs))


# Python types that ``add_argument(type=...)`` applies to a string default, as argparse does.
ARG_TYPES = {"int": int, "float": float, "str": str}


def argparser_method(interp, parser: ArgParser, name, args, kwargs):
    """``add_argument``, ``set_defaults``, ``parse_args``... of an ArgumentParser: the parsed
    namespace of a program run with no command-line arguments (its defaults)."""
    if name in ("add_argument_group", "add_mutually_exclusive_group", "add_subparsers"):
        return parser if name != "add_subparsers" else Unknown("subparsers")
    interp.mutating(parser)
    if parser.lost:
        return Unknown(parser.lost)
    if name == "add_argument":
        flags = [as_python(a) for a in args]
        if not flags or any(type(f) is not str for f in flags):
            parser.lost = "an argument the analysis cannot see"
            return Unknown("argument")
        longs = [f for f in flags if f.startswith("--")]
        dest = as_python(kwargs.get("dest", Const(None)))
        if type(dest) is not str:
            dest = (longs[0] if longs else flags[0]).lstrip("-").replace("-", "_")
        action = as_python(kwargs.get("action", Const("store")))
        required = as_python(kwargs.get("required", Const(False)))
        nargs = as_python(kwargs.get("nargs", Const(None)))
        positional = not flags[0].startswith("-")
        if action == "store_true":
            value = kwargs.get("default", Const(False))
        elif action == "store_false":
            value = kwargs.get("default", Const(True))
        elif required is not False or (positional and nargs not in ("?", "*")):
            value = Unknown("--%s is given on the command line" % dest)
        elif action in ("store", "store_const", "count", "append", None):
            value = kwargs.get("default", Const(None))
            arg_type = kwargs.get("type")
            if type(value) is Const and type(value.value) is str and arg_type is not None:
                convert = ARG_TYPES.get(getattr(arg_type, "name", None))
                try:
                    value = Const(convert(value.value)) if convert else \
                        Unknown("default of a custom type")
                except ValueError:
                    value = Unknown("default argparse cannot convert")
        else:
            value = Unknown("argument with action %s" % action)
        parser.items[dest] = value
        return Unknown("argument")
    if name == "set_defaults":
        parser.items.update(kwargs)
        return Const(None)
    if name in ("parse_args", "parse_known_args"):
        given = as_python(args[0]) if args else as_python(kwargs.get("args", Const(None)))
        if given is not None and given != () and given != []:
            return Unknown("arguments parsed from a list the analysis does not read")
        ns = Instance(NAMESPACE, dict(parser.items))
        return ns if name == "parse_args" else TupleVal((ns, ListVal([])))
    return Unknown("ArgumentParser.%s" % name)


def defaultdict(interp, args, kwargs, node, frame):
    """``defaultdict(factory, mapping or pairs, **kwargs)``: a dict that calls ``factory``
    for a key it does not have (members.py)."""
    factory = args[0] if args else Const(None)
    out = interp.make_ordered_dict(args[1:], kwargs)
    if not (type(factory) is Const and factory.value is None):
        out.default = factory
    return out


def deque(interp, args, kwargs, node, frame):
    """``deque(iterable)``: a list to the analysis (with appendleft/popleft); bounded by
    ``maxlen``, it drops items: unknown."""
    maxlen = kwargs.get("maxlen", args[1] if len(args) > 1 else Const(None))
    if not (type(maxlen) is Const and maxlen.value is None):
        return Unknown("a deque with maxlen")
    items = interp.iterate(args[0]) if args else []
    if items is None or not interp.budget.fold(len(items)):
        return ListVal([], "a deque of items the analysis cannot see")
    return ListVal(list(items), deque=True)


def dataclass_field(interp, args, kwargs, node, frame):
    return DataclassField(kwargs.get("default"), kwargs.get("default_factory"))


def record_fields(value):
    """The field names of a dataclass instance, in order (None when it is not one, or a field
    was never set)."""
    if type(value) is not Instance or not any(c.record_like for c in value.cls.mro()) or \
            value.lost or value.opaque:
        return None
    names = [name for name, _ in value.cls.record_fields()]
    return names if all(n in value.attrs for n in names) else None


def dataclass_replace(interp, args, kwargs, node, frame):
    """``dataclasses.replace(obj, **changes)``: a new instance made by the class's __init__
    from obj's fields and the changes (``__post_init__`` runs again, as in Python)."""
    names = record_fields(args[0]) if len(args) == 1 else None
    if names is None or not set(kwargs) <= set(names):
        return Unknown("dataclasses.replace")
    given = {n: args[0].attrs[n] for n in names}
    given.update(kwargs)
    return interp.instantiate(args[0].cls, (), given, node, frame)


def dataclass_asdict(interp, args, kwargs, node, frame):
    """``dataclasses.asdict(obj)``: its fields as a dict, nested dataclasses as dicts, lists
    and dicts copied."""
    def convert(value, depth):
        names = record_fields(value)
        if names is not None and depth < 8:
            return DictVal({n: convert(value.attrs[n], depth + 1) for n in names})
        if type(value) in (ListVal, DictVal, TupleVal) and not getattr(value, "lost", None):
            if type(value) is DictVal:
                return DictVal({k: convert(v, depth + 1) for k, v in value.items.items()})
            items = [convert(v, depth + 1) for v in value.items]
            return ListVal(items) if type(value) is ListVal else TupleVal(tuple(items),
                                                                          value.size)
        if type(value) is Tensor:
            return Tensor(value.shape, value.dtype)     # a copy, as deepcopy makes
        if type(value) in (ListVal, DictVal, Instance, Container, Layer):
            return Unknown("a copy asdict makes")
        return value
    if len(args) != 1 or kwargs or record_fields(args[0]) is None:
        return Unknown("dataclasses.asdict")
    return convert(args[0], 0)


LIBRARY = {
    "collections.defaultdict": defaultdict,
    "collections.deque": deque,
    "dataclasses.field": dataclass_field,
    "dataclasses.replace": dataclass_replace,
    "dataclasses.asdict": dataclass_asdict,
    "functools.partial": partial,
    "functools.reduce": reduce,
    "functools.wraps": lambda interp, args, kwargs, node, frame: Unknown("wraps"),
    "typing.cast": cast,
    "copy.deepcopy": deepcopy,
    "copy.copy": shallow_copy,
    "itertools.chain": chain,
    "itertools.product": product,
    "itertools.repeat": repeat,
    "argparse.ArgumentParser": argument_parser,
    "argparse.Namespace": namespace,
    "types.SimpleNamespace": namespace,
    "torch.nn.parallel.data_parallel": data_parallel,
    "torch.nn.DataParallel": wrap_module,
    "torch.nn.parallel.DataParallel": wrap_module,
    "torch.nn.parallel.DistributedDataParallel": wrap_module,
    "torch.nn.utils.spectral_norm": identity,
    "torch.nn.utils.weight_norm": identity,
}
for _name in ("add", "sub", "mul", "floordiv", "truediv", "mod", "pow", "matmul", "neg"):
    LIBRARY["operator." + _name] = operator_function(_name)
