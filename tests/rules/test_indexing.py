"""Basic indexing ``x[...]`` (ints, slices, None, Ellipsis, Python bools) against torch: the same
shape, or an error where torch raises one (with torch's words for a 0-dim tensor)."""
from __future__ import annotations

import torch
from hypothesis import given, strategies as st

from helpers import T
from shapelens.analysis.errors import ShapeError
from shapelens.analysis.rules.indexing import getitem
from shapelens.analysis.values import Const, SliceVal, Tensor, TupleVal

shape_st = st.lists(st.integers(0, 4), max_size=3).map(tuple)
bound = st.one_of(st.none(), st.integers(-5, 5))
item_st = st.one_of(
    st.integers(-5, 5),
    st.tuples(bound, bound, st.one_of(st.none(), st.integers(1, 3))).map(lambda t: slice(*t)),
    st.none(), st.just(Ellipsis), st.booleans())


def as_value(item):
    if isinstance(item, slice):
        return SliceVal(Const(item.start), Const(item.stop), Const(item.step))
    return Const(item)


@given(shape_st, st.lists(item_st, min_size=1, max_size=4), st.booleans())
def test_basic_indexing_matches_torch(shape, items, as_tuple):
    if sum(i is Ellipsis for i in items) > 1 or sum(type(i) is bool for i in items) > 1:
        return      # torch's rules for several: not modelled (the analysis says unknown)
    index = tuple(items) if as_tuple or len(items) > 1 else items[0]
    try:
        expected = torch.empty(shape, device="meta")[index].shape
    except (IndexError, RuntimeError, TypeError, ValueError) as exc:
        expected = exc
    got = getitem(T(*shape), TupleVal(tuple(as_value(i) for i in items))
                  if type(index) is tuple else as_value(index))
    if isinstance(expected, Exception):
        assert got is None or isinstance(got, ShapeError) or \
            (isinstance(got, Tensor) and got.shape is None), (shape, index, expected, got)
        return
    if isinstance(got, ShapeError):
        raise AssertionError("false error %s for %s[%r]" % (got.message, shape, index))
    if got is not None and got.shape is not None:
        assert len(got.shape) == len(expected), (shape, index, got.shape, tuple(expected))
        for d, e in zip(got.shape, expected):
            assert d is None or d == e, (shape, index, got.shape, tuple(expected))


def test_a_0_dim_tensor_indexed_in_torch_words():
    for index, words in ((Const(0), "invalid index of a 0-dim tensor"),
                         (SliceVal(Const(None), Const(None), Const(None)),
                          "slice() cannot be applied to a 0-dim tensor")):
        got = getitem(T(), index)
        assert isinstance(got, ShapeError) and got.message.startswith(words)
    assert getitem(T(), Const(True)).shape == (1,)
    assert getitem(T(2, 3), Const(False)).shape == (0, 2, 3)
