"""F.pad and the padding layers (ZeroPad/ConstantPad/ReflectionPad/ReplicationPad/CircularPad
1d/2d/3d).

``pad`` lists (left, right) pairs starting from the last dim.  Constant padding works on any
rank and accepts negative pads (cropping) as long as no size goes below 0; reflect/replicate/
circular pad 1, 2 or 3 trailing dims of a 2-D/3-D, 3-D/4-D or 4-D/5-D input, reflect pads must be
smaller than the size and circular ones at most the size.
"""
from __future__ import annotations

from ..dims import add, format_dim, is_int
from ..errors import error
from ..values import ListVal, Tensor, TupleVal, format_shape
from . import LayerRule, function, layer
from .call import UNKNOWN, Call, as_int
from .common import fmt_list

_RANKS = {2: (2, 3), 4: (3, 4), 6: (4, 5)}


def pad_shape(x: Tensor, pad, mode="constant"):
    """F.pad(x, pad, mode): Tensor or ShapeError."""
    if pad is None:
        return Tensor(None, x.dtype) if x.shape is None else Tensor((None,) * len(x.shape),
                                                                    x.dtype)
    if len(pad) % 2:
        return error("padding-invalid", "Padding length must be divisible by 2", blame="layer")
    shape = x.shape
    if shape is None:
        return Tensor(None, x.dtype)
    rank = len(shape)
    if len(pad) > 2 * rank:
        return error("rank-mismatch", "Padding length should be less than or equal to two times "
                     "the input dimension but got padding length %d and input of dimension %d. "
                     "The input %s has fewer dims than the padding covers."
                     % (len(pad), rank, format_shape(shape)))
    if mode not in ("constant",) and mode is not UNKNOWN:
        if mode not in ("reflect", "replicate", "circular"):
            return error("runtime-error", "Unrecognised padding mode %s" % mode, blame="layer")
        allowed = _RANKS.get(len(pad))
        if allowed is None or rank not in allowed:
            return error("rank-mismatch", "Padding size %d is not supported for %dD input tensor. "
                         "%s padding of %d dims takes a %s input."
                         % (len(pad), rank, mode, len(pad) // 2,
                            " or ".join("%dD" % r for r in allowed) if allowed else "different"))
    out = list(shape)
    for i in range(len(pad) // 2):
        left, right = pad[2 * i], pad[2 * i + 1]
        d = rank - 1 - i
        size = shape[d]
        if mode == "reflect" and is_int(size):
            for p in (left, right):
                if is_int(p) and p >= size:
                    return error("padding-invalid", "Argument #%d: Padding size should be less "
                                 "than the corresponding input dimension, but got: padding (%s, "
                                 "%s) at dimension %d of input %s"
                                 % (4 + 2 * i, format_dim(left), format_dim(right), d,
                                    fmt_list(shape)), blame="layer")
        if mode == "circular" and is_int(size):
            for p in (left, right):
                if is_int(p) and p > size:
                    return error("padding-invalid", "Padding value causes wrapping around more "
                                 "than once.", blame="layer")
        new = add(add(size, left), right)
        # Negative pads crop with narrow(), one side after the other: each crop must fit.
        cropped = add(add(size, min(left, 0) if is_int(left) else 0),
                      min(right, 0) if is_int(right) else 0)
        if (is_int(new) and new < 0) or (is_int(cropped) and cropped < 0):
            return error("padding-invalid", "narrow(): length must be non-negative. Padding "
                         "(%s, %s) crops dim %d of %s below zero."
                         % (format_dim(left), format_dim(right), d, format_shape(shape)),
                         blame="layer")
        out[d] = new
    return x.with_shape(tuple(out))


@function("torch.nn.functional.pad", "torch._C._nn.pad")
def f_pad(call: Call):
    x = call.tensor(0, "input")
    if x is None:
        return None
    v = call.get(1, "pad")
    pad = tuple(as_int(i) for i in v.items) if type(v) in (TupleVal, ListVal) else None
    mode = call.value(2, "mode", "constant")
    if not isinstance(mode, str):
        mode = UNKNOWN
    return pad_shape(x, pad, mode)


_KIND_MODE = {"Zero": "constant", "Constant": "constant", "Reflection": "reflect",
              "Replication": "replicate", "Circular": "circular"}


@layer(*["%sPad%dd" % (k, n) for k in _KIND_MODE for n in (1, 2, 3)])
class PadLayer(LayerRule):
    def build(self, kind: str, call: Call):
        n = int(kind[-2])
        mode = _KIND_MODE[kind[:kind.index("Pad")]]
        v = call.get(0, "padding")
        if type(v) in (TupleVal, ListVal):
            pad = tuple(as_int(i) for i in v.items)
        else:
            p = as_int(v) if v is not None else None
            pad = (p,) * (2 * n) if p is not None else None
        return (n, mode, pad)

    def forward(self, spec, call: Call):
        x = call.tensor(0, "input")
        if x is None:
            return None
        n, mode, pad = spec
        if mode == "circular" and x.shape is not None and len(x.shape) not in (n + 1, n + 2):
            return error("rank-mismatch", "expected %dD or %dD input (got %dD input)"
                         % (n + 1, n + 2, len(x.shape)))
        return pad_shape(x, pad, mode)

    def params(self, spec):
        return 0

    def config(self, spec):
        return (("padding", fmt_list(spec[2]) if spec[2] is not None else "?"),)


__all__ = ["pad_shape"]
