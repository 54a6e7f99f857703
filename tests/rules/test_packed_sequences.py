"""Packed sequences against torch: pack_padded_sequence/pack_sequence, RNN/LSTM/GRU on a
PackedSequence (output features, h_n/c_n, the initial state's checks), pad_packed_sequence
and pad_sequence."""
from __future__ import annotations

import torch
import torch.nn as nn
from hypothesis import given, strategies as st
from torch.nn.utils import rnn as R

from shapelens.analysis.errors import ShapeError
from shapelens.analysis.values import Packed
from tests.rules.helpers import T, check, fn, layer, outcome

P = "torch.nn.utils.rnn."


def shapes(v):
    """Shapes of torch's result, a PackedSequence as ('packed', batch, data's trailing dims)."""
    if isinstance(v, R.PackedSequence):
        return ("packed", int(v.batch_sizes[0]) if len(v.batch_sizes) else 0,
                tuple(v.data.shape[1:]))
    if isinstance(v, torch.Tensor):
        return tuple(v.shape)
    return tuple(shapes(i) for i in v)


def rule_shapes(v):
    if isinstance(v, Packed):
        return ("packed", v.batch, v.features)
    if hasattr(v, "items"):
        return tuple(rule_shapes(i) for i in v.items)
    return v.shape


def run(thunk):
    try:
        return shapes(thunk())
    except (RuntimeError, ValueError, IndexError) as exc:
        return exc


def agree(rule, want, ctx, partial=False):
    if isinstance(rule, ShapeError):
        assert isinstance(want, Exception), "false error [%s]: %s" % (ctx, rule.message)
        return
    if isinstance(want, Exception) or rule is None:
        return       # a miss: the rule stays quiet (None: unknown)
    got = rule_shapes(rule)
    if partial:
        assert len(got) == len(want) and all(
            g is None or g == w or isinstance(g, tuple) and len(g) == len(w) and
            all(a is None or a == b for a, b in zip(g, w)) for g, w in zip(got, want)), \
            (ctx, got, want)
    else:
        assert got == want, (ctx, got, want)


@given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 4), st.booleans(),
       st.sampled_from(["RNN", "LSTM", "GRU"]), st.integers(1, 2), st.booleans(),
       st.integers(0, 2), st.booleans())
def test_rnn_on_packed_sequence_matches_torch(steps, batch, feat, batch_first, kind, layers,
                                              bidirectional, n_lengths_off, with_hx):
    """(torch's packed path does not check the features or the initial state before running:
    a mismatch there aborts the process or reads out of bounds, so torch runs only on matching
    ones here, and the rule must leave the mismatched ones unknown.)"""
    shape = (batch, steps, feat) if batch_first else (steps, batch, feat)
    lengths = sorted([steps] + [max(1, steps - i) for i in range(batch - 1)], reverse=True)
    lengths = lengths[:len(lengths) - n_lengths_off] if n_lengths_off < len(lengths) else lengths
    ctx = str((shape, lengths, kind, layers, bidirectional, with_hx))
    packed_rule = fn(P + "pack_padded_sequence", T(*shape), lengths, batch_first=batch_first)
    packed = run(lambda: R.pack_padded_sequence(torch.zeros(shape), lengths,
                                                batch_first=batch_first))
    agree(packed_rule, packed, ctx)
    if not isinstance(packed_rule, Packed) or isinstance(packed, Exception):
        return
    config = {"num_layers": layers, "bidirectional": bidirectional}
    module = getattr(nn, kind)(feat, 3, **config)
    d = 2 if bidirectional else 1
    hx, hx_rule, bad_rule = (), (), ()
    if with_hx:
        h, bad = (layers * d, batch, 3), (layers * d, batch + 1, 3)
        hx = ((torch.zeros(h), torch.zeros(h)),) if kind == "LSTM" else (torch.zeros(h),)
        hx_rule = ((T(*h), T(*h)),) if kind == "LSTM" else (T(*h),)
        bad_rule = ((T(*bad), T(*bad)),) if kind == "LSTM" else (T(*bad),)
        assert layer(kind, (feat, 3), config, packed_rule, *bad_rule) is None, ctx
    assert layer(kind, (feat + 1, 3), config, packed_rule, *hx_rule) is None, ctx
    want = run(lambda: module(R.pack_padded_sequence(torch.zeros(shape), lengths,
                                                     batch_first=batch_first), *hx))
    got = layer(kind, (feat, 3), config, packed_rule, *hx_rule)
    agree(got, want, ctx)
    assert got is not None and not isinstance(want, Exception), ctx
    for total in (None, steps + 1):
        kw = {"batch_first": batch_first, "total_length": total}
        padded = run(lambda: R.pad_packed_sequence(
            module(R.pack_padded_sequence(torch.zeros(shape), lengths,
                                          batch_first=batch_first))[0], **kw))
        agree(fn(P + "pad_packed_sequence", got.items[0], **kw), padded, ctx, partial=True)
        if total is not None:
            assert fn(P + "pad_packed_sequence", got.items[0], **kw).items[0].shape == padded[0]


@given(st.lists(st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple), min_size=1,
                max_size=3), st.booleans())
def test_pack_and_pad_sequence_match_torch(seqs, batch_first):
    ts = [torch.zeros(s) for s in seqs]
    rule_ts = [T(*s) for s in seqs]
    ordered = sorted(seqs, key=lambda s: -s[0])
    agree(fn(P + "pack_sequence", [T(*s) for s in ordered]),
          run(lambda: R.pack_sequence([torch.zeros(s) for s in ordered])), str(seqs))
    agree(fn(P + "pad_sequence", rule_ts, batch_first=batch_first),
          run(lambda: R.pad_sequence(ts, batch_first=batch_first)), str(seqs))


def test_pack_errors_and_shapes_are_reported():
    assert isinstance(fn(P + "pack_padded_sequence", T(5, 3, 4), [5, 4]), ShapeError)
    out = layer("LSTM", (4, 7), {"num_layers": 2, "bidirectional": True},
                fn(P + "pack_padded_sequence", T(5, 3, 4), [5, 4, 2]))
    assert rule_shapes(out) == (("packed", 3, (14,)), ((4, 3, 7), (4, 3, 7)))
    # torch finds a feature mismatch on packed data in a matmul that small inputs pass: unknown
    assert layer("LSTM", (5, 7), {}, fn(P + "pack_padded_sequence", T(5, 3, 4), [5, 4, 2])) \
        is None
