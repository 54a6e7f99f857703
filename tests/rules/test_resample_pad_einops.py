"""Upsample/interpolate/PixelShuffle, F.pad and padding layers, einops against torch/einops."""
from __future__ import annotations

import einops
import torch
import torch.nn.functional as F
from hypothesis import given, strategies as st
from torch import nn

from helpers import T, check, check_symbolic, fn, layer, meta, outcome, symbolize
from shapelens.analysis.dims import sym

small = st.integers(1, 4)


@given(st.sampled_from(["nearest", "linear", "bilinear", "bicubic", "trilinear", "area",
                        "nearest-exact"]),
       st.integers(1, 6), st.one_of(st.none(), st.booleans()), st.data())
def test_interpolate_matches_torch(mode, rank, align, data):
    shape = tuple(data.draw(small) for _ in range(rank))
    n = max(rank - 2, 1)
    if data.draw(st.booleans()):
        size = data.draw(st.one_of(st.integers(0, 5), st.tuples(*[small] * n)))
        kw = {"size": size}
    else:
        scale = data.draw(st.one_of(st.sampled_from([0.5, 1.5, 2, 2.0, 3, 0.3, 1.7]),
                                    st.tuples(*[st.sampled_from([2, 0.5, 1.5])] * n)))
        kw = {"scale_factor": scale}
    if align is not None:
        kw["align_corners"] = align
    rule = layer("Upsample", (), dict(kw, mode=mode), T(*shape))
    want = outcome(lambda: nn.Upsample(mode=mode, **kw)(meta(*shape)))
    # meta lets (bi/tri)linear and bicubic produce empty outputs, CPU does not: CPU judges.
    check(rule, want, context=str((mode, shape, kw)),
          cpu=lambda: nn.Upsample(mode=mode, **kw)(torch.ones(shape)))
    check(fn("torch.nn.functional.interpolate", T(*shape), mode=mode, **kw),
          outcome(lambda: F.interpolate(meta(*shape), mode=mode, **kw)),
          cpu=lambda: F.interpolate(torch.ones(shape), mode=mode, **kw))
    if rank >= 3:
        sym_shape, bindings = symbolize(shape, [data.draw(st.booleans()) for _ in shape])
        check_symbolic(layer("Upsample", (), dict(kw, mode=mode), T(*sym_shape)), rule, bindings)


def test_upsample_symbolic():
    N, H = sym("N"), sym("H")
    assert layer("Upsample", (), {"scale_factor": 2}, T(N, 3, H, H)).shape == (N, 3, 2 * H, 2 * H)
    assert layer("Upsample", (), {"scale_factor": 1.5}, T(N, 3, H, H)).shape == (N, 3, None, None)


@given(st.booleans(), st.integers(0, 3), st.lists(small, min_size=1, max_size=5).map(tuple),
       st.data())
def test_pixel_shuffle_matches_torch(unshuffle, r, shape, data):
    if data.draw(st.booleans()) and len(shape) >= 3:
        shape = shape[:-3] + (shape[-3] * max(r, 1) ** 2,) + tuple(d * max(r, 1)
                                                                   for d in shape[-2:])
    kind = "PixelUnshuffle" if unshuffle else "PixelShuffle"
    rule = layer(kind, (r,), {}, T(*shape))
    check(rule, outcome(lambda: getattr(nn, kind)(r)(meta(*shape))),
          context=str((kind, r, shape)), cpu=lambda: getattr(nn, kind)(r)(torch.ones(shape)))


@given(st.lists(small, max_size=5).map(tuple),
       st.lists(st.integers(-3, 4), max_size=7).map(tuple),
       st.sampled_from(["constant", "reflect", "replicate", "circular"]))
def test_f_pad_matches_torch(shape, pad, mode):
    if mode != "constant":
        pad = tuple(abs(p) for p in pad)
    rule = fn("torch.nn.functional.pad", T(*shape), pad, mode)
    check(rule, outcome(lambda: F.pad(torch.ones(shape), pad, mode)),
          context=str((shape, pad, mode)))


@given(st.sampled_from(["Zero", "Constant", "Reflection", "Replication", "Circular"]),
       st.integers(1, 3), st.integers(0, 3), st.lists(small, max_size=5).map(tuple))
def test_pad_layers_match_torch(kind, n, p, shape):
    name = "%sPad%dd" % (kind, n)
    args = (p, 0.0) if kind == "Constant" else (p,)
    rule = layer(name, args, {}, T(*shape))
    check(rule, outcome(lambda: getattr(nn, name)(*args)(torch.ones(shape))),
          context=str((name, p, shape)))


PATTERNS = [
    ("rearrange", "b c h w -> b (c h w)", {}),
    ("rearrange", "b (h d) n -> b h n d", {"h": 2}),
    ("rearrange", "b c (h p1) (w p2) -> b (h w) (p1 p2 c)", {"p1": 2, "p2": 2}),
    ("rearrange", "b ... -> b (...)", {}),
    ("rearrange", "... n -> n ...", {}),
    ("rearrange", "b 1 n -> b n", {}),
    ("rearrange", "b c n -> b c () n", {}),
    ("rearrange", "b c n -> b n", {}),
    ("rearrange", "b c c -> b c", {}),
    ("reduce", "b c h w -> b c", {}),
    ("reduce", "b c (h 2) (w 2) -> b c h w", {}),
    ("reduce", "b (c k) n -> b c 1", {"k": 2}),
    ("reduce", "b c ... -> b c", {}),
    ("repeat", "b c -> b c n", {"n": 3}),
    ("repeat", "b c -> (r b) c", {"r": 2}),
    ("repeat", "b c -> b c n", {}),
    ("repeat", "c -> b c", {"b": 2}),
]


@given(st.sampled_from(PATTERNS), st.lists(st.integers(1, 6), min_size=1, max_size=5).map(tuple),
       st.data())
def test_einops_matches_einops(case, shape, data):
    op, pattern, lengths = case
    args = ("max",) if op == "reduce" else ()
    rule = fn("einops." + op, T(*shape), pattern, *args, **lengths)
    want = outcome(lambda: getattr(einops, op)(torch.ones(shape), pattern, *args, **lengths))
    check(rule, want, context=str((pattern, shape, lengths)))
    sym_shape, bindings = symbolize(shape, [data.draw(st.booleans()) for _ in shape])
    check_symbolic(fn("einops." + op, T(*sym_shape), pattern, *args, **lengths), rule, bindings)


def test_einops_layers_and_messages():
    N = sym("N")
    assert fn("einops.rearrange", T(N, 12, 5), "b (h d) n -> b h n d", h=4).shape == (N, 4, 5, 3)
    spec_layer = fn("einops.layers.torch.Rearrange", "b c h w -> b (c h w)")
    from shapelens.analysis.rules import LAYERS
    from helpers import make_call
    out = LAYERS["Rearrange"].forward(spec_layer.spec, make_call("x", (T(N, 3, 4, 5),)))
    assert out.shape == (N, 60)
    try:
        einops.rearrange(torch.ones(2, 3, 4), "b c h w -> b (c h w)")
    except einops.EinopsError as exc:
        text = str(exc).split("\n")[0]
    err = fn("einops.rearrange", T(2, 3, 4), "b c h w -> b (c h w)")
    assert err.code == "rank-mismatch" and err.message.startswith(text.strip())
