"""Element-wise activations, dropout, Identity and point-wise unary math: the output has the
input's shape.  Module, ``torch.nn.functional``, ``torch.*`` and tensor-method forms (in-place
``relu_`` forms too).

What they check:
* softmax/log_softmax/softmin (any form) and ``F.normalize``-like dims: ``dim`` in range
  ("Dimension out of range (expected to be in range of [-2, 1], but got 2)");
* GLU halves ``dim``, which must be even; Softmax2d needs a 3-D/4-D input; Dropout1d a 2-D/3-D
  one; PReLU's ``num_parameters`` equals the channels (dim 1; 1 for a 1-D input);
* config values torch rejects (dropout ``p`` outside [0, 1], Hardtanh bounds, ...) as
  ``runtime-error``.

Feature dropout (Dropout2d/3d on too few dims) only fails in training mode, which a rule cannot
see, so it is never reported.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..dims import definitely_ne, format_dim, is_int
from ..errors import FixHint, error
from ..values import Const, Tensor
from . import LayerRule, function, layer
from .call import MISSING, UNKNOWN, Call
from .common import is_error, wrap_dim


@dataclass(frozen=True)
class ActivationSpec:
    kind: str
    dim: object = None            # Softmax/LogSoftmax/Softmin/GLU dim (None: implicit)
    num_parameters: object = 1    # PReLU
    p: object = None              # dropout probability


def _same(x: Tensor, dtype=None):
    return x.with_shape(x.shape, dtype)


def softmax_like(x: Tensor, dim):
    """softmax/log_softmax/softmin over ``dim`` (None: the legacy implicit dim, always valid)."""
    if x.shape is None:
        return Tensor(None, x.dtype)
    if dim is not None and dim is not UNKNOWN:
        d = wrap_dim(dim, len(x.shape))
        if is_error(d):
            return d
    return _same(x)


def glu(x: Tensor, dim):
    if x.shape is None:
        return Tensor(None, x.dtype)
    if not x.shape:
        return error("rank-mismatch", "glu does not support scalars because halving size must be "
                     "even")
    d = wrap_dim(dim, len(x.shape))
    if is_error(d):
        return d
    if d is None:
        return Tensor((None,) * len(x.shape), x.dtype)
    size = x.shape[d]
    if is_int(size) and size % 2:
        return error("shape-mismatch", "Halving dimension must be even, but dimension %d is size "
                     "%d. GLU splits dim %d into two halves." % (d, size, dim))
    half = size // 2 if size is not None else None
    if size is not None and not is_int(size):
        from ..dims import divide_exact
        half = divide_exact(size, 2)
    return x.with_shape(tuple(x.shape[:d]) + (half,) + tuple(x.shape[d + 1:]))


def prelu(x: Tensor, num_parameters):
    if x.shape is None:
        return Tensor(None, x.dtype)
    if num_parameters is None or (is_int(num_parameters) and num_parameters == 1):
        return _same(x)
    if not x.shape:
        return error("rank-mismatch", "Not allow zero-dim input tensor. PReLU with "
                     "num_parameters=%s needs an input with a channel dim." %
                     format_dim(num_parameters))
    channels = x.shape[1] if len(x.shape) >= 2 else 1
    if definitely_ne(channels, num_parameters):
        return error("shape-mismatch", "Mismatch of parameter numbers and input channel size. "
                     "Found parameter numbers = %s and channel size = %s. Set num_parameters to "
                     "%s (the input's dim 1), or 1." % (format_dim(num_parameters),
                                                       format_dim(channels), format_dim(channels)),
                     fix=FixHint("num_parameters", channels, 0), blame="layer")
    return _same(x)


def _check_p(p):
    if isinstance(p, (int, float)) and not isinstance(p, bool) and not 0.0 <= p <= 1.0:
        return error("runtime-error", "dropout probability has to be between 0 and 1, but got %s"
                     % p, blame="layer")
    return None


def dropout1d(x: Tensor):
    if x.shape is not None and len(x.shape) not in (2, 3):
        return error("rank-mismatch", "dropout1d: Expected 2D or 3D input, but received a %dD "
                     "input. Note that dropout1d exists to provide channel-wise dropout on inputs "
                     "with 1 spatial dimension, a channel dimension, and an optional batch "
                     "dimension (i.e. 2D or 3D inputs)." % len(x.shape))
    return _same(x)


def feature_dropout(x: Tensor, p, unsqueezes: bool):
    """Channel dropout in training mode needs a channel dim (Dropout3d adds a batch dim to
    anything but a 5-D input first)."""
    if x.shape is None or not isinstance(p, (int, float)) or p == 0:
        return None
    rank = len(x.shape) + (1 if unsqueezes and len(x.shape) != 5 else 0)
    if rank < 2 and all(is_int(d) and d > 0 for d in x.shape):
        return error("rank-mismatch", "Feature dropout requires at least 2 dimensions in the "
                     "input. Channel dropout in training mode needs [N, C, ...] or [C, ...].")
    return None


def softmax2d(x: Tensor):
    if x.shape is not None and len(x.shape) not in (3, 4):
        return error("rank-mismatch", "Softmax2d: expected input to be 3D or 4D, got %dD instead"
                     % len(x.shape))
    return _same(x)


# Layer kinds whose output is the input's shape with no check at all.
_PLAIN = ("ReLU", "ReLU6", "SiLU", "Sigmoid", "Tanh", "LeakyReLU", "ELU", "SELU", "Hardswish",
          "Hardsigmoid", "Mish", "LogSigmoid", "Softplus", "Hardshrink", "Tanhshrink", "Softsign",
          "Threshold", "Identity", "Dropout2d", "Dropout3d", "FeatureAlphaDropout",
          "AlphaDropout", "Dropout")
_DROPOUTS = ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
             "FeatureAlphaDropout")


@layer(*(_PLAIN + ("GELU", "Softmax", "LogSoftmax", "Softmin", "GLU", "Softmax2d", "Dropout1d",
                   "PReLU", "CELU", "Hardtanh", "RReLU", "Softshrink")))
class ActivationLayer(LayerRule):
    def build(self, kind: str, call: Call):
        if kind in _DROPOUTS:
            p = call.value(0, "p", 0.5)
            return _check_p(p) or ActivationSpec(kind, p=p)
        if kind in ("Softmax", "LogSoftmax", "Softmin"):
            dim = call.get(0, "dim")
            if dim is MISSING or (type(dim) is Const and dim.value is None):
                return ActivationSpec(kind, None)
            return ActivationSpec(kind, call.int(0, "dim") if call.int(0, "dim") is not None
                                  else UNKNOWN)
        if kind == "GLU":
            return ActivationSpec(kind, call.int(0, "dim", -1))
        if kind == "PReLU":
            return ActivationSpec(kind, num_parameters=call.int(0, "num_parameters", 1))
        if kind == "Hardtanh":
            lo = call.value(0, "min_val", -1.0)
            hi = call.value(1, "max_val", 1.0)
            if _num(lo) and _num(hi) and not hi > lo:
                return error("runtime-error", "max_val (%s) must be greater than min_val (%s)"
                             % (hi, lo), blame="layer")
        if kind == "GELU":
            a = call.value(0, "approximate", "none")
            if isinstance(a, str) and a not in ("none", "tanh"):
                return error("runtime-error", "approximate argument must be either none or tanh.",
                             blame="layer")
        if kind == "CELU":
            a = call.value(0, "alpha", 1.0)
            if _num(a) and a == 0:
                return error("runtime-error", "ZeroDivisionError: alpha cannot be 0 for CELU",
                             blame="layer")
        if kind == "RReLU":
            lo = call.value(0, "lower", 1.0 / 8)
            hi = call.value(1, "upper", 1.0 / 3)
            if _num(lo) and _num(hi) and lo > hi:
                return error("runtime-error", "Lower bound should be less than or equal to the "
                             "upper bound", blame="layer")
        if kind == "Softshrink":
            lam = call.value(0, "lambd", 0.5)
            if _num(lam) and lam < 0:
                return error("runtime-error", "lambda must be in range [0, 3.40282e+38] for input "
                             "dtype Float, but found %s" % lam, blame="layer")
        return ActivationSpec(kind)

    def forward(self, spec: ActivationSpec, call: Call):
        x = call.tensor(0, "input")
        if x is None:
            return None
        kind = spec.kind
        if kind in ("Softmax", "LogSoftmax", "Softmin"):
            return softmax_like(x, spec.dim)
        if kind == "GLU":
            return glu(x, spec.dim)
        if kind == "PReLU":
            return prelu(x, spec.num_parameters)
        if kind == "Softmax2d":
            return softmax2d(x)
        if kind == "Dropout1d":
            return dropout1d(x)
        if kind in ("Dropout2d", "Dropout3d", "FeatureAlphaDropout") and call.training is True:
            return feature_dropout(x, spec.p, kind == "Dropout3d") or _same(x)
        return _same(x)

    def params(self, spec: ActivationSpec):
        if spec.kind == "PReLU":
            return spec.num_parameters if is_int(spec.num_parameters) else None
        return 0

    def config(self, spec: ActivationSpec):
        if spec.kind in ("Softmax", "LogSoftmax", "Softmin", "GLU"):
            return (("dim", "None" if spec.dim is None else
                     format_dim(spec.dim) if spec.dim is not UNKNOWN else "?"),)
        if spec.kind == "PReLU":
            return (("num_parameters", format_dim(spec.num_parameters)),)
        if spec.kind in _DROPOUTS:
            return (("p", str(spec.p) if spec.p is not UNKNOWN else "?"),)
        return ()

    def attribute(self, spec: ActivationSpec, name: str):
        if spec.kind == "PReLU" and name == "weight":
            return Tensor((spec.num_parameters,), "float")
        if name == "dim" and spec.kind in ("Softmax", "LogSoftmax", "Softmin", "GLU"):
            return Const(spec.dim) if spec.dim is not UNKNOWN else None
        if name == "p" and spec.kind in _DROPOUTS and spec.p is not UNKNOWN:
            return Const(spec.p)
        return None

    def expected_input(self, spec: ActivationSpec):
        return None


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# --------------------------------------------------------------------------- function forms

def _input(call: Call):
    return call.tensor(0, "input")


def f_same(call: Call):
    x = _input(call)
    if x is None:
        return None
    return _same(x)


def f_bool(call: Call):
    x = _input(call)
    if x is None:
        return None
    return _same(x, "bool")


def f_softmax(call: Call):
    x = _input(call)
    if x is None:
        return None
    dim = call.get(1, "dim")
    if dim is MISSING or (type(dim) is Const and dim.value is None):
        return softmax_like(x, None)
    d = call.int(1, "dim")
    return softmax_like(x, d if d is not None else UNKNOWN)


def f_gumbel_softmax(call: Call):
    x = call.tensor(0, "logits")
    if x is None:
        return None
    d = call.int(4, "dim", -1)
    return softmax_like(x, d if d is not None else UNKNOWN)


def f_glu(call: Call):
    x = _input(call)
    if x is None:
        return None
    return glu(x, call.int(1, "dim", -1))


def f_prelu(call: Call):
    x = _input(call)
    w = call.tensor(1, "weight")
    if x is None or w is None:
        return None
    if w.shape is None:
        return Tensor(None, x.dtype) if x.shape is None else _same(x)
    if len(w.shape) > 1:
        return error("rank-mismatch", "prelu: Expected `weight` to be a scalar or 1D tensor, but "
                     "got: ndim = %d" % len(w.shape))
    return prelu(x, w.shape[0] if w.shape else 1)


def f_dropout(call: Call):
    x = _input(call)
    if x is None:
        return None
    p = call.value(1, "p", 0.5)
    err = _check_p(p)
    if err:
        return err
    if call.name.endswith("dropout1d"):
        return dropout1d(x)
    if call.name.rsplit(".", 1)[1] in ("dropout2d", "dropout3d", "feature_alpha_dropout") \
            and call.value(2, "training", True) is True:
        return feature_dropout(x, p, call.name.endswith("dropout3d")) or _same(x)
    return _same(x)


def f_hardtanh(call: Call):
    x = _input(call)
    if x is None:
        return None
    lo = call.value(1, "min_val", -1.0)
    hi = call.value(2, "max_val", 1.0)
    if _num(lo) and _num(hi) and lo > hi:
        return error("runtime-error", "min_val cannot be greater than max_val")
    return _same(x)


def f_rrelu(call: Call):
    x = _input(call)
    if x is None:
        return None
    lo = call.value(1, "lower", 1.0 / 8)
    hi = call.value(2, "upper", 1.0 / 3)
    if _num(lo) and _num(hi) and lo > hi:
        return error("runtime-error", "Lower bound should be less than or equal to the upper "
                     "bound")
    return _same(x)


def f_gelu(call: Call):
    x = _input(call)
    if x is None:
        return None
    a = call.value(1, "approximate", "none")
    if isinstance(a, str) and a not in ("none", "tanh"):
        return error("runtime-error", "approximate argument must be either none or tanh.")
    return _same(x)


def f_celu(call: Call):
    x = _input(call)
    if x is None:
        return None
    a = call.value(1, "alpha", 1.0)
    if _num(a) and a == 0:
        return error("runtime-error", "ZeroDivisionError: alpha cannot be 0 for CELU")
    return _same(x)


def f_softshrink(call: Call):
    x = _input(call)
    if x is None:
        return None
    lam = call.value(1, "lambd", 0.5)
    if _num(lam) and lam < 0:
        return error("runtime-error", "lambda must be in range [0, 3.40282e+38] for input dtype "
                     "Float, but found %s" % lam)
    return _same(x)


def f_clamp(call: Call):
    """clamp/clip with number bounds keep the shape; tensor bounds broadcast (not modelled)."""
    x = _input(call)
    if x is None:
        return None
    for i, name in ((1, "min"), (2, "max")):
        v = call.get(i, name)
        if v is not MISSING and type(v) is not Const:
            return Tensor(None, x.dtype)
    return _same(x)


# Point-wise unary math (torch.X, Tensor.X and Tensor.X_).
_UNARY = ("abs", "absolute", "acos", "arccos", "acosh", "arccosh", "asin", "arcsin", "asinh",
          "arcsinh", "atan", "arctan", "atanh", "arctanh", "ceil", "cos", "cosh", "deg2rad",
          "rad2deg", "digamma", "erf", "erfc", "erfinv", "exp", "exp2", "expm1", "fix", "floor",
          "frac", "lgamma", "log", "log10", "log1p", "log2", "logit", "i0", "sinc", "neg",
          "negative", "positive", "reciprocal", "round", "rsqrt", "sigmoid", "sign", "sgn", "sin",
          "sinh", "sqrt", "square", "tan", "tanh", "trunc", "relu", "nan_to_num", "conj",
          "angle", "bitwise_not", "selu", "celu", "hardshrink", "resolve_conj", "resolve_neg",
          "threshold")
# Tensor methods only (``x.zero_()``, ``x.uniform_()``): in place, same shape.
_METHODS = ("exponential_", "cauchy_", "log_normal_",
            "geometric_", "random_", "bernoulli", "bernoulli_", "mvlgamma", "mvlgamma_",
            "relu6", "hardswish", "hardsigmoid", "silu", "mish", "softplus", "logsigmoid", "elu",
            "leaky_relu")
_BOOL = ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "isreal", "signbit",
         "logical_not")
_F_SAME = ("relu", "relu_", "relu6", "elu", "elu_", "selu", "selu_", "leaky_relu", "leaky_relu_",
           "hardtanh_", "hardswish", "hardsigmoid", "silu", "mish", "logsigmoid", "softplus",
           "hardshrink", "tanhshrink", "softsign", "tanh", "sigmoid", "threshold", "threshold_",
           "celu_")


def _register():
    for name in _UNARY:
        function("Tensor." + name, "Tensor." + name + "_", "torch." + name, "torch." + name + "_",
                 "torch.special." + name)(f_same)
    function(*("Tensor." + name for name in _METHODS))(f_same)
    function("torch.bernoulli", "torch.poisson", "torch.mvlgamma", "torch.special.multigammaln",
             "torch.special.expit", "torch.special.exp2", "torch.special.expm1",
             "torch.special.i0", "torch.special.sinc", "torch.special.ndtr",
             "torch.special.ndtri", "torch.special.log_ndtr", "torch.special.erfcx",
             "torch.special.gammaln", "torch.special.psi", "torch.special.entr")(f_same)
    function("torch.dropout", "torch.alpha_dropout", "torch.feature_dropout",
             "torch.feature_alpha_dropout", "torch.dropout_", "torch.alpha_dropout_")(f_dropout)
    # polygamma(n, input): the tensor is the second argument.
    function("torch.polygamma", "torch.special.polygamma")(
        lambda call: _same(call.args[1]) if len(call.args) > 1 and type(call.args[1]) is Tensor
        else None)
    for name in _BOOL:
        function("torch." + name, "Tensor." + name)(f_bool)
    function("Tensor.logical_not_")(f_same)
    function(*["torch.nn.functional." + n for n in _F_SAME])(f_same)
    function("torch.nn.functional.hardtanh", "torch.nn.functional.hardtanh_")(f_hardtanh)
    function("torch.nn.functional.rrelu", "torch.nn.functional.rrelu_", "torch.rrelu",
             "torch.rrelu_")(f_rrelu)
    function("torch.nn.functional.gelu", "torch._C._nn.gelu")(f_gelu)
    function("torch.nn.functional.celu", "torch.nn.functional.celu_")(f_celu)
    function("torch.nn.functional.softshrink")(f_softshrink)
    function("torch.clamp", "torch.clip", "Tensor.clamp", "Tensor.clip", "Tensor.clamp_",
             "Tensor.clip_", "torch.clamp_", "torch.clip_")(f_clamp)
    function("torch.softmax", "torch.log_softmax", "torch.special.softmax",
             "torch.special.log_softmax", "Tensor.softmax", "Tensor.log_softmax",
             "torch.nn.functional.softmax", "torch.nn.functional.log_softmax",
             "torch.nn.functional.softmin", "torch._softmax")(f_softmax)
    function("torch.nn.functional.gumbel_softmax")(f_gumbel_softmax)
    function("torch.nn.functional.glu")(f_glu)
    function("torch.nn.functional.prelu", "torch.prelu", "Tensor.prelu")(f_prelu)
    function("torch.nn.functional.dropout", "torch.nn.functional.dropout1d",
             "torch.nn.functional.dropout2d", "torch.nn.functional.dropout3d",
             "torch.nn.functional.alpha_dropout", "torch.nn.functional.feature_alpha_dropout"
             )(f_dropout)


_register()

__all__ = ["ActivationSpec", "ActivationLayer", "softmax_like", "glu", "prelu"]
