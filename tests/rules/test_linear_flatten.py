"""Linear/Bilinear/F.linear and Flatten/Unflatten rules against torch."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import given, strategies as st
from torch import nn

from helpers import (T, build, check, check_symbolic, cpu_message, fn, layer, meta, outcome,
                     symbolize)
from shapelens.analysis.dims import sym
from shapelens.analysis.rules import LAYERS

small = st.integers(1, 5)
shapes = st.lists(small, min_size=0, max_size=4).map(tuple)


@given(small, small, st.booleans(), shapes, st.data())
def test_linear_matches_torch(cin, cout, bias, shape, data):
    if shape and data.draw(st.booleans()):
        shape = shape[:-1] + (cin,)
    rule = layer("Linear", (cin, cout), {"bias": bias}, T(*shape))
    check(rule, outcome(lambda: nn.Linear(cin, cout, bias, device="meta")(meta(*shape))),
          context=str((cin, cout, shape)))
    if shape:
        sym_shape, bindings = symbolize(shape, [data.draw(st.booleans()) for _ in shape])
        check_symbolic(layer("Linear", (cin, cout), {}, T(*sym_shape)), rule, bindings)


@given(small, small, shapes, st.one_of(st.none(), shapes), st.integers(1, 2), st.data())
def test_f_linear_matches_torch(cin, cout, shape, bias, wrank, data):
    if shape and data.draw(st.booleans()):
        shape = shape[:-1] + (cin,)
    w = (cout, cin) if wrank == 2 else (cin,)
    if wrank == 1:
        bias = None
    if bias is not None and data.draw(st.booleans()):
        bias = bias[-1:] + (cout,) if bias else (cout,)
    args = (T(*shape), T(*w)) + ((T(*bias),) if bias is not None else ())
    rule = fn("torch.nn.functional.linear", *args)
    # CPU is the oracle: meta broadcasts the bias out of place where CPU adds it in place.
    want = outcome(lambda: F.linear(torch.randn(shape), torch.randn(w),
                                    torch.randn(bias) if bias is not None else None))
    # A 2-D+ bias on a 3-D+ input: whether torch folds the input first depends on its layout.
    check(rule, want, context=str((shape, w, bias)),
          may_miss=len(shape) > 2 and bias is not None and len(bias) > 1)


@given(small, small, small, st.lists(small, max_size=2).map(tuple), st.data())
def test_bilinear_matches_torch(in1, in2, out, batch, data):
    s1 = batch + (in1 if data.draw(st.integers(0, 4)) else data.draw(small),)
    s2 = (batch if data.draw(st.integers(0, 4)) else batch[:-1]) + \
        (in2 if data.draw(st.integers(0, 4)) else data.draw(small),)
    rule = layer("Bilinear", (in1, in2, out), {}, T(*s1), T(*s2))
    want = outcome(lambda: nn.Bilinear(in1, in2, out, device="meta")(meta(*s1), meta(*s2)))
    check(rule, want, context=str((in1, in2, out, s1, s2)))


def test_linear_params_and_attributes():
    for kind, args in (("Linear", (400, 120)), ("Bilinear", (3, 4, 5))):
        for bias in (True, False):
            spec = build(kind, args, {"bias": bias})
            module = getattr(nn, kind)(*args, bias=bias, device="meta")
            assert LAYERS[kind].params(spec) == sum(p.numel() for p in module.parameters())
            assert LAYERS[kind].attribute(spec, "weight").shape == tuple(module.weight.shape)
    assert LAYERS["Linear"].expected_input(build("Linear", (400, 120))) == (sym("N"), 400)


def test_linear_message_names_the_arriving_size():
    text = cpu_message(lambda: nn.Linear(3136, 128)(torch.randn(8, 4096)))
    err = layer("Linear", (3136, 128), {}, T(8, 4096))
    assert err.code == "linear-in-features" and err.message.startswith(text)
    assert "set in_features to 4096" in err.message
    assert (err.fix.param, err.fix.value, err.fix.index) == ("in_features", 4096, 0)
    err = layer("Linear", (3136, 128), {}, T(sym("N"), 4096))
    assert err.message.startswith("mat1 and mat2 shapes cannot be multiplied (Nx4096 and 3136x128)")


@given(st.lists(small, max_size=5).map(tuple), st.integers(-6, 5), st.integers(-6, 5),
       st.data())
def test_flatten_matches_torch(shape, start, end, data):
    rule = fn("torch.flatten", T(*shape), start, end)
    check(rule, outcome(lambda: torch.flatten(meta(*shape), start, end)),
          context=str((shape, start, end)))
    check(fn("Tensor.flatten", T(*shape), start_dim=start, end_dim=end), outcome(
        lambda: meta(*shape).flatten(start_dim=start, end_dim=end)))
    check(layer("Flatten", (start, end), {}, T(*shape)),
          outcome(lambda: nn.Flatten(start, end)(meta(*shape))))
    check(layer("Flatten", (), {}, T(*shape)), outcome(lambda: nn.Flatten()(meta(*shape))))
    if shape:
        sym_shape, bindings = symbolize(shape, [data.draw(st.booleans()) for _ in shape])
        check_symbolic(fn("torch.flatten", T(*sym_shape), start, end), rule, bindings)


@given(st.lists(small, min_size=0, max_size=4).map(tuple), st.integers(-5, 4),
       st.lists(st.integers(-2, 6), min_size=0, max_size=3).map(tuple), st.data())
def test_unflatten_matches_torch(shape, dim, sizes, data):
    if shape and data.draw(st.booleans()) and -len(shape) <= dim < len(shape):
        d = shape[dim]
        sizes = data.draw(st.sampled_from([(d,), (1, d), (-1, 1), (d, -1)]))
    rule = fn("Tensor.unflatten", T(*shape), dim, sizes)
    check(rule, outcome(lambda: meta(*shape).unflatten(dim, sizes)),
          context=str((shape, dim, sizes)))
    if sizes:
        check(layer("Unflatten", (dim, sizes), {}, T(*shape)),
              outcome(lambda: nn.Unflatten(dim, sizes)(meta(*shape))))


def test_flatten_symbolic_and_message():
    N, H = sym("N"), sym("H")
    assert layer("Flatten", (), {}, T(N, 16, 5, 5)).shape == (N, 400)
    assert str(layer("Flatten", (), {}, T(N, 16, H, H)).shape[1]) == "16*H*H"
    text = cpu_message(lambda: torch.randn(2, 3, 4).flatten(2, 1))
    assert fn("Tensor.flatten", T(2, 3, 4), 2, 1).message.startswith(text)
