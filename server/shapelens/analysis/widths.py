"""Bytes per element of the tensors an analysis saw, for the shape summary's sizes.

The analysis knows a tensor's dtype as a kind ("float", "long", "bool", "uint8"), not as a
width: a float64 or float16 tensor is "float" like a float32 one.  Widths are not followed value
by value.  Instead, each analysis notes every place where a tensor of a width other than torch's
default for its kind (float32, int64) may be made:

- a dtype given to a call (``dtype=torch.float64``, ``x.to(torch.half)``, ``nn.Linear(..., dtype=
  torch.bfloat16)``, ``torch.set_default_dtype(torch.float64)``, ``x.type(torch.IntTensor)``), or a
  value given as a dtype that the analysis cannot see;
- a conversion method (``x.double()``, ``model.half()``, ``x.int()``), autocast;
- a numpy array of another width made into a tensor (float64 by numpy's default).

Where none was noted, every tensor of a kind has the default width (torch's default dtype is
float32 unless the program sets it, which is noted); where one was, the sizes of that kind are
not known: the summary shows "?" and says why, rather than a size that may be wrong.
"""
from __future__ import annotations

import ast
from contextvars import ContextVar
from typing import Dict, Optional

from .values import TEXT_OF_BRANCHES, BoundMethod, Const, Tensor, TorchRef, Unknown

# Bytes per element of each kind at torch's default widths (float32, int64).
ELEMENT_BYTES = {"float": 4, "long": 8, "bool": 1, "uint8": 1}

# Dtypes (and legacy tensor types) of another width than their kind's default.
_FLOAT = frozenset({
    "float64", "double", "float16", "half", "bfloat16", "complex64", "cfloat", "complex128",
    "cdouble", "complex32", "chalf", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz",
    "float8_e5m2fnuz", "DoubleTensor", "HalfTensor", "BFloat16Tensor"})
_INT = frozenset({
    "int32", "int", "int16", "short", "int8", "uint8", "uint16", "uint32", "uint64", "qint8",
    "quint8", "qint32", "quint4x2", "IntTensor", "ShortTensor", "ByteTensor", "CharTensor"})
_DEFAULT = frozenset({"float32", "float", "int64", "long", "bool", "FloatTensor", "LongTensor",
                      "BoolTensor", "Tensor"})
# Methods that convert a tensor, or a module's parameters, to another width.
CONVERSIONS = {"double": "float", "half": "float", "bfloat16": "float", "cdouble": "float",
               "cfloat": "float", "chalf": "float", "int": "long", "short": "long",
               "byte": "long", "char": "long"}
# Methods whose positional arguments may be a dtype (``x.to(dtype)``, ``x.type(dtype)``).
_DTYPE_POSITIONAL = frozenset({"to", "type", "set_default_dtype", "set_default_tensor_type"})
# Unknown values that are not a dtype of another width: a device, or the dtype of a tensor
# (of the default width wherever no other width was noted).
_NOT_A_DTYPE = frozenset({"torch.device is not modelled", "tensor device", "tensor dtype",
                          TEXT_OF_BRANCHES})


class Widths:
    """The kinds whose width an analysis cannot be sure of: kind -> why (the first place)."""

    __slots__ = ("kinds", "loading")

    def __init__(self):
        self.kinds: Dict[str, str] = {}
        self.loading: list = []     # the same, for each imported module being run (its own)


WIDTHS: ContextVar = ContextVar("shapelens_widths", default=None)


def unsure(kind: str, why: str) -> None:
    """Tensors of ``kind`` may have another width than the default, because of ``why``."""
    widths = WIDTHS.get()
    if widths is None:
        return
    widths.kinds.setdefault(kind, why)
    for own in widths.loading:
        own.setdefault(kind, why)


def element_bytes(unsure_kinds) -> Dict[str, int]:
    """Bytes per element of the kinds whose width is certain."""
    return {k: n for k, n in ELEMENT_BYTES.items() if k not in unsure_kinds}


def numpy_array(dtype: Optional[str]) -> None:
    """A numpy array of ``dtype`` made into a tensor (keeps its width)."""
    if dtype in ("float64", "float16"):
        unsure("float", "a %s numpy array made into a tensor" % dtype)
    elif dtype is not None and dtype.startswith(("int", "uint")) and dtype not in ("int64",
                                                                                   "uint8"):
        unsure("long", "a %s numpy array made into a tensor" % dtype)


def may_be_dtype(value: Unknown) -> bool:
    """Whether an unknown value given where a dtype may go may be a dtype of another width
    (not a device, nor the dtype of a tensor)."""
    return value.reason not in _NOT_A_DTYPE


def _named_kind(name: str) -> Optional[str]:
    """"float"/"long" when ``name`` (a dtype or tensor type, last part) is of another width."""
    if name in _FLOAT:
        return "float"
    if name in _INT:
        return "long"
    return None


def _as_dtype(value) -> Optional[tuple]:
    """The kinds ``value`` may change to another width when given as a dtype, and its text."""
    kind = type(value)
    if kind is TorchRef:
        q = value.qualname
        if q.startswith(("torch.", "Tensor.")) and q.count(".") <= 2:
            k = _named_kind(q.rsplit(".", 1)[-1])
            if k is not None:
                return (k,), q
        return None
    if kind is Unknown:
        return (("float", "long"), "a dtype the analysis cannot see") if may_be_dtype(value) \
            else None
    if kind is Const and isinstance(value.value, str):
        name = value.value.rsplit(".", 1)[-1]
        if name in _DEFAULT or "." not in value.value:
            return None         # a device ("cuda:0") or a default tensor type
        k = _named_kind(name)
        return ((k,) if k else ("float", "long")), value.value
    return None


def check_call(func, name: Optional[str], args, kwargs) -> Optional[tuple]:
    """(kinds, what) when a call may make a tensor of another width, else None.  ``name`` is
    the called method's or function's last name (None when not known)."""
    kind = type(func)
    if kind is TorchRef:
        q = func.qualname
        if "autocast" in q:
            return ("float",), q
        k = _named_kind(name) if q.startswith("torch.") else None
        if k is not None:           # torch.DoubleTensor(...)
            return (k,), q
    if name in CONVERSIONS:
        return (CONVERSIONS[name],), "." + name + "()"
    for value in args:
        if type(value) is TorchRef:
            found = _as_dtype(value)
            if found is not None:
                return found
    if name in _DTYPE_POSITIONAL:
        for value in args:
            if type(value) is not TorchRef and type(value) is not Tensor:
                found = _as_dtype(value)
                if found is not None:
                    return found
    if kwargs:
        for key, value in kwargs.items():
            if key == "dtype" or type(value) is TorchRef:
                found = _as_dtype(value)
                if found is not None:
                    return found
        if kwargs.get("out_int32") is not None and kwargs["out_int32"] != Const(False):
            return ("long",), "out_int32"
    return None


def call_name(func, node) -> Optional[str]:
    """The last name of what a call calls: a method's name (also of a value the analysis
    cannot see, read from the code: ``unknown.double()``), a torch function's."""
    kind = type(func)
    if kind is BoundMethod:
        return func.name
    if kind is TorchRef:
        return func.qualname.rsplit(".", 1)[-1]
    if kind is Unknown and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None
