"""Exact integer arithmetic on tensor dims that may be symbolic.

A dim is an ``int`` or a :class:`Sym`: an integer polynomial over atoms, where an atom is a
symbolic name (``"N"``, ``"H"``) or a :class:`FloorDiv` of a polynomial by a positive integer.
Every ``Sym`` is kept in a canonical form, so two expressions that are equal for every value of
their names compare equal with ``==`` (for the forms conv/pool arithmetic produces):

* terms are sorted, like terms are merged, and a ``Sym`` without terms is returned as ``int``;
* ``(d*A + B)//d`` becomes ``A + B//d`` with every coefficient of ``B`` reduced into
  ``[0, d)``; ``(B//d1 + c)//d2`` becomes ``(B + c*d1)//(d1*d2)``.

``str(sym)`` is a valid Python integer expression, written the way a person writes it
(``(H + 1)//2``, ``16*((H - 4)//2)``), so it round-trips through ``eval`` with the names bound.

Unknown dims are ``None`` and every operation here propagates ``None``.
"""
from __future__ import annotations

import math
from typing import Iterable, Mapping, Optional, Union

__all__ = [
    "Dim", "Sym", "FloorDiv", "sym", "add", "sub", "mul", "floordiv", "neg", "prod",
    "is_int", "definitely_ne", "maybe_eq", "evaluate", "format_dim", "names_in", "divide_exact",
    "ceildiv", "mod", "int_text", "decimal_fits",
]

# A monomial is a sorted tuple of atoms; an atom is a name (str) or a FloorDiv.
Atom = Union[str, "FloorDiv"]
Monomial = tuple


def _atom_key(atom):
    return (0, atom) if type(atom) is str else (1, atom.key)


def _mono_key(mono):
    return (len(mono), tuple(_atom_key(a) for a in mono))


class FloorDiv:
    """``num // den`` with ``den >= 2`` and ``num`` a Sym in canonical reduced form."""

    __slots__ = ("num", "den", "key", "_hash")

    def __init__(self, num: "Sym", den: int):
        self.num = num
        self.den = den
        self.key = (num.key, den)
        self._hash = hash(self.key)

    def __eq__(self, other):
        return type(other) is FloorDiv and self.key == other.key

    def __hash__(self):
        return self._hash

    def __repr__(self):
        return "FloorDiv(%s, %s)" % (self.num, int_text(self.den))


class Sym:
    """An integer polynomial over atoms, canonical.  Build with :func:`sym` and the operators."""

    __slots__ = ("terms", "const", "key", "_hash", "display")

    def __init__(self, terms: tuple, const: int, display: Optional[str] = None):
        # terms: tuple of (monomial, coefficient), sorted by monomial key, no zero coefficients.
        self.terms = terms
        self.const = const
        # How a product was written (``16*(H//4 - 3)*(W//4 - 3)``): printed instead of the
        # expanded canonical form.  Not part of equality.
        self.display = display
        self.key = (tuple((tuple(_atom_key(a) for a in m), c) for m, c in terms), const)
        self._hash = hash(self.key)

    def __eq__(self, other):
        return type(other) is Sym and self.key == other.key

    def __hash__(self):
        return self._hash

    def __repr__(self):
        return "Sym(%r)" % format_dim(self)

    def __str__(self):
        return format_dim(self)

    # Operators so rules can write ``(h + 2 * p - k) // s + 1`` on ints and Syms alike.
    def __add__(self, other):
        return add(self, other)

    __radd__ = __add__

    def __sub__(self, other):
        return sub(self, other)

    def __rsub__(self, other):
        return sub(other, self)

    def __mul__(self, other):
        return mul(self, other)

    __rmul__ = __mul__

    def __floordiv__(self, other):
        return floordiv(self, other)

    def __neg__(self):
        return neg(self)


Dim = Union[int, Sym]


# --------------------------------------------------------------------------- construction

def _make(poly: dict, const: int) -> Dim:
    """Canonical Sym (or int) from a {monomial: coefficient} dict."""
    items = [(m, c) for m, c in poly.items() if c]
    if not items:
        return const
    items.sort(key=lambda mc: _mono_key(mc[0]))
    return Sym(tuple(items), const)


def sym(name: str) -> Sym:
    """The symbolic dim called ``name``."""
    return Sym((((name,), 1),), 0)


