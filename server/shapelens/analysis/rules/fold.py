"""Sliding blocks: ``F.unfold`` / ``nn.Unfold`` (im2col) and ``F.fold`` / ``nn.Fold`` (col2im).

For a 2-D kernel k, dilation d, padding p and stride s, the number of blocks along a spatial
size n is ``⌊(n + 2·p − d·(k − 1) − 1) / s⌋ + 1`` and L is their product over H and W:

    unfold: [N, C, H, W] -> [N, C·kH·kW, L]      ([C, H, W] -> [C·kH·kW, L])
    fold:   [N, C·kH·kW, L] -> [N, C, oH, oW]    ([C·kH·kW, L] -> [C, oH, oW]), where L must be
            the number of blocks of the output size (oH, oW)
"""
from __future__ import annotations

from dataclasses import dataclass

from ..dims import definitely_ne, divide_exact, floordiv, is_int, mul, prod
from ..errors import error
from ..values import Tensor, format_shape
from . import LayerRule, function, layer
from .call import Call
from .common import input_tensor


@dataclass(frozen=True)
class FoldSpec:
    op: str                        # "unfold" or "fold"
    kernel: object                 # 2-tuples of dims (None unknown), or None
    dilation: object
    padding: object
    stride: object
    output_size: object = None     # fold only


def _spec(op: str, call: Call, first: int):
    """The spec from the arguments after the input (``first``: index of kernel_size)."""
    out = None
    if op == "fold":
        out = call.ints(first, "output_size", 2)
        first += 1
    return FoldSpec(op, call.ints(first, "kernel_size", 2),
                    call.ints(first + 1, "dilation", 2, default=1),
                    call.ints(first + 2, "padding", 2, default=0),
                    call.ints(first + 3, "stride", 2, default=1), out)


def _fmt(t):
    return "(%s)" % ", ".join("?" if v is None else str(v) for v in t) if t else "?"


def _config_error(spec: FoldSpec):
    """What torch checks of the configuration when the op runs, or None."""
    for what, part, values, least in (("kernel size", "kernel", spec.kernel, 1),
                                      ("stride", "stride", spec.stride, 1),
                                      ("dilation", "dilation", spec.dilation, 1),
                                      ("padding", "pad", spec.padding, 0)):
        if values and any(is_int(v) and v < least for v in values):
            return error("padding-invalid", "%s should be %s, but got %s_height: %s %s_width: %s"
                         % (what, "greater than zero" if least else "non-negative", part,
                            values[0], part, values[1]), blame="layer")
    return None


def _blocks(spec: FoldSpec, sizes):
    """Blocks along each spatial size (None where unknown)."""
    out = []
    for i, n in enumerate(sizes):
        parts = [n] + [t[i] if t else None for t in (spec.kernel, spec.dilation, spec.padding,
                                                      spec.stride)]
        if None in parts or not all(is_int(v) for v in parts[1:]):
            out.append(None)
            continue
        n, k, d, p, s = parts
        out.append(floordiv(n + 2 * p - d * (k - 1) - 1, s) + 1)
    return tuple(out)


def unfold_shape(spec: FoldSpec, x: Tensor):
    bad = _config_error(spec)
    if bad:
        return bad
    shape = x.shape
    if shape is None:
        return Tensor(None, x.dtype)
    if len(shape) not in (3, 4):
        return error("rank-mismatch", "Expected 3D or 4D (batch mode) tensor for input with "
                     "possibly 0 batch size and non-zero dimensions for input, but got: %s. "
                     "unfold takes [N, C, H, W] or [C, H, W]." % format_shape(shape))
    if any(is_int(d) and d == 0 for d in shape[-3:]):
        return error("rank-mismatch", "Expected 3D or 4D (batch mode) tensor with possibly 0 "
                     "batch size and other non-zero dimensions for input, but got: %s"
                     % format_shape(shape))
    blocks = _blocks(spec, shape[-2:])
    if any(is_int(b) and b < 1 for b in blocks):
        return error("spatial-collapse", "Given input with spatial size %s, kernel_size=%s, "
                     "dilation=%s, padding=%s, calculated shape of the array of sliding blocks "
                     "as %s, but its components must be at least one."
                     % (_fmt(shape[-2:]), _fmt(spec.kernel), _fmt(spec.dilation),
                        _fmt(spec.padding), _fmt(blocks)), detail="spatial")
    kernel = prod(spec.kernel) if spec.kernel and None not in spec.kernel else None
    channels = mul(shape[-3], kernel) if None not in (shape[-3], kernel) else None
    length = prod(blocks) if None not in blocks else None
    return x.with_shape(tuple(shape[:-3]) + (channels, length))


