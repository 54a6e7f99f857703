"""MaxPool/AvgPool/LPPool 1d/2d/3d and AdaptiveAvg/MaxPool 1d/2d/3d, module and functional forms.

Output size per spatial dim (ATen ``pooling_output_shape``):
    ⌊(in + 2·padding − dilation·(kernel − 1) − 1 [+ stride − 1 with ceil_mode]) / stride⌋ + 1
and with ``ceil_mode`` one less when the last window would start beyond the input and its left
padding (``(out − 1)·stride ≥ in + padding``).

Checks, as ATen makes them: stride ≠ 0, 0 ≤ padding ≤ ⌊effective kernel / 2⌋ and ≤ ⌊kernel / 2⌋,
kernel/stride/dilation > 0, input 2-D/3-D (1d), 3-D/4-D (2d) or 4-D/5-D (3d), output ≥ 1, and for
AvgPool3d the unpadded input at least the kernel.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

from ..dims import definitely_ne, floordiv, format_dim, is_int, sym
from ..errors import error
from ..values import Const, ListVal, Tensor, TupleVal, format_shape
from . import LayerRule, function, layer
from .call import MISSING, UNKNOWN, Call, as_int
from .common import bool_arg, fmt_x
from .conv import SPATIAL_NAMES, _fmt_tuple


@dataclass(frozen=True)
class PoolSpec:
    op: str                          # "max", "avg" or "lp"
    n: int                           # spatial dims
    kernel: Optional[tuple]
    stride: Optional[tuple]
    padding: Optional[tuple]
    dilation: Optional[tuple]
    ceil_mode: object = False        # bool, or UNKNOWN
    return_indices: object = False
    norm_type: object = None         # LPPool


@dataclass(frozen=True)
class AdaptiveSpec:
    op: str                          # "max" or "avg"
    n: int
    output_size: Optional[tuple]     # entries: dim, KEEP (None in torch: keep the input size), None
    return_indices: object = False


KEEP = "keep"


def _stride(call: Call, index: int, n: int, kernel):
    """stride=None (or an empty list in F.*) means stride = kernel_size."""
    v = call.get(index, "stride")
    if v is MISSING or (type(v) is Const and v.value is None):
        return kernel
    if type(v) in (TupleVal, ListVal) and not v.items:
        return kernel
    return call.ints(index, "stride", n)


def pool_output_size(size, k, s, p, d, ceil_mode):
    """One spatial output size (ATen ``pooling_output_shape``); None when unknown."""
    if None in (size, k, s, p, d) or ceil_mode is UNKNOWN:
        return None
    if not (is_int(k) and is_int(s) and is_int(p) and is_int(d)) or s <= 0:
        return None
    span = d * (k - 1) + 1
    if not ceil_mode:
        return floordiv(size + 2 * p - span, s) + 1
    out = floordiv(size + 2 * p - span + s - 1, s) + 1
    if is_int(size):
        return out - 1 if (out - 1) * s >= size + p else out
    # (out - 1)·s ≤ size + 2p − span + s − 1, so the last window starts inside when
    # p + s − 1 − span < 0 for every size; otherwise it depends on the size.
    return out if p + s - 1 - span < 0 else None


def check_pool(spec: PoolSpec, x: Tensor, op_name: str):
    """Output Tensor of a pool spec applied to ``x``, or ShapeError."""
    n = spec.n
    shape = x.shape
    ks, ss, ps, ds = spec.kernel, spec.stride, spec.padding, spec.dilation
    # Config checks (they do not depend on the input).
    if ss and any(is_int(s) and s == 0 for s in ss):
        return error("padding-invalid", "stride should not be zero. Use a stride of at least "
                     "1 (stride=None means stride = kernel_size).", blame="layer")
    if ps and any(is_int(p) and p < 0 for p in ps):
        bad = next(p for p in ps if is_int(p) and p < 0)
        return error("padding-invalid", "pad must be non-negative, but got pad: %d" % bad,
                     blame="layer")
    if ks and ps and ds:
        for k, p, d in zip(ks, ps, ds):
            if is_int(k) and is_int(p) and is_int(d):
                if p > (d * (k - 1) + 1) // 2:
                    return error("padding-invalid", "pad should be at most half of effective "
                                 "kernel size, but got pad=%d, kernel_size=%d and dilation=%d. "
                                 "Use padding at most %d for this kernel."
                                 % (p, k, d, k // 2 if k > 0 else 0), blame="layer")
    if ks and any(is_int(k) and k <= 0 for k in ks):
        return error("spatial-collapse", "kernel size should be greater than zero, but got "
                     "kernel_size=%s" % _fmt_tuple(ks), blame="layer")
    if ss and any(is_int(s) and s < 0 for s in ss):
        return error("padding-invalid", "stride should be greater than zero, but got stride=%s"
                     % _fmt_tuple(ss), blame="layer")
    if ds and any(is_int(d) and d <= 0 for d in ds):
        return error("padding-invalid", "dilation should be greater than zero, but got "
                     "dilation=%s" % _fmt_tuple(ds), blame="layer")
    if ks and ps:
        for k, p in zip(ks, ps):
            if is_int(k) and is_int(p) and p > k // 2:
                return error("padding-invalid", "pad should be smaller than or equal to half of "
                             "kernel size, but got padding=%s, kernel_size=%s. Use padding at "
                             "most %d for this kernel." % (_fmt_tuple(ps), _fmt_tuple(ks), k // 2),
                             blame="layer")
    if shape is None:
        return Tensor(None, x.dtype)
    if len(shape) not in (n + 1, n + 2):
        return error("rank-mismatch", "%s: Expected %dD or %dD (batch mode) tensor for input, "
                     "but got: %s. A %dd pool takes [N, C, %s] or [C, %s]."
                     % (op_name, n + 1, n + 2, format_shape(shape), n,
                        ", ".join(SPATIAL_NAMES[n]), ", ".join(SPATIAL_NAMES[n])))
    if any(is_int(d) and d == 0 for d in shape[len(shape) - n - 1:]):
        return error("spatial-collapse", "Expected %dD or %dD (batch mode) tensor with optional 0 "
                     "dim batch size for input, but got: %s" % (n + 1, n + 2, format_shape(shape)),
                     detail="spatial")
    spatial = shape[-n:]
    if spec.op == "avg" and n == 3 and ks and all(is_int(k) for k in ks) \
            and all(is_int(v) for v in spatial) and any(v < k for v, k in zip(spatial, ks)):
        return error("spatial-collapse", "input image (T: %d H: %d W: %d) smaller than kernel size "
                     "(kT: %d kH: %d kW: %d). AvgPool3d needs the unpadded input to be at least "
                     "the kernel size." % (tuple(spatial) + tuple(ks)), detail="spatial")
    outs = []
    for i, size in enumerate(spatial):
        outs.append(pool_output_size(size, ks[i] if ks else None, ss[i] if ss else None,
                                     ps[i] if ps else None, ds[i] if ds else None,
                                     spec.ceil_mode))
    if any(is_int(o) and o < 1 for o in outs):
        planes = shape[-n - 1]
        return error("spatial-collapse",
                     "Given input size: (%s). Calculated output size: (%s). Output size is too "
                     "small. The input %s is too small for kernel_size=%s, stride=%s: pad it, "
                     "use a smaller kernel or stride, or downsample less before this layer."
                     % (fmt_x((planes,) + tuple(spatial)), fmt_x((planes,) + tuple(outs)),
                        format_shape(shape), _fmt_tuple(ks), _fmt_tuple(ss)), detail="spatial")
    out = x.with_shape(tuple(shape[:-n]) + tuple(outs))
    if spec.return_indices is True:
        return TupleVal((out, out.with_shape(out.shape, "long")))
    return out


def adaptive_forward(spec: AdaptiveSpec, x: Tensor, op_name: str):
    n = spec.n
    shape = x.shape
    if shape is None:
        out = Tensor(None, x.dtype)
    elif spec.op == "avg" and n > 1 and spec.output_size is not None and len(shape) >= n and all(
            (o == KEEP and shape[-n + i] == 1) or (is_int(o) and o == 1)
            for i, o in enumerate(spec.output_size)):
        # adaptive_avg_pool2d/3d to size 1 is a mean over the last n dims: any rank >= n.
        out = x.with_shape(tuple(shape[:-n]) + (1,) * n)
    else:
        if len(shape) not in (n + 1, n + 2):
            if spec.op == "avg" and n > 1 and spec.output_size is not None and len(shape) >= n \
                    and all((o == KEEP and not definitely_ne(shape[-n + i], 1))
                            or (is_int(o) and o == 1) for i, o in enumerate(spec.output_size)):
                return Tensor(None, x.dtype)  # a size-1 output may make it a mean: any rank
            return error("rank-mismatch", "%s(): Expected %dD or %dD tensor, but got %s"
                         % (op_name, n + 1, n + 2, format_shape(shape)))
        for i in range(1, len(shape)):
            if is_int(shape[i]) and shape[i] == 0:
                return error("spatial-collapse", "%s(): Expected input to have non-zero size for "
                             "non-batch dimensions, but input has sizes %s with dimension %d being "
                             "empty" % (op_name, format_shape(shape), i), detail="spatial")
        if spec.output_size is None:
            outs = (None,) * n
        else:
            outs = tuple(shape[-n + i] if o == KEEP else o for i, o in enumerate(spec.output_size))
        if any(is_int(o) and o < 0 for o in outs):
            return error("spatial-collapse", "Trying to create tensor with negative dimension %d: "
                         "output_size=%s" % (min(o for o in outs if is_int(o)),
                                             _fmt_tuple(outs)), blame="layer")
        out = x.with_shape(tuple(shape[:-n]) + outs)
    if spec.return_indices is True:
        return TupleVal((out, out.with_shape(out.shape, "long")))
    return out


def _output_size(call: Call, index: int, n: int):
    v = call.get(index, "output_size")
    items = v.items if type(v) in (TupleVal, ListVal) else (v,)
    if type(v) is Const and v.value is None and n >= 1:
        items = (v,) * n
    if len(items) == 1 and n > 1:
        items = items * n
    if len(items) != n:
        return None
    out = []
    for it in items:
        if type(it) is Const and it.value is None:
            out.append(KEEP)
        else:
            out.append(as_int(it))
    return tuple(out)


_POOL_NAMES = {"max": "max_pool%dd", "avg": "avg_pool%dd", "lp": "lp_pool%dd"}


def _pool_arithmetic(spec: PoolSpec, input_shape):
    if input_shape is None or len(input_shape) < spec.n + 1:
        return ()
    lines = []
    f = format_dim
    for i, size in enumerate(input_shape[-spec.n:]):
        k = spec.kernel[i] if spec.kernel else None
        s = spec.stride[i] if spec.stride else None
        p = spec.padding[i] if spec.padding else None
        d = spec.dilation[i] if spec.dilation else None
        out = pool_output_size(size, k, s, p, d, spec.ceil_mode)
        lo, hi = ("⌈", "⌉") if spec.ceil_mode is True else ("⌊", "⌋")
        text = "%s(%s + 2·%s − %s·(%s − 1) − 1) / %s%s + 1" % (lo, f(size), f(p), f(d), f(k),
                                                            f(s), hi)
        lines.append("%s: %s = %s" % (SPATIAL_NAMES[spec.n][i], text, f(out)))
    return tuple(lines)


@layer("MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
       "LPPool1d", "LPPool2d", "LPPool3d")
class PoolLayer(LayerRule):
    def build(self, kind: str, call: Call):
        n = int(kind[-2])
        op = "max" if kind.startswith("Max") else "avg" if kind.startswith("Avg") else "lp"
        if op == "lp":
            norm_type = call.value(0, "norm_type")
            kernel = call.ints(1, "kernel_size", n)
            stride = _stride(call, 2, n, kernel)
            ceil = bool_arg(call, 3, "ceil_mode", False)
            return PoolSpec("lp", n, kernel, stride, (0,) * n, (1,) * n, ceil, False, norm_type)
        kernel = call.ints(0, "kernel_size", n)
        stride = _stride(call, 1, n, kernel)
        padding = call.ints(2, "padding", n, default=0)
        if op == "max":
            dilation = call.ints(3, "dilation", n, default=1)
            ret = bool_arg(call, 4, "return_indices", False)
            ceil = bool_arg(call, 5, "ceil_mode", False)
        else:
            dilation = (1,) * n
            ret = False
            ceil = bool_arg(call, 3, "ceil_mode", False)
        return PoolSpec(op, n, kernel, stride, padding, dilation, ceil, ret)

    def forward(self, spec: PoolSpec, call: Call):
        x = call.tensor(0, "input")
        if x is None:
            return None
        return check_pool(spec, x, _POOL_NAMES[spec.op] % spec.n)

    def params(self, spec):
        return 0

    def config(self, spec: PoolSpec):
        out = [("kernel_size", _fmt_tuple(spec.kernel)), ("stride", _fmt_tuple(spec.stride))]
        if spec.op != "lp":
            out.append(("padding", _fmt_tuple(spec.padding)))
        else:
            out.insert(0, ("norm_type", str(spec.norm_type)))
        if spec.dilation and any(d != 1 for d in spec.dilation):
            out.append(("dilation", _fmt_tuple(spec.dilation)))
        if spec.ceil_mode is not False:
            out.append(("ceil_mode", str(spec.ceil_mode)))
        if spec.return_indices is True:
            out.append(("return_indices", "True"))
        return tuple(out)

    def arithmetic(self, spec: PoolSpec, input_shape):
        return _pool_arithmetic(spec, input_shape)

    def expected_input(self, spec: PoolSpec):
        return (sym("N"), sym("C")) + tuple(sym(s) for s in SPATIAL_NAMES[spec.n])

    def attribute(self, spec: PoolSpec, name: str):
        if name == "kernel_size" and spec.kernel:
            return _as_value(spec.kernel)
        if name == "stride" and spec.stride:
            return _as_value(spec.stride)
        if name == "padding" and spec.padding:
            return _as_value(spec.padding)
        return None

    def keep_padding(self, spec: PoolSpec):
        if spec.op == "lp" or not spec.kernel or not spec.stride or not spec.dilation:
            return None
        if any(not is_int(s) or s != 1 for s in spec.stride):
            return None
        pads = []
        for k, d in zip(spec.kernel, spec.dilation):
            if not (is_int(k) and is_int(d)) or (d * (k - 1)) % 2:
                return None
            pad = d * (k - 1) // 2
            if pad > k // 2:
                return None
            pads.append(pad)
        if spec.padding == tuple(pads):
            return None
        keep = pads[0] if len(set(pads)) == 1 else tuple(pads)
        return keep, replace(spec, padding=tuple(pads))


def _as_value(t):
    if len(set(t)) == 1:
        return Const(t[0])
    return TupleVal(tuple(Const(v) for v in t))


@layer("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
       "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d")
class AdaptivePoolLayer(LayerRule):
    def build(self, kind: str, call: Call):
        n = int(kind[-2])
        op = "max" if "Max" in kind else "avg"
        ret = bool_arg(call, 1, "return_indices", False) if op == "max" else False
        return AdaptiveSpec(op, n, _output_size(call, 0, n), ret)

    def forward(self, spec: AdaptiveSpec, call: Call):
        x = call.tensor(0, "input")
        if x is None:
            return None
        return adaptive_forward(spec, x, "adaptive_%s_pool%dd" % (spec.op, spec.n))

    def params(self, spec):
        return 0

    def config(self, spec: AdaptiveSpec):
        if spec.output_size is None:
            return (("output_size", "?"),)
        text = ", ".join("None" if o == KEEP else format_dim(o) for o in spec.output_size)
        return (("output_size", "(%s)" % text if spec.n > 1 else text),)

    def expected_input(self, spec: AdaptiveSpec):
        return (sym("N"), sym("C")) + tuple(sym(s) for s in SPATIAL_NAMES[spec.n])


# --------------------------------------------------------------------------- functional forms

def _f_pool(call: Call, op: str, n: int):
    x = call.tensor(0, "input")
    if x is None:
        return None
    if op == "lp":
        kernel = call.ints(2, "kernel_size", n)
        stride = _stride(call, 3, n, kernel)
        ceil = bool_arg(call, 4, "ceil_mode", False)
        spec = PoolSpec("lp", n, kernel, stride, (0,) * n, (1,) * n, ceil, False)
    else:
        kernel = call.ints(1, "kernel_size", n)
        stride = _stride(call, 2, n, kernel)
        padding = call.ints(3, "padding", n, default=0)
        if op == "max":
            dilation = call.ints(4, "dilation", n, default=1)
            ceil = bool_arg(call, 5, "ceil_mode", False)
            ret = bool_arg(call, 6, "return_indices", False)
            if call.name.endswith("_with_indices"):
                ret = True
        else:
            dilation = (1,) * n
            ceil = bool_arg(call, 4, "ceil_mode", False)
            ret = False
            if n > 1:
                div = call.int(6, "divisor_override", None)
                if is_int(div) and div == 0:
                    return error("padding-invalid", "divisor must be not zero", blame="layer")
        spec = PoolSpec(op, n, kernel, stride, padding, dilation, ceil, ret)
    return check_pool(spec, x, _POOL_NAMES[op] % n)


def _f_adaptive(call: Call, op: str, n: int):
    x = call.tensor(0, "input")
    if x is None:
        return None
    ret = False
    if op == "max":
        ret = bool_arg(call, 2, "return_indices", False)
        if call.name.endswith("_with_indices") or call.name.startswith("torch.adaptive_max"):
            ret = True
    return adaptive_forward(AdaptiveSpec(op, n, _output_size(call, 1, n), ret), x,
                            "adaptive_%s_pool%dd" % (op, n))


def _register():
    for n in (1, 2, 3):
        for op in ("max", "avg", "lp"):
            names = ["torch.nn.functional.%s_pool%dd" % (op, n)]
            if op == "max":
                names += ["torch.max_pool%dd" % n,
                          "torch.nn.functional.max_pool%dd_with_indices" % n]
                if n == 1:
                    names.append("torch.max_pool1d_with_indices")
            if op == "avg" and n == 1:
                names.append("torch.avg_pool1d")
            if op == "avg" and n > 1:
                names.append("torch._C._nn.avg_pool%dd" % n)
            function(*names)(lambda call, op=op, n=n: _f_pool(call, op, n))
        for op in ("max", "avg"):
            names = ["torch.nn.functional.adaptive_%s_pool%dd" % (op, n)]
            if op == "max":
                names.append("torch.nn.functional.adaptive_max_pool%dd_with_indices" % n)
            if n == 1:
                names.append("torch.adaptive_%s_pool1d" % op)
            function(*names)(lambda call, op=op, n=n: _f_adaptive(call, op, n))


_register()

__all__ = ["PoolSpec", "AdaptiveSpec", "PoolLayer", "AdaptivePoolLayer", "check_pool",
           "pool_output_size", "adaptive_forward"]
