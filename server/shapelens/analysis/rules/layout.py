"""Memory layout, where it is certain: strides through the ops that make views.

``view`` works only when the new shape can be expressed over the input's strides; after a
``transpose``/``permute``/``expand`` (or MultiheadAttention with ``batch_first``, which returns a
transposed view) it raises "view size is not compatible with input tensor's size and stride".

A tensor's ``strides`` is ``None`` for contiguous, a tuple of ints when known exactly, or
``UNKNOWN`` when not known.  Every op not listed here that gets a non-contiguous input gives an
UNKNOWN layout (``Tensor.with_shape`` does that), so a view error is only ever reported on
strides computed exactly here.
"""
from __future__ import annotations

from typing import Optional

from ..errors import error
from ..values import Const, SliceVal, Tensor, TupleVal
from .call import Call, as_int

UNKNOWN = "?"


def contiguous_strides(shape) -> Optional[tuple]:
    if shape is None or not all(type(d) is int for d in shape):
        return None
    out = []
    step = 1
    for d in reversed(shape):
        out.append(step)
        step *= max(d, 1)
    return tuple(reversed(out))


def strides_of(t: Tensor) -> Optional[tuple]:
    """Exact strides of a tensor, or None when not known."""
    if t.strides is None:
        return contiguous_strides(t.shape)
    if t.strides == UNKNOWN:
        return None
    return t.strides


def _normalise(strides, shape):
    """None when the strides are those of a contiguous tensor."""
    if strides is None:
        return UNKNOWN
    return None if strides == contiguous_strides(shape) else strides