def _poly(d: Dim):
    """(dict monomial->coef, const) view of a dim."""
    if type(d) is int:
        return {}, d
    return dict(d.terms), d.const


def is_int(d) -> bool:
    return type(d) is int


# --------------------------------------------------------------------------- arithmetic

def add(a, b):
    if a is None or b is None:
        return None
    if type(a) is int and type(b) is int:
        return a + b
    pa, ca = _poly(a)
    pb, cb = _poly(b)
    for m, c in pb.items():
        pa[m] = pa.get(m, 0) + c
    return _make(pa, ca + cb)


def neg(a):
    if a is None:
        return None
    if type(a) is int:
        return -a
    return Sym(tuple((m, -c) for m, c in a.terms), -a.const)


def sub(a, b):
    if a is None or b is None:
        return None
    if type(a) is int and type(b) is int:
        return a - b
    return add(a, neg(b))


def _factor(d) -> str:
    """A dim as a factor of a printed product."""
    if type(d) is int:
        return int_text(d) if d >= 0 else "(%s)" % int_text(d)
    if d.display is not None:
        return d.display
    if not d.const and len(d.terms) == 1:
        (mono, coef), = d.terms
        if coef == 1 and all(type(a) is str for a in mono):
            return "*".join(mono)
    return "(%s)" % format_dim(d)


def mul(a, b):
    out = _mul(a, b)
    if type(out) is Sym and out.display is None and len(out.terms) + bool(out.const) > 1:
        factors = sorted((a, b), key=lambda x: type(x) is not int)
        if not (type(factors[0]) is int and factors[0] in (1, -1)):
            out.display = "*".join(_factor(f) for f in factors)
    return out


def _mul(a, b):
    if a is None or b is None:
        return None
    if type(a) is int and type(b) is int:
        return a * b
    if type(b) is int:
        a, b = b, a
    if type(a) is int:
        if a == 0:
            return 0
        if a == 1:
            return b
        return Sym(tuple((m, c * a) for m, c in b.terms), b.const * a)
    pa, ca = _poly(a)
    pb, cb = _poly(b)
    out: dict = {}
    for ma, xa in pa.items():
        for mb, xb in pb.items():
            m = tuple(sorted(ma + mb, key=_atom_key))
            out[m] = out.get(m, 0) + xa * xb
        if cb:
            out[ma] = out.get(ma, 0) + xa * cb
    if ca:
        for mb, xb in pb.items():
            out[mb] = out.get(mb, 0) + xb * ca
    return _make(out, ca * cb)


def prod(dims: Iterable) -> Dim | None:
    out = 1
    for d in dims:
        out = mul(out, d)
        if out is None:
            return None
    return out


def floordiv(a, d):
    """``a // d`` for a positive int ``d`` (a Sym divisor gives None unless it divides exactly)."""
    if a is None or d is None:
        return None
    if type(d) is not int:
        return divide_exact(a, d)
    if d <= 0:
        return None
    if type(a) is int:
        return a // d
    if d == 1:
        return a
    poly, const = _poly(a)
    outer: dict = {}
    inner: dict = {}
    for m, c in poly.items():
        q, r = divmod(c, d)
        if q:
            outer[m] = q
        if r:
            inner[m] = r
    q, r = divmod(const, d)
    if not inner:
        return _make(outer, q)
    # (B//d1 + r)//d -> (B + r*d1)//(d1*d)  when B//d1 is the only term, with coefficient 1.
    if len(inner) == 1:
        (m, c), = inner.items()
        if c == 1 and len(m) == 1 and type(m[0]) is FloorDiv:
            fd = m[0]
            nested = floordiv(add(fd.num, r * fd.den), fd.den * d)
            return add(_make(outer, q), nested)
    atom = FloorDiv(_make(inner, r), d)
    outer[(atom,)] = outer.get((atom,), 0) + 1
    return _make(outer, q)


def ceildiv(a, d):
    """``ceil(a / d)`` for a positive int ``d``."""
    if a is None or d is None:
        return None
    return neg(floordiv(neg(a), d))


def mod(a, d):
    """``a % d`` for a positive int ``d``."""
    q = floordiv(a, d)
    return sub(a, mul(q, d)) if q is not None else None


