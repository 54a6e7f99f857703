"""RNN/LSTM/GRU and RNNCell/LSTMCell/GRUCell.

Sequence layers take ``[L, N, input_size]`` (``[N, L, input_size]`` with batch_first, or an
unbatched ``[L, input_size]``) and return ``(output, h_n)`` — ``(output, (h_n, c_n))`` for
LSTM — with ``D = 2`` if bidirectional and ``H_out = proj_size or hidden_size``:

    output  [L, N, D·H_out]  (batch_first: [N, L, D·H_out]; unbatched: [L, D·H_out])
    h_n     [D·num_layers, N, H_out]   (never batch-first; unbatched: [D·num_layers, H_out])
    c_n     [D·num_layers, N, hidden_size]

Cells take ``[N, input_size]`` or ``[input_size]`` and return ``h'`` (LSTMCell: ``(h', c')``).

Packed sequences (``torch.nn.utils.rnn``): ``pack_padded_sequence``/``pack_sequence`` give a
:class:`~shapelens.analysis.values.Packed` of N sequences; a sequence layer called on it
returns a Packed output of ``D·H_out`` features and the same ``h_n``/``c_n`` as for a batch of
N; ``pad_packed_sequence`` pads it back to ``[T, N, *]`` (T: ``total_length``, else the longest
length, which depends on the data) and ``pad_sequence`` pads a list of ``[L_i, *]``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..dims import format_dim, is_int, mul, sym
from ..errors import FixHint, error
from ..values import Const, ListVal, Packed, Tensor, TupleVal, format_shape
from . import LayerRule, function, layer
from .call import MISSING, UNKNOWN, Call
from .common import bool_arg, differ_for_positive_sizes, fmt_list, tensors_in

_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


@dataclass(frozen=True)
class RNNSpec:
    mode: str                    # "RNN", "LSTM" or "GRU"
    input_size: object
    hidden_size: object
    num_layers: object = 1
    bias: object = True
    batch_first: object = False
    bidirectional: object = False
    proj_size: object = 0


@dataclass(frozen=True)
class CellSpec:
    mode: str
    input_size: object
    hidden_size: object
    bias: object = True


def _differ(a, b):
    return differ_for_positive_sizes(a, b)


@layer("RNN", "LSTM", "GRU")
class RNNLayer(LayerRule):
    def build(self, kind: str, call: Call):
        args = list(call.args)
        kwargs = dict(call.kwargs)
        if kind == "RNN":
            if len(args) > 3:
                nl = args.pop(3)
            else:
                nl = kwargs.pop("nonlinearity", Const("tanh"))
            if type(nl) is Const and nl.value not in ("tanh", "relu"):
                return error("runtime-error", "Unknown nonlinearity '%s'. Select from 'tanh' or "
                             "'relu'." % nl.value, blame="layer")
        c = Call(call.name, tuple(args), kwargs)
        if kind != "LSTM" and c.has(None, "proj_size"):
            return error("runtime-error", "proj_size argument is only supported for LSTM, not RNN "
                         "or GRU", blame="layer")
        spec = RNNSpec(kind, c.int(0, "input_size"), c.int(1, "hidden_size"),
                       c.int(2, "num_layers", 1), bool_arg(c, 3, "bias", True),
                       bool_arg(c, 4, "batch_first", False),
                       bool_arg(c, 6, "bidirectional", False),
                       c.int(7, "proj_size", 0) if kind == "LSTM" else 0)
        dropout = c.value(5, "dropout", 0.0)
        if isinstance(dropout, (int, float)) and not isinstance(dropout, bool) \
                and not 0 <= dropout <= 1:
            return error("runtime-error", "dropout should be a number in range [0, 1] representing "
                         "the probability of an element being zeroed", blame="layer")
        if is_int(spec.hidden_size) and spec.hidden_size <= 0:
            return error("shape-mismatch", "hidden_size must be greater than zero", blame="layer")
        if is_int(spec.num_layers) and spec.num_layers <= 0:
            return error("shape-mismatch", "num_layers must be greater than zero", blame="layer")
        p = spec.proj_size
        if is_int(p) and p < 0:
            return error("shape-mismatch", "proj_size should be a positive integer or zero to "
                         "disable projections", blame="layer")
        if is_int(p) and is_int(spec.hidden_size) and p >= spec.hidden_size:
            return error("shape-mismatch", "proj_size has to be smaller than hidden_size",
                         blame="layer")
        return spec

    def forward(self, spec: RNNSpec, call: Call):
        packed = call.get(0, "input")
        if type(packed) is Packed:
            return packed_forward(spec, packed, call.get(1, "hx"))
        x = call.tensor(0, "input")
        if x is None:
            return None
        return rnn_forward(spec, x, call.get(1, "hx"))

    def params(self, spec: RNNSpec):
        g = _GATES[spec.mode]
        i, h, n, p = spec.input_size, spec.hidden_size, spec.num_layers, spec.proj_size
        if not all(is_int(v) for v in (i, h, n, p)) or spec.bias not in (True, False) \
                or spec.bidirectional not in (True, False):
            return None
        d = 2 if spec.bidirectional else 1
        hout = p if p > 0 else h
        total = 0
        for layer_index in range(n):
            layer_in = i if layer_index == 0 else d * hout
            per = g * h * layer_in + g * h * hout
            if spec.bias:
                per += 2 * g * h
            if p > 0:
                per += p * h
            total += d * per
        return total

    def config(self, spec: RNNSpec):
        out = [("input_size", format_dim(spec.input_size)),
               ("hidden_size", format_dim(spec.hidden_size))]
        if spec.num_layers != 1:
            out.append(("num_layers", format_dim(spec.num_layers)))
        for name, default in (("batch_first", False), ("bidirectional", False), ("bias", True)):
            v = getattr(spec, name)
            if v is not default:
                out.append((name, "?" if v is UNKNOWN else str(v)))
        if spec.proj_size not in (0, None):
            out.append(("proj_size", format_dim(spec.proj_size)))
        return tuple(out)

    def expected_input(self, spec: RNNSpec):
        if spec.input_size is None or spec.batch_first is UNKNOWN:
            return None
        if spec.batch_first:
            return (sym("N"), sym("L"), spec.input_size)
        return (sym("L"), sym("N"), spec.input_size)

    def attribute(self, spec: RNNSpec, name: str):
        if name in ("input_size", "hidden_size", "num_layers", "proj_size"):
            v = getattr(spec, name)
            return Const(v) if v is not None else None
        if name in ("batch_first", "bidirectional", "bias"):
            v = getattr(spec, name)
            return Const(v) if v in (True, False) else None
        return _weight_attribute(spec, name)


def _weight_attribute(spec: RNNSpec, name: str):
    """``weight_ih_l0``, ``bias_hh_l1_reverse`` ... as tensors of their shapes."""
    parts = name.split("_")
    if len(parts) < 3 or parts[0] not in ("weight", "bias") or not parts[2].startswith("l"):
        return None
    try:
        index = int(parts[2][1:])
    except ValueError:
        return None
    g = _GATES[spec.mode]
    h, p = spec.hidden_size, spec.proj_size
    d = 2 if spec.bidirectional is True else 1
    hout = p if is_int(p) and p > 0 else h
    layer_in = spec.input_size if index == 0 else mul(d, hout)
    gh = mul(g, h)
    kind = parts[1]
    if parts[0] == "weight":
        shape = {"ih": (gh, layer_in), "hh": (gh, hout), "hr": (p, h)}.get(kind)
    else:
        shape = (gh,) if kind in ("ih", "hh") else None
    return Tensor(shape, "float") if shape is not None else None


def rnn_forward(spec: RNNSpec, x: Tensor, hx):
    shape = x.shape
    mode = spec.mode
    d = 2 if spec.bidirectional is True else (1 if spec.bidirectional is False else None)
    p = spec.proj_size
    hout = p if is_int(p) and p > 0 else (spec.hidden_size if p in (0, None) or is_int(p)
                                         else None)
    layers = mul(d, spec.num_layers) if d is not None else None
    if shape is not None and len(shape) not in (2, 3):
        return error("rank-mismatch", "%s: Expected input to be 2D or 3D, got %dD instead. %s "
                     "takes %s." % (mode, len(shape), mode, _takes(spec)))
    batched = None if shape is None else len(shape) == 3
    hx_tensors = _hx_tensors(mode, hx)
    if hx_tensors is not None and batched is not None:
        ranks = [t.shape and len(t.shape) for t in hx_tensors if t.shape is not None]
        want = 3 if batched else 2
        if any(r != want for r in ranks):
            what = "3-D" if batched else "2-D"
            if mode == "LSTM":
                got = ", ".join("%d-D" % len(t.shape) if t.shape is not None else "?-D"
                                for t in hx_tensors)
                return error("rank-mismatch", "For %s input, hx and cx should also be %s but got "
                             "(%s) tensors" % ("batched 3-D" if batched else "unbatched 2-D", what,
                                               got))
            bad = next(r for r in ranks if r != want)
            return error("rank-mismatch", "For %s input, hx should also be %s but got %d-D tensor"
                         % ("batched 3-D" if batched else "unbatched 2-D", what, bad))
    if shape is None:
        out = Tensor(None, x.dtype)
        return _result(mode, out, out, out)
    feat = shape[-1]
    if _differ(feat, spec.input_size):
        return error("shape-mismatch", "input.size(-1) must be equal to input_size. Expected %s, "
                     "got %s. The %s is built for input_size=%s but the input %s has %s features "
                     "in its last dim: set input_size to %s, or fix the input."
                     % (format_dim(spec.input_size), format_dim(feat), mode,
                        format_dim(spec.input_size), format_shape(shape), format_dim(feat),
                        format_dim(feat)), fix=FixHint("input_size", feat, 0), blame="layer")
    if batched:
        if spec.batch_first is True:
            n, length = shape[0], shape[1]
        elif spec.batch_first is False:
            n, length = shape[1], shape[0]
        else:
            n = length = None
    else:
        n, length = 1, shape[0]
    if hx_tensors is not None:
        expected = [(layers, n, hout)]
        if mode == "LSTM":
            expected.append((layers, n, spec.hidden_size))
        for k, (t, want) in enumerate(zip(hx_tensors, expected)):
            if t.shape is None:
                continue
            got = tuple(t.shape) if batched else (t.shape[0], 1, t.shape[1])
            if any(_differ(a, b) for a, b in zip(got, want)):
                label = "hidden[%d]" % k if mode == "LSTM" else "hidden"
                return error("shape-mismatch", "Expected %s size (%s), got %s. The initial state "
                             "must be [num_layers * num_directions, batch, %s]."
                             % (label, ", ".join(format_dim(v) for v in want), fmt_list(got),
                                "proj_size or hidden_size" if k == 0 else "hidden_size"))
    feat_out = mul(d, hout) if d is not None else None
    if batched:
        if spec.batch_first is True:
            out_shape = (n, length, feat_out)
        elif spec.batch_first is False:
            out_shape = (length, n, feat_out)
        else:
            out_shape = (None, None, feat_out)
        h_shape = (layers, n, hout)
        c_shape = (layers, n, spec.hidden_size)
    else:
        out_shape = (length, feat_out)
        h_shape = (layers, hout)
        c_shape = (layers, spec.hidden_size)
    return _result(mode, x.with_shape(out_shape), x.with_shape(h_shape), x.with_shape(c_shape))


def packed_forward(spec: RNNSpec, packed: Packed, hx):
    """A sequence layer on a PackedSequence: as on a [T, N, *features] batch, the output packed
    again.  Where the batch path raises, the packed one does not always (it lets small
    mismatched inputs and states through): no error is claimed, the result is unknown."""
    if packed.features is None or len(packed.features) != 1:
        return None
    if _differ(packed.features[0], spec.input_size):
        return None   # torch finds the mismatch in a matmul, which small inputs can pass
    steps = Tensor((None, packed.batch) + tuple(packed.features), packed.dtype)
    out = rnn_forward(replace(spec, batch_first=False), steps, hx)
    if type(out) is not TupleVal:
        return None   # torch's packed path lets some mismatched states through: unknown
    y = out.items[0]
    feat = y.shape[-1:] if y.shape is not None else None
    return TupleVal((Packed(packed.batch, feat, y.dtype),) + out.items[1:])


def _lengths_count(lengths):
    """How many lengths were given (a list or a 1-D tensor), or None."""
    if type(lengths) in (ListVal, TupleVal) and not getattr(lengths, "lost", None):
        return len(lengths.items)
    if type(lengths) is Tensor and lengths.shape is not None and len(lengths.shape) == 1:
        return lengths.shape[0]
    return None


@function("torch.nn.utils.rnn.pack_padded_sequence")
def pack_padded_sequence(call: Call):
    """[T, N, *] (batch_first: [N, T, *]) and N lengths -> a Packed of N sequences."""
    x = call.tensor(0, "input")
    if x is None:
        return None
    batch_first = call.value(2, "batch_first", False)
    if x.shape is None or batch_first not in (True, False):
        return Packed(None, None, x.dtype)
    if len(x.shape) < 2:
        return error("rank-mismatch", "pack_padded_sequence: the input must be [T, N, *] or "
                     "[N, T, *] (batch_first), got %s" % format_shape(x.shape))
    n = x.shape[0] if batch_first else x.shape[1]
    count = _lengths_count(call.get(1, "lengths"))
    if is_int(count) and is_int(n) and count != n:
        return error("shape-mismatch", "Expected `len(lengths)` to be equal to batch_size, but "
                     "got %d (batch_size=%d)" % (count, n))
    return Packed(n, tuple(x.shape[2:]), x.dtype)


def _same_trailing(ts):
    """The trailing shape (after the length dim) of the first of ``ts``, into which torch
    copies the others (broadcasting them); a ShapeError when one cannot be; None when not
    known."""
    if any(t.shape is None or not t.shape for t in ts):
        return None
    first = tuple(ts[0].shape[1:])
    for t in ts[1:]:
        other = tuple(t.shape[1:])
        if len(other) > len(first):
            return None
        for a, b in zip(reversed(first), reversed(other)):
            if is_int(a) and is_int(b) and a != b and b != 1:
                return error("shape-mismatch", "The size of tensor a (%d) must match the size of "
                             "tensor b (%d) at non-singleton dimension 1" % (a, b))
    return first


@function("torch.nn.utils.rnn.pack_sequence")
def pack_sequence(call: Call):
    ts = tensors_in(call.get(0, "sequences"))
    if ts is None or not ts:
        return None
    features = _same_trailing(ts)
    if isinstance(features, tuple) or features is None:
        return Packed(len(ts), features, ts[0].dtype)
    return features


@function("torch.nn.utils.rnn.pad_sequence")
def pad_sequence(call: Call):
    """A list of [L_i, *] -> [max L_i, N, *] (batch_first: [N, max L_i, *])."""
    ts = tensors_in(call.get(0, "sequences"))
    batch_first = call.value(1, "batch_first", False)
    if ts is None or not ts or batch_first not in (True, False):
        return None
    features = _same_trailing(ts)
    if not isinstance(features, tuple):
        return features if features is not None else Tensor(None, ts[0].dtype)
    lengths = [t.shape[0] for t in ts]
    longest = max(lengths) if all(is_int(v) for v in lengths) else None
    head = (len(ts), longest) if batch_first else (longest, len(ts))
    return ts[0].with_shape(head + features)


@function("torch.nn.utils.rnn.pad_packed_sequence")
def pad_packed_sequence(call: Call):
    """A Packed of N sequences -> ([T, N, *] or [N, T, *], lengths [N]); T is
    ``total_length`` when given, else the longest length (known only from the data)."""
    packed = call.get(0, "sequence")
    batch_first = call.value(1, "batch_first", False)
    total = call.int(3, "total_length")
    if type(packed) is not Packed or batch_first not in (True, False):
        return None
    lengths = Tensor((packed.batch,), "long")
    if packed.features is None:
        return TupleVal((Tensor(None, packed.dtype), lengths))
    head = (packed.batch, total) if batch_first else (total, packed.batch)
    return TupleVal((Tensor(head + tuple(packed.features), packed.dtype), lengths))


def _takes(spec: RNNSpec) -> str:
    i = format_dim(spec.input_size)
    if spec.batch_first is True:
        return "[N, L, %s] (batch_first=True) or [L, %s]" % (i, i)
    return "[L, N, %s] or [L, %s]" % (i, i)


def _result(mode, out, h, c):
    if mode == "LSTM":
        return TupleVal((out, TupleVal((h, c))))
    return TupleVal((out, h))


def _hx_tensors(mode, hx):
    """The initial-state tensors passed (None when not passed or not readable)."""
    if hx is MISSING or (type(hx) is Const and hx.value is None):
        return None
    if mode == "LSTM":
        if type(hx) in (TupleVal, ListVal) and len(hx.items) == 2:
            return tensors_in(hx)
        return None
    if type(hx) is Tensor:
        return [hx]
    return None


# --------------------------------------------------------------------------- cells

@layer("RNNCell", "LSTMCell", "GRUCell")
class CellLayer(LayerRule):
    def build(self, kind: str, call: Call):
        spec = CellSpec(kind[:-4], call.int(0, "input_size"), call.int(1, "hidden_size"),
                        bool_arg(call, 2, "bias", True))
        return spec

    def forward(self, spec: CellSpec, call: Call):
        x = call.tensor(0, "input")
        if x is None:
            return None
        return cell_forward(spec, x, call.get(1, "hx"))

    def params(self, spec: CellSpec):
        g = _GATES[spec.mode]
        i, h = spec.input_size, spec.hidden_size
        if not (is_int(i) and is_int(h)) or spec.bias not in (True, False):
            return None
        return g * h * (i + h) + (2 * g * h if spec.bias else 0)

    def config(self, spec: CellSpec):
        return (("input_size", format_dim(spec.input_size)),
                ("hidden_size", format_dim(spec.hidden_size)))

    def expected_input(self, spec: CellSpec):
        if spec.input_size is None:
            return None
        return (sym("N"), spec.input_size)

    def attribute(self, spec: CellSpec, name: str):
        g, h = _GATES[spec.mode], spec.hidden_size
        shapes = {"weight_ih": (mul(g, h), spec.input_size), "weight_hh": (mul(g, h), h),
                  "bias_ih": (mul(g, h),), "bias_hh": (mul(g, h),)}
        if name in shapes:
            return Tensor(shapes[name], "float")
        if name in ("input_size", "hidden_size"):
            v = getattr(spec, name)
            return Const(v) if v is not None else None
        return None


def cell_forward(spec: CellSpec, x: Tensor, hx):
    name = spec.mode + "Cell"
    shape = x.shape
    if shape is not None and len(shape) not in (1, 2):
        size = format_dim(spec.input_size)
        return error("rank-mismatch", "%s: Expected input to be 1D or 2D, got %dD instead. %s "
                     "takes [N, %s] or [%s]." % (name, len(shape), name, size, size))
    states = _hx_tensors("LSTM" if spec.mode == "LSTM" else "RNN", hx)
    h = spec.hidden_size
    if shape is None:
        out = Tensor(None, x.dtype)
        return TupleVal((out, out)) if spec.mode == "LSTM" else out
    if _differ(shape[-1], spec.input_size):
        return error("shape-mismatch", "input has inconsistent input_size: got %s expected %s. "
                     "Set input_size to %s, or fix the input."
                     % (format_dim(shape[-1]), format_dim(spec.input_size),
                        format_dim(shape[-1])), fix=FixHint("input_size", shape[-1], 0),
                     blame="layer")
    batched = len(shape) == 2
    n = shape[0] if batched else 1
    if states is not None:
        for k, t in enumerate(states):
            if t.shape is None:
                continue
            if len(t.shape) != len(shape):
                return error("rank-mismatch", "%s: the hidden state %s must have the input's rank "
                             "(%dD) but is %dD" % (name, format_shape(t.shape), len(shape),
                                                   len(t.shape)))
            tn = t.shape[0] if batched else 1
            if _differ(tn, n):
                return error("shape-mismatch", "Input batch size %s doesn't match hidden%d batch "
                             "size %s" % (format_dim(n), k, format_dim(tn)))
            if _differ(t.shape[-1], h):
                return error("shape-mismatch", "hidden%d has inconsistent hidden_size: got %s, "
                             "expected %s" % (k, format_dim(t.shape[-1]), format_dim(h)))
    out = x.with_shape((n, h) if batched else (h,))
    if spec.mode == "LSTM":
        return TupleVal((out, out))
    return out


__all__ = ["RNNSpec", "CellSpec", "RNNLayer", "CellLayer", "rnn_forward", "cell_forward"]
