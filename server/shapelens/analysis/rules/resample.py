"""Upsample/UpsamplingNearest2d/UpsamplingBilinear2d, F.interpolate/upsample/upsample_nearest/
upsample_bilinear, PixelShuffle/PixelUnshuffle and F.pixel_shuffle/pixel_unshuffle,
ChannelShuffle/F.channel_shuffle, F.grid_sample and F.affine_grid.

Interpolation keeps [N, C] and resizes each spatial dim to ``size`` or to
``⌊in · scale_factor⌋`` (computed in double precision, as torch does).  Modes fix the rank:
linear 3-D, bilinear/bicubic 4-D, trilinear 5-D, nearest/area/nearest-exact 3-D to 5-D.
PixelShuffle(r): [*, C·r², H, W] -> [*, C, H·r, W·r]; PixelUnshuffle(r) is its inverse.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..dims import divide_exact, format_dim, is_int, mul
from ..errors import error
from ..values import Const, ListVal, Tensor, TupleVal
from . import LayerRule, function, layer
from .call import MISSING, UNKNOWN, Call, as_int
from .common import fmt_list

_MODE_RANK = {"linear": (3,), "bilinear": (4,), "bicubic": (4,), "trilinear": (5,),
              "nearest": (3, 4, 5), "area": (3, 4, 5), "nearest-exact": (3, 4, 5)}
_INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")


@dataclass(frozen=True)
class InterpSpec:
    size: object = None            # None (not given), UNKNOWN, an int/Sym, or a tuple
    scale: object = None           # None, UNKNOWN, a number, or a tuple of numbers
    mode: object = "nearest"
    align_corners: object = None
    antialias: object = False


def _size_value(v):
    if v is MISSING or (type(v) is Const and v.value is None):
        return None
    if type(v) in (TupleVal, ListVal):
        return tuple(as_int(i) for i in v.items)
    d = as_int(v)
    return d if d is not None else UNKNOWN


def _scale_value(v):
    if v is MISSING or (type(v) is Const and v.value is None):
        return None
    if type(v) is Const and isinstance(v.value, (int, float)) and not isinstance(v.value, bool):
        return float(v.value)
    if type(v) in (TupleVal, ListVal):
        out = []
        for i in v.items:
            if type(i) is Const and isinstance(i.value, (int, float)):
                out.append(float(i.value))
            else:
                out.append(None)
        return tuple(out)
    return UNKNOWN


def _scaled(size, scale):
    """⌊size · scale⌋ like torch (double product truncated); None when unknown."""
    if size is None or scale is None:
        return None
    if is_int(size):
        return int(math.floor(float(size) * scale))
    if float(scale).is_integer():
        return mul(size, int(scale))
    return None


def interpolate(spec: InterpSpec, x: Tensor):
    mode = spec.mode
    if isinstance(mode, str) and mode in ("nearest", "area", "nearest-exact") \
            and spec.align_corners not in (None, UNKNOWN):
        return error("runtime-error", "align_corners option can only be set with the interpolating "
                     "modes: linear | bilinear | bicubic | trilinear", blame="layer")
    if spec.size is not None and spec.scale is not None:
        return error("runtime-error", "only one of size or scale_factor should be defined",
                     blame="layer")
    if spec.size is None and spec.scale is None:
        return error("runtime-error", "either size or scale_factor should be defined",
                     blame="layer")
    shape = x.shape
    if shape is None:
        return Tensor(None, x.dtype)
    rank = len(shape)
    n = rank - 2
    spatial = tuple(shape[2:]) if n > 0 else ()
    if isinstance(spec.size, tuple) and len(spec.size) != n and n >= 0:
        return error("rank-mismatch", "Input and output must have the same number of spatial "
                     "dimensions, but got input with spatial dimensions of %s and output size of "
                     "%s. Please provide input tensor in (N, C, d1, d2, ...,dK) format and output "
                     "size in (o1, o2, ...,oK) format." % (fmt_list(spatial), _tup(spec.size)))
    if isinstance(spec.scale, tuple) and len(spec.scale) != n and n >= 0:
        return error("rank-mismatch", "Input and scale_factor must have the same number of spatial "
                     "dimensions, but got input with spatial dimensions of %s and scale_factor of "
                     "shape %s." % (fmt_list(spatial), _tup(spec.scale)))
    if spec.antialias is True and not (mode in ("bilinear", "bicubic", "lanczos") and rank == 4):
        return error("rank-mismatch", "Anti-alias option is restricted to bilinear, bicubic, and "
                     "lanczos modes and requires a 4-D tensor as input")
    if isinstance(mode, str):
        allowed = _MODE_RANK.get(mode)
        if allowed is None or rank not in allowed:
            if allowed is not None and 3 <= rank <= 5 and len(allowed) == 1:
                return error("rank-mismatch", "Got %dD input, but %s mode needs %dD input"
                             % (rank, mode, allowed[0]))
            return error("rank-mismatch", "Input Error: Only 3D, 4D and 5D input Tensors supported "
                         "(got %dD) for the modes: nearest | linear | bilinear | bicubic | "
                         "trilinear | lanczos | area | nearest-exact (got %s)" % (rank, mode))
    elif rank not in (3, 4, 5):
        return error("rank-mismatch", "Input Error: Only 3D, 4D and 5D input Tensors supported "
                     "(got %dD)" % rank)
    if spec.size is not None:
        if spec.size is UNKNOWN:
            outs = (None,) * n
        elif isinstance(spec.size, tuple):
            outs = spec.size
        else:
            outs = (spec.size,) * n
    else:
        if spec.scale is UNKNOWN:
            outs = (None,) * n
        else:
            scales = spec.scale if isinstance(spec.scale, tuple) else (spec.scale,) * n
            outs = tuple(_scaled(s, f) for s, f in zip(spatial, scales))
    if mode != "area" and any(is_int(o) and o <= 0 for o in outs):
        names = ("D", "H", "W")[3 - n:] if n <= 3 else ()
        return error("spatial-collapse", ("Input and output sizes should be greater than 0, but "
                                          "got input (%s)" + (" and" if n == 1 else "")
                                          + " output (%s)")
                     % (", ".join("%s: %s" % (k, format_dim(v)) for k, v in zip(names, spatial)),
                        ", ".join("%s: %s" % (k, format_dim(v)) for k, v in zip(names, outs))),
                     detail="spatial")
    return x.with_shape(tuple(shape[:2]) + tuple(outs))


def _tup(t) -> str:
    return "(" + ", ".join("?" if v is None else str(v) for v in t) + ("," if len(t) == 1 else "") \
        + ")"


def _read(call: Call, first: int, mode_default="nearest", bilinear=False):
    """size, scale_factor, mode, align_corners, antialias from positions first..first+5."""
    size = _size_value(call.get(first, "size"))
    scale = _scale_value(call.get(first + 1, "scale_factor"))
    if bilinear:
        return InterpSpec(size, scale, "bilinear", True)
    mode = call.value(first + 2, "mode", mode_default)
    if not isinstance(mode, str):
        mode = UNKNOWN
    align = call.value(first + 3, "align_corners", None)
    antialias = call.value(first + 5, "antialias", False)
    return InterpSpec(size, scale, mode, align, antialias if antialias in (True, False)
                      else UNKNOWN)


@layer("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d")
class UpsampleLayer(LayerRule):
    def build(self, kind: str, call: Call):
        if kind == "UpsamplingNearest2d":
            return InterpSpec(_size_value(call.get(0, "size")),
                              _scale_value(call.get(1, "scale_factor")), "nearest")
        return _read(call, 0, bilinear=kind == "UpsamplingBilinear2d")

    def forward(self, spec: InterpSpec, call: Call):
        x = call.tensor(0, "input")
        if x is None:
            return None
        return interpolate(spec, x)

    def params(self, spec):
        return 0

    def config(self, spec: InterpSpec):
        out = []
        if spec.size is not None:
            out.append(("size", "?" if spec.size is UNKNOWN else
                        _tup(spec.size) if isinstance(spec.size, tuple) else format_dim(spec.size)))
        if spec.scale is not None:
            out.append(("scale_factor", "?" if spec.scale is UNKNOWN else
                        _tup(spec.scale) if isinstance(spec.scale, tuple) else str(spec.scale)))
        out.append(("mode", str(spec.mode) if spec.mode is not UNKNOWN else "?"))
        return tuple(out)


@function("torch.nn.functional.interpolate", "torch.nn.functional.upsample")
def f_interpolate(call: Call):
    x = call.tensor(0, "input")
    if x is None:
        return None
    return interpolate(_read(call, 1), x)


@function("torch.nn.functional.upsample_nearest", "torch.nn.functional.upsample_bilinear")
def f_upsample_fixed(call: Call):
    x = call.tensor(0, "input")
    if x is None:
        return None
    size = _size_value(call.get(1, "size"))
    scale = _scale_value(call.get(2, "scale_factor"))
    if call.name.endswith("bilinear"):
        return interpolate(InterpSpec(size, scale, "bilinear", True), x)
    return interpolate(InterpSpec(size, scale, "nearest"), x)


# --------------------------------------------------------------------------- pixel shuffle

def pixel_shuffle(x: Tensor, r, unshuffle: bool):
    op = "pixel_unshuffle" if unshuffle else "pixel_shuffle"
    what = "downscale_factor" if unshuffle else "upscale_factor"
    if is_int(r) and r <= 0:
        return error("shape-mismatch", "%s expects a positive %s, but got %d" % (op, what, r),
                     blame="layer")
    s = x.shape
    if s is None:
        return Tensor(None, x.dtype)
    if len(s) < 3:
        return error("rank-mismatch", "%s expects input to have at least 3 dimensions, but got "
                     "input with %d dimension(s)" % (op, len(s)))
    c, h, w = s[-3], s[-2], s[-1]
    if r is None:
        return x.with_shape(tuple(s[:-3]) + (None, None, None))
    if unshuffle:
        for name, v, idx in (("height", h, -2), ("width", w, -1)):
            if is_int(v) and is_int(r) and v % r:
                return error("shape-mismatch", "pixel_unshuffle expects %s to be divisible by "
                             "downscale_factor, but input.size(%d)=%d is not divisible by %d"
                             % (name, idx, v, r))
        return x.with_shape(tuple(s[:-3]) + (mul(c, mul(r, r)), divide_exact(h, r),
                                             divide_exact(w, r)))
    rr = mul(r, r)
    if is_int(c) and is_int(rr) and c % rr:
        return error("shape-mismatch", "pixel_shuffle expects its input's 'channel' dimension to "
                     "be divisible by the square of upscale_factor, but input.size(-3)=%d is not "
                     "divisible by %d" % (c, rr))
    return x.with_shape(tuple(s[:-3]) + (divide_exact(c, rr), mul(h, r), mul(w, r)))


@layer("PixelShuffle", "PixelUnshuffle")
class PixelShuffleLayer(LayerRule):
    def build(self, kind: str, call: Call):
        name = "downscale_factor" if kind == "PixelUnshuffle" else "upscale_factor"
        return (kind == "PixelUnshuffle", call.int(0, name))

    def forward(self, spec, call: Call):
        x = call.tensor(0, "input")
        if x is None:
            return None
        return pixel_shuffle(x, spec[1], spec[0])

    def params(self, spec):
        return 0

    def config(self, spec):
        return (("downscale_factor" if spec[0] else "upscale_factor", format_dim(spec[1])),)


@function("torch.nn.functional.pixel_shuffle", "torch.pixel_shuffle")
def f_pixel_shuffle(call: Call):
    x = call.tensor(0, "input")
    if x is None:
        return None
    return pixel_shuffle(x, call.int(1, "upscale_factor"), False)


@function("torch.nn.functional.pixel_unshuffle", "torch.pixel_unshuffle")
def f_pixel_unshuffle(call: Call):
    x = call.tensor(0, "input")
    if x is None:
        return None
    return pixel_shuffle(x, call.int(1, "downscale_factor"), True)


def channel_shuffle(x: Tensor, groups):
    """Same shape; > 2 dims, a positive number of groups that divides the channels."""
    if is_int(groups) and groups <= 0:
        return error("shape-mismatch", "Number of groups to divide channels in must be positive. "
                     "Value of groups:%d" % groups)
    if x.shape is None:
        return x.with_shape(None)
    if len(x.shape) <= 2:
        return error("rank-mismatch", "channel_shuffle expects input with > 2 dims, but got "
                     "input with sizes %s" % fmt_list(x.shape))
    c = x.shape[1]
    if is_int(c) and is_int(groups) and c % groups:
        return error("shape-mismatch", "Number of channels must be divisible by groups. Got %d "
                     "channels and %d groups." % (c, groups))
    return x.with_shape(x.shape)


@layer("ChannelShuffle")
class ChannelShuffleLayer(LayerRule):
    def build(self, kind: str, call: Call):
        return call.int(0, "groups")

    def forward(self, spec, call: Call):
        x = call.tensor(0, "input")
        return None if x is None else channel_shuffle(x, spec)

    def params(self, spec):
        return 0

    def config(self, spec):
        return (("groups", format_dim(spec)),)


@function("torch.nn.functional.channel_shuffle", "torch.channel_shuffle",
          "torch.native_channel_shuffle", "torch.nn.functional.native_channel_shuffle")
def f_channel_shuffle(call: Call):
    x = call.tensor(0, "input")
    return None if x is None else channel_shuffle(x, call.int(1, "groups"))


@function("torch.nn.functional.grid_sample", "torch.grid_sampler")
def grid_sample(call: Call):
    """input [N, C, H, W] sampled at grid [N, Ho, Wo, 2] -> [N, C, Ho, Wo] (5-D: grid
    [N, Do, Ho, Wo, 3] -> [N, C, Do, Ho, Wo]; bicubic only 4-D)."""
    x, grid = call.tensor(0, "input"), call.tensor(1, "grid")
    if x is None or grid is None:
        return None
    if x.shape is None or grid.shape is None:
        return x.with_shape(None)
    s, g = x.shape, grid.shape
    if len(s) not in (4, 5) or len(g) != len(s):
        return error("rank-mismatch", "grid_sampler(): expected 4D or 5D input and grid with same "
                     "number of dimensions, but got input with sizes %s and grid with sizes %s"
                     % (fmt_list(s), fmt_list(g)))
    if is_int(s[0]) and is_int(g[0]) and s[0] != g[0]:
        return error("shape-mismatch", "grid_sampler(): expected grid and input to have same "
                     "batch size, but got input with sizes %s and grid with sizes %s"
                     % (fmt_list(s), fmt_list(g)))
    if is_int(g[-1]) and g[-1] != len(s) - 2:
        return error("shape-mismatch", "grid_sampler(): expected grid to have size %d in last "
                     "dimension, but got grid with sizes %s" % (len(s) - 2, fmt_list(g)))
    if any(is_int(d) and d == 0 for d in s[2:]):
        return error("shape-mismatch", "grid_sampler(): expected input to have non-empty spatial "
                     "dimensions, but input has sizes %s" % fmt_list(s))
    if len(s) == 5 and call.value(2, "mode", "bilinear") == "bicubic":
        return error("rank-mismatch", "grid_sampler(): bicubic interpolation only supports 4D "
                     "input")
    return x.with_shape((s[0] if s[0] is not None else g[0], s[1]) + tuple(g[1:-1]))


@function("torch.nn.functional.affine_grid", "torch.affine_grid_generator")
def affine_grid(call: Call):
    """theta [N, 2, 3] and size [N, C, H, W] -> [N, H, W, 2]; theta [N, 3, 4] and size
    [N, C, D, H, W] -> [N, D, H, W, 3]."""
    theta, size = call.tensor(0, "theta"), call.get(1, "size")
    if theta is None:
        return None
    if type(size) not in (TupleVal, ListVal):
        return theta.with_shape(None)
    dims = tuple(as_int(d) for d in size.items)
    if len(dims) not in (4, 5):
        return error("rank-mismatch", "affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                     "affine transforms, respectively. Got size %s." % fmt_list(dims))
    k = len(dims) - 2
    if theta.shape is not None and (len(theta.shape) != 3 or any(
            is_int(a) and a != b for a, b in zip(theta.shape[1:], (k, k + 1)))):
        return error("shape-mismatch", "Expected a batch of %dD affine matrices of shape Nx%dx%d "
                     "for size %s. Got torch.Size(%s)." % (k, k, k + 1, fmt_list(dims),
                                                           fmt_list(theta.shape)))
    if any(is_int(d) and d <= 0 for d in dims):
        return error("shape-mismatch", "Expected non-zero, positive output size. Got %s"
                     % fmt_list(dims))
    if theta.shape is not None and is_int(theta.shape[0]) and is_int(dims[0]) and \
            theta.shape[0] != dims[0]:
        return error("shape-mismatch", "affine_grid: theta holds %d matrices but size asks for "
                     "a batch of %d" % (theta.shape[0], dims[0]))
    return theta.with_shape((dims[0],) + dims[2:] + (k,))


__all__ = ["InterpSpec", "interpolate", "pixel_shuffle", "channel_shuffle"]
