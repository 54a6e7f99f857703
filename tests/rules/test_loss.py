"""Loss rules (module and functional forms) against torch."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import given, strategies as st
from torch import nn

from helpers import T, check, cpu_message, fn, layer, outcome

small = st.integers(1, 4)
REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


@given(st.lists(small, max_size=4).map(tuple), st.data(), REDUCTIONS,
       st.sampled_from(["long", "float", None]))
def test_cross_entropy_nll_match_torch(shape, data, reduction, dtype):
    if data.draw(st.booleans()) and len(shape) >= 1:
        target = ((shape[0],) + shape[2:]) if len(shape) >= 2 else ()
        if data.draw(st.integers(0, 3)) == 0:
            target = target[:-1] + (data.draw(small),) if target else (data.draw(small),)
    else:
        target = tuple(data.draw(st.lists(small, max_size=3)))
    if dtype == "float" and data.draw(st.booleans()):
        target = shape
    real = dtype or data.draw(st.sampled_from(["long", "float"]))
    t = (torch.zeros(target, dtype=torch.long) if real == "long"
         else torch.rand(target))
    rule = fn("torch.nn.functional.cross_entropy", T(*shape), T(*target, dtype=dtype),
              reduction=reduction)
    want = outcome(lambda: F.cross_entropy(torch.randn(shape), t, reduction=reduction))
    # Errors about the target's dtype (float class indices) are not reported.
    check(rule, want, context=str((shape, target, dtype, real, reduction)),
          may_miss=dtype is None or real == "float")
    check(layer("CrossEntropyLoss", (), {"reduction": reduction}, T(*shape),
                T(*target, dtype=dtype)),
          outcome(lambda: nn.CrossEntropyLoss(reduction=reduction)(torch.randn(shape), t)),
          may_miss=dtype is None or real == "float")
    if real == "long":
        check(fn("torch.nn.functional.nll_loss", T(*shape), T(*target, dtype="long"),
                 reduction=reduction),
              outcome(lambda: F.nll_loss(torch.randn(shape), t, reduction=reduction)),
              context=str(("nll", shape, target)))


@given(st.sampled_from(["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
                        "binary_cross_entropy", "binary_cross_entropy_with_logits"]),
       st.lists(small, max_size=3).map(tuple), st.lists(small, max_size=3).map(tuple),
       REDUCTIONS, st.booleans())
def test_pointwise_losses_match_torch(name, a, b, reduction, same):
    if same:
        b = a
    rule = fn("torch.nn.functional." + name, T(*a), T(*b), reduction=reduction)
    want = outcome(lambda: getattr(F, name)(torch.rand(a), torch.rand(b), reduction=reduction))
    check(rule, want, context=str((name, a, b, reduction)))


@given(st.lists(small, max_size=3).map(tuple), st.lists(small, max_size=3).map(tuple),
       st.integers(-3, 2))
def test_similarity_matches_torch(a, b, dim):
    check(fn("torch.nn.functional.cosine_similarity", T(*a), T(*b), dim),
          outcome(lambda: F.cosine_similarity(torch.rand(a), torch.rand(b), dim)),
          context=str((a, b, dim)))


def test_loss_messages_start_with_torch_text():
    text = cpu_message(lambda: F.cross_entropy(torch.randn(4, 10), torch.zeros(8,
                                                                                dtype=torch.long)))
    err = fn("torch.nn.functional.cross_entropy", T(4, 10), T(8, dtype="long"))
    assert err.code == "shape-mismatch" and err.message.startswith(text)
    text = cpu_message(lambda: nn.BCEWithLogitsLoss()(torch.randn(4, 1), torch.rand(4)))
    assert layer("BCEWithLogitsLoss", (), {}, T(4, 1), T(4)).message.startswith(text)
    assert fn("torch.nn.functional.cross_entropy", T(4, 10), T(4, dtype="long")).shape == ()


@given(st.lists(small, max_size=3).map(tuple), st.lists(small, max_size=3).map(tuple),
       st.integers(-3, 2), st.booleans())
def test_similarity_layers_match_torch(a, b, dim, keepdim):
    check(layer("CosineSimilarity", (), {"dim": dim}, T(*a), T(*b)),
          outcome(lambda: nn.CosineSimilarity(dim)(torch.rand(a), torch.rand(b))))
    check(layer("PairwiseDistance", (), {"keepdim": keepdim}, T(*a), T(*b)),
          outcome(lambda: nn.PairwiseDistance(keepdim=keepdim)(torch.rand(a), torch.rand(b))),
          context=str((a, b, keepdim)))
