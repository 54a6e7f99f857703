"""The arguments of one call, as rules see them.

``call.int(1, "out_channels")`` reads an argument passed positionally at index 1 or by keyword.
Readers return ``MISSING``-aware defaults and ``None`` for a value the analysis cannot see, so a
rule can write ``stride = call.ints(3, "stride", n, default=1)`` and carry on with unknowns.
"""
from __future__ import annotations

from typing import Any, Optional

from ..dims import Sym
from ..values import Const, ListVal, SliceVal, Tensor, TupleVal, Unknown, Value, visible


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


MISSING = _Marker("MISSING")   # the argument was not passed
UNKNOWN = _Marker("UNKNOWN")   # passed, but the analysis cannot see its value


def as_int(value: Value):
    """An int or Sym from a value, or None."""
    if type(value) is Const:
        v = value.value
        if type(v) is int or type(v) is Sym:
            return v
        if type(v) is bool:
            return int(v)
    return None


def as_python(value: Value):
    """The plain Python value of a constant, tuple or list of constants; UNKNOWN otherwise."""
    if type(value) is Const:
        return value.value
    if type(value) is TupleVal or type(value) is ListVal and not value.lost:
        out = []
        for item in value.items:
            v = as_python(item)
            if v is UNKNOWN:
                return UNKNOWN
            out.append(v)
        return tuple(out)
    return UNKNOWN


class Call:
    """Positional ``args`` and keyword ``kwargs`` (abstract values) of a call to ``name``."""

    __slots__ = ("name", "args", "kwargs", "training")

    def __init__(self, name: str, args: tuple, kwargs: dict, training=None):
        self.name = name
        # Rules never see the items of a list whose contents the analysis lost.
        self.args = tuple(map(visible, args))
        self.kwargs = {k: visible(v) for k, v in kwargs.items()}
        # For layer calls: the layer's train/eval mode (True, False, or None: not known).
        self.training = training

    def get(self, index: Optional[int], name: Optional[str]) -> Any:
        """The value passed at ``index`` or as ``name``, or MISSING."""
        if name is not None and name in self.kwargs:
            return self.kwargs[name]
        if index is not None and 0 <= index < len(self.args):
            return self.args[index]
        return MISSING

    def has(self, index: Optional[int], name: Optional[str]) -> bool:
        return self.get(index, name) is not MISSING

    def value(self, index, name, default=None):
        """Plain Python value (ints, floats, strs, tuples of them); ``default`` when not passed;
        UNKNOWN when passed but not known."""
        v = self.get(index, name)
        if v is MISSING:
            return default
        return as_python(v)

    def int(self, index, name, default=None):
        """An int or Sym; ``default`` when not passed; None when not known (or not passed and
        without a default: a required argument that is missing is unknown, not an error)."""
        v = self.get(index, name)
        if v is MISSING:
            return default
        return as_int(v)

    def ints(self, index, name, n: int, default=None):
        """An n-tuple of dims from an int or a sequence (``kernel_size=3`` -> (3, 3)).
        ``default`` (expanded the same way) when not passed; None when not known, not passed
        without a default, or of the wrong length."""
        v = self.get(index, name)
        if v is MISSING:
            if default is None:
                return None
            return default if isinstance(default, tuple) else (default,) * n
        d = as_int(v)
        if d is not None:
            return (d,) * n
        if type(v) is TupleVal or type(v) is ListVal:
            items = tuple(as_int(x) for x in v.items)
            if len(items) == 1 and n > 1:
                items = items * n
            return items if len(items) == n else None
        return None

    def tensor(self, index, name) -> Optional[Tensor]:
        """The tensor passed there (a value the analysis cannot see counts as a tensor of unknown
        shape); None when nothing or a non-tensor was passed."""
        v = self.get(index, name)
        if type(v) is Tensor:
            return v
        if type(v) is Unknown:
            return Tensor(None)
        return None

    def dim_list(self, start: int, name: Optional[str] = None):
        """Sizes given either as varargs from ``start`` (``view(4, -1)``) or as one sequence
        (``view((4, -1))``, ``view(x.shape)``): a tuple of dims/None, or None when unknown."""
        if name is not None and name in self.kwargs:
            items = [self.kwargs[name]]
        else:
            items = list(self.args[start:])
        if len(items) == 1 and type(items[0]) in (TupleVal, ListVal):
            items = list(items[0].items)
        elif len(items) == 1 and type(items[0]) is Unknown and not items[0].number:
            return None         # one value the analysis cannot see: it may be a whole shape
        if any(type(x) not in (Const,) and type(x) is not Unknown for x in items):
            return None
        return tuple(as_int(x) for x in items)


__all__ = ["Call", "MISSING", "UNKNOWN", "as_int", "as_python", "SliceVal"]
