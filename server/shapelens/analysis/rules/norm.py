"""BatchNorm/InstanceNorm 1d/2d/3d (and Lazy forms), LayerNorm, GroupNorm, RMSNorm,
LocalResponseNorm, and F.batch_norm/instance_norm/layer_norm/group_norm/rms_norm/normalize/
local_response_norm.  All keep the input's shape; what they check:

* BatchNorm: rank (1d: 2-D/3-D, 2d: 4-D, 3d: 5-D) and channels (dim 1) = num_features when it
  has running stats or affine weights ("running_mean should contain 12 elements not 64").
* InstanceNorm: rank (1d: 2-D/3-D, 2d: 3-D/4-D, 3d: 4-D/5-D, unbatched allowed); channels =
  num_features only with affine or running stats; more than one spatial element when it
  normalises with the input's statistics.
* LayerNorm/RMSNorm: the trailing dims equal normalized_shape.
* GroupNorm: at least 2-D, channels divisible by num_groups and equal to num_channels (affine).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..dims import definitely_ne, format_dim, is_int, prod, sym
from ..errors import FixHint, error
from ..values import Const, ListVal, Tensor, TupleVal, format_shape
from . import LayerRule, function, layer
from .call import Call, as_int
from .common import bool_arg, fmt_list, fmt_size, is_error, wrap_dim

_BN_RANKS = {1: (2, 3), 2: (4,), 3: (5,)}
_IN_RANKS = {1: (2, 3), 2: (3, 4), 3: (4, 5)}
_SPATIAL = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


@dataclass(frozen=True)
class BatchNormSpec:
    kind: str                   # "batch" or "instance"
    n: int
    num_features: object
    affine: object = True
    track_running_stats: object = True
    lazy: bool = False


@dataclass(frozen=True)
class LayerNormSpec:
    kind: str                   # "layer" or "rms"
    normalized_shape: object    # tuple of dims, or None
    elementwise_affine: object = True
    bias: object = True


@dataclass(frozen=True)
class GroupNormSpec:
    num_groups: object
    num_channels: object
    affine: object = True


def _ranks_text(ranks) -> str:
    return " or ".join("%dD" % r for r in ranks)


def batch_norm_forward(spec: BatchNormSpec, x: Tensor, training=None):
    """``training``: the layer's mode (None: not known)."""
    shape = x.shape
    if shape is None:
        return Tensor(None, x.dtype)
    ranks = (_BN_RANKS if spec.kind == "batch" else _IN_RANKS)[spec.n]
    if len(shape) not in ranks:
        return error("rank-mismatch", "expected %s input (got %dD input). %s%dd takes %s."
                     % (_ranks_text(ranks), len(shape),
                        "BatchNorm" if spec.kind == "batch" else "InstanceNorm", spec.n,
                        _expected_text(spec)))
    batched = spec.kind == "batch" or len(shape) == ranks[-1]
    cdim = 1 if batched else 0
    c = shape[cdim]
    nf = spec.num_features
    if spec.lazy and nf is None:
        nf = c
    if definitely_ne(c, nf):
        if spec.kind == "batch" and (spec.track_running_stats is True or spec.affine is True):
            which = "running_mean" if spec.track_running_stats is True else "weight"
            return error("norm-features",
                         "%s should contain %s elements not %s. The layer is built for "
                         "num_features=%s but the input %s has %s channels: set num_features to "
                         "%s, or fix the input."
                         % (which, format_dim(c), format_dim(nf), format_dim(nf),
                            format_shape(shape), format_dim(c), format_dim(c)),
                         fix=FixHint("num_features", c, 0), blame="layer")
        if spec.kind == "instance":
            if spec.affine is True:
                return error("norm-features",
                             "expected input's size at dim=%d to match num_features (%s), but got: "
                             "%s. Set num_features to %s, or fix the input."
                             % (cdim, format_dim(nf), format_dim(c), format_dim(c)),
                             fix=FixHint("num_features", c, 0), blame="layer")
            if spec.track_running_stats is True and spec.affine is False:
                n = shape[0] if batched else 1
                return error("norm-features",
                             "running_mean should contain %s elements not %s. The layer is built "
                             "for num_features=%s but the input has %s channels: set num_features "
                             "to %s." % (format_dim(n * c) if n is not None else "?",
                                         format_dim(n * nf) if n is not None else "?",
                                         format_dim(nf), format_dim(c), format_dim(c)),
                             fix=FixHint("num_features", c, 0), blame="layer")
    if spec.kind == "instance" and (spec.track_running_stats is False or training is True):
        # Normalising with the input's own statistics needs more than one value per channel.
        spatial = prod(shape[cdim + 1:])
        if is_int(spatial) and spatial == 1:
            full = shape if batched else (1,) + tuple(shape)
            return error("spatial-collapse", "Expected more than 1 spatial element when training, "
                         "got input size %s. InstanceNorm normalises over the spatial dims, which "
                         "hold a single element here." % fmt_size(full), detail="spatial")
    return x.with_shape(shape)


