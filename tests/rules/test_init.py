"""torch.nn.init initializers against torch: the same tensor back, or the ValueError torch
raises for its rank."""
from __future__ import annotations

import torch
from hypothesis import given, strategies as st

from tests.rules.helpers import T, check, fn, outcome

NAMES = ["uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
         "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
         "orthogonal_", "sparse_"]
EXTRA = {"constant_": (0.5,), "sparse_": (0.5,)}


@given(st.lists(st.integers(1, 4), min_size=0, max_size=6).map(tuple), st.sampled_from(NAMES),
       st.integers(1, 3))
def test_init_matches_torch(shape, name, groups):
    args = EXTRA.get(name, ()) + ((groups,) if name == "dirac_" else ())
    check(fn("torch.nn.init." + name, T(*shape), *args),
          outcome(lambda: getattr(torch.nn.init, name)(torch.empty(shape), *args)),
          context=str((shape, name, groups)))


def test_init_returns_the_tensor_it_fills():
    w = T(3, 4)
    assert fn("torch.nn.init.xavier_uniform_", w) is w
