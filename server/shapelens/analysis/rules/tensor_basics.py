"""Tensor attributes and the methods that keep a tensor's shape.

``x.shape`` / ``x.size()`` / ``x.size(1)`` / ``x.dim()`` / ``x.ndim`` / ``x.numel()`` /
``x.T``, and ``to``, ``cuda``, ``float``, ``detach``, ``clone``, ``contiguous`` …
"""
from __future__ import annotations

from ..dims import prod
from ..errors import error
from ..values import Const, ListVal, Tensor, TupleVal, Unknown, format_shape
from ..widths import may_be_dtype
from . import function
from .creation import dtype_kind
from .call import Call, as_int


def size_value(shape) -> TupleVal:
    return TupleVal(tuple(Const(d) if d is not None else Unknown("size not known")
                          for d in shape), size=True)


def _dim_index(shape, d, what="dim"):
    n = len(shape)
    if not -max(n, 1) <= d < max(n, 1):
        return error("rank-mismatch", "Dimension out of range (expected to be in range of "
                     "[%d, %d], but got %d)" % (-max(n, 1), max(n, 1) - 1, d))
    return d % max(n, 1)


def attribute(x: Tensor, name: str):
    """A tensor attribute as a Value, or None when the name is not an attribute we model."""
    shape = x.shape
    if name == "shape":
        return size_value(shape) if shape is not None else Unknown("rank not known")
    if name == "ndim":
        return Const(len(shape)) if shape is not None else Unknown("rank not known")
    if name in ("T", "mT", "H", "mH"):
        if shape is None:
            return Tensor(None, x.dtype)
        if name in ("T", "H"):
            return x.with_shape(tuple(reversed(shape)))
        if len(shape) < 2:
            return error("rank-mismatch", "tensor.mT is only supported on matrices or batches "
                         "of matrices. Got %d-D tensor." % len(shape))
        return x.with_shape(shape[:-2] + (shape[-1], shape[-2]))
    if name in ("data", "real"):
        return x
    if name in ("dtype", "device", "grad", "requires_grad", "is_cuda"):
        return Unknown("tensor %s" % name)
    return None


@function("Tensor.size")
def size(call: Call):
    x = call.args[0]
    if x.shape is None:
        return Unknown("rank not known")
    if not call.has(1, "dim"):
        return size_value(x.shape)
    d = call.int(1, "dim")
    if d is None:
        return Unknown("dim not known")
    i = _dim_index(x.shape, d)
    if not isinstance(i, int):
        return i
    v = x.shape[i]
    return Const(v) if v is not None else Unknown("size not known")


@function("Tensor.dim", "Tensor.ndimension")
def dim(call: Call):
    x = call.args[0]
    return Const(len(x.shape)) if x.shape is not None else Unknown("rank not known")


@function("Tensor.numel", "Tensor.nelement", "torch.numel")
def numel(call: Call):
    x = call.tensor(0, "input")
    if x is None or x.shape is None:
        return Unknown("rank not known")
    n = prod(x.shape)
    return Const(n) if n is not None else Unknown("size not known")


_SAME = ("to", "cuda", "cpu", "float", "double", "half", "bfloat16", "long", "int", "short",
         "bool", "byte", "char", "type", "type_as", "detach", "clone", "contiguous",
         "requires_grad_", "pin_memory", "share_memory_", "cpu", "mps", "detach_",
         "zero_", "fill_", "normal_", "uniform_", "copy_", "retain_grad", "coalesce",
         "to_dense", "float_", "requires_grad", "to_sparse", "to_sparse_coo")
_DTYPE_OF = {"float": "float", "double": "float", "half": "float", "bfloat16": "float",
             "long": "long", "int": "long", "short": "long", "byte": "long", "char": "long",
             "bool": "bool"}


@function(*["Tensor." + n for n in _SAME], "torch.clone", "torch.detach",
          "torch.autograd.Variable", "torch.autograd.variable.Variable")
def same_shape(call: Call):
    x = call.tensor(0, "input")
    if x is None:
        return None
    method = call.name.rsplit(".", 1)[-1]
    dtype = _DTYPE_OF.get(method, x.dtype)
    if method in ("to", "type", "type_as"):
        dtype = _target_dtype(call, x.dtype)
    return Tensor(x.shape, dtype, x.origin, x.cause)


def _target_dtype(call: Call, dtype):
    """The kind ``x.to(...)``, ``x.type(...)``, ``x.type_as(y)`` gives: that of a dtype or
    tensor type given, of another tensor given, else x's (``x.to(device)``); None when an
    argument may be a dtype the analysis cannot see."""
    for value in call.args[1:] + (call.kwargs.get("dtype"),):
        if type(value) is Tensor:
            return value.dtype
        kind = dtype_kind(value)
        if kind is not None:
            return kind
        if type(value) is Unknown and may_be_dtype(value):
            return None
    return dtype


@function("Tensor.item")
def item(call: Call):
    return Unknown("a tensor's value", number=True)


@function("Tensor.tolist")
def to_python(call: Call):
    x = call.tensor(0, "self")
    return python_lists(x.shape if x is not None else None)


MAX_LIST_ITEMS = 10_000


def python_lists(shape):
    """What ``tolist()`` gives for a tensor or array of this shape: nested lists of numbers
    whose values are unknown (``np.linspace(0, p, n).tolist()`` is n numbers)."""
    if shape is None or any(type(d) is not int for d in shape) or prod(shape) > MAX_LIST_ITEMS:
        return Unknown("a tensor's value")
    if not shape:
        return Unknown("a tensor's value", number=True)

    def nest(dims):
        if len(dims) == 1:
            return ListVal([Unknown("a tensor's value", number=True) for _ in range(dims[0])])
        return ListVal([nest(dims[1:]) for _ in range(dims[0])])
    return nest(shape)


__all__ = ["attribute", "size_value", "format_shape"]


# In-place methods that change the tensor's own shape: every alias of the tensor takes the
# result (interp/methods.py); any other in-place method (``add_``, ``relu_``...) keeps it.
RESHAPES_IN_PLACE = frozenset({"unsqueeze_", "squeeze_", "t_", "transpose_", "swapdims_",
                               "swapaxes_", "resize_", "resize_as_", "set_", "as_strided_"})


@function("Tensor.resize_")
def resize_(call: Call):
    dims = call.dim_list(1)
    if dims is None or any(type(d) is int and d < 0 for d in dims):
        return Tensor(None, _dtype(call))
    return Tensor(dims, _dtype(call))


@function("Tensor.resize_as_")
def resize_as_(call: Call):
    other = call.tensor(1, "the_template")
    return Tensor(other.shape if other is not None else None, _dtype(call))


@function("Tensor.set_")
def set_(call: Call):
    if not call.has(1, "source"):
        return Tensor((0,), _dtype(call))
    source = call.tensor(1, "source")
    if source is None or call.has(2, "storage_offset"):
        return Tensor(None, _dtype(call))
    return Tensor(source.shape, source.dtype)


@function("Tensor.as_strided", "Tensor.as_strided_", "torch.as_strided")
def as_strided(call: Call):
    size = call.get(1, "size")
    dims = tuple(as_int(d) for d in size.items) if type(size) in (TupleVal, ListVal) else None
    return Tensor(dims, _dtype(call))


def _dtype(call: Call):
    x = call.args[0] if call.args else None
    return x.dtype if type(x) is Tensor else None