def fold_shape(spec: FoldSpec, x: Tensor):
    bad = _config_error(spec)
    if bad:
        return bad
    shape = x.shape
    out_size = spec.output_size or (None, None)
    if shape is None:
        return Tensor(None, x.dtype)
    if len(shape) not in (2, 3):
        return error("rank-mismatch", "Expected 2D or 3D (batch mode) tensor for input with "
                     "possibly 0 batch size and non-zero dimensions for input, but got: %s. "
                     "fold takes [N, C·kH·kW, L] or [C·kH·kW, L]." % format_shape(shape))
    if any(is_int(d) and d == 0 for d in shape[-2:]):
        return error("rank-mismatch", "Expected 2D or 3D (batch mode) tensor for input with "
                     "possible 0 batch size and non-zero dimensions, but got: %s"
                     % format_shape(shape))
    cols, length = shape[-2], shape[-1]
    kernel = prod(spec.kernel) if spec.kernel and None not in spec.kernel else None
    channels = None
    if cols is not None and kernel is not None:
        channels = divide_exact(cols, kernel)
        if channels is None and is_int(cols) and is_int(kernel):
            return error("shape-mismatch", "Expected size of input's dimension %d to be "
                         "divisible by the product of kernel_size, but got input.size(%d)=%d "
                         "and kernel_size=%s" % (len(shape) - 2, len(shape) - 2, cols,
                                                 _fmt(spec.kernel)))
    blocks = _blocks(spec, out_size)
    if any(is_int(b) and b < 1 for b in blocks):
        return error("spatial-collapse", "Given output_size=%s, kernel_size=%s, dilation=%s, "
                     "padding=%s, stride=%s, calculated shape of the array of sliding blocks as "
                     "%s, but its components must be at least one."
                     % (_fmt(out_size), _fmt(spec.kernel), _fmt(spec.dilation),
                        _fmt(spec.padding), _fmt(spec.stride), _fmt(blocks)), detail="spatial")
    expected = prod(blocks) if None not in blocks else None
    if expected is not None and length is not None and definitely_ne(expected, length):
        return error("shape-mismatch", "Given output_size=%s, kernel_size=%s, dilation=%s, "
                     "padding=%s, stride=%s, expected size of input's dimension %d to match the "
                     "calculated number of sliding blocks %s = %s, but got input.size(%d)=%s."
                     % (_fmt(out_size), _fmt(spec.kernel), _fmt(spec.dilation),
                        _fmt(spec.padding), _fmt(spec.stride), len(shape) - 1,
                        " * ".join(str(b) for b in blocks), expected, len(shape) - 1, length))
    return x.with_shape(tuple(shape[:-2]) + (channels,) + tuple(out_size))


@function("torch.nn.functional.unfold")
def f_unfold(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    return unfold_shape(_spec("unfold", call, 1), x)


@function("torch.nn.functional.fold")
def f_fold(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    return fold_shape(_spec("fold", call, 1), x)


@layer("Unfold", "Fold")
class FoldLayer(LayerRule):
    def build(self, kind: str, call: Call):
        return _spec(kind.lower(), call, 0)   # torch checks the config only when called

    def forward(self, spec: FoldSpec, call: Call):
        x = call.tensor(0, "input")
        if x is None:
            return None
        return unfold_shape(spec, x) if spec.op == "unfold" else fold_shape(spec, x)

    def params(self, spec) -> int:
        return 0

    def config(self, spec):
        out = [("kernel_size", _fmt(spec.kernel)), ("dilation", _fmt(spec.dilation)),
               ("padding", _fmt(spec.padding)), ("stride", _fmt(spec.stride))]
        if spec.op == "fold":
            out.insert(0, ("output_size", _fmt(spec.output_size)))
        return tuple(out)
