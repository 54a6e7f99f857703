"""Symbolic dims: the canonical form is exact (equal expressions compare equal) and the printed
form is a Python expression with the same value, checked on random expressions."""
from __future__ import annotations

import random

from hypothesis import given, strategies as st

from shapelens.analysis.dims import (add, definitely_ne, divide_exact, evaluate, floordiv,
                                     format_dim, mul, neg, sub, sym)

H, W, N = sym("H"), sym("W"), sym("N")


def random_expr(rng, depth=0):
    """(dim, python function of the bindings computing the same value)."""
    if depth > 4 or rng.random() < 0.3:
        c = rng.choice(["H", "W", "N", rng.randint(-5, 9)])
        if isinstance(c, str):
            return sym(c), lambda b, c=c: b[c]
        return c, lambda b, c=c: c
    a, fa = random_expr(rng, depth + 1)
    op = rng.choice(["add", "sub", "mul", "fd", "neg", "fd"])
    if op == "neg":
        return neg(a), lambda b: -fa(b)
    if op == "fd":
        d = rng.randint(1, 5)
        return floordiv(a, d), lambda b: fa(b) // d
    c, fc = random_expr(rng, depth + 1)
    if op == "add":
        return add(a, c), lambda b: fa(b) + fc(b)
    if op == "sub":
        return sub(a, c), lambda b: fa(b) - fc(b)
    return mul(a, c), lambda b: fa(b) * fc(b)


@given(st.integers(0, 2 ** 32))
def test_canonical_and_printed_forms_are_exact(seed):
    rng = random.Random(seed)
    e, f = random_expr(rng)
    for _ in range(4):
        b = {"H": rng.randint(1, 60), "W": rng.randint(1, 60), "N": rng.randint(1, 9)}
        assert evaluate(e, b) == f(b)
        assert eval(format_dim(e), {}, dict(b)) == f(b), format_dim(e)


def test_conv_and_pool_arithmetic_is_simplified_and_readable():
    def conv(h, k, s, p):
        return floordiv(h + 2 * p - (k - 1) - 1, s) + 1
    assert format_dim(conv(H, 3, 2, 1)) == "(H + 1)//2"
    assert conv(conv(H, 3, 2, 1), 3, 2, 1) == floordiv(H + 3, 4)
    lenet = floordiv(floordiv(conv(H, 5, 1, 0), 2) - 4, 2)
    assert format_dim(lenet) == "H//4 - 3"
    flat = mul(mul(16, lenet), floordiv(floordiv(conv(W, 5, 1, 0), 2) - 4, 2))
    assert format_dim(flat) == "16*(H//4 - 3)*(W//4 - 3)"
    assert flat == mul(lenet, mul(16, floordiv(W, 4) - 3))   # equality ignores how it is written


def test_definitely_ne_is_sound():
    assert definitely_ne(H, H - 2)
    assert not definitely_ne(H, W)
    assert not definitely_ne(2 * H, 4)           # H = 2
    assert definitely_ne(2 * H, 5)               # always even
    assert divide_exact(mul(N, 400), N) == 400
    assert divide_exact(mul(N, 400), 3) is None
