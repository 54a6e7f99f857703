"""Pool rules (Max/Avg/LP pools, adaptive pools; module and functional forms) against torch."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import given, strategies as st
from torch import nn

from helpers import (T, check, check_symbolic, cpu_message, fn, layer, make_call, outcome,
                     symbolize)
from shapelens.analysis.dims import sym
from shapelens.analysis.rules import LAYERS


@st.composite
def pool_case(draw):
    op = draw(st.sampled_from(["Max", "Avg"]))
    n = draw(st.sampled_from([1, 2, 3]))
    k = tuple(draw(st.integers(1, 4)) for _ in range(n))
    stride = draw(st.one_of(st.none(), st.tuples(*[st.integers(1, 3)] * n)))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(n))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(n)) if op == "Max" else None
    ceil = draw(st.booleans())
    batched = draw(st.booleans())
    spatial = tuple(draw(st.integers(1, 9)) for _ in range(n))
    shape = ((2,) if batched else ()) + (3,) + spatial
    if draw(st.integers(0, 14)) == 0:
        shape = shape[1:] if len(shape) > 1 else shape + (1,)
    return op, n, k, stride, padding, dilation, ceil, shape


def _kwargs(op, stride, padding, dilation, ceil):
    kw = dict(stride=stride, padding=padding, ceil_mode=ceil)
    if op == "Max":
        kw["dilation"] = dilation
    return kw


def _torch_pool(op, n, k, stride, padding, dilation, ceil, shape, device="meta"):
    cls = getattr(nn, "%sPool%dd" % (op, n))
    return lambda: cls(k, **_kwargs(op, stride, padding, dilation, ceil))(
        torch.empty(shape, device=device))


def _rule_pool(op, n, k, stride, padding, dilation, ceil, shape):
    return layer("%sPool%dd" % (op, n), (k,), _kwargs(op, stride, padding, dilation, ceil),
                 T(*shape))


@given(pool_case())
def test_pool_matches_torch(case):
    check(_rule_pool(*case), outcome(_torch_pool(*case)), context=str(case),
          cpu=_torch_pool(*case, device="cpu"))


@given(pool_case(), st.data())
def test_pool_symbolic(case, data):
    shape = case[-1]
    mask = [data.draw(st.booleans()) for _ in shape]
    sym_shape, bindings = symbolize(shape, mask)
    check_symbolic(_rule_pool(*case[:-1], sym_shape), _rule_pool(*case), bindings,
                   context=str(case))


@given(pool_case())
def test_functional_pool_matches_torch(case):
    op, n, k, stride, padding, dilation, ceil, shape = case
    kw = _kwargs(op, stride, padding, dilation, ceil)
    name = "%s_pool%dd" % (op.lower(), n)
    rule = fn("torch.nn.functional." + name, T(*shape), k, **kw)
    f = getattr(F, name)
    check(rule, outcome(lambda: f(torch.empty(shape, device="meta"), k, **kw)), context=str(case),
          cpu=lambda: f(torch.empty(shape), k, **kw))


@given(st.sampled_from(["Max", "Avg"]), st.integers(1, 3), st.data())
def test_adaptive_pool_matches_torch(op, n, data):
    entry = st.integers(1, 5) if n == 1 else st.one_of(st.none(), st.integers(1, 5))
    out = data.draw(st.one_of(st.integers(0, 5), st.tuples(*[entry] * n)))
    batched = data.draw(st.booleans())
    spatial = tuple(data.draw(st.integers(1, 7)) for _ in range(n))
    shape = ((2,) if batched else ()) + (3,) + spatial
    if data.draw(st.integers(0, 9)) == 0:
        shape = (2, 2) + shape
    kind = "Adaptive%sPool%dd" % (op, n)
    rule = layer(kind, (out,), {}, T(*shape))
    want = outcome(lambda: getattr(nn, kind)(out)(torch.empty(shape, device="meta")))
    check(rule, want, context=str((kind, out, shape)))
    sym_shape, bindings = symbolize(shape, [True] * len(shape))
    check_symbolic(layer(kind, (out,), {}, T(*sym_shape)), rule, bindings)
    f = getattr(F, "adaptive_%s_pool%dd" % (op.lower(), n))
    check(fn("torch.nn.functional.adaptive_%s_pool%dd" % (op.lower(), n), T(*shape), out),
          outcome(lambda: f(torch.empty(shape, device="meta"), out)))


@given(st.integers(1, 2), st.integers(1, 4), st.one_of(st.none(), st.integers(1, 3)),
       st.booleans(), st.tuples(st.integers(1, 8), st.integers(1, 8)))
def test_lp_pool_matches_torch(n, k, stride, ceil, spatial):
    shape = (2, 3) + spatial[:n]
    kind = "LPPool%dd" % n
    rule = layer(kind, (2, k), {"stride": stride, "ceil_mode": ceil}, T(*shape))
    want = outcome(lambda: getattr(nn, kind)(2, k, stride, ceil)(torch.empty(shape,
                                                                           device="meta")))
    check(rule, want, context=str((kind, k, stride, ceil, shape)))


def test_return_indices_gives_pair():
    out = layer("MaxPool2d", (2,), {"return_indices": True}, T(1, 3, 8, 8))
    assert [t.shape for t in out.items] == [(1, 3, 4, 4), (1, 3, 4, 4)]
    assert out.items[1].dtype == "long"


def test_symbolic_halving():
    N, H, W = sym("N"), sym("H"), sym("W")
    out = layer("MaxPool2d", (2,), {}, T(N, 16, H, W))
    assert out.shape == (N, 16, H // 2, W // 2)
    assert str(out.shape[2]) == "H//2"


def test_pool_messages_start_with_torch_text():
    text = cpu_message(lambda: nn.MaxPool2d(3)(torch.randn(1, 8, 2, 2)))
    err = layer("MaxPool2d", (3,), {}, T(1, 8, 2, 2))
    assert err.code == "spatial-collapse" and err.message.startswith(text), (err.message, text)
    text = cpu_message(lambda: nn.MaxPool2d(3, padding=2)(torch.randn(1, 8, 8, 8)))
    err = layer("MaxPool2d", (3,), {"padding": 2}, T(1, 8, 8, 8))
    assert err.code == "padding-invalid" and err.message.startswith(text), (err.message, text)
    text = cpu_message(lambda: F.avg_pool2d(torch.randn(1, 8, 2, 2), 3))
    err = fn("torch.nn.functional.avg_pool2d", T(1, 8, 2, 2), 3)
    assert err.message.startswith(text)


def test_pool_arithmetic_and_keep_padding():
    rule = LAYERS["MaxPool2d"]
    spec = rule.build("MaxPool2d", make_call("MaxPool2d", (3,), {"stride": 1}))
    lines = rule.arithmetic(spec, (1, 3, 28, 28))
    assert lines[0] == "H: ⌊(28 + 2·0 − 1·(3 − 1) − 1) / 1⌋ + 1 = 26"
    keep, kept = rule.keep_padding(spec)
    assert keep == 1 and rule.forward(kept, make_call("x", (T(1, 3, 28, 28),))).shape == \
        (1, 3, 28, 28)
    ceil = rule.build("MaxPool2d", make_call("MaxPool2d", (2,), {"ceil_mode": True}))
    assert rule.arithmetic(ceil, (1, 3, 5, 5))[0].startswith("H: ⌈")
