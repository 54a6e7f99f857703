"""Every rule survives any arguments: odd values, unknowns, wrong types, symbolic dims.  A rule
returns a value, a ShapeError or None; it never raises."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from helpers import make_call
from shapelens.analysis.dims import sym
from shapelens.analysis.errors import ShapeError
from shapelens.analysis.rules import FUNCTIONS, LAYERS
from shapelens.analysis.rules.call import Call
from shapelens.analysis.values import (Const, Layer, ListVal, Tensor, TupleVal, Unknown, Value)

N = sym("N")
dims = st.sampled_from([0, 1, 2, 3, 5, -1, N, N * 2 + 1, None])
shapes = st.one_of(st.none(), st.lists(dims, max_size=5).map(tuple))
tensors = st.builds(Tensor, shapes, st.sampled_from([None, "float", "long", "bool"]))
consts = st.sampled_from([Const(0), Const(1), Const(-1), Const(2), Const(-3), Const(7),
                          Const(None), Const(True), Const(False), Const(0.5), Const(2.5),
                          Const("mean"), Const("same"), Const("b c -> c b"),
                          Const("bij,bjk->bik"), Const("...ij,jk"), Const("reflect"),
                          Const(N), Const((1, 2)), Unknown("x")])
leaves = st.one_of(tensors, consts)
values = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4).map(lambda xs: TupleVal(tuple(xs))),
    st.lists(inner, max_size=4).map(ListVal)), max_leaves=6)
KWARGS = ["dim", "keepdim", "size", "scale_factor", "mode", "padding", "stride", "kernel_size",
          "batch_first", "bias", "reduction", "hx", "output_size", "num_classes", "start_dim",
          "end_dim", "p", "training", "groups", "dilation", "align_corners", "need_weights"]


def _ok(result):
    assert result is None or isinstance(result, (Value, ShapeError)), result


@settings(max_examples=600)
@given(st.sampled_from(sorted(FUNCTIONS)), st.lists(values, max_size=5),
       st.dictionaries(st.sampled_from(KWARGS), values, max_size=2))
def test_functions_never_raise(name, args, kwargs):
    if name.startswith("Tensor.") and (not args or type(args[0]) is not Tensor):
        args = [Tensor((2, 3))] + list(args)   # methods are called on a tensor
    if name.startswith("operator."):
        args, kwargs = (list(args) + [Tensor((2, 3))] * 2)[:2], {}   # a binary operator
    _ok(FUNCTIONS[name](Call(name, tuple(args), dict(kwargs))))


@settings(max_examples=400)
@given(st.sampled_from(sorted(LAYERS)), st.lists(values, max_size=5),
       st.dictionaries(st.sampled_from(KWARGS), values, max_size=2),
       st.lists(values, min_size=1, max_size=3), st.sampled_from([None, True, False]))
def test_layers_never_raise(kind, ctor, kwargs, inputs, training):
    rule = LAYERS[kind]
    spec = rule.build(kind, Call("torch.nn." + kind, tuple(ctor), dict(kwargs)))
    _ok(spec if isinstance(spec, ShapeError) else None)
    if isinstance(spec, ShapeError):
        return
    call = make_call(kind, tuple(inputs))
    call.training = training
    _ok(rule.forward(spec, call))
    rule.params(spec)
    rule.config(spec)
    rule.expected_input(spec)
    rule.arithmetic(spec, (1, 3, 8, 8))
    rule.keep_padding(spec)
    for name in ("weight", "bias", "in_features", "hidden_size", "weight_ih_l0", "num_features"):
        rule.attribute(spec, name)


def test_layer_values_as_arguments():
    enc = LAYERS["TransformerEncoderLayer"].build("TransformerEncoderLayer",
                                                  make_call("x", (8, 2)))
    for kind in ("TransformerEncoder", "TransformerDecoder"):
        for arg in (Layer("TransformerEncoderLayer", enc), Layer("Linear", None), Unknown("x")):
            spec = LAYERS[kind].build(kind, make_call("x", (arg, 2)))
            _ok(LAYERS[kind].forward(spec, make_call("x", (Tensor((3, 2, 8)), Tensor(None)))))
