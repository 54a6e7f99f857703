"""Normalisation, activation and dropout rules against torch."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import given, strategies as st
from torch import nn

from helpers import (T, build, check, check_symbolic, cpu_message, fn, layer, meta, outcome,
                     symbolize)
from shapelens.analysis.errors import ShapeError
from shapelens.analysis.rules import LAYERS

small = st.integers(1, 4)


def _both_modes(make, shape):
    """torch outcome in eval mode (the rule's standard: it cannot see the mode) and whether
    training mode raises too."""
    module = make()
    ev = outcome(lambda: module.eval()(meta(*shape)))
    tr = outcome(lambda: module.train()(meta(*shape)))
    return ev, tr


@given(st.sampled_from(["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d",
                        "InstanceNorm2d", "InstanceNorm3d"]),
       small, st.booleans(), st.booleans(), st.integers(1, 6), st.data())
def test_batch_instance_norm_matches_torch(kind, nf, affine, track, rank, data):
    c = nf if data.draw(st.integers(0, 3)) else data.draw(small)
    shape = (2, c) + tuple(data.draw(st.integers(1, 3)) for _ in range(rank - 2)) \
        if rank >= 2 else (c,)
    if kind.startswith("Instance") and data.draw(st.booleans()):
        shape = shape[1:] or (c,)
    kw = {"affine": affine, "track_running_stats": track}
    rule = layer(kind, (nf,), kw, T(*shape))
    ev, tr = _both_modes(lambda: getattr(nn, kind)(nf, device="meta", **kw), shape)
    # BatchNorm in training mode also needs more than one value per channel: the rule cannot
    # see the mode, so eval mode is the oracle and a rule error must hold in both modes.
    check(rule, ev, context=str((kind, nf, kw, shape)))
    if isinstance(rule, ShapeError):
        check(rule, tr)
    for training, want in ((True, tr), (False, ev)):
        check(layer(kind, (nf,), kw, T(*shape), training=training), want,
              context=str((kind, nf, kw, shape, training)))
    sym_shape, bindings = symbolize(shape, [data.draw(st.booleans()) for _ in shape])
    check_symbolic(layer(kind, (nf,), kw, T(*sym_shape)), rule, bindings)


@given(st.lists(small, min_size=1, max_size=2).map(tuple), st.lists(small, max_size=4).map(tuple),
       st.booleans(), st.data())
def test_layer_norm_matches_torch(ns, shape, affine, data):
    if data.draw(st.booleans()):
        shape = shape + ns
    rule = layer("LayerNorm", (ns,), {"elementwise_affine": affine}, T(*shape))
    check(rule, outcome(lambda: nn.LayerNorm(ns, elementwise_affine=affine, device="meta")(
        meta(*shape))), context=str((ns, shape)))
    check(layer("RMSNorm", (ns,), {}, T(*shape)),
          outcome(lambda: nn.RMSNorm(ns, device="meta")(meta(*shape))))
    check(fn("torch.nn.functional.layer_norm", T(*shape), ns),
          outcome(lambda: F.layer_norm(meta(*shape), ns)))
    if shape:
        sym_shape, bindings = symbolize(shape, [data.draw(st.booleans()) for _ in shape])
        check_symbolic(layer("LayerNorm", (ns,), {}, T(*sym_shape)), rule, bindings)


@given(st.integers(1, 4), st.integers(1, 8), st.booleans(), st.data())
def test_group_norm_matches_torch(groups, channels, affine, data):
    c = channels if data.draw(st.booleans()) else data.draw(st.integers(1, 8))
    shape = data.draw(st.sampled_from([(2, c), (2, c, 3), (c,), (2, c, 2, 2)]))
    rule = layer("GroupNorm", (groups, channels), {"affine": affine}, T(*shape))
    want = outcome(lambda: nn.GroupNorm(groups, channels, affine=affine, device="meta")(
        meta(*shape)))
    check(rule, want, context=str((groups, channels, affine, shape)))
    check(fn("torch.nn.functional.group_norm", T(*shape), groups),
          outcome(lambda: F.group_norm(meta(*shape), groups)))


def test_norm_params_match_torch():
    cases = [("BatchNorm2d", (16,), {}), ("BatchNorm1d", (8,), {"affine": False}),
             ("InstanceNorm2d", (4,), {"affine": True}), ("LayerNorm", ((3, 8),), {}),
             ("LayerNorm", (8,), {"bias": False}), ("GroupNorm", (2, 8), {}),
             ("RMSNorm", (8,), {})]
    for kind, args, kw in cases:
        spec = build(kind, args, kw)
        module = getattr(nn, kind)(*args, **kw)
        assert LAYERS[kind].params(spec) == sum(p.numel() for p in module.parameters()), kind


def test_norm_messages_start_with_torch_text():
    text = cpu_message(lambda: nn.BatchNorm2d(64)(torch.randn(2, 12, 3, 3)))
    err = layer("BatchNorm2d", (64,), {}, T(2, 12, 3, 3))
    assert err.code == "norm-features" and err.message.startswith(text)
    assert (err.fix.param, err.fix.value) == ("num_features", 12)
    text = cpu_message(lambda: nn.LayerNorm(64)(torch.randn(8, 32)))
    err = layer("LayerNorm", (64,), {}, T(8, 32))
    assert err.code == "norm-features" and err.message.startswith(text)
    text = cpu_message(lambda: nn.GroupNorm(4, 32)(torch.randn(8, 30, 2)))
    assert layer("GroupNorm", (4, 32), {"affine": False}, T(8, 30, 2)).message.startswith(text)
    text = cpu_message(lambda: nn.BatchNorm2d(64)(torch.randn(2, 64, 3)))
    assert layer("BatchNorm2d", (64,), {}, T(2, 64, 3)).message.startswith(text)


ACTIVATIONS = ["ReLU", "ReLU6", "GELU", "SiLU", "Sigmoid", "Tanh", "LeakyReLU", "ELU", "SELU",
               "CELU", "Hardswish", "Hardsigmoid", "Hardtanh", "Mish", "LogSigmoid", "Softplus",
               "Softshrink", "Hardshrink", "Tanhshrink", "Softsign", "Identity", "Dropout",
               "AlphaDropout", "RReLU"]


@given(st.sampled_from(ACTIVATIONS), st.lists(small, max_size=4).map(tuple))
def test_plain_activations_keep_shape(kind, shape):
    rule = layer(kind, (), {}, T(*shape))
    check(rule, outcome(lambda: getattr(nn, kind)()(meta(*shape))), context=kind)


@given(st.sampled_from(["Softmax", "LogSoftmax", "Softmin", "GLU"]),
       st.one_of(st.none(), st.integers(-4, 3)), st.lists(small, max_size=4).map(tuple))
def test_dim_activations_match_torch(kind, dim, shape):
    if kind == "GLU" and dim is None:
        dim = -1
    rule = layer(kind, (dim,), {}, T(*shape))
    # meta accepts softmax(dim=1) on a 0-d tensor, CPU does not: CPU judges errors.
    check(rule, outcome(lambda: getattr(nn, kind)(dim)(meta(*shape))),
          context=str((kind, dim, shape)), cpu=lambda: getattr(nn, kind)(dim)(torch.ones(shape)))
    if kind != "GLU":
        name = kind.lower().replace("logsoftmax", "log_softmax")
        check(fn("torch.nn.functional." + name, T(*shape), dim),
              outcome(lambda: getattr(F, name)(meta(*shape), dim)),
              cpu=lambda: getattr(F, name)(torch.ones(shape), dim))
    if kind == "Softmax" and dim is not None:
        check(fn("Tensor.softmax", T(*shape), dim), outcome(lambda: meta(*shape).softmax(dim)),
              cpu=lambda: torch.ones(shape).softmax(dim))
        check(fn("torch.softmax", T(*shape), dim), outcome(lambda: torch.softmax(meta(*shape),
                                                                                 dim)),
              cpu=lambda: torch.softmax(torch.ones(shape), dim))


@given(st.sampled_from(["PReLU", "Softmax2d", "Dropout1d", "Dropout2d", "Dropout3d",
                        "FeatureAlphaDropout"]),
       st.integers(1, 4), st.lists(small, max_size=5).map(tuple))
def test_checked_activations_match_torch(kind, num, shape):
    args = (num,) if kind == "PReLU" else ()
    rule = layer(kind, args, {}, T(*shape))
    module = getattr(nn, kind)(*args)
    # Feature dropout checks the rank only in training mode: a rule that does not know the
    # mode follows eval mode, one told the mode follows it.
    check(rule, outcome(lambda: module.to("meta").eval()(meta(*shape))),
          context=str((kind, num, shape)),
          cpu=lambda: getattr(nn, kind)(*args).eval()(torch.empty(shape)))
    for training in (True, False):
        rule = layer(kind, args, {}, T(*shape), training=training)
        check(rule, outcome(lambda: module.to("meta").train(training)(meta(*shape))),
              context=str((kind, num, shape, training)),
              cpu=lambda: getattr(nn, kind)(*args).train(training)(torch.empty(shape)))


@given(st.sampled_from(["relu", "sigmoid", "tanh", "exp", "log", "abs", "sqrt", "neg", "sin",
                        "floor", "rsqrt", "erf", "isnan", "sign", "square"]),
       st.lists(small, max_size=4).map(tuple))
def test_pointwise_functions_keep_shape(name, shape):
    check(fn("torch." + name, T(*shape)), outcome(lambda: getattr(torch, name)(meta(*shape))))
    check(fn("Tensor." + name, T(*shape)), outcome(lambda: getattr(meta(*shape), name)()))
    assert fn("torch.isnan", T(*shape)).dtype == "bool"


@given(st.sampled_from(["relu", "gelu", "silu", "elu", "leaky_relu", "hardtanh", "softplus",
                        "dropout", "alpha_dropout", "mish", "relu6", "logsigmoid", "hardswish"]),
       st.lists(small, max_size=4).map(tuple))
def test_functional_activations_keep_shape(name, shape):
    check(fn("torch.nn.functional." + name, T(*shape)),
          outcome(lambda: getattr(F, name)(meta(*shape))))


@given(st.floats(-1, 2), st.lists(small, max_size=3).map(tuple))
def test_dropout_probability(p, shape):
    check(layer("Dropout", (p,), {}, T(*shape)), outcome(lambda: nn.Dropout(p)(meta(*shape))))
    check(fn("torch.nn.functional.dropout", T(*shape), p),
          outcome(lambda: F.dropout(meta(*shape), p)))


def test_softmax_message_and_symbols():
    text = cpu_message(lambda: nn.Softmax(2)(torch.randn(3, 4)))
    err = layer("Softmax", (2,), {}, T(3, 4))
    assert err.code == "rank-mismatch" and err.message.startswith(text)
    text = cpu_message(lambda: torch.randn(3, 4).softmax(-3))
    assert fn("Tensor.softmax", T(3, 4), -3).message.startswith(text)
    sym_shape, bindings = symbolize((2, 3), (True, True))
    assert layer("ReLU", (), {}, T(*sym_shape)).shape == sym_shape
