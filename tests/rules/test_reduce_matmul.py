"""Reductions, sorting/scanning ops, and matrix products (matmul/@/mm/bmm/einsum...) against
torch."""
from __future__ import annotations

import torch
from hypothesis import given, strategies as st

from helpers import T, check, check_symbolic, cpu_message, fn, meta, outcome, symbolize
from shapelens.analysis.dims import sym

small = st.integers(1, 4)
shape_st = st.lists(small, max_size=4).map(tuple)


def _syms(shape, data):
    return symbolize(shape, [data.draw(st.booleans()) for _ in shape])


@given(st.sampled_from(["sum", "mean", "amax", "amin", "nansum", "logsumexp", "all", "any",
                        "std", "var", "norm", "count_nonzero"]),
       shape_st, st.one_of(st.none(), st.integers(-5, 4),
                           st.lists(st.integers(-4, 3), max_size=3).map(tuple)),
       st.booleans(), st.data())
def test_list_reductions_match_torch(op, shape, dim, keepdim, data):
    if op == "logsumexp" and dim is None:
        dim = -1
    if op == "logsumexp" and dim == ():
        return  # torch raises a confusing error here; not modelled
    kw = {} if op == "count_nonzero" or dim is None else {"keepdim": keepdim}
    if op == "norm":
        rule = fn("torch.norm", T(*shape), 2, dim, keepdim)
        want = outcome(lambda: torch.norm(meta(*shape), 2, dim, keepdim))
    elif dim is None:
        rule = fn("Tensor." + op, T(*shape), **kw)
        want = outcome(lambda: getattr(meta(*shape), op)(**kw))
    else:
        rule = fn("Tensor." + op, T(*shape), dim, **kw)
        want = outcome(lambda: getattr(meta(*shape), op)(dim, **kw))
    if op == "nansum" and dim == ():
        # meta keeps every dim for nansum(dim=()), CPU reduces them all: CPU is the oracle.
        want = outcome(lambda: torch.ones(shape).nansum(dim, **kw))
    if op == "norm":
        cpu = lambda: torch.norm(torch.ones(shape), 2, dim, keepdim)  # noqa: E731
    else:
        args = () if dim is None else (dim,)
        cpu = lambda: getattr(torch.ones(shape), op)(*args, **kw)  # noqa: E731
    check(rule, want, context=str((op, shape, dim, keepdim)), cpu=cpu)
    sym_shape, bindings = _syms(shape, data)
    args = () if dim is None else (dim,)
    if op != "norm":
        check_symbolic(fn("Tensor." + op, T(*sym_shape), *args, **kw), rule, bindings)


@given(st.sampled_from(["max", "min", "argmax", "argmin", "prod", "median", "mode",
                        "cumsum", "cumprod", "sort", "argsort", "cummax"]),
       st.lists(st.integers(0, 4), max_size=3).map(tuple), st.one_of(st.none(),
                                                                   st.integers(-4, 3)),
       st.booleans())
def test_single_dim_reductions_match_torch(op, shape, dim, keepdim):
    if dim is None and op in ("cumsum", "cumprod", "cummax"):
        dim = 0
    kw = {"keepdim": keepdim} if op not in ("cumsum", "cumprod", "sort", "argsort", "cummax") \
        and dim is not None else {}
    args = () if dim is None else (dim,)
    rule = fn("Tensor." + op, T(*shape), *args, **kw)
    want = outcome(lambda: getattr(meta(*shape), op)(*args, **kw))
    check(rule, want, context=str((op, shape, dim, keepdim)),
          cpu=lambda: getattr(torch.ones(shape), op)(*args, **kw))


@given(st.lists(small, max_size=3).map(tuple), st.integers(-1, 5), st.integers(-3, 2))
def test_topk_kthvalue_match_torch(shape, k, dim):
    check(fn("Tensor.topk", T(*shape), k, dim), outcome(lambda: meta(*shape).topk(k, dim)),
          context=str((shape, k, dim)), cpu=lambda: torch.ones(shape).topk(k, dim))
    check(fn("Tensor.kthvalue", T(*shape), k, dim),
          outcome(lambda: torch.ones(shape).kthvalue(k, dim)), context=str((shape, k, dim)))


def test_reduce_examples():
    N, H, W = sym("N"), sym("H"), sym("W")
    assert fn("Tensor.mean", T(N, 64, H, W), (2, 3)).shape == (N, 64)
    assert fn("Tensor.mean", T(N, 64, H, W), (2, 3), keepdim=True).shape == (N, 64, 1, 1)
    out = fn("Tensor.max", T(N, 10), 1)
    assert [t.shape for t in out.items] == [(N,), (N,)] and out.items[1].dtype == "long"
    assert fn("Tensor.sum", T(N, 10)).shape == ()
    text = cpu_message(lambda: torch.randn(2, 3).sum(2))
    assert fn("Tensor.sum", T(2, 3), 2).message.startswith(text)