def batch_stats_check(x: Tensor):
    """BatchNorm in training mode needs more than one value per channel (batch × spatial)."""
    if x.shape is None or len(x.shape) < 2:
        return None
    values = prod((x.shape[0],) + tuple(x.shape[2:]))
    if is_int(values) and values == 1:
        return error("spatial-collapse", "Expected more than 1 value per channel when training, "
                     "got input size %s. In training mode BatchNorm needs a batch larger than 1 "
                     "(or spatial sizes larger than 1): use a bigger batch, or call .eval()."
                     % fmt_size(x.shape), detail="batch")
    return None


def _expected_text(spec: BatchNormSpec) -> str:
    names = ", ".join(_SPATIAL[spec.n])
    if spec.kind == "batch":
        if spec.n == 1:
            return "[N, C] or [N, C, L]"
        return "[N, C, %s]" % names
    return "[N, C, %s] or [C, %s]" % (names, names)


@layer("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
       "LazyBatchNorm3d", "SyncBatchNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
       "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d")
class BatchNormLayer(LayerRule):
    def build(self, kind: str, call: Call):
        lazy = kind.startswith("Lazy")
        shift = -1 if lazy else 0
        is_batch = "Batch" in kind
        n = 2 if kind == "SyncBatchNorm" else int(kind[-2])
        nf = None if lazy else call.int(0, "num_features")
        affine = bool_arg(call, 3 + shift, "affine", is_batch)
        track = bool_arg(call, 4 + shift, "track_running_stats", is_batch)
        return BatchNormSpec("batch" if is_batch else "instance", n, nf, affine, track, lazy)

    def forward(self, spec: BatchNormSpec, call: Call):
        x = call.tensor(0, "input")
        if x is None:
            return None
        out = batch_norm_forward(spec, x, call.training)
        if spec.kind == "batch" and call.training is True and not is_error(out):
            return batch_stats_check(x) or out
        return out

    def params(self, spec: BatchNormSpec):
        if spec.affine is False:
            return 0
        if spec.affine is True and is_int(spec.num_features):
            return 2 * spec.num_features
        return None

    def config(self, spec: BatchNormSpec):
        out = [("num_features", format_dim(spec.num_features))]
        if spec.affine is not (spec.kind == "batch"):
            out.append(("affine", str(spec.affine)))
        if spec.track_running_stats is not (spec.kind == "batch"):
            out.append(("track_running_stats", str(spec.track_running_stats)))
        return tuple(out)

    def expected_input(self, spec: BatchNormSpec):
        c = spec.num_features if spec.num_features is not None else sym("C")
        if spec.kind == "batch" and spec.n == 1:
            return (sym("N"), c)
        return (sym("N"), c) + tuple(sym(s) for s in _SPATIAL[spec.n])

    def attribute(self, spec: BatchNormSpec, name: str):
        c = spec.num_features
        if name == "num_features":
            return Const(c) if c is not None else None
        if name in ("weight", "bias"):
            return Tensor((c,), "float") if spec.affine is True else (
                Const(None) if spec.affine is False else None)
        if name in ("running_mean", "running_var"):
            return Tensor((c,), "float") if spec.track_running_stats is True else (
                Const(None) if spec.track_running_stats is False else None)
        return None


