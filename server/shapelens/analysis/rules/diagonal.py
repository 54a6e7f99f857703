"""Diagonals and index grids: ``diag``, ``diagonal``, ``diag_embed``, ``diagflat``, ``trace``,
``tril_indices``/``triu_indices``, ``rot90``.

The length of a diagonal with ``offset`` k of an ``r x c`` matrix is ``min(r, c - k)`` for
k >= 0 and ``min(r + k, c)`` for k < 0, never below 0; on symbolic sizes it is known only for
k = 0 of a square matrix, and otherwise left unknown rather than guessed.
"""
from __future__ import annotations

from ..dims import add, is_int, prod
from ..errors import error
from ..values import Tensor
from . import function
from .call import Call
from .common import input_tensor, is_error, wrap_dim


def diag_len(rows, cols, offset):
    """The number of elements on diagonal ``offset`` of a rows x cols matrix, or None."""
    if not is_int(offset):
        return None
    if is_int(rows) and is_int(cols):
        n = min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols)
        return max(n, 0)
    if offset == 0 and rows is not None and rows == cols:
        return rows
    return None


def _grown(n, offset):
    """n + |offset|: the side of the square matrix that holds n elements on diagonal offset."""
    if n is None or not is_int(offset):
        return None
    return add(n, abs(offset))


@function("torch.diag", "Tensor.diag")
def diag(call: Call):
    """1-D -> the square matrix with it on diagonal ``diagonal``; 2-D -> that diagonal."""
    x = input_tensor(call)
    if x is None:
        return None
    k = call.int(1, "diagonal", 0)
    if x.shape is None:
        return x.with_shape(None)
    if len(x.shape) == 1:
        side = _grown(x.shape[0], k)
        return x.with_shape((side, side))
    if len(x.shape) == 2:
        return x.with_shape((diag_len(x.shape[0], x.shape[1], k),))
    return error("rank-mismatch", "diag(): Supports 1D or 2D tensors. Got %dD" % len(x.shape))


@function("torch.diagonal", "Tensor.diagonal")
def diagonal(call: Call):
    """The diagonal of the (dim1, dim2) planes, as a last dim after the others."""
    x = input_tensor(call)
    if x is None:
        return None
    offset = call.int(1, "offset", 0)
    if x.shape is None:
        return x.with_shape(None)
    d1 = wrap_dim(call.int(2, "dim1", 0), len(x.shape))
    if is_error(d1):
        return d1
    d2 = wrap_dim(call.int(3, "dim2", 1), len(x.shape))
    if is_error(d2):
        return d2
    if d1 is None or d2 is None:
        return x.with_shape((None,) * (len(x.shape) - 1) if len(x.shape) >= 2 else None)
    if d1 == d2:
        return error("shape-mismatch", "diagonal dimensions cannot be identical %d, %d"
                     % (call.int(2, "dim1", 0), call.int(3, "dim2", 1)))
    rest = tuple(s for i, s in enumerate(x.shape) if i not in (d1, d2))
    return x.with_shape(rest + (diag_len(x.shape[d1], x.shape[d2], offset),))


@function("torch.diag_embed", "Tensor.diag_embed")
def diag_embed(call: Call):
    """The last dim of the input put on diagonal ``offset`` of new (dim1, dim2) planes."""
    x = input_tensor(call)
    if x is None:
        return None
    offset = call.int(1, "offset", 0)
    if x.shape is None:
        return x.with_shape(None)
    rank = len(x.shape) + 1
    d1 = wrap_dim(call.int(2, "dim1", -2), rank)
    if is_error(d1):
        return d1
    d2 = wrap_dim(call.int(3, "dim2", -1), rank)
    if is_error(d2):
        return d2
    if d1 is None or d2 is None:
        return x.with_shape((None,) * rank)
    if d1 == d2:
        return error("shape-mismatch", "diagonal dimensions cannot be identical %d, %d"
                     % (call.int(2, "dim1", -2), call.int(3, "dim2", -1)))
    side = _grown(x.shape[-1] if x.shape else 1, offset)
    rest = iter(x.shape[:-1])
    return x.with_shape(tuple(side if i in (d1, d2) else next(rest) for i in range(rank)))


@function("torch.diagflat", "Tensor.diagflat")
def diagflat(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    if x.shape is None:
        return x.with_shape((None, None))
    side = _grown(prod(x.shape) if None not in x.shape else None, call.int(1, "offset", 0))
    return x.with_shape((side, side))


@function("torch.trace", "Tensor.trace")
def trace(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    if x.shape is not None and len(x.shape) != 2:
        return error("rank-mismatch", "trace: expected a matrix, but got tensor with dim %d"
                     % len(x.shape))
    return x.with_shape(())


def _tri_count(rows, cols, offset, lower: bool):
    if not (is_int(rows) and is_int(cols) and is_int(offset)):
        return None
    if lower:
        return sum(max(0, min(cols, i + offset + 1)) for i in range(rows))
    return sum(max(0, cols - max(0, i + offset)) for i in range(rows))


@function("torch.tril_indices", "torch.triu_indices")
def tri_indices(call: Call):
    """[2, n]: the (row, col) pairs of the lower/upper triangle with ``offset``."""
    rows, cols, offset = call.int(0, "row"), call.int(1, "col"), call.int(2, "offset", 0)
    for name, v in (("row", rows), ("col", cols)):
        if is_int(v) and v < 0:
            return error("shape-mismatch", "%s must be non-negative, got %d" % (name, v))
    if is_int(rows) and rows > 10 ** 5:
        return Tensor((2, None), "long")
    return Tensor((2, _tri_count(rows, cols, offset, call.name.endswith("tril_indices"))),
                  "long")


@function("torch.rot90", "Tensor.rot90")
def rot90(call: Call):
    """Rotating the (dims[0], dims[1]) plane by an odd number of quarter turns swaps them."""
    x = input_tensor(call)
    if x is None:
        return None
    k = call.int(1, "k", 1)
    dims = call.value(2, "dims", (0, 1))
    if x.shape is None:
        return x.with_shape(None)
    if not isinstance(dims, tuple):
        return x.with_shape((None,) * len(x.shape))
    if len(dims) != 2:
        return error("rank-mismatch", "expected total rotation dims == 2, but got dims = %d"
                     % len(dims))
    if len(x.shape) < 2:
        return error("rank-mismatch", "expected total dims >= 2, but got total dims = %d"
                     % len(x.shape))
    if not all(type(d) is int for d in dims):
        return x.with_shape((None,) * len(x.shape))
    a = wrap_dim(dims[0], len(x.shape))
    if is_error(a):
        return a
    b = wrap_dim(dims[1], len(x.shape))
    if is_error(b):
        return b
    if a == b:
        return error("shape-mismatch", "expected rotation dims to be different, but got dim0 = "
                     "%d and dim1 = %d" % (dims[0], dims[1]))
    if not is_int(k):
        same = x.shape[a] == x.shape[b]
        return x.with_shape(x.shape if same else tuple(
            None if i in (a, b) else s for i, s in enumerate(x.shape)))
    if k % 2 == 0:
        return x.with_shape(x.shape)
    out = list(x.shape)
    out[a], out[b] = out[b], out[a]
    return x.with_shape(tuple(out))
