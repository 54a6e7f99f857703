"""``x[...]``: basic indexing (ints, slices, None, Ellipsis) and one advanced index.

Python slice lengths on symbolic sizes are exact only in the forms that do not need ``min``:
``x[1:]`` is ``H - 1`` and ``x[:-1]`` is ``H - 1``; ``x[:5]`` of an unknown ``H`` is unknown.
"""
from __future__ import annotations

from ..dims import ceildiv, is_int
from ..errors import error
from ..values import Const, ListVal, SliceVal, Tensor, TupleVal, format_shape
from .call import as_int


def _slice_len(size, s: SliceVal):
    start, stop, step = as_int(s.start), as_int(s.stop), as_int(s.step)
    if type(s.start) is Const and s.start.value is None:
        start = "none"
    if type(s.stop) is Const and s.stop.value is None:
        stop = "none"
    if type(s.step) is Const and s.step.value is None:
        step = 1
    if start is None or stop is None or step is None or not is_int(step) or step <= 0:
        return None
    if is_int(size):
        lo = 0 if start == "none" else start
        hi = size if stop == "none" else stop
        if not is_int(lo) or not is_int(hi):
            return None
        return len(range(size)[slice(lo, hi, step)])
    if size is None:
        return None
    # Symbolic size: exact when the bounds are None or negative/positive offsets from the ends
    # that stay inside; e.g. [1:] -> H - 1, [:-1] -> H - 1, [2:-2] -> H - 4.
    lo = 0 if start == "none" else start
    hi = size if stop == "none" else stop
    if is_int(lo) and lo < 0:
        lo = size + lo
    if is_int(hi) and hi < 0:
        hi = size + hi
    if is_int(hi) and not is_int(lo):
        return None
    if is_int(hi) and stop != "none":
        return None  # x[:5] of a symbolic H is min(H, 5)
    return ceildiv(hi - lo, step)


def getitem(x: Tensor, index):
    """Shape of ``x[index]``: a Tensor, a ShapeError (IndexError in torch) or None."""
    items = list(index.items) if type(index) is TupleVal and not index.size else [index]
    if x.shape is None:
        return Tensor(None, x.dtype)
    shape = x.shape
    flags = [item for item in items if type(item) is Const and type(item.value) is bool]
    if flags and (len(flags) > 1 or any(type(item) in (Tensor, ListVal) for item in items)):
        return Tensor(None, x.dtype)    # a bool among other advanced indices: not modelled
    consumed = 0
    for item in items:
        if type(item) is Const and (item.value is None or type(item.value) is bool):
            continue
        if type(item) is Const and item.value is Ellipsis:
            continue
        if type(item) is Tensor and item.dtype == "bool" and item.shape is not None:
            consumed += len(item.shape)
        else:
            consumed += 1
    if consumed > len(shape):
        if not shape and len(items) == 1 and type(items[0]) in (Const, SliceVal):
            # torch's own words for one index of a 0-dim tensor (a loss, ``x.sum()``)
            return error("rank-mismatch", "slice() cannot be applied to a 0-dim tensor."
                         if type(items[0]) is SliceVal else
                         "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                         "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        return error("rank-mismatch", "too many indices for tensor of dimension %d (indexing %s "
                     "with %d indices)" % (len(shape), format_shape(shape), consumed))
    out = []
    advanced = []
    pos = 0
    ellipsis_seen = False
    for item in items:
        kind = type(item)
        if kind is Const and item.value is None:
            out.append(1)
            continue
        if kind is Const and type(item.value) is bool:
            out.append(int(item.value))     # x[True]: a new dim of 1; x[False]: of 0
            continue
        if kind is Const and item.value is Ellipsis:
            if ellipsis_seen:
                return None
            ellipsis_seen = True
            skip = len(shape) - consumed
            out.extend(shape[pos:pos + skip])
            pos += skip
            continue
        size = shape[pos]
        if kind is SliceVal:
            out.append(_slice_len(size, item))
            pos += 1
            continue
        i = as_int(item)
        if i is not None and is_int(i):
            if is_int(size) and not -size <= i < size:
                return error("shape-mismatch", "index %d is out of bounds for dimension %d with "
                             "size %d" % (i, pos, size))
            pos += 1
            continue
        if kind is Const and is_int(i) is False and i is not None:
            pos += 1   # a symbolic int index
            continue
        if kind is Tensor:
            if item.dtype == "bool":
                n = len(item.shape) if item.shape is not None else 1
                advanced.append((len(out), (None,)))
                pos += n
            else:
                advanced.append((len(out), item.shape))
                pos += 1
            continue
        if kind in (ListVal, TupleVal):
            advanced.append((len(out), (len(item.items),)))
            pos += 1
            continue
        return Tensor(None, x.dtype)
    out.extend(shape[pos:])
    if len(advanced) == 1:
        at, adv_shape = advanced[0]
        if adv_shape is None:
            return Tensor(None, x.dtype)
        out[at:at] = list(adv_shape)
    elif advanced:
        return Tensor(None, x.dtype)
    return x.with_shape(tuple(out))