@st.composite
def matmul_shapes(draw):
    ra, rb = draw(st.integers(0, 4)), draw(st.integers(0, 4))
    k = draw(small)
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    a = (batch + (draw(small),) if ra >= 2 else ()) + ((k,) if ra >= 1 else ())
    a = a[len(a) - ra:] if ra <= len(a) else (1,) * (ra - len(a)) + a
    kb = k if draw(st.integers(0, 3)) else draw(small)
    b = (kb, draw(small)) if rb >= 2 else ((kb,) if rb == 1 else ())
    if rb > 2:
        bb = tuple(draw(st.sampled_from([1, d])) if draw(st.booleans()) else draw(st.integers(1, 3))
                   for d in (batch + (1, 1, 1))[:rb - 2])
        b = bb + b
    return a, b


@given(matmul_shapes(), st.data())
def test_matmul_matches_torch(shapes, data):
    a, b = shapes
    rule = fn("torch.matmul", T(*a), T(*b))
    check(rule, outcome(lambda: torch.matmul(meta(*a), meta(*b))), context=str((a, b)))
    check(fn("operator.matmul", T(*a), T(*b)), outcome(lambda: meta(*a) @ meta(*b)))
    for name in ("mm", "bmm", "mv", "dot", "outer", "inner"):
        check(fn("torch." + name, T(*a), T(*b)),
              outcome(lambda: getattr(torch, name)(torch.ones(a), torch.ones(b))),
              context=str((name, a, b)))
    sa, ba = _syms(a, data)
    sb, bb = symbolize(b, [data.draw(st.booleans()) for _ in b], prefix="B")
    check_symbolic(fn("torch.matmul", T(*sa), T(*sb)), rule, {**ba, **bb}, context=str((a, b)))


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.data())
def test_addmm_family_matches_torch(n, m, p, bsz, data):
    m2 = m if data.draw(st.integers(0, 3)) else data.draw(small)
    bias = data.draw(st.sampled_from([(n, p), (p,), (1,), (n, 1), (data.draw(small),), ()]))
    check(fn("torch.addmm", T(*bias), T(n, m), T(m2, p)),
          outcome(lambda: torch.addmm(torch.ones(bias), torch.ones(n, m), torch.ones(m2, p))),
          context=str((bias, n, m, m2, p)))
    check(fn("torch.baddbmm", T(*bias), T(bsz, n, m), T(bsz, m2, p)),
          outcome(lambda: torch.baddbmm(torch.ones(bias), torch.ones(bsz, n, m),
                                        torch.ones(bsz, m2, p))))


EQUATIONS = ["ij,jk->ik", "bij,bjk->bik", "ij->ji", "ii->i", "ij->", "i,i->", "i,j->ij",
             "bhqd,bhkd->bhqk", "...ij,...jk->...ik", "ij,jk", "bi,bi->b", "b...,b...->b",
             "i j , j k -> i k"]


@given(st.sampled_from(EQUATIONS), st.data())
def test_einsum_matches_torch(eq, data):
    lhs = eq.replace(" ", "").split("->")[0].split(",")
    sizes = {c: data.draw(small) for c in "bhijkqd"}
    shapes = []
    for term in lhs:
        s = []
        for c in term.replace("...", "."):
            if c == ".":
                s.extend(data.draw(st.lists(st.integers(1, 2), max_size=2)))
            else:
                s.append(sizes[c] if data.draw(st.integers(0, 5)) else data.draw(small))
        shapes.append(tuple(s))
    rule = fn("torch.einsum", eq, *[T(*s) for s in shapes])
    check(rule, outcome(lambda: torch.einsum(eq, *[meta(*s) for s in shapes])),
          context=str((eq, shapes)), cpu=lambda: torch.einsum(eq, *[torch.ones(s)
                                                                  for s in shapes]))


def test_matmul_messages_start_with_torch_text():
    cases = [((8, 4096), (3136, 128)), ((2, 3), (4,)), ((3,), (4,)), ((7, 2, 3), (7, 4, 5)),
             ((7, 2, 3), (4, 5)), ((3,), (4, 5))]
    for a, b in cases:
        text = cpu_message(lambda: torch.matmul(torch.randn(a), torch.randn(b)))
        err = fn("torch.matmul", T(*a), T(*b))
        assert err.code == "matmul-mismatch" and err.message.startswith(text), (err.message, text)
    text = cpu_message(lambda: torch.bmm(torch.randn(7, 2, 3), torch.randn(6, 3, 5)))
    assert fn("torch.bmm", T(7, 2, 3), T(6, 3, 5)).message.startswith(text)
    text = cpu_message(lambda: torch.mm(torch.randn(8, 4096), torch.randn(3136, 128)))
    assert fn("torch.mm", T(8, 4096), T(3136, 128)).message.startswith(text)
    text = cpu_message(lambda: torch.einsum("bij,bjk->bik", torch.randn(7, 2, 3),
                                            torch.randn(7, 4, 5)))
    assert fn("torch.einsum", "bij,bjk->bik", T(7, 2, 3), T(7, 4, 5)).message.startswith(text)