def _normalized_shape(v):
    if type(v) in (TupleVal, ListVal):
        return tuple(as_int(i) for i in v.items)
    d = as_int(v)
    if d is not None:
        return (d,)
    return None


def layer_norm_forward(x: Tensor, ns, rms: bool = False):
    shape = x.shape
    if ns is not None and len(ns) == 0:
        return error("norm-features", "Expected normalized_shape to be at least 1-dimensional, "
                     "i.e., containing at least one element, but got normalized_shape = []",
                     blame="layer")
    if shape is None or ns is None:
        return Tensor(None, x.dtype) if shape is None else x.with_shape(shape)
    k = len(ns)
    tail = tuple(shape[-k:]) if len(shape) >= k else None
    if tail is None or any(definitely_ne(a, b) for a, b in zip(tail, ns)):
        expected = ("[*%s]" if rms else "[*, %s]") % ", ".join(format_dim(d) for d in ns)
        fix = None
        hint = ""
        if tail is not None and k == 1:
            fix = FixHint("normalized_shape", tail[0], 0)
            hint = " The layer normalises %s features but the input's last dim is %s: set " \
                   "normalized_shape to %s, or fix the input." % (
                       format_dim(ns[0]), format_dim(tail[0]), format_dim(tail[0]))
        elif tail is not None:
            hint = " normalized_shape must equal the input's last %d dims %s." % (
                k, fmt_list(tail))
        else:
            hint = " The input has fewer dims than normalized_shape."
        return error("norm-features", "Given normalized_shape=%s, expected input with shape %s, "
                     "but got input of size%s.%s" % (fmt_list(ns), expected, fmt_list(shape),
                                                     hint), fix=fix, blame="layer")
    return x.with_shape(shape)


@layer("LayerNorm", "RMSNorm")
class LayerNormLayer(LayerRule):
    def build(self, kind: str, call: Call):
        ns = _normalized_shape(call.get(0, "normalized_shape"))
        if kind == "RMSNorm":
            return LayerNormSpec("rms", ns, bool_arg(call, 2, "elementwise_affine", True), False)
        return LayerNormSpec("layer", ns, bool_arg(call, 2, "elementwise_affine", True),
                             bool_arg(call, 3, "bias", True))

    def forward(self, spec: LayerNormSpec, call: Call):
        x = call.tensor(0, "input")
        if x is None:
            return None
        return layer_norm_forward(x, spec.normalized_shape, spec.kind == "rms")

    def params(self, spec: LayerNormSpec):
        if spec.elementwise_affine is False:
            return 0
        if spec.normalized_shape is None or spec.elementwise_affine is not True:
            return None
        size = prod(spec.normalized_shape)
        if not is_int(size) or spec.bias not in (True, False):
            return None
        return size * (2 if spec.bias else 1)

    def config(self, spec: LayerNormSpec):
        ns = fmt_list(spec.normalized_shape) if spec.normalized_shape is not None else "?"
        out = [("normalized_shape", ns)]
        if spec.elementwise_affine is not True:
            out.append(("elementwise_affine", str(spec.elementwise_affine)))
        return tuple(out)

    def attribute(self, spec: LayerNormSpec, name: str):
        ns = spec.normalized_shape
        if name == "normalized_shape" and ns is not None:
            return TupleVal(tuple(Const(d) for d in ns))
        if name == "weight" and ns is not None:
            return Tensor(ns, "float") if spec.elementwise_affine is True else Const(None)
        if name == "bias" and ns is not None:
            ok = spec.elementwise_affine is True and spec.bias is True
            return Tensor(ns, "float") if ok else Const(None)
        return None