def compute_view_strides(old_shape, old_strides, new_shape) -> Optional[tuple]:
    """torch's ``computeStride`` (aten/src/ATen/TensorUtils.cpp): the strides of a view of
    ``new_shape``, or None when no such view exists."""
    if not new_shape and not old_shape:
        return ()
    numel = 1
    for d in old_shape:
        numel *= d
    if numel == 0 or not old_shape:
        return None
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base_stride = old_strides[-1]
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        if tensor_d == 0 or (old_shape[tensor_d - 1] != 1 and
                             old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old_strides[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    if view_d != -1:
        return None
    return tuple(new_strides)


def view_error(x: Tensor, out: Tensor):
    """The ShapeError of ``x.view(...)`` giving ``out``'s shape, when certain; else None."""
    if x.strides is None or x.strides == UNKNOWN:
        return None
    new_shape = out.shape
    if new_shape is None or x.shape is None or not all(type(d) is int for d in new_shape):
        return None
    if compute_view_strides(x.shape, x.strides, new_shape) is not None:
        return None
    return error("view-stride", "view size is not compatible with input tensor's size and "
                 "stride (at least one dimension spans across two contiguous subspaces). Use "
                 ".reshape(...) instead. The input %s is a non-contiguous view (strides %s), "
                 "e.g. after transpose/permute: use .reshape(), or .contiguous().view()."
                 % (_fmt(x.shape), _fmt(x.strides)))


def _fmt(t):
    return "[" + ", ".join(str(d) for d in t) + "]"


def _dims(call: Call, start: int, rank: int):
    dims = call.dim_list(start, "dims")
    if dims is None or not all(type(d) is int for d in dims):
        return None
    return [d % rank if -rank <= d < rank else None for d in dims]


def after(op: str, x: Tensor, call: Call, out: Tensor):
    """The strides of ``out`` = ``x.<op>(...)``: None (contiguous), a tuple, or UNKNOWN."""
    if out.shape is None:
        return UNKNOWN
    if op in ("contiguous",):
        return None
    src = strides_of(x)
    if src is None:
        return UNKNOWN
    rank = len(x.shape)
    if op in ("transpose", "swapaxes", "swapdims"):
        a, b = as_int(call.get(1, "dim0")), as_int(call.get(2, "dim1"))
        if type(a) is not int or type(b) is not int or not rank:
            return UNKNOWN
        s = list(src)
        s[a % rank], s[b % rank] = s[b % rank], s[a % rank]
        return _normalise(tuple(s), out.shape)
    if op == "permute":
        dims = _dims(call, 1, rank)
        if dims is None or None in dims or len(dims) != rank:
            return UNKNOWN
        return _normalise(tuple(src[d] for d in dims), out.shape)
    if op in ("t", "T"):
        return _normalise(tuple(reversed(src)), out.shape)
    if op == "mT":
        return _normalise(src[:-2] + (src[-1], src[-2]), out.shape) if rank >= 2 else UNKNOWN
    if op == "unsqueeze":
        d = as_int(call.get(1, "dim"))
        if type(d) is not int:
            return UNKNOWN
        d = d % (rank + 1)
        inner = src[d] * x.shape[d] if d < rank else 1
        return _normalise(src[:d] + (inner,) + src[d:], out.shape)
    if op in ("view", "reshape", "flatten", "view_as", "reshape_as"):
        if not all(type(d) is int for d in out.shape) or not all(type(d) is int
                                                                for d in x.shape):
            return UNKNOWN
        s = compute_view_strides(x.shape, src, out.shape)
        if s is None:
            return None if op != "view" else UNKNOWN   # reshape copies: contiguous
        return _normalise(s, out.shape)
    if op in ("expand", "expand_as"):
        if not all(type(d) is int for d in out.shape):
            return UNKNOWN
        lead = len(out.shape) - rank
        s = [0] * lead
        for i, d in enumerate(x.shape):
            s.append(src[i] if d == out.shape[lead + i] else 0)
        return _normalise(tuple(s), out.shape)
    return UNKNOWN


LAYOUT_METHODS = {"transpose", "swapaxes", "swapdims", "permute", "t", "unsqueeze", "view",
                  "reshape", "flatten", "contiguous", "expand", "expand_as", "view_as",
                  "reshape_as"}


def index_strides(x: Tensor, index, out: Tensor):
    """Strides of a basic index (ints, slices, None, Ellipsis); UNKNOWN for anything else."""
    src = strides_of(x)
    if src is None or out.shape is None:
        return UNKNOWN
    items = list(index.items) if type(index) is TupleVal and not index.size else [index]
    out_strides = []
    pos = 0
    explicit = sum(1 for i in items if not (type(i) is Const and (i.value is None or
                                                                   i.value is Ellipsis)))
    for item in items:
        if type(item) is Const and item.value is None:
            out_strides.append(1)
        elif type(item) is Const and item.value is Ellipsis:
            skip = len(x.shape) - explicit
            out_strides.extend(src[pos:pos + skip])
            pos += skip
        elif type(item) is SliceVal:
            step = as_int(item.step) if not (type(item.step) is Const and
                                              item.step.value is None) else 1
            if type(step) is not int:
                return UNKNOWN
            out_strides.append(src[pos] * step)
            pos += 1
        elif type(as_int(item)) is int:
            pos += 1
        else:
            return UNKNOWN      # advanced indexing copies; not modelled here
    out_strides.extend(src[pos:])
    if len(out_strides) != len(out.shape):
        return UNKNOWN
    return _normalise(tuple(out_strides), out.shape)


# Element-wise ops whose output follows the input's memory layout (TensorIterator keeps a
# dense permuted layout, e.g. a transposed tensor stays transposed).  Checked against torch.
_POINTWISE = ("relu", "sigmoid", "tanh", "exp", "log", "abs", "sqrt", "rsqrt", "neg", "gelu",
              "silu", "elu", "leaky_relu", "hardswish", "mish", "softplus", "sin", "cos",
              "square", "reciprocal", "relu6", "selu", "celu", "hardtanh", "sign", "floor",
              "ceil", "round", "exp2", "expm1", "log1p", "erf", "dropout")
POINTWISE_FUNCTIONS = frozenset(
    ["torch." + n for n in _POINTWISE] + ["Tensor." + n for n in _POINTWISE] +
    ["torch.nn.functional." + n for n in _POINTWISE])
POINTWISE_LAYERS = frozenset(("ReLU", "GELU", "SiLU", "Sigmoid", "Tanh", "ELU", "LeakyReLU",
                              "Hardswish", "Mish", "Softplus", "ReLU6", "SELU", "CELU",
                              "Hardtanh", "Dropout"))


def pointwise(x: Tensor):
    """Strides of an element-wise op's output on ``x`` alone (or with a Python scalar)."""
    if x.strides is None:
        return None
    src = strides_of(x)
    if src is None or x.shape is None:
        return UNKNOWN
    dims = [i for i, d in enumerate(x.shape) if d != 1]
    order = sorted(dims, key=lambda i: -src[i])
    expect = 1
    for i in reversed(order):
        if src[i] != expect:
            return UNKNOWN          # not dense: torch allocates a fresh layout we do not model
        expect *= x.shape[i]
    return x.strides
