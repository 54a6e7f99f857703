"""torch.distributions against torch: each family built from parameters of random shapes (with
values in their support, so what torch rejects is the shapes), then sample/rsample with a
random sample_shape, log_prob of a value of a random shape, entropy, kl_divergence."""
from __future__ import annotations

import torch
import torch.distributions as D
from hypothesis import given, strategies as st

from shapelens.analysis.errors import ShapeError
from shapelens.analysis.values import Distribution
from tests.rules.helpers import T, check, fn, outcome

shape_st = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)
ROOT = "torch.distributions."

# family -> (torch class, parameters as (name, fill value) in order, a value in the support)
BROADCAST = {
    "Normal": ((("loc", 0.0), ("scale", 1.0)), 0.5),
    "LogNormal": ((("loc", 0.0), ("scale", 1.0)), 0.5),
    "Laplace": ((("loc", 0.0), ("scale", 1.0)), 0.5),
    "Cauchy": ((("loc", 0.0), ("scale", 1.0)), 0.5),
    "Gumbel": ((("loc", 0.0), ("scale", 1.0)), 0.5),
    "Uniform": ((("low", 0.0), ("high", 1.0)), 0.5),
    "Beta": ((("concentration1", 1.0), ("concentration0", 1.0)), 0.5),
    "Gamma": ((("concentration", 1.0), ("rate", 1.0)), 0.5),
    "HalfNormal": ((("scale", 1.0),), 0.5),
    "Exponential": ((("rate", 1.0),), 0.5),
    "Poisson": ((("rate", 1.0),), 1.0),
}


def run_all(build_torch, rule_dist, sample_shape, value_torch, value_rule, ctx):
    """Compare sample/rsample/log_prob/entropy of a built distribution with torch's."""
    for method in ("sample", "rsample"):
        check(fn(ROOT + "Distribution." + method, rule_dist, sample_shape),
              outcome(lambda: getattr(build_torch(), method)(sample_shape)), may_miss=True,
              context=ctx + method)
    check(fn(ROOT + "Distribution.log_prob", rule_dist, value_rule),
          outcome(lambda: build_torch().log_prob(value_torch())), context=ctx + "log_prob")
    check(fn(ROOT + "Distribution.entropy", rule_dist),
          outcome(lambda: build_torch().entropy()), may_miss=True, context=ctx + "entropy")


@given(st.sampled_from(sorted(BROADCAST)), st.lists(shape_st, min_size=2, max_size=2),
       shape_st, shape_st)
def test_broadcast_families_match_torch(kind, param_shapes, sample_shape, value_shape):
    params, support = BROADCAST[kind]
    params = params[:len(params)]
    shapes = param_shapes[:len(params)]
    ctx = "%s %s sample%s value%s: " % (kind, shapes, sample_shape, value_shape)

    def build():
        return getattr(D, kind)(*[torch.full(s, v) for (_, v), s in zip(params, shapes)])
    rule = fn(ROOT + kind, *[T(*s) for s in shapes])
    built = outcome(build)
    if isinstance(rule, ShapeError) or hasattr(built, "exc"):
        check(rule, built if hasattr(built, "exc") else ("value", "built"), context=ctx)
        return
    assert isinstance(rule, Distribution)
    torch_d = build()
    assert (rule.batch_shape, rule.event_shape) == (tuple(torch_d.batch_shape),
                                                    tuple(torch_d.event_shape)), ctx
    run_all(build, rule, sample_shape, lambda: torch.full(value_shape, support),
            T(*value_shape), ctx)


@given(st.sampled_from(["Categorical", "OneHotCategorical", "Bernoulli"]), shape_st,
       st.booleans(), shape_st, shape_st)
def test_probs_families_match_torch(kind, shape, logits, sample_shape, value_shape):
    ctx = "%s %s logits=%s sample%s value%s: " % (kind, shape, logits, sample_shape,
                                                   value_shape)
    key = "logits" if logits else "probs"

    def build():
        return getattr(D, kind)(**{key: torch.full(shape, 0.5)})
    rule = fn(ROOT + kind, **{key: T(*shape)})
    built = outcome(build)
    if isinstance(rule, ShapeError) or hasattr(built, "exc"):
        check(rule, built if hasattr(built, "exc") else ("value", "built"), context=ctx)
        return
    torch_d = build()
    assert (rule.batch_shape, rule.event_shape) == (tuple(torch_d.batch_shape),
                                                    tuple(torch_d.event_shape)), ctx

    def value():
        v = torch.zeros(value_shape)
        if kind == "OneHotCategorical" and value_shape:
            v[..., 0] = 1
        return v
    run_all(build, rule, sample_shape, value, T(*value_shape), ctx)


