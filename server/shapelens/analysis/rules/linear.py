"""Linear / LazyLinear / Bilinear and F.linear / F.bilinear.

Linear maps the last dim: ``[*, in_features] -> [*, out_features]``; torch folds the leading
dims into one, so its error reads ``mat1 and mat2 shapes cannot be multiplied (B x in and
in_features x out_features)`` with ``B`` the product of the leading dims (1 for a 1-D input).
Bilinear takes ``[*, in1]`` and ``[*, in2]`` with identical leading dims.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..dims import definitely_ne, format_dim, is_int, prod, sym
from ..errors import FixHint, error
from ..values import Const, Tensor, format_shape
from . import LayerRule, function, layer
from .call import Call
from .common import bool_arg, differ_for_positive_sizes, fmt_list, fmt_x


@dataclass(frozen=True)
class LinearSpec:
    in_features: object              # dim or None (LazyLinear: fixed by the first input)
    out_features: object
    bias: object = True
    lazy: bool = False


@dataclass(frozen=True)
class BilinearSpec:
    in1_features: object
    in2_features: object
    out_features: object
    bias: object = True


def linear_forward(x: Tensor, in_features, out_features, what: str = "layer"):
    """``x @ W.T`` for a weight of shape [out_features, in_features]: Tensor or ShapeError."""
    shape = x.shape
    if shape is None:
        return Tensor(None, x.dtype)
    if not shape:
        return error("rank-mismatch", "both arguments to linear need to be at least 1D, but they "
                     "are 0D and 2D. A Linear layer needs an input with a feature dim.")
    last = shape[-1]
    if definitely_ne(last, in_features):
        rows = prod(shape[:-1]) if len(shape) > 1 else 1
        arrives = format_dim(last)
        if what == "layer":
            advice = ("The layer is built for in_features=%s but %s features arrive (input %s): "
                      "set in_features to %s, or fix the input."
                      % (format_dim(in_features), arrives, format_shape(shape), arrives))
        else:
            advice = ("The weight expects %s input features but %s arrive (input %s)."
                      % (format_dim(in_features), arrives, format_shape(shape)))
        return error("linear-in-features" if what == "layer" else "matmul-mismatch",
                     "mat1 and mat2 shapes cannot be multiplied (%s and %s). %s"
                     % (fmt_x((rows, last)), fmt_x((in_features, out_features)), advice),
                     fix=FixHint("in_features", last, 0) if what == "layer" else None)
    return x.with_shape(tuple(shape[:-1]) + (out_features,))


def _check_bias(out: Tensor, b: Tensor):
    """The bias is added in place: it must broadcast to the output without growing it."""
    if b is None or b.shape is None or out.shape is None:
        return None
    bs, os_ = b.shape, out.shape
    if len(bs) > len(os_):
        return error("shape-mismatch", "output with shape %s doesn't match the broadcast shape %s. "
                     "The bias must have out_features elements."
                     % (fmt_list(os_), fmt_list(bs[:len(bs) - len(os_)] + tuple(os_))))
    for i in range(1, len(bs) + 1):
        bd, od = bs[-i], os_[-i]
        if definitely_ne(bd, 1) and definitely_ne(bd, od):
            return error("shape-mismatch", "The expanded size of the tensor (%s) must match the "
                         "existing size (%s) at non-singleton dimension %d.  Target sizes: %s.  "
                         "Tensor sizes: %s. The bias must have out_features elements."
                         % (format_dim(od), format_dim(bd), len(os_) - i, fmt_list(os_),
                            fmt_list(bs)))
    return None


def _check_bias_vector_input(out: Tensor, b: Tensor):
    """With a 1-D input torch accepts a bias of [out], [1] or [1, out] with out > 1 (CPU, torch
    2.13; [1, 1] is rejected)."""
    if b is None or b.shape is None or out.shape is None:
        return None
    bs, n = b.shape, out.shape[0]
    bad = len(bs) > 2 or (len(bs) == 2 and (differ_for_positive_sizes(bs[0], 1)
                                            or differ_for_positive_sizes(bs[1], n)
                                            or (is_int(bs[1]) and bs[1] == 1))) \
        or (len(bs) == 1 and definitely_ne(bs[0], 1) and definitely_ne(bs[0], n))
    if bad:
        return error("shape-mismatch", "output with shape %s doesn't match the broadcast shape %s. "
                     "The bias must have out_features elements." % (fmt_list(out.shape),
                                                                   fmt_list(bs)))
    return None


@layer("Linear", "LazyLinear", "NonDynamicallyQuantizableLinear")
class LinearLayer(LayerRule):
    def build(self, kind: str, call: Call):
        if kind == "LazyLinear":
            return LinearSpec(None, call.int(0, "out_features"), bool_arg(call, 1, "bias", True),
                              True)
        cin = call.int(0, "in_features")
        cout = call.int(1, "out_features")
        for name, v in (("out_features", cout), ("in_features", cin)):
            if is_int(v) and v < 0:
                return error("shape-mismatch", "Trying to create tensor with negative dimension "
                             "%d: %s=%d must be at least 0" % (v, name, v), blame="layer")
        return LinearSpec(cin, cout, bool_arg(call, 2, "bias", True))

    def forward(self, spec: LinearSpec, call: Call):
        x = call.tensor(0, "input")
        if x is None:
            return None
        cin = spec.in_features
        if spec.lazy and cin is None and x.shape:
            cin = x.shape[-1]
        return linear_forward(x, cin, spec.out_features)

    def params(self, spec: LinearSpec):
        i, o = spec.in_features, spec.out_features
        if not (is_int(i) and is_int(o)) or spec.bias not in (True, False):
            return None
        return i * o + (o if spec.bias else 0)

    def config(self, spec: LinearSpec):
        out = [("in_features", format_dim(spec.in_features)),
               ("out_features", format_dim(spec.out_features))]
        if spec.bias is not True:
            out.append(("bias", str(spec.bias)))
        return tuple(out)

    def expected_input(self, spec: LinearSpec):
        if spec.in_features is None:
            return None
        return (sym("N"), spec.in_features)

    def attribute(self, spec: LinearSpec, name: str):
        if name == "in_features":
            return Const(spec.in_features) if spec.in_features is not None else None
        if name == "out_features":
            return Const(spec.out_features) if spec.out_features is not None else None
        if name == "weight":
            return Tensor((spec.out_features, spec.in_features), "float")
        if name == "bias":
            if spec.bias is False:
                return Const(None)
            return Tensor((spec.out_features,), "float")
        return None


@layer("Bilinear", "LazyBilinear")
class BilinearLayer(LayerRule):
    def build(self, kind: str, call: Call):
        return BilinearSpec(call.int(0, "in1_features"), call.int(1, "in2_features"),
                            call.int(2, "out_features"), bool_arg(call, 3, "bias", True))

    def forward(self, spec: BilinearSpec, call: Call):
        a = call.tensor(0, "input1")
        b = call.tensor(1, "input2")
        if a is None or b is None:
            return None
        return bilinear_forward(a, b, spec.in1_features, spec.in2_features, spec.out_features)

    def params(self, spec: BilinearSpec):
        i1, i2, o = spec.in1_features, spec.in2_features, spec.out_features
        if not (is_int(i1) and is_int(i2) and is_int(o)) or spec.bias not in (True, False):
            return None
        return o * i1 * i2 + (o if spec.bias else 0)

    def config(self, spec: BilinearSpec):
        return (("in1_features", format_dim(spec.in1_features)),
                ("in2_features", format_dim(spec.in2_features)),
                ("out_features", format_dim(spec.out_features)))

    def attribute(self, spec: BilinearSpec, name: str):
        if name == "weight":
            return Tensor((spec.out_features, spec.in1_features, spec.in2_features), "float")
        if name == "bias":
            return Const(None) if spec.bias is False else Tensor((spec.out_features,), "float")
        if name in ("in1_features", "in2_features", "out_features"):
            v = getattr(spec, name)
            return Const(v) if v is not None else None
        return None


def bilinear_forward(a: Tensor, b: Tensor, in1, in2, out):
    sa, sb = a.shape, b.shape
    if sa is not None and not sa or sb is not None and not sb:
        return error("rank-mismatch", "Dimension specified as -1 but tensor has no dimensions. "
                     "Bilinear needs inputs with a feature dim.")
    if sa is not None and sb is not None:
        if len(sa) != len(sb):
            return error("rank-mismatch", "bilinear(): input dimensions do not match: got %d and "
                         "%d" % (len(sa), len(sb)))
        for i, (x, y) in enumerate(zip(sa[:-1], sb[:-1])):
            if definitely_ne(x, y):
                return error("shape-mismatch", "bilinear(): input batch dimensions do not match at "
                             "dim %d: got %s and %s" % (i, format_dim(x), format_dim(y)))
    if sa is not None and definitely_ne(sa[-1], in1):
        return error("linear-in-features", "bilinear(): input1 size does not match weight size: "
                     "got %s but expected %s. Set in1_features to %s, or fix the input."
                     % (format_dim(sa[-1]), format_dim(in1), format_dim(sa[-1])),
                     fix=FixHint("in1_features", sa[-1], 0))
    if sb is not None and definitely_ne(sb[-1], in2):
        return error("linear-in-features", "bilinear(): input2 size does not match weight size: "
                     "got %s but expected %s. Set in2_features to %s, or fix the input."
                     % (format_dim(sb[-1]), format_dim(in2), format_dim(sb[-1])),
                     fix=FixHint("in2_features", sb[-1], 1))
    if sa is None and sb is None:
        return Tensor(None, a.dtype)
    lead = sa[:-1] if sa is not None else sb[:-1]
    if sa is not None and sb is not None:
        lead = tuple(x if x is not None else y for x, y in zip(sa[:-1], sb[:-1]))
    return a.with_shape(tuple(lead) + (out,))


@function("torch.nn.functional.linear", "torch._C._nn.linear")
def f_linear(call: Call):
    x = call.tensor(0, "input")
    w = call.tensor(1, "weight")
    if x is None or w is None:
        return None
    b = call.tensor(2, "bias")
    if w.shape is None:
        if x.shape is not None and not x.shape:
            return error("rank-mismatch", "both arguments to linear need to be at least 1D")
        return Tensor(None, x.dtype)
    if len(w.shape) == 2:
        out = linear_forward(x, w.shape[1], w.shape[0], what="function")
        if type(out) is not Tensor:
            return out
        if x.shape is not None and len(x.shape) == 1:
            return _check_bias_vector_input(out, b) or out
        if (x.shape is None or len(x.shape) > 2) and b is not None and (
                b.shape is None or len(b.shape) > 1):
            # Depending on the input's layout torch adds a 2-D+ bias in place or folds the
            # input to 2-D first (addmm): which sizes pass differs, so nothing is promised.
            return out
        return _check_bias(out, b) or out
    if len(w.shape) == 1:
        if b is not None:
            return error("rank-mismatch", "mat2 must be a matrix, got 1-D tensor. F.linear with a "
                         "1-D weight takes no bias.")
        if x.shape is not None and not x.shape:
            return error("rank-mismatch", "both arguments to linear need to be at least 1D, but "
                         "they are 0D and 1D")
        from .matmul import matmul
        return matmul(x, w)
    return Tensor(None, x.dtype)


@function("torch.nn.functional.bilinear", "torch.bilinear")
def f_bilinear(call: Call):
    a = call.tensor(0, "input1")
    b = call.tensor(1, "input2")
    w = call.tensor(2, "weight")
    if a is None or b is None or w is None:
        return None
    if w.shape is None or len(w.shape) != 3:
        return Tensor(None, a.dtype)
    out = bilinear_forward(a, b, w.shape[1], w.shape[2], w.shape[0])
    bias = call.tensor(3, "bias")
    if type(out) is Tensor and bias is not None and bias.shape is not None:
        bs = bias.shape
        if len(bs) != 1 or definitely_ne(bs[0], w.shape[0]):
            return error("shape-mismatch", "bilinear(): bias size does not match weight size: "
                         "got %s but expected %s" % (format_dim(bs[0]) if bs else "?",
                                                     format_dim(w.shape[0])))
    return out


__all__ = ["LinearSpec", "BilinearSpec", "LinearLayer", "BilinearLayer", "linear_forward"]
