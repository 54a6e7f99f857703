"""Conv1d/2d/3d and ConvTranspose1d/2d/3d, module and functional forms.

Output size per spatial dim (torch.nn docs):
    conv:       ⌊(in + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1
    transposed: (in − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

from ..dims import definitely_ne, floordiv, format_dim, is_int, prod, sym
from ..errors import FixHint, error
from ..values import Const, Tensor, TupleVal, format_shape
from . import LayerRule, function, layer
from .call import UNKNOWN, Call

SPATIAL_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


@dataclass(frozen=True)
class ConvSpec:
    n: int                          # spatial dims: 1, 2 or 3
    in_channels: object             # dims may be None (unknown)
    out_channels: object
    kernel: Optional[tuple]
    stride: Optional[tuple]
    padding: object                 # tuple of dims, "same", "valid", or None
    dilation: Optional[tuple]
    groups: object
    bias: object = True
    transposed: bool = False
    output_padding: Optional[tuple] = None


def _padding(call: Call, index: int, n: int):
    raw = call.value(index, "padding", 0)
    if raw in ("same", "valid"):
        return raw
    if isinstance(raw, str):
        return error("padding-invalid",
                     "Invalid padding string %r, should be one of {'same', 'valid'}" % raw,
                     blame="layer")
    return call.ints(index, "padding", n, default=0)


def check_config(spec: ConvSpec):
    """What the constructor (or F.conv's argument checks) rejects, or None."""
    g, cin, cout = spec.groups, spec.in_channels, spec.out_channels
    if is_int(g) and g <= 0:
        return error("conv-in-channels", "groups must be a positive integer", blame="layer")
    if is_int(g) and is_int(cin) and cin % g:
        return error("conv-in-channels", "in_channels must be divisible by groups "
                     "(in_channels=%d, groups=%d)" % (cin, g), blame="layer")
    if is_int(g) and is_int(cout) and cout % g:
        return error("conv-in-channels", "out_channels must be divisible by groups "
                     "(out_channels=%d, groups=%d)" % (cout, g), blame="layer")
    if spec.padding == "same" and spec.stride and any(is_int(s) and s != 1 for s in spec.stride):
        return error("padding-invalid", "padding='same' is not supported for strided "
                     "convolutions; use an explicit padding such as padding=%s"
                     % _same_hint(spec), blame="layer")
    return None


def _same_hint(spec: ConvSpec) -> str:
    if spec.kernel and spec.dilation and all(is_int(k) for k in spec.kernel):
        pads = [d * (k - 1) // 2 if is_int(d) else None for k, d in zip(spec.kernel, spec.dilation)]
        if all(p is not None for p in pads):
            return str(pads[0]) if len(set(pads)) == 1 else str(tuple(pads))
    return "k//2"


def _out_size(spec: ConvSpec, size, i: int):
    """(output size, padded input size, effective kernel) of spatial dim i; None if unknown."""
    k = spec.kernel[i] if spec.kernel else None
    s = spec.stride[i] if spec.stride else None
    d = spec.dilation[i] if spec.dilation else None
    if k is None or d is None:
        return None, None, None
    eff = d * (k - 1) + 1 if is_int(k) and is_int(d) else None
    if spec.transposed:
        p = spec.padding[i] if isinstance(spec.padding, tuple) else None
        op = spec.output_padding[i] if spec.output_padding else 0
        if None in (size, s, p, op):
            return None, None, eff
        return (size - 1) * s - 2 * p + d * (k - 1) + op + 1, None, eff
    if spec.padding == "same":
        return size, None, eff
    p = 0 if spec.padding == "valid" else (spec.padding[i] if spec.padding else None)
    if size is None or p is None or s is None:
        return None, None, eff
    padded = size + 2 * p
    return floordiv(padded - d * (k - 1) - 1, s) + 1, padded, eff


def conv_forward(spec: ConvSpec, x: Tensor, op: str):
    """Apply a conv spec to an input tensor: output Tensor or ShapeError."""
    n = spec.n
    if x.shape is None:
        return Tensor(None, x.dtype)
    shape = x.shape
    if len(shape) not in (n + 1, n + 2):
        return error("rank-mismatch", "Expected %dD (unbatched) or %dD (batched) input to %s, "
                     "but got input of size: %s" % (n + 1, n + 2, op, format_shape(shape)))
    batched = len(shape) == n + 2
    full = shape if batched else (1,) + shape
    c = full[1]
    cin, g = spec.in_channels, spec.groups
    expected = cin if not spec.transposed else cin
    if c is not None and expected is not None and definitely_ne(c, expected):
        weight = _weight_shape(spec)
        what = "transposed=1" if spec.transposed else "groups=%s" % format_dim(g)
        fix = FixHint("in_channels", c, 0)
        hint = ""
        if batched and n == 2 and shape[-1] == expected and not definitely_ne(shape[-1], expected):
            hint = (" The last dim is %s: the input looks channels-last (NHWC); convolutions "
                    "take NCHW, e.g. x.permute(0, 3, 1, 2)." % format_dim(expected))
        return error("conv-in-channels",
                     "Given %s, weight of size %s, expected input%s to have %s channels, but got "
                     "%s channels instead. The layer is built for in_channels=%s but the input "
                     "has %s channels: set in_channels to %s, or fix the input.%s"
                     % (what, format_shape(weight), format_shape(full), format_dim(expected),
                        format_dim(c), format_dim(expected), format_dim(c), format_dim(c), hint),
                     fix=fix)
    if spec.padding not in ("same", "valid") and isinstance(spec.padding, tuple):
        if any(is_int(p) and p < 0 for p in spec.padding):
            return error("padding-invalid", "negative padding is not supported: padding=%s"
                         % _fmt_tuple(spec.padding), blame="layer")
    if spec.stride and any(is_int(s) and s <= 0 for s in spec.stride):
        return error("padding-invalid", "non-positive stride is not supported: stride=%s"
                     % _fmt_tuple(spec.stride), blame="layer")
    if spec.kernel and any(is_int(k) and k <= 0 for k in spec.kernel):
        return error("spatial-collapse", "kernel size should be greater than zero, but got "
                     "kernel_size=%s" % _fmt_tuple(spec.kernel), blame="layer")
    if spec.transposed and spec.output_padding and spec.stride and spec.dilation:
        for op_, s, d in zip(spec.output_padding, spec.stride, spec.dilation):
            if is_int(op_) and is_int(s) and is_int(d) and op_ >= s and op_ >= d:
                return error("padding-invalid", "output padding must be smaller than either "
                             "stride or dilation, but got output_padding=%s, stride=%s, "
                             "dilation=%s" % (_fmt_tuple(spec.output_padding),
                                              _fmt_tuple(spec.stride), _fmt_tuple(spec.dilation)),
                             blame="layer")
    spatial = full[2:]
    outs, padded, effs = [], [], []
    for i, size in enumerate(spatial):
        o, pad_in, eff = _out_size(spec, size, i)
        outs.append(o)
        padded.append(pad_in)
        effs.append(eff)
    if not spec.transposed and all(is_int(p) for p in padded) and all(is_int(e) for e in effs):
        if any(p < e for p, e in zip(padded, effs)):
            return error("spatial-collapse",
                         "Calculated padded input size per channel: (%s). Kernel size: (%s). "
                         "Kernel size can't be greater than actual input size. The input %s is "
                         "too small for this kernel: pad it, use a smaller kernel or dilation, or "
                         "downsample less before this layer."
                         % (" x ".join(map(str, padded)), " x ".join(map(str, effs)),
                            format_shape(shape)), detail="spatial")
    # A transposed conv may give an empty (size 0) output; negative sizes are rejected.
    if any(is_int(o) and (o < 0 if spec.transposed else o <= 0) for o in outs):
        return error("spatial-collapse", "Given input size %s, calculated output size %s is too "
                     "small" % (format_shape(shape), _fmt_tuple(tuple(outs))), detail="spatial")
    if spec.transposed:
        # A size-0 output is accepted by some backends and rejected by others (CPU vs meta in
        # torch 2.13): not an error the analysis can promise, and not a size it can promise.
        outs = [None if o == 0 else o for o in outs]
    out_shape = ((full[0],) if batched else ()) + (spec.out_channels,) + tuple(outs)
    return x.with_shape(out_shape)


def _weight_shape(spec: ConvSpec):
    cin, cout, g = spec.in_channels, spec.out_channels, spec.groups
    k = spec.kernel or (None,) * spec.n
    if spec.transposed:
        per = floordiv(cout, g) if cout is not None and g is not None else None
        return (cin, per) + tuple(k)
    per = floordiv(cin, g) if cin is not None and g is not None else None
    return (cout, per) + tuple(k)


def _fmt_tuple(t) -> str:
    if t is None:
        return "?"
    if isinstance(t, str):
        return repr(t)
    return "(" + ", ".join(format_dim(x) for x in t) + ("," if len(t) == 1 else "") + ")"


@layer("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
       "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
       "LazyConvTranspose3d")
class ConvLayer(LayerRule):
    def build(self, kind: str, call: Call):
        n = int(kind[-2])
        transposed = "Transpose" in kind
        lazy = kind.startswith("Lazy")
        # Lazy convs infer in_channels at the first call: no in_channels argument.
        shift = -1 if lazy else 0
        cin = None if lazy else call.int(0, "in_channels")
        cout = call.int(1 + shift, "out_channels")
        kernel = call.ints(2 + shift, "kernel_size", n)
        stride = call.ints(3 + shift, "stride", n, default=1)
        if transposed:
            padding = call.ints(4 + shift, "padding", n, default=0)
            output_padding = call.ints(5 + shift, "output_padding", n, default=0)
            groups = call.int(6 + shift, "groups", 1)
            bias = call.value(7 + shift, "bias", True)
            dilation = call.ints(8 + shift, "dilation", n, default=1)
        else:
            padding = _padding(call, 4 + shift, n)
            if not isinstance(padding, (tuple, str)) and padding is not None:
                return padding  # ShapeError from an invalid padding string
            output_padding = None
            dilation = call.ints(5 + shift, "dilation", n, default=1)
            groups = call.int(6 + shift, "groups", 1)
            bias = call.value(7 + shift, "bias", True)
        spec = ConvSpec(n, cin, cout, kernel, stride, padding, dilation, groups, bias,
                        transposed, output_padding)
        return check_config(spec) or spec

    def forward(self, spec: ConvSpec, call: Call):
        x = call.tensor(0, "input")
        if x is None:
            return None
        if spec.in_channels is None and x.shape is not None and len(x.shape) >= spec.n + 1:
            # Lazy conv (or an in_channels the analysis could not see): fixed by the input.
            if spec.kernel is not None and spec.in_channels is None:
                spec = replace(spec, in_channels=x.shape[-spec.n - 1])
        op = ("conv_transpose%dd" if spec.transposed else "conv%dd") % spec.n
        return conv_forward(spec, x, op)

    def params(self, spec: ConvSpec):
        w = _weight_shape(spec)
        if not all(is_int(d) for d in w):
            return None
        total = prod(w)
        if spec.bias is True:
            total += spec.out_channels
        return total

    def attribute(self, spec: ConvSpec, name: str):
        """``conv.out_channels``, ``conv.kernel_size`` (a tuple, as torch stores it),
        ``conv.weight``..., when known."""
        if name in ("in_channels", "out_channels", "groups"):
            v = getattr(spec, name)
            return Const(v) if v is not None else None
        tuples = {"kernel_size": spec.kernel, "stride": spec.stride, "dilation": spec.dilation,
                  "padding": spec.padding, "output_padding": spec.output_padding if
                  spec.transposed else None}
        if name in tuples:
            v = tuples[name]
            if isinstance(v, str):
                return Const(v)
            return TupleVal(tuple(Const(d) for d in v)) if v is not None and all(
                d is not None for d in v) else None
        if name == "weight":
            return Tensor(_weight_shape(spec), "float")
        if name == "bias":
            if spec.bias is True:
                return Tensor((spec.out_channels,), "float")
            return Const(None) if spec.bias is False or spec.bias is None else None
        return None

    def config(self, spec: ConvSpec):
        out = [("in_channels", format_dim(spec.in_channels)),
               ("out_channels", format_dim(spec.out_channels)),
               ("kernel_size", _fmt_tuple(spec.kernel)),
               ("stride", _fmt_tuple(spec.stride)),
               ("padding", _fmt_tuple(spec.padding))]
        if spec.dilation and any(d != 1 for d in spec.dilation):
            out.append(("dilation", _fmt_tuple(spec.dilation)))
        if spec.groups != 1:
            out.append(("groups", format_dim(spec.groups)))
        if spec.transposed and spec.output_padding and any(spec.output_padding):
            out.append(("output_padding", _fmt_tuple(spec.output_padding)))
        if spec.bias is not True:
            out.append(("bias", str(spec.bias)))
        return tuple(out)

    def arithmetic(self, spec: ConvSpec, input_shape):
        if input_shape is None or len(input_shape) < spec.n + 1:
            return ()
        lines = []
        for i, size in enumerate(input_shape[-spec.n:]):
            out, _, _ = _out_size(spec, size, i)
            k = spec.kernel[i] if spec.kernel else None
            s = spec.stride[i] if spec.stride else None
            d = spec.dilation[i] if spec.dilation else None
            name = SPATIAL_NAMES[spec.n][i]
            f = format_dim
            if spec.transposed:
                p = spec.padding[i] if isinstance(spec.padding, tuple) else None
                op = spec.output_padding[i] if spec.output_padding else 0
                text = "(%s − 1)·%s − 2·%s + %s·(%s − 1) + %s + 1" % (
                    f(size), f(s), f(p), f(d), f(k), f(op))
            elif spec.padding == "same":
                text = "%s (padding='same')" % f(size)
            else:
                p = 0 if spec.padding == "valid" else (spec.padding[i] if spec.padding else None)
                text = "⌊(%s + 2·%s − %s·(%s − 1) − 1) / %s⌋ + 1" % (
                    f(size), f(p), f(d), f(k), f(s))
            lines.append("%s: %s = %s" % (name, text, f(out)))
        return tuple(lines)

    def expected_input(self, spec: ConvSpec):
        c = spec.in_channels if spec.in_channels is not None else sym("C")
        return (sym("N"), c) + tuple(sym(s) for s in SPATIAL_NAMES[spec.n])

    def keep_padding(self, spec: ConvSpec):
        if spec.transposed or not spec.kernel or not spec.dilation or not spec.stride:
            return None
        if any(not is_int(s) or s != 1 for s in spec.stride):
            return None
        pads = []
        for k, d in zip(spec.kernel, spec.dilation):
            if not (is_int(k) and is_int(d)):
                return None
            total = d * (k - 1)
            if total % 2:
                return ("same", replace(spec, padding="same"))
            pads.append(total // 2)
        keep = pads[0] if len(set(pads)) == 1 else tuple(pads)
        return keep, replace(spec, padding=tuple(pads))


def _functional_conv(call: Call, n: int, transposed: bool):
    """F.conv{n}d(input, weight, bias, stride, padding, dilation, groups) and
    F.conv_transpose{n}d(input, weight, bias, stride, padding, output_padding, groups,
    dilation): the layer spec comes from the weight's shape."""
    x = call.tensor(0, "input")
    w = call.tensor(1, "weight")
    if x is None or w is None:
        return None
    if w.shape is None:
        return Tensor(None, x.dtype)
    if len(w.shape) != n + 2:
        return error("rank-mismatch", "weight should have %d dimensions for conv%dd, but got "
                     "weight of size %s" % (n + 2, n, format_shape(w.shape)))
    groups = call.int(6, "groups", 1)
    stride = call.ints(3, "stride", n, default=1)
    if transposed:
        padding = call.ints(4, "padding", n, default=0)
        output_padding = call.ints(5, "output_padding", n, default=0)
        dilation = call.ints(7, "dilation", n, default=1)
        cin = w.shape[0]
        cout = w.shape[1] * groups if w.shape[1] is not None and groups is not None else None
    else:
        padding = _padding(call, 4, n)
        if not isinstance(padding, (tuple, str)) and padding is not None:
            return padding
        output_padding = None
        dilation = call.ints(5, "dilation", n, default=1)
        cin = w.shape[1] * groups if w.shape[1] is not None and groups is not None else None
        cout = w.shape[0]
    spec = ConvSpec(n, cin, cout, tuple(w.shape[2:]), stride, padding, dilation, groups,
                    call.has(2, "bias"), transposed, output_padding)
    op = ("conv_transpose%dd" if transposed else "conv%dd") % n
    return check_config(spec) or conv_forward(spec, x, op)


@function("torch.nn.functional.conv1d", "torch.conv1d")
def f_conv1d(call):
    return _functional_conv(call, 1, False)


@function("torch.nn.functional.conv2d", "torch.conv2d")
def f_conv2d(call):
    return _functional_conv(call, 2, False)


@function("torch.nn.functional.conv3d", "torch.conv3d")
def f_conv3d(call):
    return _functional_conv(call, 3, False)


@function("torch.nn.functional.conv_transpose1d", "torch.conv_transpose1d")
def f_conv_transpose1d(call):
    return _functional_conv(call, 1, True)


@function("torch.nn.functional.conv_transpose2d", "torch.conv_transpose2d")
def f_conv_transpose2d(call):
    return _functional_conv(call, 2, True)


@function("torch.nn.functional.conv_transpose3d", "torch.conv_transpose3d")
def f_conv_transpose3d(call):
    return _functional_conv(call, 3, True)


__all__ = ["ConvSpec", "ConvLayer", "conv_forward", "UNKNOWN"]
