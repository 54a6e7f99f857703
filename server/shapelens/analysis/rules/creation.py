"""Tensor factories: the sample inputs of module-level code.

``torch.randn(1, 3, 28, 28)``, ``torch.zeros((2, 5))``, ``torch.randint(0, 10, (8, 20))``,
``torch.tensor([[1, 2], [3, 4]])``, ``torch.full((2, 3), 0.5)``, ``torch.arange(10)``,
``torch.zeros_like(x)``, ``nn.Parameter(t)``; ``torch.multinomial`` (indices drawn per row).
"""
from __future__ import annotations

from typing import Optional

from ..dims import ceildiv, is_int
from ..errors import error
from ..values import Array, Const, ListVal, Tensor, TorchRef, TupleVal, Unknown, format_shape
from . import function
from .call import MISSING, Call, as_int

FLOAT_DTYPES = {"float", "float32", "float64", "double", "half", "float16", "bfloat16"}
INT_DTYPES = {"long", "int64", "int", "int32", "int16", "int8", "uint8", "short"}


def _dtype(call: Call, default: str):
    return dtype_kind(call.get(None, "dtype")) or default


def dtype_kind(value) -> Optional[str]:
    """The kind of a dtype (``torch.float64``: "float") or legacy tensor type given as one
    (``torch.LongTensor``, ``"torch.cuda.LongTensor"``); None when not one of those."""
    if type(value) is TorchRef:
        name = value.qualname
    elif type(value) is Const and isinstance(value.value, str):
        name = value.value.replace("torch.cuda.", "torch.")
        return LEGACY_TYPES.get(name) if name != "Tensor" else None
    else:
        return None
    if name in LEGACY_TYPES:
        return LEGACY_TYPES[name]
    name = name.rsplit(".", 1)[-1]
    if name in FLOAT_DTYPES:
        return "float"
    if name in INT_DTYPES:
        return "long"
    return "bool" if name == "bool" else None


def _sized(call: Call, dtype: str):
    dims = call.dim_list(0, "size")
    if dims is None:
        return Tensor(None, dtype)
    if any(is_int(d) and d < 0 for d in dims):
        return None
    return Tensor(dims, dtype)


@function("torch.randn", "torch.rand", "torch.empty", "torch.zeros", "torch.ones")
def sized_float(call: Call):
    return _sized(call, _dtype(call, "float"))


LEGACY_TYPES = {"Tensor": "float", "torch.Tensor": "float", "torch.FloatTensor": "float",
                "torch.DoubleTensor": "float", "torch.LongTensor": "long",
                "torch.IntTensor": "long", "torch.BoolTensor": "bool"}


@function(*LEGACY_TYPES)
def legacy_constructor(call: Call):
    """``torch.Tensor(3, 4)`` (sizes, uninitialised), ``torch.FloatTensor([1, 2])`` (data),
    ``torch.Tensor(t)`` (t's shape)."""
    dtype = LEGACY_TYPES[call.name]
    first = call.args[0] if call.args else None
    if type(first) in (ListVal, TupleVal):
        return Tensor(literal_shape(first), dtype)
    if type(first) is Tensor or type(first) is Array:      # a tensor's or a numpy array's
        return Tensor(first.shape if len(call.args) == 1 else None, dtype)
    return _sized(call, dtype)


@function("torch.full")
def full(call: Call):
    dims = call.dim_list(0, "size") if not call.args else call.dim_list(0)
    if call.args:
        first = call.args[0]
        dims = tuple(as_int(x) for x in first.items) if type(first) in (TupleVal, ListVal) else None
    fill = call.get(1, "fill_value")
    kind = "float"
    if type(fill) is Const and type(fill.value) is int:
        kind = "long"
    elif type(fill) is Const and type(fill.value) is bool:
        kind = "bool"
    return Tensor(dims, _dtype(call, kind))


@function("torch.randint")
def randint(call: Call):
    # randint(high, size) or randint(low, high, size)
    size = call.get(None, "size")
    if size is MISSING:
        size = call.args[-1] if call.args else MISSING
    if type(size) in (TupleVal, ListVal):
        return Tensor(tuple(as_int(x) for x in size.items), _dtype(call, "long"))
    return Tensor(None, "long")


