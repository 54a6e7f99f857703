"""Flatten and Unflatten: ``nn.Flatten``/``nn.Unflatten``, ``torch.flatten``/``x.flatten`` and
``x.unflatten``/``torch.unflatten``.

``flatten(start, end)`` multiplies dims ``start..end`` into one (a 0-d tensor becomes ``[1]``;
start after end is an error).  ``nn.Flatten`` defaults to ``start_dim=1``, so it rejects a 1-D
input.  ``unflatten(dim, sizes)`` splits one dim; one size may be -1.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..dims import definitely_ne, divide_exact, format_dim, is_int, prod
from ..errors import error
from ..values import Const, ListVal, Tensor, TupleVal
from . import LayerRule, function, layer
from .call import Call, as_int
from .common import fmt_list, is_error, wrap_dim


@dataclass(frozen=True)
class FlattenSpec:
    start_dim: object = 1
    end_dim: object = -1


@dataclass(frozen=True)
class UnflattenSpec:
    dim: object
    sizes: object                   # tuple of dims (None unknown), or None


def flatten_shape(x: Tensor, start, end):
    """The flattened Tensor, or ShapeError."""
    shape = x.shape
    if shape is None:
        return Tensor(None, x.dtype)
    rank = len(shape)
    s = wrap_dim(start, rank)
    e = wrap_dim(end, rank)
    if is_error(s):
        return s
    if is_error(e):
        return e
    if s is None or e is None:
        if rank == 0:
            return x.with_shape((1,))
        return Tensor(None, x.dtype)
    if s > e:
        return error("rank-mismatch", "flatten() has invalid args: start_dim cannot come after "
                     "end_dim (start_dim=%d, end_dim=%d on a %d-D tensor)" % (start, end, rank))
    if rank == 0:
        return x.with_shape((1,))
    return x.with_shape(tuple(shape[:s]) + (prod(shape[s:e + 1]),) + tuple(shape[e + 1:]))


def _sizes(v):
    if type(v) in (TupleVal, ListVal):
        return tuple(as_int(i) for i in v.items)
    if type(v) is Const and type(v.value) in (tuple, list):
        return tuple(i if type(i) is int else None for i in v.value)
    return None


def unflatten_shape(x: Tensor, dim, sizes):
    shape = x.shape
    if sizes is not None and len(sizes) == 0:
        return error("shape-mismatch", "unflatten: sizes must be non-empty")
    if shape is None:
        if sizes is not None and sizes.count(-1) > 1:
            return error("reshape-numel", "unflatten: only one dimension can be inferred (-1)")
        return Tensor(None, x.dtype)
    rank = len(shape)
    if rank == 0:
        return error("rank-mismatch", "unflatten got an unexpected error: cannot unflatten a 0-d "
                     "tensor")
    d = wrap_dim(dim, rank)
    if is_error(d):
        return d
    if sizes is None or d is None:
        return Tensor(None, x.dtype)
    size = shape[d]
    if sizes.count(-1) > 1 or any(is_int(v) and v < -1 for v in sizes):
        return error("reshape-numel", "unflatten got an unexpected error: only one dimension can "
                     "be inferred, and sizes must be -1 or at least 0: got sizes %s"
                     % fmt_list(sizes))
    new = list(sizes)
    if -1 in sizes:
        i = sizes.index(-1)
        rest = prod(v for j, v in enumerate(sizes) if j != i)
        if is_int(rest) and rest == 0:
            return error("reshape-numel", "unflatten: Provided sizes %s don't multiply up to the "
                         "size of dim %d (%s) in the input tensor"
                         % (fmt_list(sizes), dim, format_dim(size)))
        q = divide_exact(size, rest)
        if q is None and is_int(size) and is_int(rest):
            return error("reshape-numel", "unflatten: Provided sizes %s don't multiply up to the "
                         "size of dim %d (%s) in the input tensor. %s is not divisible by %d."
                         % (fmt_list(sizes), dim, format_dim(size), format_dim(size), rest))
        new[i] = q
    else:
        total = prod(sizes)
        if definitely_ne(total, size):
            return error("reshape-numel", "unflatten: Provided sizes %s don't multiply up to the "
                         "size of dim %d (%s) in the input tensor. The sizes multiply to %s."
                         % (fmt_list(sizes), dim, format_dim(size), format_dim(total)))
    return x.with_shape(tuple(shape[:d]) + tuple(new) + tuple(shape[d + 1:]))


@layer("Flatten")
class FlattenLayer(LayerRule):
    def build(self, kind: str, call: Call):
        return FlattenSpec(call.int(0, "start_dim", 1), call.int(1, "end_dim", -1))

    def forward(self, spec: FlattenSpec, call: Call):
        x = call.tensor(0, "input")
        if x is None:
            return None
        return flatten_shape(x, spec.start_dim, spec.end_dim)

    def params(self, spec):
        return 0

    def config(self, spec: FlattenSpec):
        return (("start_dim", format_dim(spec.start_dim)), ("end_dim", format_dim(spec.end_dim)))


@layer("Unflatten")
class UnflattenLayer(LayerRule):
    def build(self, kind: str, call: Call):
        return UnflattenSpec(call.int(0, "dim"), _sizes(call.get(1, "unflattened_size")))

    def forward(self, spec: UnflattenSpec, call: Call):
        x = call.tensor(0, "input")
        if x is None:
            return None
        return unflatten_shape(x, spec.dim, spec.sizes)

    def params(self, spec):
        return 0

    def config(self, spec: UnflattenSpec):
        return (("dim", format_dim(spec.dim)),
                ("unflattened_size", fmt_list(spec.sizes) if spec.sizes is not None else "?"))


@function("torch.flatten", "Tensor.flatten")
def f_flatten(call: Call):
    x = call.tensor(0, "input")
    if x is None:
        return None
    start = call.int(1, "start_dim", 0)
    end = call.int(2, "end_dim", -1)
    return flatten_shape(x, start, end)


@function("torch.unflatten", "Tensor.unflatten")
def f_unflatten(call: Call):
    x = call.tensor(0, "input")
    if x is None:
        return None
    return unflatten_shape(x, call.int(1, "dim"), _sizes(call.get(2, "sizes")))


@function("Tensor.ravel", "torch.ravel")
def f_ravel(call: Call):
    x = call.tensor(0, "input")
    if x is None:
        return None
    return flatten_shape(x, 0, -1)


__all__ = ["FlattenSpec", "UnflattenSpec", "flatten_shape", "unflatten_shape"]
