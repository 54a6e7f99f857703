"""Helpers for rule-level tests: build ``Call`` objects from plain Python values, run rules,
run torch on the meta device as the oracle, and compare the two.

* ``T(2, 3)`` is an abstract tensor of shape [2, 3]; ``T(None)`` one of unknown rank.
* ``fn("torch.cat", [T(2, 3), T(2, 4)], dim=1)`` runs the function rule registered under that
  name with Python values converted to abstract ones; ``layer("Conv2d", (3, 8, 3), {},
  T(1, 3, 8, 8))`` builds and applies a layer rule.
* ``outcome(torch_callable)`` runs torch and returns the output shapes or the exception;
  ``check(rule_value, torch_outcome)`` asserts the rule agrees: a ShapeError exactly when torch
  raises, and the same shapes otherwise.
"""
from __future__ import annotations

import warnings
from typing import Any

import torch

from shapelens.analysis import dims as D
from shapelens.analysis.errors import ShapeError
from shapelens.analysis.rules import FUNCTIONS, LAYERS, load_all
from shapelens.analysis.rules.call import Call
from shapelens.analysis.values import Const, ListVal, Tensor, TupleVal, Unknown, Value

load_all()

META = "meta"
TORCH_ERRORS = (RuntimeError, ValueError, IndexError, AssertionError, NotImplementedError,
                ZeroDivisionError)


def T(*shape, dtype=None) -> Tensor:
    if len(shape) == 1 and shape[0] is None:
        return Tensor(None, dtype)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return Tensor(tuple(shape), dtype)


def val(v: Any):
    """A Python value as an abstract value (tensors and other Values pass through)."""
    if isinstance(v, Value):
        return v
    if isinstance(v, tuple):
        return TupleVal(tuple(val(i) for i in v))
    if isinstance(v, list):
        return ListVal([val(i) for i in v])
    return Const(v)


def make_call(name: str, args=(), kwargs=None) -> Call:
    return Call(name, tuple(val(a) for a in args), {k: val(v) for k, v in (kwargs or {}).items()})


def fn(name: str, *args, **kwargs):
    """Run the function rule registered under ``name``."""
    return FUNCTIONS[name](make_call(name, args, kwargs))


def build(kind: str, args=(), kwargs=None):
    return LAYERS[kind].build(kind, make_call("torch.nn." + kind, args, kwargs))


def layer(kind: str, ctor_args=(), ctor_kwargs=None, *inputs, training=None, **fwd_kwargs):
    """Build a layer rule's spec and apply it: the ShapeError of the constructor, or the
    forward's result.  ``training``: the layer's mode as the interpreter passes it (None: not
    known)."""
    spec = build(kind, ctor_args, ctor_kwargs)
    if isinstance(spec, ShapeError):
        return spec
    call = make_call(kind, inputs, fwd_kwargs)
    call.training = training
    return LAYERS[kind].forward(spec, call)


# --------------------------------------------------------------------------- torch side

class Raised:
    def __init__(self, exc):
        self.exc = exc

    def __repr__(self):
        return "Raised(%s: %s)" % (type(self.exc).__name__, str(self.exc).splitlines()[0][:200])


def meta(*shape, dtype=torch.float32):
    return torch.empty(shape, device=META, dtype=dtype)


def shapes_of(out):
    if isinstance(out, torch.Tensor):
        return tuple(out.shape)
    if isinstance(out, (tuple, list)):
        return tuple(shapes_of(o) for o in out)
    if out is None:
        return None
    return ("value", out)


