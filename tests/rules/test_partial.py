"""Rules on partly known inputs (unknown dims, unknown rank) never contradict the rule on the
fully known input: an error only if the known input is an error too, and every dim they do give
is the known input's dim."""
from __future__ import annotations

from hypothesis import given, strategies as st

from helpers import T, check_symbolic, fn, layer
from shapelens.analysis.values import Tensor

small = st.integers(1, 5)


def _blur(shape, data):
    """The shape with some dims unknown, or the rank unknown."""
    if data.draw(st.integers(0, 5)) == 0:
        return Tensor(None)
    return T(*tuple(None if data.draw(st.booleans()) else d for d in shape))


CASES = [
    ("Conv2d", lambda x: layer("Conv2d", (3, 8, 3), {"padding": 1}, x), (2, 3, 8, 8)),
    ("MaxPool2d", lambda x: layer("MaxPool2d", (2,), {}, x), (2, 3, 8, 8)),
    ("AdaptiveAvgPool2d", lambda x: layer("AdaptiveAvgPool2d", ((None, 2),), {}, x),
     (2, 3, 8, 8)),
    ("Linear", lambda x: layer("Linear", (4, 6), {}, x), (2, 5, 4)),
    ("Flatten", lambda x: layer("Flatten", (), {}, x), (2, 3, 4, 5)),
    ("BatchNorm2d", lambda x: layer("BatchNorm2d", (3,), {}, x), (2, 3, 4, 4)),
    ("LayerNorm", lambda x: layer("LayerNorm", (4,), {}, x), (2, 3, 4)),
    ("LSTM", lambda x: layer("LSTM", (4, 6), {"batch_first": True}, x), (2, 3, 4)),
    ("MHA", lambda x: layer("MultiheadAttention", (4, 2), {}, x, x, x), (3, 2, 4)),
    ("Embedding", lambda x: layer("Embedding", (10, 4), {}, x), (2, 3)),
    ("view", lambda x: fn("Tensor.view", x, 2, -1), (2, 3, 4)),
    ("permute", lambda x: fn("Tensor.permute", x, 2, 0, 1), (2, 3, 4)),
    ("transpose", lambda x: fn("Tensor.transpose", x, 1, 2), (2, 3, 4)),
    ("squeeze", lambda x: fn("Tensor.squeeze", x, 1), (2, 1, 4)),
    ("unsqueeze", lambda x: fn("Tensor.unsqueeze", x, -1), (2, 3)),
    ("expand", lambda x: fn("Tensor.expand", x, 5, -1, 4), (2, 1)),
    ("repeat", lambda x: fn("Tensor.repeat", x, 2, 1, 3), (2, 3)),
    ("cat", lambda x: fn("torch.cat", [x, T(2, 3, 4)], 1), (2, 5, 4)),
    ("stack", lambda x: fn("torch.stack", [x, T(2, 3)], 0), (2, 3)),
    ("chunk", lambda x: fn("Tensor.chunk", x, 2, -1), (2, 3, 4)),
    ("mean", lambda x: fn("Tensor.mean", x, (1, 2), keepdim=True), (2, 3, 4)),
    ("max", lambda x: fn("Tensor.max", x, 1), (2, 3, 4)),
    ("matmul", lambda x: fn("torch.matmul", x, T(4, 6)), (2, 3, 4)),
    ("bmm", lambda x: fn("torch.bmm", x, T(2, 4, 6)), (2, 3, 4)),
    ("einsum", lambda x: fn("torch.einsum", "bij,bjk->bik", x, T(2, 4, 6)), (2, 3, 4)),
    ("softmax", lambda x: fn("torch.softmax", x, -1), (2, 3)),
    ("interpolate", lambda x: fn("torch.nn.functional.interpolate", x, scale_factor=2),
     (1, 3, 4, 4)),
    ("pad", lambda x: fn("torch.nn.functional.pad", x, (1, 1)), (2, 3)),
    ("rearrange", lambda x: fn("einops.rearrange", x, "b (h d) -> b h d", h=2), (3, 4)),
    ("cross_entropy", lambda x: fn("torch.nn.functional.cross_entropy", x,
                                   T(2, dtype="long")), (2, 5)),
]


@given(st.sampled_from(CASES), st.data())
def test_partial_inputs_agree_with_known_inputs(case, data):
    name, rule, shape = case
    if data.draw(st.booleans()):
        # a different concrete shape of the same rank (possibly an error case)
        shape = tuple(data.draw(small) for _ in shape)
    concrete = rule(T(*shape))
    partial = rule(_blur(shape, data))
    check_symbolic(partial, concrete, {}, context=name)