def group_norm_forward(x: Tensor, groups, channels, affine):
    shape = x.shape
    if shape is None:
        return Tensor(None, x.dtype)
    if len(shape) < 2:
        return error("rank-mismatch", "Expected at least 2 dimensions for input tensor but "
                     "received %d. GroupNorm takes [N, C, *]." % len(shape))
    c = shape[1]
    if affine is True and definitely_ne(c, channels):
        return error("norm-features", "Expected weight to be a vector of size equal to the number "
                     "of channels in input, but got weight of shape [%s] and input of shape %s. "
                     "The layer is built for num_channels=%s but the input has %s channels: set "
                     "num_channels to %s." % (format_dim(channels), fmt_list(shape),
                                              format_dim(channels), format_dim(c), format_dim(c)),
                     fix=FixHint("num_channels", c, 1), blame="layer")
    if is_int(c) and is_int(groups) and groups > 0 and c % groups:
        return error("norm-features", "Expected number of channels in input to be divisible by "
                     "num_groups, but got input of shape %s and num_groups=%d"
                     % (fmt_list(shape), groups))
    return x.with_shape(shape)


@layer("GroupNorm")
class GroupNormLayer(LayerRule):
    def build(self, kind: str, call: Call):
        g = call.int(0, "num_groups")
        c = call.int(1, "num_channels")
        if is_int(g) and g == 0:
            return error("norm-features", "integer modulo by zero: num_groups must be positive",
                         blame="layer")
        if is_int(g) and is_int(c) and c % g:
            return error("norm-features", "num_channels (%d) must be divisible by num_groups (%d)"
                         % (c, g), blame="layer")
        return GroupNormSpec(g, c, bool_arg(call, 3, "affine", True))

    def forward(self, spec: GroupNormSpec, call: Call):
        x = call.tensor(0, "input")
        if x is None:
            return None
        return group_norm_forward(x, spec.num_groups, spec.num_channels, spec.affine)

    def params(self, spec: GroupNormSpec):
        if spec.affine is False:
            return 0
        return 2 * spec.num_channels if is_int(spec.num_channels) and spec.affine is True \
            else None

    def config(self, spec: GroupNormSpec):
        return (("num_groups", format_dim(spec.num_groups)),
                ("num_channels", format_dim(spec.num_channels)))

    def expected_input(self, spec: GroupNormSpec):
        if spec.num_channels is None:
            return None
        return (sym("N"), spec.num_channels, sym("H"), sym("W"))

    def attribute(self, spec: GroupNormSpec, name: str):
        if name in ("weight", "bias") and spec.affine is True:
            return Tensor((spec.num_channels,), "float")
        if name in ("num_groups", "num_channels"):
            v = getattr(spec, name)
            return Const(v) if v is not None else None
        return None


@layer("LocalResponseNorm", "CrossMapLRN2d")
class LocalResponseNormLayer(LayerRule):
    def build(self, kind: str, call: Call):
        return kind

    def forward(self, spec, call: Call):
        x = call.tensor(0, "input")
        if x is None:
            return None
        return _lrn(x, 4 if spec == "CrossMapLRN2d" else None)

    def params(self, spec):
        return 0


def _lrn(x: Tensor, exact_rank=None):
    if x.shape is None:
        return Tensor(None, x.dtype)
    r = len(x.shape)
    if exact_rank is not None and r != exact_rank:
        return error("rank-mismatch", "CrossMapLRN2d: Expected input to be 4D, got %dD" % r)
    if r < 3:
        return error("rank-mismatch", "Expected 3D or higher dimensionality input (got %d "
                     "dimensions)" % r)
    return x.with_shape(x.shape)


# --------------------------------------------------------------------------- functional forms

