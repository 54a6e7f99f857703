"""Embedding, RNN/LSTM/GRU (+ cells), MultiheadAttention, scaled_dot_product_attention and the
transformer layers against torch."""
from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st
from torch import nn

from helpers import (T, build, check, check_symbolic, cpu_message, fn, layer, meta, outcome,
                     symbolize)
from shapelens.analysis.dims import sym
from shapelens.analysis.rules import LAYERS
from shapelens.analysis.values import Layer, TupleVal

small = st.integers(1, 4)


def _long(*shape):
    return torch.zeros(shape, dtype=torch.long, device="meta")


@given(st.integers(1, 6), small, st.lists(small, max_size=3).map(tuple),
       st.one_of(st.none(), st.integers(-7, 6)))
def test_embedding_matches_torch(n, d, shape, pad):
    rule = layer("Embedding", (n, d), {"padding_idx": pad}, T(*shape, dtype="long"))
    want = outcome(lambda: nn.Embedding(n, d, padding_idx=pad, device="meta")(_long(*shape)))
    check(rule, want, context=str((n, d, pad, shape)))
    check(fn("torch.nn.functional.embedding", T(*shape), T(n, d)),
          outcome(lambda: F.embedding(_long(*shape), meta(n, d))))


@given(st.lists(small, min_size=1, max_size=3).map(tuple), st.booleans())
def test_embedding_bag_matches_torch(shape, offsets):
    off = T(2) if offsets else None
    rule = layer("EmbeddingBag", (10, 3), {}, T(*shape), *([off] if off is not None else []))
    args = [torch.zeros(shape, dtype=torch.long)] + ([torch.tensor([0, 1])] if offsets else [])
    check(rule, outcome(lambda: nn.EmbeddingBag(10, 3)(*args)), context=str((shape, offsets)))


@st.composite
def rnn_case(draw):
    mode = draw(st.sampled_from(["RNN", "LSTM", "GRU"]))
    isz, hsz = draw(small), draw(st.integers(2, 4))
    layers = draw(st.integers(1, 2))
    bf, bi = draw(st.booleans()), draw(st.booleans())
    proj = draw(st.integers(0, hsz - 1)) if mode == "LSTM" else 0
    feat = isz if draw(st.integers(0, 3)) else draw(small)
    rank = draw(st.sampled_from([2, 3, 3, 3, 1, 4]))
    shape = tuple(draw(small) for _ in range(rank - 1)) + (feat,)
    hx = None
    if draw(st.booleans()) and rank in (2, 3):
        d = 2 if bi else 1
        n = (shape[0] if bf else shape[1]) if rank == 3 else None
        hout = proj or hsz
        h = (d * layers,) + ((n,) if n is not None else ()) + (hout,)
        if draw(st.integers(0, 3)) == 0:
            h = tuple(x + draw(st.integers(0, 1)) for x in h)
        c = h[:-1] + (hsz,)
        hx = (h, c) if mode == "LSTM" else h
    return mode, isz, hsz, layers, bf, bi, proj, shape, hx


def _ctor(mode, isz, hsz, layers, bf, bi, proj):
    kw = {"num_layers": layers, "batch_first": bf, "bidirectional": bi}
    if mode == "LSTM":
        kw["proj_size"] = proj
    return (isz, hsz), kw


@given(rnn_case(), st.data())
def test_rnn_matches_torch(case, data):
    mode, isz, hsz, layers, bf, bi, proj, shape, hx = case
    args, kw = _ctor(mode, isz, hsz, layers, bf, bi, proj)
    inputs = [T(*shape)]
    torch_inputs = [meta(*shape)]
    if hx is not None:
        if mode == "LSTM":
            inputs.append(TupleVal((T(*hx[0]), T(*hx[1]))))
            torch_inputs.append((meta(*hx[0]), meta(*hx[1])))
        else:
            inputs.append(T(*hx))
            torch_inputs.append(meta(*hx))
    rule = layer(mode, args, kw, *inputs)
    want = outcome(lambda: getattr(nn, mode)(*args, **kw, device="meta")(*torch_inputs))
    check(rule, want, context=str(case))
    if hx is None:
        sym_shape, bindings = symbolize(shape, [data.draw(st.booleans()) for _ in shape])
        check_symbolic(layer(mode, args, kw, T(*sym_shape)), rule, bindings)


@given(st.sampled_from(["RNN", "LSTM", "GRU"]), small, st.integers(2, 5), st.integers(1, 3),
       st.booleans(), st.booleans())
def test_rnn_params_match_torch(mode, isz, hsz, layers, bi, bias):
    proj = hsz - 1 if mode == "LSTM" and bi else 0
    args, kw = _ctor(mode, isz, hsz, layers, False, bi, proj)
    kw["bias"] = bias
    spec = build(mode, args, kw)
    module = getattr(nn, mode)(*args, **kw, device="meta")
    assert LAYERS[mode].params(spec) == sum(p.numel() for p in module.parameters())
    for name, p in module.named_parameters():
        assert LAYERS[mode].attribute(spec, name).shape == tuple(p.shape), name


