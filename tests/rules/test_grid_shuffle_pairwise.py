"""F.grid_sample/affine_grid, channel_shuffle (and nn.ChannelShuffle), pdist, and the
margin_ranking/triplet_margin losses (functional and modules) against torch."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import given, strategies as st

from tests.rules.helpers import T, check, fn, layer, meta, outcome

shape_st = st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple)
small = st.lists(st.integers(1, 3), min_size=0, max_size=5).map(tuple)


@given(st.lists(st.integers(0, 3), min_size=3, max_size=5).map(tuple),
       st.lists(st.integers(1, 4), min_size=2, max_size=5).map(tuple),
       st.sampled_from(["bilinear", "nearest", "bicubic"]), st.booleans())
def test_grid_sample_matches_torch(x, grid, mode, same_batch):
    if same_batch and len(grid) == len(x):
        grid = (x[0],) + grid[1:-1] + (len(x) - 2,)
    check(fn("torch.nn.functional.grid_sample", T(*x), T(*grid), mode=mode),
          outcome(lambda: F.grid_sample(torch.zeros(x), torch.zeros(grid), mode=mode,
                                        align_corners=False)), context=str((x, grid, mode)))


@given(st.lists(st.integers(1, 4), min_size=0, max_size=4).map(tuple),
       st.lists(st.integers(0, 4), min_size=3, max_size=6).map(tuple), st.booleans())
def test_affine_grid_matches_torch(theta, size, fit):
    if fit:
        k = len(size) - 2
        theta = (size[0], k, k + 1)
    check(fn("torch.nn.functional.affine_grid", T(*theta), list(size)),
          outcome(lambda: F.affine_grid(torch.zeros(theta), list(size), align_corners=False)),
          context=str((theta, size)))


@given(st.lists(st.integers(1, 6), min_size=0, max_size=4).map(tuple), st.integers(-1, 4))
def test_channel_shuffle_matches_torch(x, groups):
    want = outcome(lambda: F.channel_shuffle(torch.zeros(x), groups))
    check(fn("torch.nn.functional.channel_shuffle", T(*x), groups), want, context=str((x,
                                                                                      groups)))
    if groups > 0:
        check(layer("ChannelShuffle", (groups,), {}, T(*x)), want, context=str((x, groups)))


@given(shape_st)
def test_pdist_matches_torch(x):
    check(fn("torch.nn.functional.pdist", T(*x)), outcome(lambda: F.pdist(meta(*x))),
          context=str(x), cpu=lambda: F.pdist(torch.zeros(x)))


@given(st.lists(small, min_size=3, max_size=3),
       st.sampled_from(["none", "mean", "sum"]), st.booleans())
def test_margin_losses_match_torch(shapes, reduction, triplet):
    a, b, c = shapes
    ta, tb, tc = (torch.zeros(s) for s in shapes)
    if triplet:
        want = outcome(lambda: F.triplet_margin_loss(ta, tb, tc, reduction=reduction))
        name, kind = "triplet_margin_loss", "TripletMarginLoss"
    else:
        want = outcome(lambda: F.margin_ranking_loss(ta, tb, tc, reduction=reduction))
        name, kind = "margin_ranking_loss", "MarginRankingLoss"
    check(fn("torch.nn.functional." + name, T(*a), T(*b), T(*c), reduction=reduction), want,
          context=str((shapes, reduction, name)))
    check(layer(kind, (), {"reduction": reduction}, T(*a), T(*b), T(*c)), want,
          context=str((shapes, reduction, kind)))