def outcome(thunk):
    """Run torch: the output's shapes, or Raised(exception)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = thunk()
    except TORCH_ERRORS as exc:
        return Raised(exc)
    return shapes_of(out)


# --------------------------------------------------------------------------- rule side

UNKNOWN_SHAPE = "unknown"


def rule_shapes(v):
    if isinstance(v, Tensor):
        return v.shape
    if isinstance(v, TupleVal):
        return tuple(rule_shapes(i) for i in v.items)
    if isinstance(v, Const) and v.value is None:
        return None
    return UNKNOWN_SHAPE


def check(rule_value, torch_out, *, may_miss=False, partial=False, context="", cpu=None):
    """The rule agrees with torch: an error exactly when torch raises (``may_miss``: the rule
    may stay quiet on an error torch raises), the same shapes otherwise (``partial``: unknown
    dims and values are allowed).  ``cpu``: a thunk running the same call on CPU, the judge when
    the rule reports an error the meta device does not check (meta skips some checks)."""
    where = (" [%s]" % context) if context else ""
    if isinstance(rule_value, ShapeError) and not isinstance(torch_out, Raised) and cpu:
        torch_out = outcome(cpu)
    if isinstance(rule_value, ShapeError):
        assert isinstance(torch_out, Raised), \
            "false error%s: rule says %r but torch gives %r" % (where, rule_value.message,
                                                                torch_out)
        return
    if isinstance(torch_out, Raised):
        assert may_miss, "missed error%s: torch raises %r, rule gives %r" % (
            where, torch_out, rule_shapes(rule_value))
        return
    got = rule_shapes(rule_value)
    if partial:
        assert _compatible(got, torch_out), "shape%s: rule %r, torch %r" % (where, got, torch_out)
    else:
        assert got == torch_out, "shape%s: rule %r, torch %r" % (where, got, torch_out)


def _compatible(got, want) -> bool:
    """``got`` (rule shapes, None = unknown) is consistent with ``want`` (torch's)."""
    if got is None or got == UNKNOWN_SHAPE:
        return True
    if isinstance(got, tuple) and isinstance(want, tuple) and len(got) == len(want):
        return all(_compatible(g, w) for g, w in zip(got, want))
    return got == want


# --------------------------------------------------------------------------- symbolic dims

def symbolize(shape, mask, prefix="S"):
    """Replace the dims of ``shape`` where ``mask`` is true by fresh symbols: (shape, bindings).
    Symbols stand for sizes of real inputs, which the rules assume positive: a 0 stays a 0."""
    out, bindings = [], {}
    for i, (d, m) in enumerate(zip(shape, mask)):
        if m and d >= 1:
            name = "%s%d" % (prefix, i)
            out.append(D.sym(name))
            bindings[name] = d
        else:
            out.append(d)
    return tuple(out), bindings


def evaluate_shapes(v, bindings):
    """Rule shapes with every symbolic dim evaluated (None stays None)."""
    if isinstance(v, tuple):
        return tuple(evaluate_shapes(i, bindings) for i in v)
    if v is None or v == UNKNOWN_SHAPE:
        return v
    if isinstance(v, (int, D.Sym)):
        return D.evaluate(v, bindings)
    return v


def check_symbolic(symbolic_value, concrete_value, bindings, context=""):
    """A rule on symbolic shapes, evaluated at ``bindings``, agrees with the rule on the concrete
    shapes: an error on symbols only when the concrete call is an error too, and every known
    symbolic dim evaluates to the concrete dim."""
    where = (" [%s]" % context) if context else ""
    if isinstance(symbolic_value, ShapeError):
        assert isinstance(concrete_value, ShapeError), \
            "symbolic error%s %r but the concrete call passes" % (where, symbolic_value.message)
        return
    if isinstance(concrete_value, ShapeError):
        return  # an error that depends on the values may be missed symbolically
    got = evaluate_shapes(_shape_tree(symbolic_value), bindings)
    want = _shape_tree(concrete_value)
    assert _compatible(got, want), "symbolic%s: %r evaluates to %r, concrete gives %r" % (
        where, _shape_tree(symbolic_value), got, want)


def _shape_tree(v):
    if isinstance(v, Tensor):
        return v.shape
    if isinstance(v, TupleVal):
        return tuple(_shape_tree(i) for i in v.items)
    if isinstance(v, Const) and v.value is None:
        return None
    return UNKNOWN_SHAPE


def cpu_message(thunk) -> str:
    """The first line of torch's CPU error message for ``thunk``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            thunk()
    except TORCH_ERRORS as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    raise AssertionError("torch did not raise")


__all__ = ["T", "val", "fn", "build", "layer", "outcome", "check", "meta", "Raised",
           "symbolize", "check_symbolic", "cpu_message", "rule_shapes", "make_call"]