@given(st.sampled_from(["RNNCell", "LSTMCell", "GRUCell"]), small, small, st.data())
def test_cells_match_torch(kind, isz, hsz, data):
    feat = isz if data.draw(st.integers(0, 3)) else data.draw(small)
    shape = data.draw(st.sampled_from([(3, feat), (feat,), (2, 3, feat)]))
    inputs, torch_inputs = [T(*shape)], [meta(*shape)]
    if data.draw(st.booleans()) and len(shape) <= 2:
        h = shape[:-1] + (hsz if data.draw(st.integers(0, 3)) else data.draw(small),)
        if kind == "LSTMCell":
            inputs.append(TupleVal((T(*h), T(*h))))
            torch_inputs.append((meta(*h), meta(*h)))
        else:
            inputs.append(T(*h))
            torch_inputs.append(meta(*h))
    rule = layer(kind, (isz, hsz), {}, *inputs)
    want = outcome(lambda: getattr(nn, kind)(isz, hsz, device="meta")(*torch_inputs))
    check(rule, want, context=str((kind, isz, hsz, shape)))
    spec = build(kind, (isz, hsz))
    module = getattr(nn, kind)(isz, hsz)
    assert LAYERS[kind].params(spec) == sum(p.numel() for p in module.parameters())


def test_lstm_batch_first_two_layers():
    out = layer("LSTM", (64, 128), {"num_layers": 2, "batch_first": True}, T(sym("N"), 20, 64))
    (o, (h, c)) = out.items[0], out.items[1].items
    assert o.shape == (sym("N"), 20, 128)
    assert h.shape == (2, sym("N"), 128) and c.shape == (2, sym("N"), 128)
    assert LAYERS["LSTM"].expected_input(build("LSTM", (64, 128), {"batch_first": True})) == \
        (sym("N"), sym("L"), 64)
    text = cpu_message(lambda: nn.LSTM(64, 32)(torch.randn(5, 3, 32)))
    err = layer("LSTM", (64, 32), {}, T(5, 3, 32))
    assert err.code == "shape-mismatch" and err.message.startswith(text)
    text = cpu_message(lambda: nn.LSTM(64, 32)(torch.randn(5, 3, 64, 2)))
    err = layer("LSTM", (64, 32), {}, T(5, 3, 64, 2))
    assert err.code == "rank-mismatch" and err.message.startswith(text)


@st.composite
def mha_case(draw):
    heads = draw(st.integers(1, 3))
    e = heads * draw(st.integers(1, 3))
    kdim = draw(st.sampled_from([None, e, draw(small)]))
    vdim = draw(st.sampled_from([None, e, draw(small)]))
    bf = draw(st.booleans())
    batched = draw(st.integers(0, 5)) > 0
    n, l, s = draw(small), draw(small), draw(small)

    def shp(seq, feat):
        if not batched:
            return (seq, feat)
        return (n, seq, feat) if bf else (seq, n, feat)
    q = shp(l, e if draw(st.integers(0, 4)) else draw(small))
    k = shp(s, (kdim or e) if draw(st.integers(0, 4)) else draw(small))
    v = shp(s if draw(st.integers(0, 5)) else draw(small),
            (vdim or e) if draw(st.integers(0, 4)) else draw(small))
    if batched and draw(st.integers(0, 6)) == 0:
        k = (k[0], k[1] + 1, k[2]) if not bf else (k[0] + 1,) + k[1:]
        v = (v[0], v[1] + 1, v[2]) if not bf else (v[0] + 1,) + v[1:]
    flags = dict(add_bias_kv=draw(st.booleans()), add_zero_attn=draw(st.booleans()))
    fwd = dict(need_weights=draw(st.booleans()), average_attn_weights=draw(st.booleans()))
    return e, heads, kdim, vdim, bf, flags, q, k, v, fwd


@given(mha_case())
def test_mha_matches_torch(case):
    e, heads, kdim, vdim, bf, flags, q, k, v, fwd = case
    kw = dict(kdim=kdim, vdim=vdim, batch_first=bf, **flags)
    rule = layer("MultiheadAttention", (e, heads), kw, T(*q), T(*k), T(*v), **fwd)
    for mode in ("train", "eval"):
        module = nn.MultiheadAttention(e, heads, device="meta", **kw)
        getattr(module, mode)()
        want = outcome(lambda: module(meta(*q), meta(*k), meta(*v), **fwd))
        check(rule, want, context=str(case) + mode)
    spec = build("MultiheadAttention", (e, heads), kw)
    module = nn.MultiheadAttention(e, heads, device="meta", **kw)
    assert LAYERS["MultiheadAttention"].params(spec) == sum(p.numel() for p in
                                                            module.parameters())


