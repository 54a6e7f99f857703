"""einops.pack/unpack, torch.diff, torch.cdist and torch.multinomial against torch."""
from __future__ import annotations

import einops
import torch
from hypothesis import given, strategies as st

from tests.rules.helpers import T, check, fn, meta, outcome

shape_st = st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple)


@given(st.lists(shape_st, min_size=1, max_size=3),
       st.sampled_from(["b * d", "* d", "b *", "b c * d", "*"]))
def test_pack_matches_einops(shapes, pattern):
    rule = fn("einops.pack", [T(*s) for s in shapes], pattern)
    try:
        packed, ps = einops.pack([torch.ones(s) for s in shapes], pattern)
    except (RuntimeError, einops.EinopsError) as exc:
        # einops reshapes with -1, which torch refuses for empty tensors: a miss, not an error
        empty = any(0 in s for s in shapes)
        assert empty or getattr(rule, "code", None), (shapes, pattern, exc, rule)
        return
    assert rule.items[0].shape == tuple(packed.shape), (shapes, pattern, rule)
    assert [tuple(i.value for i in t.items) for t in rule.items[1].items] == \
        [tuple(p) for p in ps], (shapes, pattern, rule)


@given(st.integers(1, 3), st.lists(st.lists(st.integers(-1, 3), max_size=2).map(tuple),
                                    min_size=1, max_size=3),
       st.integers(0, 12), st.integers(1, 3))
def test_unpack_matches_einops(batch, parts, axis, feat):
    shape = (batch, axis, feat)
    rule = fn("einops.unpack", T(*shape), [tuple(p) for p in parts], "b * d")

    def run():
        return tuple(einops.unpack(torch.ones(shape), [tuple(p) for p in parts], "b * d"))

    ran = outcome(run)
    if isinstance(ran, tuple):
        got = tuple(t.shape for t in rule.items)
        assert len(got) == len(ran) and all(
            len(g) == len(r) and all(a is None or a == b for a, b in zip(g, r))
            for g, r in zip(got, ran)), (shape, parts, got, ran)
    else:
        check(rule, ran, context=str((shape, parts)), may_miss=True)


positive_shape_st = st.lists(st.integers(1, 4), min_size=0, max_size=4).map(tuple)


# (torch's CPU and meta paths disagree on empty tensors with prepend/append: sizes are >= 1)
@given(positive_shape_st, st.integers(-1, 4), st.integers(-5, 4), st.data())
def test_diff_matches_torch(shape, n, dim, data):
    kw = {"n": n, "dim": dim}
    extras = {}
    for name in ("prepend", "append"):
        if data.draw(st.booleans(), label="has " + name):
            extras[name] = data.draw(positive_shape_st, label=name)
    args = dict(kw, **{k: T(*v) for k, v in extras.items()})
    check(fn("torch.diff", T(*shape), **args),
          outcome(lambda: torch.diff(meta(*shape), **dict(kw, **{k: meta(*v) for k, v in
                                                                   extras.items()}))),
          context=str((shape, kw, extras)),
          cpu=lambda: torch.diff(torch.ones(shape), **dict(kw, **{k: torch.ones(v) for k, v in
                                                                   extras.items()})))


@given(st.lists(st.integers(1, 3), min_size=0, max_size=4).map(tuple),
       st.lists(st.integers(1, 3), min_size=0, max_size=4).map(tuple))
def test_cdist_matches_torch(a, b):
    check(fn("torch.cdist", T(*a), T(*b)), outcome(lambda: torch.cdist(meta(*a), meta(*b))),
          context=str((a, b)), cpu=lambda: torch.cdist(torch.ones(a), torch.ones(b)))


@given(st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple), st.integers(-1, 6),
       st.booleans())
def test_multinomial_matches_torch(shape, k, replacement):
    check(fn("torch.multinomial", T(*shape), k, replacement=replacement),
          outcome(lambda: torch.multinomial(torch.ones(shape), k, replacement=replacement)),
          context=str((shape, k, replacement)))
