"""F.unfold/F.fold, nn.Unfold/nn.Fold, torch.meshgrid and sparse matrix products against torch."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import given, strategies as st

from tests.rules.helpers import (
    T, check, check_symbolic, fn, layer, meta, outcome, symbolize,
)

small = st.integers(0, 4)
pair = st.one_of(st.integers(-1, 4), st.tuples(st.integers(-1, 4), st.integers(-1, 4)))


def _kwargs(data, fold=False):
    kw = {"kernel_size": data.draw(pair.filter(lambda k: k != -1 if isinstance(k, int) else
                                                -1 not in k), label="kernel")}
    for name in ("dilation", "padding", "stride"):
        if data.draw(st.booleans(), label="has " + name):
            kw[name] = data.draw(pair, label=name)
    return kw


@given(st.lists(st.integers(0, 6), min_size=2, max_size=5).map(tuple), st.data())
def test_unfold_matches_torch(shape, data):
    kw = _kwargs(data)
    check(fn("torch.nn.functional.unfold", T(*shape), **kw),
          outcome(lambda: F.unfold(meta(*shape), **kw)), context=str((shape, kw)),
          cpu=lambda: F.unfold(torch.ones(shape), **kw))
    check(layer("Unfold", (), kw, T(*shape)),
          outcome(lambda: torch.nn.Unfold(**kw)(meta(*shape))), context=str((shape, kw)),
          cpu=lambda: torch.nn.Unfold(**kw)(torch.ones(shape)))


@given(st.integers(1, 3), st.integers(1, 3), st.data())
def test_fold_inverts_unfold_and_matches_torch(batch, channels, data):
    kw = _kwargs(data)
    out_size = data.draw(st.tuples(st.integers(1, 7), st.integers(1, 7)), label="output_size")
    # the columns of an image of that size (so that L often fits), or of another one
    base = (batch, channels) + out_size
    cols = outcome(lambda: F.unfold(torch.ones(base), **kw))
    if not isinstance(cols, tuple) or data.draw(st.booleans(), label="other columns"):
        cols = data.draw(st.tuples(st.integers(1, 3), st.integers(0, 20), st.integers(0, 30)),
                         label="cols")
    if data.draw(st.booleans(), label="unbatched"):
        cols = cols[1:]
    check(fn("torch.nn.functional.fold", T(*cols), out_size, **kw),
          outcome(lambda: F.fold(meta(*cols), out_size, **kw)),
          context=str((cols, out_size, kw)), cpu=lambda: F.fold(torch.ones(cols), out_size, **kw))
    check(layer("Fold", (out_size,), kw, T(*cols)),
          outcome(lambda: torch.nn.Fold(out_size, **kw)(meta(*cols))),
          context=str((cols, out_size, kw)),
          cpu=lambda: torch.nn.Fold(out_size, **kw)(torch.ones(cols)))


@given(st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 9), st.integers(1, 9)),
       st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()),
       st.integers(1, 3), st.integers(1, 3), st.integers(0, 1))
def test_unfold_on_symbolic_sizes(shape, mask, k, s, p):
    sym_shape, bindings = symbolize(shape, mask)
    kw = dict(kernel_size=k, stride=s, padding=p)
    check_symbolic(fn("torch.nn.functional.unfold", T(*sym_shape), **kw),
                   fn("torch.nn.functional.unfold", T(*shape), **kw), bindings,
                   context=str((shape, mask, kw)))


def test_fold_message_starts_with_torch_text():
    err = fn("torch.nn.functional.fold", T(1, 27, 64), (9, 9), 3, padding=1)
    assert err.code == "shape-mismatch"
    assert err.message.startswith("Given output_size=(9, 9), kernel_size=(3, 3)")


@given(st.lists(st.lists(st.integers(0, 4), max_size=2).map(tuple), min_size=0, max_size=3),
       st.sampled_from([None, "ij", "xy"]), st.booleans())
def test_meshgrid_matches_torch(shapes, indexing, as_list):
    kw = {} if indexing is None else {"indexing": indexing}
    args = [T(*s) for s in shapes]
    rule = fn("torch.meshgrid", args, **kw) if as_list else fn("torch.meshgrid", *args, **kw)
    if as_list:
        ran = outcome(lambda: torch.meshgrid([meta(*s) for s in shapes], **kw))
    else:
        ran = outcome(lambda: torch.meshgrid(*[meta(*s) for s in shapes], **kw))
    if isinstance(ran, tuple) and len(ran) == 1:
        ran = (ran[0],)
    check(rule, ran, context=str((shapes, indexing, as_list)),
          cpu=lambda: torch.meshgrid(*[torch.ones(s) for s in shapes], **kw))


@given(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       st.sampled_from(["torch.sparse.mm", "torch.spmm"]))
def test_sparse_mm_matches_torch(a, b, name):
    torch_fn = torch.sparse.mm if name == "torch.sparse.mm" else torch.spmm

    def run():
        return torch_fn(torch.ones(a).to_sparse(), torch.ones(b))

    check(fn(name, T(*a), T(*b)), outcome(run), context=str((a, b)), may_miss=True)
    assert fn("Tensor.to_sparse", T(*a)).shape == a
