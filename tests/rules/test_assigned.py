"""LayerRule.assigned: a parameter replaced by a tensor of the shape torch gives that parameter
keeps the layer's config (weight tying); any other value makes it unknown."""
from __future__ import annotations

import torch
from hypothesis import given, strategies as st

from shapelens.analysis.rules import LAYERS
from tests.rules.helpers import T, build

CONFIGS = st.one_of(
    st.tuples(st.just("Linear"), st.tuples(st.integers(1, 5), st.integers(1, 5), st.booleans())),
    st.tuples(st.just("Embedding"), st.tuples(st.integers(1, 5), st.integers(1, 5))),
    st.tuples(st.just("Conv2d"), st.tuples(st.sampled_from([2, 4]), st.sampled_from([2, 4]),
                                           st.integers(1, 3), st.integers(1, 2),
                                           st.integers(0, 1), st.integers(1, 1),
                                           st.sampled_from([1, 2]))),
    st.tuples(st.just("LayerNorm"), st.tuples(st.integers(1, 5))),
    st.tuples(st.just("BatchNorm2d"), st.tuples(st.integers(1, 5))),
)


@given(CONFIGS, st.sampled_from(["weight", "bias"]), st.integers(1, 3))
def test_same_shape_parameter_keeps_the_layer(config, name, other):
    kind, args = config
    module = getattr(torch.nn, kind)(*args)
    spec = build(kind, args)
    rule = LAYERS[kind]
    current = getattr(module, name, None)
    if current is None:
        assert rule.assigned(spec, name, T(other)) is None
        return
    shape = tuple(current.shape)
    known = rule.attribute(spec, name)
    if known is None:      # a parameter the rule does not describe: not followed
        assert rule.assigned(spec, name, T(*shape)) is None
        return
    assert known.shape == shape, (kind, args, name, known.shape, shape)
    assert rule.assigned(spec, name, T(*shape)) is spec, (kind, args, name, shape)
    assert rule.assigned(spec, name, T(*shape, other + 5)) is None
    assert rule.assigned(spec, "in_features", T(*shape)) is None
