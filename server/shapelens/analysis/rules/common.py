"""Small helpers shared by the rule families: dim wrapping, formatting, reading tensors."""
from __future__ import annotations

from ..dims import format_dim, is_int
from ..errors import ShapeError, error
from ..values import Const, ListVal, Tensor, TupleVal, Unknown
from .call import MISSING, UNKNOWN, as_int


def dim_range_error(dim, rank: int):
    """torch's IndexError for a dim outside ``[-rank, rank - 1]`` (a 0-d tensor counts as 1-d)."""
    r = max(rank, 1)
    return error("rank-mismatch", "Dimension out of range (expected to be in range of [%d, %d], "
                 "but got %d). The tensor has %d dim%s, so dim must be between %d and %d."
                 % (-r, r - 1, dim, rank, "" if rank == 1 else "s", -r, r - 1))


def wrap_dim(dim, rank: int):
    """``dim`` normalised into ``[0, rank)`` (``[0, 1)`` for a 0-d tensor); a ShapeError when
    out of range; None when ``dim`` is not a known int."""
    if type(dim) is not int:
        return None
    r = max(rank, 1)
    if dim < -r or dim >= r:
        return dim_range_error(dim, rank)
    return dim + r if dim < 0 else dim


def wrap_dims(dims, rank: int):
    """Each dim of ``dims`` through :func:`wrap_dim`: a list (None for unknown dims), or the
    ShapeError of the first out-of-range one."""
    out = []
    for d in dims:
        w = wrap_dim(d, rank)
        if is_error(w):
            return w
        out.append(w)
    return out


def is_error(v) -> bool:
    return isinstance(v, ShapeError)


def input_tensor(call):
    """The tensor a function or method is called on (``input``, or ``self`` for methods)."""
    return call.tensor(0, "input")


def fmt_list(dims) -> str:
    """``[4, 1152]``: torch's way of printing a size list."""
    return "[" + ", ".join(format_dim(d) for d in dims) + "]"


def fmt_size(dims) -> str:
    """``torch.Size([4, 1152])``."""
    return "torch.Size(%s)" % fmt_list(dims)


def fmt_x(dims) -> str:
    """``8x4096``."""
    return "x".join(format_dim(d) for d in dims)


def known_ints(*ds) -> bool:
    return all(is_int(d) for d in ds)


def tensor_arg(call, index, name):
    """The tensor argument, or None (nothing or a non-tensor passed)."""
    return call.tensor(index, name)


def int_or_unknown(call, index, name, default=MISSING):
    """An int/Sym argument; ``default`` when not passed; UNKNOWN when passed but not an int."""
    v = call.get(index, name)
    if v is MISSING:
        return default
    d = as_int(v)
    return UNKNOWN if d is None else d


def dims_arg(call, index, name, default=MISSING):
    """An int or a sequence of ints (``dim=(2, 3)``): a tuple of ints/Syms/None, ``default``
    when not passed, Const(None) -> None value, UNKNOWN when not readable."""
    v = call.get(index, name)
    if v is MISSING:
        return default
    if type(v) is Const:
        if v.value is None:
            return None
        d = as_int(v)
        return (d,) if d is not None else UNKNOWN
    if type(v) in (TupleVal, ListVal):
        return tuple(as_int(x) for x in v.items)
    return UNKNOWN


def tensors_in(value):
    """The items of a tuple/list of tensors (Unknown items as unknown tensors); None when the
    sequence itself is not known."""
    if type(value) not in (TupleVal, ListVal):
        return None
    out = []
    for item in value.items:
        if type(item) is Tensor:
            out.append(item)
        elif type(item) is Unknown:
            out.append(Tensor(None))
        else:
            return None
    return out


def bool_arg(call, index, name, default):
    """A bool argument: True/False, or UNKNOWN."""
    v = call.value(index, name, default)
    if v is UNKNOWN or v is None:
        return UNKNOWN if v is UNKNOWN else v
    if type(v) in (bool, int):
        return bool(v)
    return UNKNOWN


__all__ = ["wrap_dim", "dim_range_error", "is_error", "fmt_list", "fmt_size", "fmt_x",
           "known_ints", "tensor_arg", "int_or_unknown", "dims_arg", "tensors_in", "bool_arg"]


def _positive_sign(d):
    """+1 / -1 when ``d`` is positive / negative for every value >= 1 of its names (a
    polynomial whose terms all have one sign and no floor division); 0 when not certain."""
    from ..dims import Sym
    if d is None:
        return 0
    if type(d) is int:
        return (d > 0) - (d < 0)
    if type(d) is not Sym:
        return 0
    signs = set()
    for mono, c in d.terms:
        if any(type(a) is not str for a in mono):
            return 0
        signs.add(c > 0)
    if len(signs) != 1:
        return 0
    positive = signs.pop()
    low = sum(c for _, c in d.terms) + d.const   # the value with every name at 1
    if positive and low > 0:
        return 1
    if not positive and low < 0:
        return -1
    return 0


def differ_for_positive_sizes(a, b) -> bool:
    """True when ``a != b`` for every value >= 1 of the symbolic names (sizes of real tensors).
    Stronger than ``dims.definitely_ne``: ``N*3200`` and ``N*1152`` differ for every N >= 1."""
    from ..dims import definitely_ne, sub
    if a is None or b is None:
        return False
    if definitely_ne(a, b):
        return True
    return _positive_sign(sub(a, b)) != 0
