"""MultiheadAttention, F.scaled_dot_product_attention, TransformerEncoderLayer/DecoderLayer,
TransformerEncoder/Decoder (built from a layer value) and nn.Transformer (and its static
``generate_square_subsequent_mask``).

MultiheadAttention(query [L, N, E], key [S, N, kdim], value [S, N, vdim]) returns
``(attn_output [L, N, E], attn_weights [N, L, S'])`` (batch_first: [N, L, E]; unbatched inputs
drop N; ``average_attn_weights=False`` gives [N, heads, L, S']; ``need_weights=False`` gives
None) with ``S' = S + add_bias_kv + add_zero_attn``.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..dims import add, format_dim, is_int, mul, sym
from ..errors import FixHint, error
from ..values import Const, Container, Layer, Tensor, TupleVal, format_shape
from . import LAYERS, LayerRule, function, layer
from .call import MISSING, UNKNOWN, Call
from .common import bool_arg, differ_for_positive_sizes, fmt_size, fmt_x, is_error
from .matmul import broadcast_batch


def _differ(a, b):
    return differ_for_positive_sizes(a, b)


@dataclass(frozen=True)
class MHASpec:
    embed_dim: object
    num_heads: object
    kdim: object = None
    vdim: object = None
    batch_first: object = False
    bias: object = True
    add_bias_kv: object = False
    add_zero_attn: object = False


def _mha_config_error(e, h):
    if is_int(e) and is_int(h) and h > 0 and e % h:
        return error("shape-mismatch", "embed_dim must be divisible by num_heads (embed_dim=%d, "
                     "num_heads=%d)" % (e, h), blame="layer")
    if is_int(h) and h == 0:
        return error("shape-mismatch", "integer division or modulo by zero: num_heads must be "
                     "positive", blame="layer")
    return None


def _dim_or(call: Call, index, name, default):
    """kdim/vdim: None (or not passed) means embed_dim."""
    v = call.get(index, name)
    if v is MISSING or (type(v) is Const and v.value is None):
        return default
    return call.int(index, name)


def _same_dims(spec: MHASpec) -> bool:
    return spec.kdim == spec.embed_dim and spec.vdim == spec.embed_dim


@layer("MultiheadAttention")
class MHALayer(LayerRule):
    def build(self, kind: str, call: Call):
        e = call.int(0, "embed_dim")
        h = call.int(1, "num_heads")
        spec = MHASpec(e, h, _dim_or(call, 6, "kdim", e), _dim_or(call, 7, "vdim", e),
                       bool_arg(call, 8, "batch_first", False),
                       bool_arg(call, 3, "bias", True), bool_arg(call, 4, "add_bias_kv", False),
                       bool_arg(call, 5, "add_zero_attn", False))
        return _mha_config_error(e, h) or spec

    def forward(self, spec: MHASpec, call: Call):
        q = call.tensor(0, "query")
        k = call.tensor(1, "key")
        v = call.tensor(2, "value")
        if q is None or k is None or v is None:
            return None
        need = call.value(4, "need_weights", True)
        avg = call.value(7, "average_attn_weights", True)
        return mha_forward(spec, q, k, v, need, avg, call.tensor(3, "key_padding_mask"),
                           call.tensor(5, "attn_mask"))

    def params(self, spec: MHASpec):
        e, kd, vd = spec.embed_dim, spec.kdim, spec.vdim
        if not all(is_int(x) for x in (e, kd, vd)) or spec.bias not in (True, False) \
                or spec.add_bias_kv not in (True, False):
            return None
        total = e * e + kd * e + vd * e + e * e
        if spec.bias:
            total += 3 * e + e
        if spec.add_bias_kv:
            total += 2 * e
        return total

    def config(self, spec: MHASpec):
        out = [("embed_dim", format_dim(spec.embed_dim)), ("num_heads", format_dim(spec.num_heads))]
        if spec.kdim != spec.embed_dim:
            out.append(("kdim", format_dim(spec.kdim)))
        if spec.vdim != spec.embed_dim:
            out.append(("vdim", format_dim(spec.vdim)))
        if spec.batch_first is not False:
            out.append(("batch_first", str(spec.batch_first)))
        return tuple(out)

    def submodules(self, spec: MHASpec):
        # out_proj is registered but not called: forward uses its weight directly.
        return (("out_proj", child_layer("NonDynamicallyQuantizableLinear", spec.embed_dim,
                                         spec.embed_dim, bias=spec.bias)),)

    def expected_input(self, spec: MHASpec):
        if spec.embed_dim is None or spec.batch_first is UNKNOWN:
            return None
        if spec.batch_first:
            return (sym("N"), sym("L"), spec.embed_dim)
        return (sym("L"), sym("N"), spec.embed_dim)

    def attribute(self, spec: MHASpec, name: str):
        e = spec.embed_dim
        if name in ("embed_dim", "num_heads", "kdim", "vdim", "batch_first"):
            v = getattr(spec, name)
            return Const(v) if v is not None and v is not UNKNOWN else None
        if name == "head_dim" and is_int(e) and is_int(spec.num_heads) and spec.num_heads:
            return Const(e // spec.num_heads)
        if name == "in_proj_weight" and _same_dims(spec):
            return Tensor((mul(3, e), e), "float")
        if name == "in_proj_bias" and spec.bias is True:
            return Tensor((mul(3, e),), "float")
        return None


def mha_forward(spec: MHASpec, q: Tensor, k: Tensor, v: Tensor, need_weights=True,
                average=True, key_padding_mask=None, attn_mask=None):
    sq, sk, sv = q.shape, k.shape, v.shape
    e = spec.embed_dim
    if sq is not None:
        if len(sq) not in (2, 3):
            return error("rank-mismatch", "query should be unbatched 2D or batched 3D tensor but "
                         "received %d-D query tensor. MultiheadAttention takes %s."
                         % (len(sq), _mha_takes(spec)))
        want = len(sq)
        if (sk is not None and len(sk) != want) or (sv is not None and len(sv) != want):
            return error("rank-mismatch", "For %s `query`, expected `key` and `value` to be %d-D "
                         "but found %s-D and %s-D tensors respectively"
                         % ("batched (3-D)" if want == 3 else "unbatched (2-D)", want,
                            len(sk) if sk is not None else "?", len(sv) if sv is not None else "?"))
    batched = sq is not None and len(sq) == 3
    bf = spec.batch_first

    def seq_batch(shape):
        """(sequence length, batch) of a 3-D/2-D input."""
        if shape is None:
            return None, None
        if len(shape) == 2:
            return shape[0], 1
        if bf is True:
            return shape[1], shape[0]
        if bf is False:
            return shape[0], shape[1]
        return None, None

    if sq is not None and _differ(sq[-1], e):
        return error("shape-mismatch", "was expecting embedding dimension of %s, but got %s. The "
                     "attention is built for embed_dim=%s but the query %s has %s features: set "
                     "embed_dim to %s, or fix the input."
                     % (format_dim(e), format_dim(sq[-1]), format_dim(e), format_shape(sq),
                        format_dim(sq[-1]), format_dim(sq[-1])),
                     fix=FixHint("embed_dim", sq[-1], 0), blame="layer")
    if _same_dims(spec):
        if sk is not None and sv is not None and (len(sk) != len(sv) or any(
                _differ(a, b) for a, b in zip(sk, sv))):
            return error("shape-mismatch", "key shape %s does not match value shape %s"
                         % (fmt_size(sk), fmt_size(sv)))
        if sk is not None and _differ(sk[-1], e):
            rows = mul(sk[0], sk[1]) if len(sk) == 3 else sk[0]
            return error("shape-mismatch", "mat1 and mat2 shapes cannot be multiplied (%s and %s). "
                         "The key has %s features but the attention's embed_dim is %s; pass "
                         "kdim=%s and vdim to MultiheadAttention for keys of another size."
                         % (fmt_x((rows, sk[-1])), fmt_x((e, e)), format_dim(sk[-1]),
                            format_dim(e), format_dim(sk[-1])))
    else:
        if sk is not None and sv is not None and any(
                _differ(a, b) for a, b in zip(sk[:-1], sv[:-1])):
            return error("shape-mismatch", "key's sequence and batch dims %s do not match value's "
                         "%s" % (fmt_size(sk[:-1]), fmt_size(sv[:-1])))
        if sk is not None and _differ(sk[-1], spec.kdim):
            return error("shape-mismatch", "expecting key weights shape of (%s, %s), but got "
                         "torch.Size([%s, %s]). The key has %s features but kdim=%s."
                         % (format_dim(e), format_dim(sk[-1]), format_dim(e),
                            format_dim(spec.kdim), format_dim(sk[-1]), format_dim(spec.kdim)))
        if sv is not None and _differ(sv[-1], spec.vdim):
            return error("shape-mismatch", "expecting value weights shape of (%s, %s), but got "
                         "torch.Size([%s, %s]). The value has %s features but vdim=%s."
                         % (format_dim(e), format_dim(sv[-1]), format_dim(e),
                            format_dim(spec.vdim), format_dim(sv[-1]), format_dim(spec.vdim)))
    tgt_len, bsz = seq_batch(sq)
    src_len, kbsz = seq_batch(sk)
    if src_len is None:
        src_len = seq_batch(sv)[0]
    if batched and kbsz is not None and bsz is not None and _differ(kbsz, bsz):
        return error("shape-mismatch", "shape '[%s, %s, %s]' is invalid for input of size %s. "
                     "The key's batch size %s differs from the query's %s."
                     % (format_dim(src_len), format_dim(mul(bsz, spec.num_heads)),
                        format_dim(_head_dim(spec)), format_dim(_numel(sk, e)),
                        format_dim(kbsz), format_dim(bsz)))
    if attn_mask is not None and attn_mask.shape is not None:
        m = attn_mask.shape
        if len(m) == 2 and (_differ(m[0], tgt_len) or _differ(m[1], src_len)):
            return error("shape-mismatch", "The shape of the 2D attn_mask is %s, but should be "
                         "(%s, %s)." % (fmt_size(m), format_dim(tgt_len), format_dim(src_len)))
        if len(m) == 3:
            heads = mul(bsz, spec.num_heads)
            if any(_differ(a, b) for a, b in zip(m, (heads, tgt_len, src_len))):
                return error("shape-mismatch", "The shape of the 3D attn_mask is %s, but should be "
                             "(%s, %s, %s)." % (fmt_size(m), format_dim(heads),
                                                format_dim(tgt_len), format_dim(src_len)))
    if key_padding_mask is not None and key_padding_mask.shape is not None and batched:
        km = key_padding_mask.shape
        if len(km) == 2:
            if _differ(km[0], bsz):
                return error("shape-mismatch", "Expected key_padded_mask.shape[0] to be %s, but "
                             "got %s" % (format_dim(bsz), format_dim(km[0])))
            if _differ(km[1], src_len):
                return error("shape-mismatch", "Expected key_padded_mask.shape[1] to be %s, but "
                             "got %s" % (format_dim(src_len), format_dim(km[1])))
    if sq is None:
        out = Tensor(None, q.dtype)
    elif batched:
        out = q.with_shape((bsz, tgt_len, e) if bf is True else (tgt_len, bsz, e) if bf is False
                           else (None, None, e))
    else:
        out = q.with_shape((tgt_len, e))
    if need_weights is False:
        return TupleVal((out, Const(None)))
    s = src_len
    for flag in (spec.add_bias_kv, spec.add_zero_attn):
        if flag is True:
            s = add(s, 1)
        elif flag is not False:
            s = None
    if sq is None:
        w = Tensor(None, q.dtype)
    else:
        heads = () if average is True else ((spec.num_heads,) if average is False else None)
        if heads is None:
            w = Tensor(None, q.dtype)
        else:
            w = q.with_shape(((bsz,) if batched else ()) + heads + (tgt_len, s))
    return TupleVal((out, w))


def _head_dim(spec: MHASpec):
    e, h = spec.embed_dim, spec.num_heads
    if is_int(e) and is_int(h) and h:
        return e // h
    return None


def _numel(shape, e):
    if shape is None:
        return None
    out = 1
    for d in shape[:-1]:
        out = mul(out, d)
    return mul(out, e)


def _mha_takes(spec: MHASpec) -> str:
    e = format_dim(spec.embed_dim)
    if spec.batch_first is True:
        return "[N, L, %s] (batch_first=True) or [L, %s]" % (e, e)
    return "[L, N, %s] or [L, %s]" % (e, e)


# --------------------------------------------------------------------------- SDPA

@function("torch.nn.functional.scaled_dot_product_attention")
def f_sdpa(call: Call):
    q, k, v = call.tensor(0, "query"), call.tensor(1, "key"), call.tensor(2, "value")
    if q is None or k is None or v is None:
        return None
    sq, sk, sv = q.shape, k.shape, v.shape
    if any(s is not None and len(s) < 2 for s in (sq, sk, sv)):
        return error("rank-mismatch", "Expected query, key, and value to all be  at least 2 "
                     "dimensional, but got query.dim: %s key.dim: %s and value.dim: %s instead."
                     % tuple(len(s) if s is not None else "?" for s in (sq, sk, sv)))
    if sq is None or sk is None or sv is None:
        return Tensor(None, q.dtype)
    gqa = call.value(7, "enable_gqa", False)
    if gqa is not False:
        # Grouped-query attention repeats key/value heads: only the last two dims are checked.
        if _differ(sq[-1], sk[-1]):
            return error("matmul-mismatch", "scaled_dot_product_attention: query and key must have "
                         "the same embedding size: got %s and %s"
                         % (format_dim(sq[-1]), format_dim(sk[-1])))
        return q.with_shape(tuple(sq[:-1]) + (sv[-1],))
    qk_batch, err = broadcast_batch(sq[:-2], sk[:-2])
    if err:
        return err
    from ..dims import prod
    b = prod(qk_batch)
    if _differ(sq[-1], sk[-1]):
        return error("matmul-mismatch", "Expected size for first two dimensions of batch2 tensor "
                     "to be: [%s, %s] but got: [%s, %s]. query and key must have the same "
                     "embedding size (last dim): %s vs %s."
                     % (format_dim(b), format_dim(sq[-1]), format_dim(b), format_dim(sk[-1]),
                        format_dim(sq[-1]), format_dim(sk[-1])))
    out_batch, err = broadcast_batch(qk_batch, sv[:-2])
    if err:
        return err
    # CPU's fused kernel (4-D inputs with equal batch and head dims, no broadcasting) does
    # not check the value's length: only the math path raises.
    fused = len(sq) == len(sk) == len(sv) == 4 and not _differ(sq[-1], sv[-1]) and not any(
        _differ(a, b) or _differ(a, c) for a, b, c in zip(sq[:2], sk[:2], sv[:2]))
    if _differ(sk[-2], sv[-2]) and not fused:
        b2 = prod(out_batch)
        return error("matmul-mismatch", "Expected size for first two dimensions of batch2 tensor "
                     "to be: [%s, %s] but got: [%s, %s]. key and value must have the same "
                     "sequence length: %s vs %s."
                     % (format_dim(b2), format_dim(sk[-2]), format_dim(b2), format_dim(sv[-2]),
                        format_dim(sk[-2]), format_dim(sv[-2])))
    mask = call.tensor(3, "attn_mask")
    if mask is not None and mask.shape is not None:
        scores = tuple(qk_batch) + (sq[-2], sk[-2])
        _, err = broadcast_batch(scores, mask.shape)
        if err:
            return err
    return q.with_shape(tuple(out_batch) + (sq[-2], sv[-1]))


# --------------------------------------------------------------------------- transformer layers

@dataclass(frozen=True)
class TransformerLayerSpec:
    decoder: bool
    d_model: object
    nhead: object
    dim_feedforward: object = 2048
    batch_first: object = False
    bias: object = True
    norm_first: object = False
    activation: object = None   # a module passed as ``activation`` (a Layer), else None


def _tl_params(spec: TransformerLayerSpec):
    d, ff = spec.d_model, spec.dim_feedforward
    if not (is_int(d) and is_int(ff)) or spec.bias not in (True, False):
        return None
    b = 1 if spec.bias else 0
    mha = 4 * d * d + 4 * d * b
    ffn = d * ff + ff * b + ff * d + d * b
    norms = (3 if spec.decoder else 2) * (d + d * b)
    return (2 if spec.decoder else 1) * mha + ffn + norms


def _check_seq(spec, x: Tensor, what: str):
    """A transformer input: 2-D/3-D with last dim d_model."""
    s = x.shape
    if s is None:
        return None
    if len(s) not in (2, 3):
        return error("rank-mismatch", "query should be unbatched 2D or batched 3D tensor but "
                     "received %d-D query tensor. The %s must be [L, N, %s] or [L, %s]."
                     % (len(s), what, format_dim(spec.d_model), format_dim(spec.d_model)))
    if _differ(s[-1], spec.d_model):
        return error("shape-mismatch", "was expecting embedding dimension of %s, but got %s. The "
                     "layer is built for d_model=%s but the %s %s has %s features."
                     % (format_dim(spec.d_model), format_dim(s[-1]), format_dim(spec.d_model),
                        what, format_shape(s), format_dim(s[-1])),
                     fix=FixHint("d_model", s[-1], 0), blame="layer")
    return None


def _batch_of(spec, shape):
    if shape is None or len(shape) != 3:
        return None
    if spec.batch_first is True:
        return shape[0]
    if spec.batch_first is False:
        return shape[1]
    return None


def transformer_layer_forward(spec: TransformerLayerSpec, x: Tensor, memory=None):
    err = _check_seq(spec, x, "tgt" if spec.decoder else "src")
    if err:
        return err
    if spec.decoder and memory is not None and memory.shape is not None:
        m = memory.shape
        if x.shape is not None and len(m) != len(x.shape):
            return error("rank-mismatch", "For %s `query`, expected `key` and `value` to be %d-D "
                         "but found %d-D and %d-D tensors respectively"
                         % ("batched (3-D)" if len(x.shape) == 3 else "unbatched (2-D)",
                            len(x.shape), len(m), len(m)))
        if _differ(m[-1], spec.d_model):
            rows = mul(m[0], m[1]) if len(m) == 3 else m[0]
            return error("shape-mismatch", "mat1 and mat2 shapes cannot be multiplied (%s and %s). "
                         "The memory has %s features but d_model=%s."
                         % (fmt_x((rows, m[-1])), fmt_x((spec.d_model, mul(2, spec.d_model))),
                            format_dim(m[-1]), format_dim(spec.d_model)))
        if x.shape is not None and len(m) == 3:
            bt, bm = _batch_of(spec, x.shape), _batch_of(spec, m)
            if bt is not None and bm is not None and _differ(bt, bm):
                return error("shape-mismatch", "shape '[...]' is invalid for input of size %s. The "
                             "memory's batch size %s differs from the target's %s."
                             % (format_dim(_numel(m, spec.d_model)), format_dim(bm),
                                format_dim(bt)))
    if x.shape is None:
        return Tensor(None, x.dtype)
    return x.with_shape(x.shape)


@layer("TransformerEncoderLayer", "TransformerDecoderLayer")
class TransformerLayerRule(LayerRule):
    def build(self, kind: str, call: Call):
        d = call.int(0, "d_model")
        h = call.int(1, "nhead")
        err = _mha_config_error(d, h)
        if err:
            return err
        activation = call.get(4, "activation")
        return TransformerLayerSpec(kind == "TransformerDecoderLayer", d, h,
                                    call.int(2, "dim_feedforward", 2048),
                                    bool_arg(call, 6, "batch_first", False),
                                    bool_arg(call, 8, "bias", True),
                                    bool_arg(call, 7, "norm_first", False),
                                    activation if type(activation) is Layer else None)

    def forward(self, spec: TransformerLayerSpec, call: Call):
        x = call.tensor(0, "tgt" if spec.decoder else "src")
        if x is None:
            return None
        memory = call.tensor(1, "memory") if spec.decoder else None
        return transformer_layer_forward(spec, x, memory)

    def params(self, spec):
        return _tl_params(spec)

    def submodules(self, spec: TransformerLayerSpec):
        d, ff, b = spec.d_model, spec.dim_feedforward, spec.bias

        def attention():
            return child_layer("MultiheadAttention", d, spec.nhead, bias=b,
                               batch_first=spec.batch_first)
        out = [("self_attn", attention())]
        if spec.decoder:
            out.append(("multihead_attn", attention()))
        out += [("linear1", child_layer("Linear", d, ff, bias=b)),
                ("dropout", child_layer("Dropout")),
                ("linear2", child_layer("Linear", ff, d, bias=b))]
        norms = ("norm1", "norm2", "norm3") if spec.decoder else ("norm1", "norm2")
        out += [(n, child_layer("LayerNorm", d, bias=b)) for n in norms]
        out += [(n, child_layer("Dropout")) for n in ("dropout1", "dropout2", "dropout3")
                [:len(norms)]]
        if spec.activation is not None:   # each layer (a stack deep-copies it) has its own
            out.append(("activation", Layer(spec.activation.kind, spec.activation.spec)))
        return tuple(out)

    def inner_calls(self, spec: TransformerLayerSpec, children, call: Call):
        x = call.tensor(0, "tgt" if spec.decoder else "src")
        memory = call.tensor(1, "memory") if spec.decoder else None
        if x is None or spec.norm_first not in (True, False):
            return []
        calls = []
        run = _call_recorder(children, calls)

        def feed_forward(h):
            h = run("linear1", h)
            if "activation" in children:
                h = run("activation", h)
            return run("dropout3" if spec.decoder else "dropout2",
                       run("linear2", run("dropout", h)))

        # torch's TransformerEncoderLayer/DecoderLayer.forward; x + f(x) keeps x's shape.
        if spec.norm_first:
            h = run("norm1", x)
            run("dropout1", run("self_attn", h, h, h))
            if spec.decoder:
                run("dropout2", run("multihead_attn", run("norm2", x), memory, memory))
            feed_forward(run("norm3" if spec.decoder else "norm2", x))
            return calls
        x = run("norm1", x, after=run("dropout1", run("self_attn", x, x, x)))
        if spec.decoder:
            x = run("norm2", x, after=run("dropout2", run("multihead_attn", x, memory, memory)))
        run("norm3" if spec.decoder else "norm2", x, after=feed_forward(x))
        return calls

    def config(self, spec: TransformerLayerSpec):
        out = [("d_model", format_dim(spec.d_model)), ("nhead", format_dim(spec.nhead)),
               ("dim_feedforward", format_dim(spec.dim_feedforward))]
        if spec.batch_first is not False:
            out.append(("batch_first", str(spec.batch_first)))
        return tuple(out)

    def expected_input(self, spec: TransformerLayerSpec):
        if spec.d_model is None or spec.batch_first is UNKNOWN:
            return None
        if spec.batch_first:
            return (sym("N"), sym("L"), spec.d_model)
        return (sym("L"), sym("N"), spec.d_model)


@dataclass(frozen=True)
class StackSpec:
    decoder: bool
    layer: object           # TransformerLayerSpec or None
    num_layers: object
    norm: object = None     # a Layer value or None


@layer("TransformerEncoder", "TransformerDecoder")
class TransformerStackRule(LayerRule):
    def build(self, kind: str, call: Call):
        v = call.get(0, "decoder_layer" if kind == "TransformerDecoder" else "encoder_layer")
        spec = v.spec if type(v) is Layer and isinstance(v.spec, TransformerLayerSpec) else None
        norm = call.get(2, "norm")
        norm = norm if type(norm) is Layer else None
        return StackSpec(kind == "TransformerDecoder", spec, call.int(1, "num_layers"), norm)

    def forward(self, spec: StackSpec, call: Call):
        x = call.tensor(0, "tgt" if spec.decoder else "src")
        if x is None:
            return None
        out = x if spec.layer is None else transformer_layer_forward(
            spec.layer, x, call.tensor(1, "memory") if spec.decoder else None)
        if is_error(out):
            return out
        if spec.layer is None:
            out = Tensor(None, x.dtype) if x.shape is None else x.with_shape(x.shape)
        return _apply_norm(spec.norm, out)

    def params(self, spec: StackSpec):
        if spec.layer is None or not is_int(spec.num_layers):
            return None
        per = _tl_params(spec.layer)
        if per is None:
            return None
        total = per * spec.num_layers
        if spec.norm is not None:
            rule = LAYERS.get(spec.norm.kind)
            extra = rule.params(spec.norm.spec) if rule and spec.norm.spec is not None else None
            if extra is None:
                return None
            total += extra
        return total

    def submodules(self, spec: StackSpec):
        if spec.layer is None or not is_int(spec.num_layers):
            return ()
        kind = "TransformerDecoderLayer" if spec.decoder else "TransformerEncoderLayer"
        out = [("layers", Container("ModuleList", [Layer(kind, spec.layer)
                                                   for _ in range(spec.num_layers)]))]
        if spec.norm is not None:
            out.append(("norm", spec.norm))
        return tuple(out)

    def inner_calls(self, spec: StackSpec, children, call: Call):
        x = call.tensor(0, "tgt" if spec.decoder else "src")
        memory = call.tensor(1, "memory") if spec.decoder else None
        layers = children.get("layers")
        if x is None or layers is None:
            return []
        calls = []
        run = _call_recorder({"layers.%d" % i: m for i, m in enumerate(layers.items)}, calls)
        for i in range(len(layers.items)):
            x = run("layers.%d" % i, x, memory) if spec.decoder else run("layers.%d" % i, x)
        if "norm" in children:
            run_norm = _call_recorder(children, calls)
            run_norm("norm", x)
        return calls

    def config(self, spec: StackSpec):
        return (("num_layers", format_dim(spec.num_layers)),)

    def expected_input(self, spec: StackSpec):
        if spec.layer is None:
            return None
        return TransformerLayerRule.expected_input(TransformerLayerRule, spec.layer)


def _apply_norm(norm, x: Tensor):
    if norm is None or norm.spec is None:
        return x
    rule = LAYERS.get(norm.kind)
    if rule is None:
        return Tensor(None, x.dtype)
    out = rule.forward(norm.spec, Call(norm.kind, (x,), {}))
    return out if out is not None else Tensor(None, x.dtype)


@function("torch.nn.Transformer.generate_square_subsequent_mask")
def square_subsequent_mask(call: Call):
    """The static method: a float [sz, sz] mask (-inf above the diagonal)."""
    sz = call.int(0, "sz")
    if is_int(sz) and sz < 0:
        return error("shape-mismatch", "Trying to create tensor with negative dimension %d: "
                     "[%d, %d]" % (sz, sz, sz))
    return Tensor((sz, sz), "float")


@dataclass(frozen=True)
class TransformerSpec:
    layer: TransformerLayerSpec
    num_encoder_layers: object = 6
    num_decoder_layers: object = 6
    custom: bool = False


@layer("Transformer")
class TransformerRule(LayerRule):
    def build(self, kind: str, call: Call):
        d = call.int(0, "d_model", 512)
        h = call.int(1, "nhead", 8)
        err = _mha_config_error(d, h)
        if err:
            return err
        custom = call.has(6, "custom_encoder") or call.has(7, "custom_decoder")
        activation = call.get(6, "activation")
        spec = TransformerLayerSpec(False, d, h, call.int(4, "dim_feedforward", 2048),
                                    bool_arg(call, 10, "batch_first", False),
                                    bool_arg(call, 12, "bias", True),
                                    bool_arg(call, 11, "norm_first", False),
                                    activation if type(activation) is Layer else None)
        return TransformerSpec(spec, call.int(2, "num_encoder_layers", 6),
                               call.int(3, "num_decoder_layers", 6), custom)

    def forward(self, spec: TransformerSpec, call: Call):
        src, tgt = call.tensor(0, "src"), call.tensor(1, "tgt")
        if src is None or tgt is None:
            return None
        ls = spec.layer
        ss, ts = src.shape, tgt.shape
        if ss is not None and ts is not None and len(ss) == 3 and len(ts) >= 2:
            i = 0 if ls.batch_first is True else 1 if ls.batch_first is False else None
            if i is not None and _differ(ss[i], ts[i]):
                return error("shape-mismatch", "the batch number of src and tgt must be equal "
                             "(src %s, tgt %s)" % (format_shape(ss), format_shape(ts)))
        for s in (ss, ts):
            if s is not None and s and _differ(s[-1], ls.d_model):
                return error("shape-mismatch", "the feature number of src and tgt must be equal to "
                             "d_model (d_model=%s; src %s, tgt %s)"
                             % (format_dim(ls.d_model), format_shape(ss), format_shape(ts)),
                             fix=FixHint("d_model", s[-1], 0), blame="layer")
        if spec.custom:
            return Tensor(None, tgt.dtype) if ts is None else tgt.with_shape(ts)
        memory = transformer_layer_forward(ls, src)
        if is_error(memory):
            return memory
        dec = TransformerLayerSpec(True, ls.d_model, ls.nhead, ls.dim_feedforward,
                                   ls.batch_first, ls.bias)
        return transformer_layer_forward(dec, tgt, memory)

    def params(self, spec: TransformerSpec):
        ls = spec.layer
        enc = _tl_params(ls)
        dec = _tl_params(TransformerLayerSpec(True, ls.d_model, ls.nhead, ls.dim_feedforward,
                                              ls.batch_first, ls.bias))
        ne, nd, d = spec.num_encoder_layers, spec.num_decoder_layers, ls.d_model
        if None in (enc, dec) or not (is_int(ne) and is_int(nd)) or spec.custom:
            return None
        norm = 2 * d if ls.bias else d
        return enc * ne + dec * nd + 2 * norm

    def submodules(self, spec: TransformerSpec):
        ls = spec.layer
        if spec.custom:
            return ()
        dec = TransformerLayerSpec(True, ls.d_model, ls.nhead, ls.dim_feedforward,
                                   ls.batch_first, ls.bias, ls.norm_first, ls.activation)
        return (("encoder", Layer("TransformerEncoder", StackSpec(
                    False, ls, spec.num_encoder_layers,
                    child_layer("LayerNorm", ls.d_model, bias=ls.bias)))),
                ("decoder", Layer("TransformerDecoder", StackSpec(
                    True, dec, spec.num_decoder_layers,
                    child_layer("LayerNorm", ls.d_model, bias=ls.bias)))))

    def inner_calls(self, spec: TransformerSpec, children, call: Call):
        src, tgt = call.tensor(0, "src"), call.tensor(1, "tgt")
        if src is None or tgt is None or "encoder" not in children:
            return []
        calls = []
        run = _call_recorder(children, calls)
        run("decoder", tgt, run("encoder", src))
        return calls

    def config(self, spec: TransformerSpec):
        ls = spec.layer
        return (("d_model", format_dim(ls.d_model)), ("nhead", format_dim(ls.nhead)),
                ("num_encoder_layers", format_dim(spec.num_encoder_layers)),
                ("num_decoder_layers", format_dim(spec.num_decoder_layers)))


__all__ = ["MHASpec", "mha_forward", "TransformerLayerSpec", "transformer_layer_forward"]


def child_layer(kind: str, *args, **kwargs) -> Layer:
    """A torch layer that another layer builds inside itself, as its constructor call with
    these (known) arguments would build it."""
    from ..errors import ShapeError
    rule = LAYERS[kind]
    spec = rule.build(kind, Call("torch.nn." + kind, tuple(Const(a) for a in args),
                                 {k: Const(v) for k, v in kwargs.items()}))
    return Layer(kind, None if isinstance(spec, ShapeError) else spec)


def _call_recorder(children, calls):
    """``run(name, *args)``: apply child ``name``'s rule to ``args``, append (name, args,
    output) to ``calls`` and return the output tensor (the first item of a tuple).  ``after``:
    the call's input is ``x + after`` (a residual), which keeps ``x``'s shape."""
    def run(name, *args, after=None):
        layer = children.get(name)
        out = None
        if layer is not None and layer.spec is not None and layer.kind in LAYERS:
            try:
                out = LAYERS[layer.kind].forward(layer.spec, Call(layer.kind, args, {}, False))
            except Exception:
                out = None
        if not isinstance(out, (Tensor, TupleVal)):
            out = Tensor(None)
        calls.append((name, args, out))
        first = out.items[0] if type(out) is TupleVal and out.items else out
        return first if type(first) is Tensor else Tensor(None)
    return run