@function("torch.nn.functional.batch_norm", "torch.batch_norm")
def f_batch_norm(call: Call):
    x = call.tensor(0, "input")
    if x is None:
        return None
    if x.shape is None:
        return Tensor(None, x.dtype)
    if len(x.shape) < 2:
        return error("rank-mismatch", "Dimension out of range (expected to be in range of [-1, 0], "
                     "but got 1). batch_norm takes [N, C, *].")
    c = x.shape[1]
    for idx, name in ((1, "running_mean"), (2, "running_var"), (3, "weight"), (4, "bias")):
        t = call.tensor(idx, name)
        if t is not None and t.shape is not None and len(t.shape) == 1 \
                and definitely_ne(t.shape[0], c):
            return error("norm-features", "%s should contain %s elements not %s"
                         % (name, format_dim(c), format_dim(t.shape[0])))
    if call.value(5, "training", False) is True:
        err = batch_stats_check(x)
        if err:
            return err
    return x.with_shape(x.shape)


@function("torch.nn.functional.instance_norm", "torch.instance_norm")
def f_instance_norm(call: Call):
    x = call.tensor(0, "input")
    if x is None:
        return None
    if x.shape is None:
        return Tensor(None, x.dtype)
    use_input_stats = call.value(5, "use_input_stats", True)
    if len(x.shape) < 2:
        return error("rank-mismatch", "instance_norm takes [N, C, *], got input of size %s"
                     % fmt_list(x.shape))
    if use_input_stats is True:
        spatial = prod(x.shape[2:])
        if is_int(spatial) and spatial == 1:
            return error("spatial-collapse", "Expected more than 1 spatial element when training, "
                         "got input size %s" % fmt_size(x.shape), detail="spatial")
    return x.with_shape(x.shape)


@function("torch.nn.functional.layer_norm", "torch.layer_norm")
def f_layer_norm(call: Call):
    x = call.tensor(0, "input")
    if x is None:
        return None
    ns = _normalized_shape(call.get(1, "normalized_shape"))
    out = layer_norm_forward(x, ns)
    if is_error(out) or ns is None:
        return out
    for idx, name in ((2, "weight"), (3, "bias")):
        t = call.tensor(idx, name)
        if t is not None and t.shape is not None and (
                len(t.shape) != len(ns) or any(definitely_ne(a, b) for a, b in zip(t.shape, ns))):
            return error("norm-features", "Expected %s to be of same shape as normalized_shape, "
                         "but got %s of shape %s and normalized_shape = %s"
                         % (name, name, fmt_list(t.shape), fmt_list(ns)))
    return out


@function("torch.nn.functional.rms_norm", "torch.rms_norm")
def f_rms_norm(call: Call):
    x = call.tensor(0, "input")
    if x is None:
        return None
    return layer_norm_forward(x, _normalized_shape(call.get(1, "normalized_shape")), rms=True)


@function("torch.nn.functional.group_norm", "torch.group_norm")
def f_group_norm(call: Call):
    x = call.tensor(0, "input")
    if x is None:
        return None
    g = call.int(1, "num_groups")
    w = call.tensor(2, "weight")
    channels = w.shape[0] if w is not None and w.shape is not None and len(w.shape) == 1 else None
    return group_norm_forward(x, g, channels, True if channels is not None else False)


@function("torch.nn.functional.normalize")
def f_normalize(call: Call):
    x = call.tensor(0, "input")
    if x is None:
        return None
    if x.shape is None:
        return Tensor(None, x.dtype)
    d = wrap_dim(call.int(2, "dim", 1), len(x.shape))
    if is_error(d):
        return d
    return x.with_shape(x.shape)


@function("torch.nn.functional.local_response_norm")
def f_local_response_norm(call: Call):
    x = call.tensor(0, "input")
    if x is None:
        return None
    return _lrn(x)


__all__ = ["BatchNormSpec", "LayerNormSpec", "GroupNormSpec", "batch_norm_forward",
           "layer_norm_forward", "group_norm_forward"]
