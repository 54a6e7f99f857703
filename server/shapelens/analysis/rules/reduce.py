"""Reductions and the ops that sort or scan along a dim.

``sum/mean/nansum/nanmean/amax/amin/logsumexp/all/any/count_nonzero`` take ``dim`` as an int or
a tuple (none or ``()`` reduces every dim); ``prod/argmax/argmin/median/max/min`` take one int;
``max/min/median/mode/kthvalue/sort/topk/cummax/cummin/aminmax/std_mean/var_mean`` return a
(values, indices)-style pair.  ``keepdim`` keeps reduced dims as 1.  Out-of-range and repeated
dims are errors; ``x.max(y)`` with a tensor is element-wise (see broadcast.py).
"""
from __future__ import annotations

from ..dims import format_dim, is_int
from ..errors import error
from ..values import Const, Tensor, TupleVal
from . import function
from .call import MISSING, Call, as_int
from .common import dims_arg, input_tensor, is_error, wrap_dim, wrap_dims

UNREADABLE = "unreadable"   # a dim argument the analysis cannot read


def reduce_shape(x: Tensor, dims, keepdim, dtype=None, op: str = "sum", nonempty=False):
    """Shape after reducing ``dims`` (None or () = all) of ``x``: a Tensor or ShapeError."""
    shape = x.shape
    if dims is not None and type(dims) is not tuple:
        # dim passed but not readable: with keepdim only the rank is known
        if shape is not None and keepdim is True:
            return Tensor((None,) * len(shape), dtype or x.dtype)
        return Tensor(None, dtype or x.dtype)
    if shape is None:
        return Tensor(None, dtype or x.dtype)
    rank = len(shape)
    if not dims:
        if nonempty and any(is_int(d) and d == 0 for d in shape):
            return error("shape-mismatch", "%s(): Expected reduction dim to be specified for "
                         "input.numel() == 0. Specify the reduction dim with the 'dim' argument."
                         % op)
        if keepdim is True:
            return x.with_shape((1,) * rank, dtype)
        if keepdim is False:
            return x.with_shape((), dtype)
        return Tensor(None, dtype or x.dtype)
    wrapped = wrap_dims(dims, rank)
    if is_error(wrapped):
        return wrapped
    if None in wrapped:
        if keepdim is True:
            return Tensor((None,) * rank, dtype or x.dtype)
        return Tensor(None, dtype or x.dtype)
    if len(set(wrapped)) != len(wrapped):
        dup = next(w for w in wrapped if wrapped.count(w) > 1)
        return error("rank-mismatch", "dim %d appears multiple times in the list of dims" % dup)
    if nonempty:
        for w in wrapped:
            if rank and is_int(shape[w]) and shape[w] == 0:
                return error("shape-mismatch", "%s(): Expected reduction dim %d to have non-zero "
                             "size." % (op, w))
    if rank == 0:
        return x.with_shape((), dtype)
    if keepdim is True:
        return x.with_shape(tuple(1 if i in wrapped else d for i, d in enumerate(shape)), dtype)
    if keepdim is False:
        return x.with_shape(tuple(d for i, d in enumerate(shape) if i not in wrapped), dtype)
    return Tensor(None, dtype or x.dtype)


def _keepdim(call: Call, index, default=False):
    v = call.value(index, "keepdim", default)
    if type(v) is bool:
        return v
    if type(v) is int:
        return bool(v)
    return None


def _dims(call: Call, index):
    """dim as a tuple (None: every dim); MISSING-safe."""
    v = dims_arg(call, index, "dim", None)
    if v is None:
        return None
    return v if type(v) is tuple else UNREADABLE


def _pair(t: Tensor, second_dtype="long"):
    if is_error(t):
        return t
    return TupleVal((t, t.with_shape(t.shape, second_dtype)))


_DTYPE = {"all": "bool", "any": "bool", "count_nonzero": "long", "argmax": "long",
          "argmin": "long"}


@function(*["%s.%s" % (p, n) for p in ("torch", "Tensor")
            for n in ("sum", "mean", "nansum", "nanmean", "amax", "amin", "logsumexp", "all",
                      "any")])
