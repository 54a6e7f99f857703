"""More element-wise binaries (arctan2, heaviside, gcd...), in-place comparisons,
clamp_min/clamp_max, addcmul/addcdiv, select and take against torch."""
from __future__ import annotations

import torch
from hypothesis import given, strategies as st

from tests.rules.helpers import T, check, fn, meta, outcome

shape_st = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)
BINARY = ["arctan2", "heaviside", "float_power", "ldexp", "nextafter", "logaddexp2", "igamma"]
INT_BINARY = ["gcd", "lcm", "bitwise_left_shift", "bitwise_right_shift"]


@given(shape_st, shape_st, st.sampled_from(BINARY + INT_BINARY), st.booleans())
def test_binary_matches_torch(a, b, op, inplace):
    dtype = torch.long if op in INT_BINARY else (
        torch.float64 if op == "float_power" else torch.float32)
    name = op + "_" if inplace and op != "logaddexp2" else op
    check(fn("Tensor." + name, T(*a), T(*b)),
          outcome(lambda: getattr(torch.ones(a, dtype=dtype), name)(torch.ones(b, dtype=dtype))),
          context=str((a, b, name)))


@given(shape_st, shape_st, st.sampled_from(["eq_", "ne_", "lt_", "le_", "gt_", "ge_"]))
def test_inplace_comparisons_match_torch(a, b, op):
    check(fn("Tensor." + op, T(*a), T(*b)),
          outcome(lambda: getattr(torch.ones(a), op)(torch.ones(b))), context=str((a, b, op)))


@given(shape_st, st.one_of(st.just(None), shape_st), st.sampled_from(
    ["clamp_min", "clamp_max", "clamp_min_", "clamp_max_"]))
def test_clamp_bound_matches_torch(a, b, op):
    bound, rule_bound = (0.5, 0.5) if b is None else (torch.ones(b), T(*b))
    check(fn("Tensor." + op, T(*a), rule_bound),
          outcome(lambda: getattr(torch.ones(a), op)(bound)), context=str((a, b, op)))


@given(shape_st, shape_st, shape_st, st.sampled_from(["addcmul", "addcdiv", "addcmul_",
                                                      "addcdiv_"]))
def test_addcmul_matches_torch(a, b, c, op):
    check(fn("Tensor." + op, T(*a), T(*b), T(*c), value=0.5),
          outcome(lambda: getattr(torch.ones(a), op)(torch.ones(b), torch.ones(c), value=0.5)),
          context=str((a, b, c, op)))


@given(st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple), st.integers(-4, 3),
       st.integers(-4, 4))
def test_select_matches_torch(x, dim, index):
    check(fn("Tensor.select", T(*x), dim, index),
          outcome(lambda: meta(*x).select(dim, index)), context=str((x, dim, index)),
          cpu=lambda: torch.zeros(x).select(dim, index))


@given(shape_st, st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple))
def test_take_matches_torch(x, idx):
    check(fn("torch.take", T(*x), T(*idx)),
          outcome(lambda: torch.take(torch.zeros(x), torch.zeros(idx, dtype=torch.long))),
          context=str((x, idx)), may_miss=True)
