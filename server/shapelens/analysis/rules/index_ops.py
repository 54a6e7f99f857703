"""Writes and lookups through an index or a mask: ``scatter``/``scatter_add``/``scatter_reduce``,
``index_add``/``index_copy``/``index_fill``, ``masked_fill``/``masked_scatter``/
``masked_select``, ``searchsorted``/``bucketize``, and the data-dependent ``nonzero``/
``argwhere``/``unique``/one-argument ``where`` (their lengths depend on the values: unknown).

The result of a write has the shape of the tensor written to; torch checks the index against
it (the checks below are the ones torch makes on shapes, with the message it gives), and
checks it skips for an empty index are skipped here too.  A symbolic size is taken as positive.
"""
from __future__ import annotations

from ..dims import is_int
from ..errors import error
from ..values import Tensor, TupleVal, format_shape
from . import function
from .broadcast import broadcast_shapes, inplace_result, mismatch_error
from .call import Call
from .common import fmt_list, input_tensor, is_error, wrap_dim


def _rank1(shape) -> int:
    """The rank torch's index checks use: a 0-d tensor counts as 1-d."""
    return max(len(shape), 1)


def _maybe_empty(shape) -> bool:
    """The tensor may hold no element (a 0 or an unknown size)."""
    return any(d is None or is_int(d) and d == 0 for d in shape)


def _larger(a, b) -> bool:
    return is_int(a) and is_int(b) and a > b


@function("Tensor.scatter", "torch.scatter", "Tensor.scatter_", "Tensor.scatter_add",
          "torch.scatter_add", "Tensor.scatter_add_", "Tensor.scatter_reduce",
          "torch.scatter_reduce", "Tensor.scatter_reduce_")
def scatter(call: Call):
    """``x.scatter(dim, index, src | value)``: x's shape; index has x's rank and is no larger
    than x apart from ``dim``, and no larger than src anywhere."""
    x = input_tensor(call)
    idx = call.tensor(2, "index")
    if x is None:
        return None
    if x.shape is None:
        return x.with_shape(None)
    d = wrap_dim(call.int(1, "dim"), len(x.shape))
    if is_error(d):
        return d
    src = call.tensor(3, "src")
    if idx is None or idx.shape is None or _maybe_empty(idx.shape):
        return x.with_shape(x.shape)     # torch checks nothing for an empty index
    if _rank1(idx.shape) != _rank1(x.shape):
        return error("rank-mismatch", "Index tensor must have the same number of dimensions as "
                     "self tensor (index %s, self %s)" % (format_shape(idx.shape),
                                                          format_shape(x.shape)))
    if d is not None and len(idx.shape) == len(x.shape):
        if any(k != d and _larger(i, s) for k, (i, s) in enumerate(zip(idx.shape, x.shape))):
            return error("shape-mismatch", "Expected index %s to be no larger than self %s apart "
                         "from dimension %d" % (fmt_list(idx.shape), fmt_list(x.shape), d))
        if src is not None and src.shape is not None and len(src.shape) == len(idx.shape) and \
                any(_larger(i, s) for i, s in zip(idx.shape, src.shape)):
            return error("shape-mismatch", "Expected index %s to be no larger than self %s apart "
                         "from dimension %d and to be no larger size than src %s"
                         % (fmt_list(idx.shape), fmt_list(x.shape), d, fmt_list(src.shape)))
    return x.with_shape(x.shape)


@function("Tensor.index_add", "torch.index_add", "Tensor.index_add_", "Tensor.index_copy",
          "torch.index_copy", "Tensor.index_copy_")
def index_add(call: Call):
    """``x.index_add(dim, index, source)``: x's shape; index is a vector, source has x's shape
    but along ``dim``, where it has one slice per index."""
    x = input_tensor(call)
    idx = call.tensor(2, "index")
    src = call.tensor(3, "source")
    if x is None:
        return None
    if x.shape is None:
        return x.with_shape(None)
    d = wrap_dim(call.int(1, "dim"), len(x.shape))
    if is_error(d):
        return d
    op = call.name.rsplit(".", 1)[1].rstrip("_") + "_"
    if idx is not None and idx.shape is not None and len(idx.shape) > 1:
        return error("rank-mismatch", "%s(): Index is supposed to be a vector, but got dim: %d"
                     % (op, len(idx.shape)))
    if d is None or src is None or src.shape is None or not x.shape or not src.shape:
        return x.with_shape(x.shape)
    if len(src.shape) != len(x.shape) or any(
            k != d and is_int(a) and is_int(b) and a != b
            for k, (a, b) in enumerate(zip(x.shape, src.shape))):
        return error("shape-mismatch", "%s(): source tensor shape must match self tensor shape, "
                     "excluding the specified dimension. Got self.shape = %s source.shape = %s"
                     % (op, fmt_list(x.shape), fmt_list(src.shape)))
    n = (idx.shape[0] if idx.shape else 1) if idx is not None and idx.shape is not None else None
    if is_int(n) and is_int(src.shape[d]) and n != src.shape[d]:
        return error("shape-mismatch", "%s(): Number of indices (%d) should be equal to "
                     "source.size(dim) (%d), for dim: %d" % (op, n, src.shape[d], d))
    return x.with_shape(x.shape)


@function("Tensor.index_fill", "torch.index_fill", "Tensor.index_fill_")
def index_fill(call: Call):
    x = input_tensor(call)
    idx = call.tensor(2, "index")
    if x is None:
        return None
    if x.shape is None:
        return x.with_shape(None)
    d = wrap_dim(call.int(1, "dim"), len(x.shape))
    if is_error(d):
        return d
    if idx is not None and idx.shape is not None and len(idx.shape) > 1:
        return error("rank-mismatch", "index_fill_(): Index has to be a vector/scalar (got %d "
                     "dims)" % len(idx.shape))
    return x.with_shape(x.shape)