def reduce_list(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    op = call.name.rsplit(".", 1)[1]
    dims = _dims(call, 1)
    if op == "logsumexp" and dims == ():
        return None
    nonempty = op in ("amax", "amin")
    if op in ("all", "any") and dims == ():
        return x.with_shape(x.shape, "bool") if x.shape is not None else Tensor(None, "bool")
    return reduce_shape(x, dims, _keepdim(call, 2),
                        _DTYPE.get(op), op, nonempty)


@function("torch.count_nonzero", "Tensor.count_nonzero")
def count_nonzero(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    dims = _dims(call, 1)
    return reduce_shape(x, dims, False, "long", "count_nonzero")


@function("torch.prod", "Tensor.prod", "torch.argmax", "Tensor.argmax", "torch.argmin",
          "Tensor.argmin")
def reduce_one(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    op = call.name.rsplit(".", 1)[1]
    dim = call.get(1, "dim")
    keepdim = _keepdim(call, 2)
    dtype = _DTYPE.get(op)
    if dim is MISSING or (type(dim) is Const and dim.value is None):
        nonempty = op != "prod"
        if op == "prod" or keepdim is False:
            return reduce_shape(x, None, False, dtype, op, nonempty)
        return reduce_shape(x, None, keepdim, dtype, op, nonempty)
    d = as_int(dim)
    if d is None:
        return reduce_shape(x, UNREADABLE, keepdim, dtype, op)
    return reduce_shape(x, (d,), keepdim, dtype, op, nonempty=op != "prod")


@function("torch.max", "Tensor.max", "torch.min", "Tensor.min")
def max_min(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    other = call.get(1, "other")
    if type(other) is Tensor:
        from .broadcast import binary
        return binary(x, other)
    dim = call.get(1, "dim")
    op = call.name.rsplit(".", 1)[1]
    if dim is MISSING:
        return reduce_shape(x, None, False, None, op, nonempty=True)
    d = as_int(dim)
    keepdim = _keepdim(call, 2)
    if d is None:
        return _pair(reduce_shape(x, UNREADABLE, keepdim, None, op))
    return _pair(reduce_shape(x, (d,), keepdim, None, op, nonempty=True))


@function("torch.median", "Tensor.median", "torch.nanmedian", "Tensor.nanmedian")
def median(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    dim = call.get(1, "dim")
    if dim is MISSING:
        return reduce_shape(x, None, False)
    d = as_int(dim)
    return _pair(reduce_shape(x, (d,) if d is not None else UNREADABLE, _keepdim(call, 2), None,
                              "median", nonempty=True))


@function("torch.mode", "Tensor.mode")
def mode(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    d = call.int(1, "dim", -1)
    return _pair(reduce_shape(x, (d,) if d is not None else UNREADABLE, _keepdim(call, 2), None,
                              "mode"))


@function("torch.kthvalue", "Tensor.kthvalue")
def kthvalue(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    k = call.int(1, "k")
    d = call.int(2, "dim", -1)
    dims = (d,) if d is not None else UNREADABLE
    out = reduce_shape(x, dims, _keepdim(call, 3), None, "kthvalue")
    if is_error(out):
        return out
    if x.shape is not None and is_int(d) and is_int(k):
        w = wrap_dim(d, len(x.shape))
        size = x.shape[w] if x.shape else 1
        if is_int(size) and not 1 <= k <= size:
            return error("shape-mismatch", "kthvalue(): selected number k out of range for "
                         "dimension %d. k must be between 1 and %d." % (w, size))
    return _pair(out)


@function("torch.std", "Tensor.std", "torch.var", "Tensor.var", "torch.std_mean",
          "torch.var_mean")
def std_var(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    dim = call.get(1, "dim")
    keep_index = 2
    if type(dim) is Const and type(dim.value) is bool:
        dim = MISSING  # std(unbiased)
    elif len(call.args) > 2 and type(call.args[2]) is Const and type(call.args[2].value) is bool \
            and len(call.args) > 3:
        keep_index = 3  # std(dim, unbiased, keepdim)
    elif len(call.args) > 2 and type(call.args[2]) is Const and type(call.args[2].value) is bool:
        keep_index = 99  # std(dim, unbiased)
    keepdim = _keepdim(call, keep_index)
    if dim is MISSING or (type(dim) is Const and dim.value is None):
        out = reduce_shape(x, None, keepdim)
    else:
        dims = dims_arg(call, 1, "dim")
        out = reduce_shape(x, dims if type(dims) is tuple else UNREADABLE, keepdim)
    if call.name in ("torch.std_mean", "torch.var_mean"):
        return _pair(out, x.dtype)
    return out


@function("torch.norm", "Tensor.norm", "torch.linalg.norm", "torch.linalg.vector_norm")
def norm(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    dims = dims_arg(call, 2, "dim", None)
    keepdim = _keepdim(call, 3)
    if dims is None:
        if call.name == "torch.linalg.norm" and call.has(1, "ord") and x.shape is not None \
                and len(x.shape) > 2:
            return None
        return reduce_shape(x, None, keepdim)
    return reduce_shape(x, dims if type(dims) is tuple else UNREADABLE, keepdim)


@function("torch.aminmax", "Tensor.aminmax")
def aminmax(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    dim = call.get(None, "dim")
    if dim is MISSING or (type(dim) is Const and dim.value is None):
        return _pair(reduce_shape(x, None, _keepdim(call, None)), x.dtype)
    d = as_int(dim)
    return _pair(reduce_shape(x, (d,) if d is not None else UNREADABLE, _keepdim(call, None), None,
                              "aminmax", nonempty=True), x.dtype)


def along_dim(x: Tensor, dim):
    """A shape-keeping op along ``dim`` (cumsum, sort): check the dim."""
    if x.shape is None:
        return Tensor(None, x.dtype)
    w = wrap_dim(dim, len(x.shape))
    if is_error(w):
        return w
    return x.with_shape(x.shape)


@function("torch.cumsum", "Tensor.cumsum", "torch.cumprod", "Tensor.cumprod",
          "torch.logcumsumexp", "Tensor.logcumsumexp", "Tensor.cumsum_", "Tensor.cumprod_")
def cumulative(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    return along_dim(x, call.int(1, "dim"))


@function("torch.cummax", "Tensor.cummax", "torch.cummin", "Tensor.cummin")
def cummax(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    if x.shape is not None and any(is_int(d) and d == 0 for d in x.shape):
        return _pair(x.with_shape(x.shape))  # torch skips the dim check on empty tensors
    return _pair(along_dim(x, call.int(1, "dim")))


@function("torch.sort", "Tensor.sort")
def sort(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    d = call.get(1, "dim")
    if type(d) is Const and type(d.value) is bool:
        d = MISSING  # sort(stable=...) overloads put a bool first
    dim = -1 if d is MISSING else as_int(d)
    return _pair(along_dim(x, dim))


@function("torch.argsort", "Tensor.argsort")
def argsort(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    out = along_dim(x, call.int(1, "dim", -1))
    return out if is_error(out) else out.with_shape(out.shape, "long")


@function("torch.msort", "Tensor.msort")
def msort(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    if x.shape is not None and not x.shape:
        return x.with_shape(())
    return along_dim(x, 0)


@function("torch.topk", "Tensor.topk")
def topk(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    k = call.int(1, "k")
    dim = call.int(2, "dim", -1)
    if x.shape is None:
        return _pair(Tensor(None, x.dtype))
    w = wrap_dim(dim, len(x.shape))
    if is_error(w):
        return w
    if w is None:
        return _pair(Tensor((None,) * len(x.shape), x.dtype))
    size = x.shape[w] if x.shape else 1
    if is_int(k) and (k < 0 or (is_int(size) and k > size)):
        return error("shape-mismatch", "selected index k out of range: k=%d but dim %d has size %s"
                     % (k, w, format_dim(size)))
    if not x.shape:
        return _pair(x.with_shape(()))
    out = list(x.shape)
    out[w] = k
    return _pair(x.with_shape(tuple(out)))


__all__ = ["reduce_shape", "along_dim"]