@given(shape_st, shape_st, shape_st)
def test_dirichlet_matches_torch(shape, sample_shape, value_shape):
    ctx = "Dirichlet %s sample%s value%s: " % (shape, sample_shape, value_shape)

    def build():
        return D.Dirichlet(torch.ones(shape))
    rule = fn(ROOT + "Dirichlet", T(*shape))
    built = outcome(build)
    if isinstance(rule, ShapeError) or hasattr(built, "exc"):
        check(rule, built if hasattr(built, "exc") else ("value", "built"), context=ctx)
        return
    n = value_shape[-1] if value_shape else 1
    run_all(build, rule, sample_shape, lambda: torch.full(value_shape, 1.0 / n),
            T(*value_shape), ctx)


@given(st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple),
       st.lists(st.integers(1, 3), min_size=0, max_size=4).map(tuple),
       st.sampled_from(["covariance_matrix", "precision_matrix", "scale_tril"]),
       shape_st, shape_st)
def test_multivariate_normal_matches_torch(loc, mat, which, sample_shape, value_shape):
    ctx = "MVN loc%s %s%s sample%s value%s: " % (loc, which, mat, sample_shape, value_shape)

    def matrix():
        if len(mat) >= 2 and mat[-1] == mat[-2]:
            return torch.eye(mat[-1]).expand(mat).clone()
        return torch.ones(mat)

    def build():
        return D.MultivariateNormal(torch.zeros(loc), **{which: matrix()})
    rule = fn(ROOT + "MultivariateNormal", T(*loc), **{which: T(*mat)})
    built = outcome(build)
    if isinstance(rule, ShapeError) or hasattr(built, "exc"):
        check(rule, built if hasattr(built, "exc") else ("value", "built"), may_miss=True,
              context=ctx)
        return
    if rule.batch_shape is None:
        return
    run_all(build, rule, sample_shape, lambda: torch.zeros(value_shape), T(*value_shape), ctx)


@given(shape_st, st.integers(0, 4), shape_st, shape_st)
def test_independent_matches_torch(batch, n, sample_shape, value_shape):
    ctx = "Independent(Normal%s, %d) sample%s value%s: " % (batch, n, sample_shape, value_shape)

    def build():
        return D.Independent(D.Normal(torch.zeros(batch), torch.ones(batch)), n)
    rule = fn(ROOT + "Independent", fn(ROOT + "Normal", T(*batch), T(*batch)), n)
    built = outcome(build)
    if isinstance(rule, ShapeError) or hasattr(built, "exc"):
        check(rule, built if hasattr(built, "exc") else ("value", "built"), context=ctx)
        return
    run_all(build, rule, sample_shape, lambda: torch.zeros(value_shape), T(*value_shape), ctx)


@given(st.sampled_from(["Normal", "Categorical", "Bernoulli", "Dirichlet", "Exponential"]),
       shape_st, shape_st)
def test_kl_divergence_matches_torch(kind, a, b):
    def make(shape):
        if kind == "Normal":
            return D.Normal(torch.zeros(shape), torch.ones(shape)), \
                fn(ROOT + kind, T(*shape), T(*shape))
        if kind == "Exponential":
            return D.Exponential(torch.ones(shape)), fn(ROOT + kind, T(*shape))
        if kind == "Dirichlet":
            return D.Dirichlet(torch.ones(shape)), fn(ROOT + kind, T(*shape))
        return getattr(D, kind)(probs=torch.full(shape, 0.5)), fn(ROOT + kind, probs=T(*shape))
    try:
        (p, rp), (q, rq) = make(a), make(b)
    except ValueError:
        return
    if isinstance(rp, ShapeError) or isinstance(rq, ShapeError):
        return
    # batches that differ are left unknown (torch's formulas differ per family there)
    got = fn(ROOT + "kl_divergence", rp, rq)
    check(got, outcome(lambda: D.kl_divergence(p, q)), context=str((kind, a, b)),
          partial=a != b, may_miss=a != b)
    if a == b:
        assert got.shape == tuple(D.kl_divergence(p, q).shape)


def test_sample_of_categorical_is_indices():
    d = fn(ROOT + "Categorical", T(4, 6))
    out = fn(ROOT + "Distribution.sample", d)
    assert out.shape == (4,) and out.dtype == "long"
    assert fn(ROOT + "Distribution.sample", d, (2, 3)).shape == (2, 3, 4)