@function("torch.multinomial", "Tensor.multinomial")
def multinomial(call: Call):
    """Indices drawn from probability rows: [n] -> [k], [m, n] -> [m, k]."""
    probs = call.tensor(0, "input")
    k = call.int(1, "num_samples")
    if probs is None:
        return None
    replacement = call.value(2, "replacement", False)
    if is_int(k) and k <= 0:
        return error("shape-mismatch", "cannot sample n_sample <= 0 samples")
    if probs.shape is None:
        return Tensor(None, "long")
    if len(probs.shape) not in (1, 2):
        return error("rank-mismatch", "prob_dist must be 1 or 2 dim (got %s)"
                     % format_shape(probs.shape))
    n = probs.shape[-1]
    if replacement is False and is_int(k) and is_int(n) and k > n:
        return error("shape-mismatch", "cannot sample n_sample > prob_dist.size(-1) samples "
                     "without replacement (n_sample=%d, prob_dist.size(-1)=%d); pass "
                     "replacement=True or draw fewer" % (k, n))
    return Tensor(tuple(probs.shape[:-1]) + (k,), "long")


@function("torch.randperm")
def randperm(call: Call):
    return Tensor((call.int(0, "n"),), "long")


@function("torch.eye")
def eye(call: Call):
    n = call.int(0, "n")
    m = call.int(1, "m", n)
    return Tensor((n, m), _dtype(call, "float"))


def literal_shape(value):
    """Shape of a nested list/tuple literal of numbers; None when ragged or unknown."""
    if type(value) is Const:
        v = value.value
        if isinstance(v, (int, float, bool)) or is_int(v):
            return ()
        return None
    if type(value) is Tensor:
        return value.shape
    if type(value) in (ListVal, TupleVal):
        items = value.items
        if not items:
            return (0,)
        inner = literal_shape(items[0])
        if inner is None:
            return None
        for item in items[1:]:
            if literal_shape(item) != inner:
                return None
        return (len(items),) + inner
    return None


def _literal_dtype(value) -> str:
    if type(value) is Const:
        return {bool: "bool", int: "long"}.get(type(value.value), "float")
    if type(value) in (ListVal, TupleVal) and value.items:
        return _literal_dtype(value.items[0])
    return "float"


@function("torch.tensor", "torch.as_tensor", "torch.asarray")
def tensor_literal(call: Call):
    data = call.get(0, "data")
    return Tensor(literal_shape(data), _dtype(call, _literal_dtype(data)))


@function("Tensor.new_tensor")
def new_tensor(call: Call):
    """``x.new_tensor(data)``: as ``torch.tensor(data)``, with x's dtype unless one is given."""
    x, data = call.tensor(0, "self"), call.get(1, "data")
    return Tensor(literal_shape(data), _dtype(call, x.dtype if x is not None else None))


@function("torch.arange")
def arange(call: Call):
    values = [as_int(a) for a in call.args[:3]]
    if len(call.args) == 1:
        start, end, step = 0, values[0], 1
    elif len(call.args) >= 2:
        start, end = values[0], values[1]
        step = values[2] if len(values) > 2 else call.int(None, "step", 1)
    else:
        start, end, step = call.int(None, "start", 0), call.int(None, "end"), call.int(None, "step", 1)
    if any(type(call.args[i]) is Const and type(call.args[i].value) is float
           for i in range(len(call.args))):
        return Tensor((None,), "float")
    if start is None or end is None or not is_int(step) or step == 0:
        return Tensor((None,), "long")
    n = ceildiv(end - start, step) if step > 0 else ceildiv(start - end, -step)
    if is_int(n) and n < 0:
        n = 0
    return Tensor((n,), _dtype(call, "long"))


@function("torch.linspace", "torch.logspace")
def linspace(call: Call):
    return Tensor((call.int(2, "steps"),), _dtype(call, "float"))


@function("torch.zeros_like", "torch.ones_like", "torch.empty_like", "torch.rand_like",
          "torch.randn_like", "torch.full_like", "torch.randint_like")
def like(call: Call):
    x = call.tensor(0, "input")
    if x is None:
        return None
    return Tensor(x.shape, _dtype(call, x.dtype or "float"))


@function("torch.nn.Parameter", "torch.nn.parameter.Parameter", "torch.nn.Buffer")
def parameter(call: Call):
    x = call.tensor(0, "data")
    shape, dtype = (x.shape, x.dtype) if x is not None else ((0,), "float")
    if call.name.endswith("Buffer"):
        return Tensor(shape, dtype)
    grad = call.value(1, "requires_grad", True)
    role = "trainable" if grad is True else "frozen" if grad is False else "unknown"
    return Tensor(shape, dtype, nn_param=role)


@function("Tensor.new_zeros", "Tensor.new_ones", "Tensor.new_empty", "Tensor.new_full")
def new_sized(call: Call):
    x = call.tensor(0, "self")
    dims = call.dim_list(1, "size") if len(call.args) > 1 else None
    if call.name.endswith("new_full") and len(call.args) > 1:
        first = call.args[1]
        dims = tuple(as_int(i) for i in first.items) if type(first) in (TupleVal, ListVal) else None
    return Tensor(dims, x.dtype if x is not None else None)