def divide_exact(a, b):
    """``a / b`` when the division is exact for every value of the names; else None.

    Used by ``view(-1)`` and flatten-size bookkeeping: ``N*400 / N`` is ``400``.
    """
    if a is None or b is None:
        return None
    if type(b) is int:
        if b == 0:
            return None
        if type(a) is int:
            return a // b if a % b == 0 else None
        if a.const % b or any(c % b for _, c in a.terms):
            return None
        return Sym(tuple((m, c // b) for m, c in a.terms), a.const // b)
    # b symbolic: only a single monomial divisor (coef * atoms) is handled.
    if len(b.terms) != 1 or b.const:
        return None
    (bm, bc), = b.terms
    if type(a) is int:
        return None
    if a.const:
        return None
    out: dict = {}
    for m, c in a.terms:
        rest = list(m)
        for atom in bm:
            if atom in rest:
                rest.remove(atom)
            else:
                return None
        if c % bc:
            return None
        out[tuple(rest)] = c // bc
    const = out.pop((), 0)
    return _make(out, const)


# --------------------------------------------------------------------------- comparisons

def definitely_ne(a, b) -> bool:
    """True only when ``a != b`` for every value of the symbolic names."""
    if a is None or b is None:
        return False
    if type(a) is int and type(b) is int:
        return a != b
    diff = sub(a, b)
    if type(diff) is int:
        return diff != 0
    # Every term is an integer multiple of the gcd of the coefficients: if the constant is not,
    # the difference cannot be 0 (2*H is never 5).
    g = 0
    for _, c in diff.terms:
        g = math.gcd(g, c)
    return g > 1 and diff.const % g != 0


def maybe_eq(a, b) -> bool:
    return not definitely_ne(a, b)


def names_in(d) -> set:
    """The symbolic names a dim mentions."""
    out: set = set()
    if type(d) is Sym:
        for m, _ in d.terms:
            for atom in m:
                if type(atom) is str:
                    out.add(atom)
                else:
                    out |= names_in(atom.num)
    return out


def evaluate(d, bindings: Mapping[str, int]):
    """The int value of a dim with its names bound; KeyError for an unbound name."""
    if d is None or type(d) is int:
        return d
    total = d.const
    for m, c in d.terms:
        v = c
        for atom in m:
            v *= bindings[atom] if type(atom) is str else evaluate(atom.num, bindings) // atom.den
        total += v
    return total


# --------------------------------------------------------------------------- printing

def _format_atom(atom, alone: bool) -> str:
    if type(atom) is str:
        return atom
    num = atom.num
    simple = type(num) is Sym and not num.const and len(num.terms) == 1 \
        and num.terms[0][1] == 1 and len(num.terms[0][0]) == 1 and type(num.terms[0][0][0]) is str
    inner = ("%s//%s" if simple else "(%s)//%s") % (format_dim(num), int_text(atom.den))
    return inner if alone else "(%s)" % inner


def _format_term(mono, coef, leading_minus=False) -> str:
    """A term with a positive coefficient (``leading_minus``: it will be printed after a unary
    minus, which binds tighter than ``//``, so a floor division must keep its parentheses)."""
    alone = coef == 1 and len(mono) == 1 and not leading_minus
    parts = [_format_atom(a, alone) for a in mono]
    if coef != 1:
        parts.insert(0, int_text(coef))
    return "*".join(parts)


def int_text(n: int, grouped: bool = False) -> str:
    """``n`` in decimal, the way a person writes it (``grouped``: ``1,234,567``); past
    Python's limit on int-to-str conversion (4300 digits, ``sys.set_int_max_str_digits``) in
    hexadecimal, which has no limit and is still an exact Python integer literal.  Every
    integer the reports print goes through here."""
    try:
        return "{:,}".format(n) if grouped else str(n)
    except ValueError:
        return hex(n)


def decimal_fits(n: int) -> bool:
    """Whether ``n`` prints in decimal (see :func:`int_text`)."""
    try:
        str(n)
    except ValueError:
        return False
    return True


def format_dim(d) -> str:
    """A dim as a readable Python integer expression (``"?"`` for an unknown dim)."""
    if d is None:
        return "?"
    if type(d) is int:
        return int_text(d)
    if d.display is not None:
        return d.display
    out = []
    for m, c in d.terms:
        text = _format_term(m, abs(c), leading_minus=not out and c < 0)
        if not out:
            out.append(text if c > 0 else "-" + text)
        else:
            out.append((" + " if c > 0 else " - ") + text)
    if d.const:
        out.append((" + " if d.const > 0 else " - ") + int_text(abs(d.const)))
    return "".join(out)