def _masked(call: Call, inplace: bool):
    """The shape of ``x.masked_*(mask, ...)``: x and mask broadcast (in place: to x's shape)."""
    x, mask = input_tensor(call), call.tensor(1, "mask")
    if x is None:
        return None
    if mask is None:
        return x.with_shape(x.shape if inplace else None)
    if inplace:
        return inplace_result(x, mask)
    shape, problem = broadcast_shapes(x.shape, mask.shape)
    if problem:
        return mismatch_error(x.shape, mask.shape, problem)
    return x.with_shape(shape)


@function("Tensor.masked_fill", "torch.masked_fill", "Tensor.masked_fill_")
def masked_fill(call: Call):
    """``x.masked_fill(mask, value)``: x and mask broadcast; a tensor value must be 0-d."""
    value = call.tensor(2, "value")
    if value is not None and value.shape:
        return error("shape-mismatch", "masked_fill_ only supports a 0-dimensional value tensor, "
                     "but got tensor with %d dimension(s)." % len(value.shape))
    return _masked(call, call.name.endswith("_"))


@function("Tensor.masked_scatter", "torch.masked_scatter", "Tensor.masked_scatter_")
def masked_scatter(call: Call):
    """(How many elements the source must hold depends on the mask's values.)"""
    return _masked(call, call.name.endswith("_"))


@function("Tensor.masked_select", "torch.masked_select")
def masked_select(call: Call):
    """A 1-D tensor of as many elements as the mask selects: its length is not known."""
    out = _masked(call, False)
    if type(out) is not Tensor:
        return out
    return out.with_shape((None,))


@function("torch.searchsorted")
def searchsorted(call: Call):
    """``searchsorted(sorted_sequence, values)``: the shape of values; an N-D sequence must
    match values in every dim but the last."""
    seq, values = call.tensor(0, "sorted_sequence"), call.tensor(1, "input")
    if values is None:
        return None
    if seq is not None and seq.shape is not None and values.shape is not None:
        if not seq.shape:
            return error("rank-mismatch", "torch.searchsorted(): boundaries tensor should have "
                         "positive dimension, but got 0 dimension")
        if len(seq.shape) > 1 and (len(seq.shape) != len(values.shape) or any(
                is_int(a) and is_int(b) and a != b
                for a, b in zip(seq.shape[:-1], values.shape[:-1]))):
            return error("shape-mismatch", "torch.searchsorted(): boundaries tensor should be 1 "
                         "dimension or the first N-1 dimensions of boundaries tensor and input "
                         "value tensor must match, but we got boundaries tensor %s and input "
                         "value tensor %s" % (fmt_list(seq.shape), fmt_list(values.shape)))
    return values.with_shape(values.shape, "long")


@function("torch.bucketize", "Tensor.bucketize")
def bucketize(call: Call):
    x, boundaries = input_tensor(call), call.tensor(1, "boundaries")
    if x is None:
        return None
    if boundaries is not None and boundaries.shape is not None and len(boundaries.shape) != 1:
        return error("rank-mismatch", "boundaries tensor must be 1 dimension, but got dim(%d)"
                     % len(boundaries.shape))
    return x.with_shape(x.shape, "long")


@function("Tensor.nonzero", "torch.nonzero", "Tensor.argwhere", "torch.argwhere")
def nonzero(call: Call):
    """One row (or, with ``as_tuple``, one vector per dim) per non-zero element: how many
    depends on the values."""
    x = input_tensor(call)
    if x is None:
        return None
    as_tuple = call.value(None, "as_tuple", False) if not call.name.endswith("argwhere") \
        else False
    if x.shape is None or as_tuple not in (True, False):
        return Tensor(None, "long") if as_tuple is False else None
    if as_tuple:
        return TupleVal(tuple(Tensor((None,), "long") for _ in range(_rank1(x.shape))))
    return Tensor((None, len(x.shape)), "long")


@function("torch.unique", "Tensor.unique")
def unique(call: Call):
    """The distinct values (along ``dim``): their number depends on the data.  With
    ``return_inverse`` the indices have the input's shape (``dim``'s size along ``dim``);
    ``return_counts`` gives one count per distinct value."""
    x = input_tensor(call)
    if x is None:
        return None
    inverse = call.value(2, "return_inverse", False)
    counts = call.value(3, "return_counts", False)
    dim = call.value(4, "dim")
    if inverse not in (True, False) or counts not in (True, False):
        return None
    if x.shape is None:
        out, inv = Tensor(None, x.dtype), Tensor(None, "long")
    elif dim is None:
        out, inv = x.with_shape((None,)), Tensor(x.shape, "long")
    elif not x.shape and type(dim) is int:
        return error("rank-mismatch", "Dimension specified as %d but tensor has no dimensions"
                     % dim)
    else:
        d = wrap_dim(dim, len(x.shape))
        if is_error(d):
            return d
        if d is None:
            out, inv = x.with_shape((None,) * len(x.shape)), Tensor((None,), "long")
        else:
            out = x.with_shape(tuple(x.shape[:d]) + (None,) + tuple(x.shape[d + 1:]))
            inv = Tensor((x.shape[d],) if x.shape else (), "long")
    parts = [out] + ([inv] if inverse else []) + ([Tensor((None,), "long")] if counts else [])
    return parts[0] if len(parts) == 1 else TupleVal(tuple(parts))