def test_mha_examples_and_message():
    N, L = sym("N"), sym("L")
    out = layer("MultiheadAttention", (64, 8), {"batch_first": True}, T(N, L, 64), T(N, L, 64),
                T(N, L, 64))
    assert out.items[0].shape == (N, L, 64) and out.items[1].shape == (N, L, L)
    text = cpu_message(lambda: nn.MultiheadAttention(64, 8)(*[torch.randn(5, 3, 32)] * 3))
    err = layer("MultiheadAttention", (64, 8), {}, T(5, 3, 32), T(5, 3, 32), T(5, 3, 32))
    assert err.message.startswith(text)


@given(st.lists(st.integers(1, 2), max_size=2).map(tuple), small, small, small, small, st.data())
def test_sdpa_matches_torch(batch, l, s, e, ev, data):
    q = batch + (l, e)
    k = tuple(data.draw(st.sampled_from([1, b])) for b in batch) + \
        (s, e if data.draw(st.integers(0, 3)) else data.draw(small))
    v = batch + (s if data.draw(st.integers(0, 3)) else data.draw(small), ev)
    rule = fn("torch.nn.functional.scaled_dot_product_attention", T(*q), T(*k), T(*v))
    want = outcome(lambda: F.scaled_dot_product_attention(torch.ones(q), torch.ones(k),
                                                          torch.ones(v)))
    check(rule, want, context=str((q, k, v)))


@settings(max_examples=40)   # each example builds five transformer modules
@given(st.integers(1, 2), st.integers(1, 3), st.booleans(), st.data())
def test_transformer_layers_match_torch(heads, mult, bf, data):
    d = heads * mult
    feat = d if data.draw(st.integers(0, 3)) else data.draw(small)
    shape = data.draw(st.sampled_from([(3, 2, feat), (3, feat), (feat,)]))
    mem_feat = d if data.draw(st.integers(0, 3)) else data.draw(small)
    mem = data.draw(st.sampled_from([(4, 2, mem_feat), (4, mem_feat), (2, 4, mem_feat)]))
    kw = {"dim_feedforward": 8, "batch_first": bf}
    enc = layer("TransformerEncoderLayer", (d, heads), kw, T(*shape))
    module = nn.TransformerEncoderLayer(d, heads, device="meta", **kw)
    check(enc, outcome(lambda: module(meta(*shape))), context=str((d, heads, shape)))
    spec = build("TransformerEncoderLayer", (d, heads), kw)
    assert LAYERS["TransformerEncoderLayer"].params(spec) == \
        sum(p.numel() for p in module.parameters())
    dec = layer("TransformerDecoderLayer", (d, heads), kw, T(*shape), T(*mem))
    module = nn.TransformerDecoderLayer(d, heads, device="meta", **kw)
    check(dec, outcome(lambda: module(meta(*shape), meta(*mem))),
          context=str((d, heads, shape, mem)))
    stack_spec = build("TransformerEncoder", (Layer("TransformerEncoderLayer", spec), 2))
    stacked = LAYERS["TransformerEncoder"].forward(stack_spec, __import__("helpers").make_call(
        "x", (T(*shape),)))
    check(stacked, outcome(lambda: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(d, heads, device="meta", **kw), 2,
        enable_nested_tensor=False)(meta(*shape))))
    whole = layer("Transformer", (d, heads, 1, 1, 8), {"batch_first": bf}, T(*shape), T(*mem))
    warnings.simplefilter("ignore")  # nn.Transformer warns about nested tensors
    check(whole, outcome(lambda: nn.Transformer(d, heads, 1, 1, 8, batch_first=bf,
                                                device="meta")(meta(*shape), meta(*mem))),
          context=str(("Transformer", d, heads, shape, mem)))
    spec = build("Transformer", (d, heads, 1, 1, 8), {"batch_first": bf})
    assert LAYERS["Transformer"].params(spec) == sum(
        p.numel() for p in nn.Transformer(d, heads, 1, 1, 8, device="meta").parameters())


def test_more_params_match_torch():
    from helpers import make_call
    cases = [("Embedding", (10, 4), {}), ("EmbeddingBag", (10, 4), {}), ("PReLU", (3,), {}),
             ("LSTMCell", (4, 6), {"bias": False}), ("GRU", (3, 5), {"num_layers": 3}),
             ("MultiheadAttention", (8, 2), {"kdim": 3, "vdim": 5, "add_bias_kv": True}),
             ("MultiheadAttention", (8, 2), {"bias": False})]
    for kind, args, kw in cases:
        spec = build(kind, args, kw)
        module = getattr(nn, kind)(*args, **kw)
        assert LAYERS[kind].params(spec) == sum(p.numel() for p in module.parameters()), kind
    enc = build("TransformerEncoderLayer", (8, 2), {"dim_feedforward": 16})
    norm = build("LayerNorm", (8,))
    stack = LAYERS["TransformerEncoder"].build("TransformerEncoder", make_call(
        "x", (Layer("TransformerEncoderLayer", enc), 3), {"norm": Layer("LayerNorm", norm)}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 3, nn.LayerNorm(8))
    assert LAYERS["TransformerEncoder"].params(stack) == sum(p.numel()
                                                             for p in module.parameters())
