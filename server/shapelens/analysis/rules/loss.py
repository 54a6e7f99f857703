"""Loss functions, module and functional forms: cross_entropy/nll_loss (class-index or
probability targets), mse/l1/smooth_l1/huber/kl_div (broadcasting), binary_cross_entropy
(with logits), margin_ranking/triplet_margin (three inputs of one rank, broadcast), and
cosine_similarity/pairwise_distance.

``reduction='mean'``/``'sum'`` (the default is mean) gives a 0-d tensor; ``'none'`` keeps the
per-element shape.  What torch checks: for class targets the batch sizes match ("Expected input
batch_size (4) to match target batch_size (8).") and the target has the input's shape without
the class dim; BCE needs identical shapes; the others broadcast.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..dims import format_dim
from ..errors import error
from ..values import Tensor
from . import LayerRule, function, layer
from .call import Call
from .common import differ_for_positive_sizes, fmt_list, fmt_size, is_error, wrap_dim
from .matmul import broadcast_batch


def _differ(a, b):
    return differ_for_positive_sizes(a, b)


def _reduce(x: Tensor, shape, reduction, dtype="float"):
    if reduction == "none":
        return Tensor(shape, dtype)
    if reduction in ("mean", "sum", "batchmean"):
        return Tensor((), dtype)
    return Tensor(None, dtype)


def class_target(x: Tensor, t: Tensor, reduction):
    """cross_entropy/nll_loss with class-index targets."""
    s, ts = x.shape, t.shape
    if s is None or ts is None:
        return _reduce(x, None, reduction)
    if len(s) == 0:
        return error("rank-mismatch", "cross_entropy with class-index targets needs an input with "
                     "a class dim, got a 0-d input")
    if len(s) == 1:
        if len(ts) > 1:
            return error("rank-mismatch", "0D or 1D target tensor expected, multi-target not "
                         "supported. An unbatched input [C] takes a 0-d target.")
        if len(ts) == 1 and _differ(ts[0], 1):
            return error("shape-mismatch", "For 1D input, 1D target must have size 1, but got "
                         "target size: %s" % format_dim(ts[0]))
        return Tensor((), "float") if reduction is not None else Tensor(None, "float")
    if len(s) == 2 and len(ts) != 1 or len(s) > 2 and len(ts) != len(s) - 1:
        if len(s) == 2:
            return error("rank-mismatch", "0D or 1D target tensor expected, multi-target not "
                         "supported. The input %s is [N, C]: the target must be [N] class "
                         "indices (or %s probabilities)." % (fmt_list(s), fmt_list(s)))
        return error("rank-mismatch", "only batches of spatial targets supported (%dD tensors) but "
                     "got targets of dimension: %d" % (len(s) - 1, len(ts)))
    if _differ(s[0], ts[0]):
        return error("shape-mismatch", "Expected input batch_size (%s) to match target batch_size "
                     "(%s). The input %s and the target %s must have the same first dim."
                     % (format_dim(s[0]), format_dim(ts[0]), fmt_list(s), fmt_list(ts)))
    want = (s[0],) + tuple(s[2:])
    if any(_differ(a, b) for a, b in zip(want, ts)):
        return error("shape-mismatch", "Expected target size %s, got %s" % (fmt_list(want),
                                                                             fmt_list(ts)))
    return _reduce(x, tuple(a if a is not None else b for a, b in zip(want, ts)), reduction)


def prob_target(x: Tensor, t: Tensor, reduction):
    """cross_entropy with class-probability targets: the target has the input's shape."""
    s, ts = x.shape, t.shape
    if s is None or ts is None:
        return _reduce(x, None, reduction)
    if len(s) != len(ts) or any(_differ(a, b) for a, b in zip(s, ts)):
        return error("shape-mismatch", "cross_entropy with class probabilities needs a target of "
                     "the input's shape %s, got %s" % (fmt_list(s), fmt_list(ts)))
    if not s:
        return error("rank-mismatch", "Dimension specified as 1 but tensor has no dimensions. "
                     "cross_entropy needs an input with a class dim.")
    return _reduce(x, (s[0],) + tuple(s[2:]) if len(s) >= 2 else (), reduction)


def cross_entropy(x: Tensor, t: Tensor, reduction):
    """torch reads the target as class probabilities when it has the input's shape, else as
    class indices (which must then be integers: a dtype error is not reported here)."""
    s, ts = x.shape, t.shape
    if s is None or ts is None:
        return _reduce(x, None, reduction)
    if len(s) == len(ts) and all(a == b and a is not None for a, b in zip(s, ts)):
        if t.dtype == "long":
            return error("shape-mismatch", "Expected floating point type for target with class "
                         "probabilities, got Long. A target of the input's shape %s is read as "
                         "probabilities; class indices have the shape %s."
                         % (fmt_list(s), fmt_list((s[0],) + tuple(s[2:])) if len(s) > 1
                            else "[]"))
        return prob_target(x, t, reduction)
    if len(s) != len(ts) or any(_differ(a, b) for a, b in zip(s, ts)):
        return class_target(x, t, reduction)
    return _reduce(x, None, reduction)


def pointwise_loss(x: Tensor, t: Tensor, reduction, exact=None):
    """mse/l1/... broadcast input and target; ``exact``: BCE's name when sizes must be equal."""
    s, ts = x.shape, t.shape
    if s is not None and ts is not None and exact:
        if len(s) != len(ts) or any(_differ(a, b) for a, b in zip(s, ts)):
            if exact == "bce":
                return error("shape-mismatch", "Using a target size (%s) that is different to the "
                             "input size (%s) is deprecated. Please ensure they have the same "
                             "size." % (fmt_size(ts), fmt_size(s)))
            return error("shape-mismatch", "Target size (%s) must be the same as input size (%s)"
                         % (fmt_size(ts), fmt_size(s)))
    if s is None or ts is None:
        return _reduce(x, None, reduction)
    shape, err = broadcast_batch(s, ts)
    if err:
        return err
    return _reduce(x, shape, reduction)


def _reduction(call: Call, index: int):
    v = call.value(index, "reduction", "mean")
    return v if isinstance(v, str) else None


def _pair(call: Call):
    return call.tensor(0, "input"), call.tensor(1, "target")


@function("torch.nn.functional.cross_entropy")
def f_cross_entropy(call: Call):
    x, t = _pair(call)
    if x is None or t is None:
        return None
    return cross_entropy(x, t, _reduction(call, 6))


@function("torch.nn.functional.nll_loss")
def f_nll_loss(call: Call):
    x, t = _pair(call)
    if x is None or t is None:
        return None
    return class_target(x, t, _reduction(call, 6))


_POINTWISE = {"mse_loss": 4, "l1_loss": 4, "smooth_l1_loss": 4, "huber_loss": 2,
              "kl_div": 4, "soft_margin_loss": 4}


def _register():
    for name, index in _POINTWISE.items():
        function("torch.nn.functional." + name)(
            lambda call, index=index: _pointwise_call(call, index))


def _pointwise_call(call: Call, index: int, exact=None):
    x, t = _pair(call)
    if x is None or t is None:
        return None
    return pointwise_loss(x, t, _reduction(call, index), exact)


_register()


@function("torch.nn.functional.binary_cross_entropy")
def f_bce(call: Call):
    return _pointwise_call(call, 5, "bce")


@function("torch.nn.functional.binary_cross_entropy_with_logits")
def f_bce_logits(call: Call):
    return _pointwise_call(call, 5, "logits")


@function("torch.nn.functional.cosine_similarity", "torch.cosine_similarity",
          "torch.nn.functional.pairwise_distance", "torch.pairwise_distance")
def f_similarity(call: Call):
    a, b = call.tensor(0, "x1"), call.tensor(1, "x2")
    if a is None or b is None:
        return None
    if "cosine" in call.name:
        return similarity(a, b, call.int(2, "dim", 1), False)
    return similarity(a, b, -1, call.value(4, "keepdim", False) is True)


@layer("CosineSimilarity", "PairwiseDistance")
class SimilarityLayer(LayerRule):
    def build(self, kind: str, call: Call):
        if kind == "CosineSimilarity":
            return (call.int(0, "dim", 1), False)
        return (-1, call.value(2, "keepdim", False) is True)

    def forward(self, spec, call: Call):
        a, b = call.tensor(0, "x1"), call.tensor(1, "x2")
        if a is None or b is None:
            return None
        return similarity(a, b, spec[0], spec[1])

    def params(self, spec):
        return 0


def similarity(a: Tensor, b: Tensor, dim, keepdim: bool):
    """Broadcast the two inputs and reduce ``dim``."""
    if a.shape is None or b.shape is None:
        return Tensor(None, a.dtype)
    shape, err = broadcast_batch(a.shape, b.shape)
    if err:
        return err
    d = wrap_dim(dim, len(shape))
    if is_error(d) or d is None:
        return d if is_error(d) else Tensor(None, a.dtype)
    if not shape:
        return a.with_shape(())
    out = tuple(1 if i == d and keepdim else s for i, s in enumerate(shape)
                if i != d or keepdim)
    return a.with_shape(out)


def _broadcast_all(ts):
    from .broadcast import broadcast_shapes, mismatch_error
    shape = ()
    for t in ts:
        if t.shape is None:
            return None, None
        new, problem = broadcast_shapes(shape, t.shape)
        if problem:
            return None, mismatch_error(shape, t.shape, problem)
        shape = new
    return shape, None


def margin_ranking(a: Tensor, b: Tensor, t: Tensor, reduction):
    """All three of one rank, broadcast element-wise."""
    shapes = (a.shape, b.shape, t.shape)
    if None not in shapes and len({len(s) for s in shapes}) > 1:
        return error("rank-mismatch", "margin_ranking_loss : All input tensors should have same "
                     "dimension but got sizes: input1: %s, input2: %s, target: %s "
                     % tuple(fmt_size(s) for s in shapes))
    shape, err = _broadcast_all((a, b, t))
    return err or _reduce(a, shape, reduction)


def triplet_margin(a: Tensor, p: Tensor, n: Tensor, reduction):
    """All three of one rank, broadcast; the distance is taken along the last dim."""
    shapes = (a.shape, p.shape, n.shape)
    if None not in shapes and len({len(s) for s in shapes}) > 1:
        return error("rank-mismatch", "The anchor, positive, and negative tensors are expected to "
                     "have the same number of dimensions, but got: anchor %dD, positive %dD, "
                     "and negative %dD inputs" % tuple(len(s) for s in shapes))
    shape, err = _broadcast_all((a, p, n))
    if err:
        return err
    return _reduce(a, shape[:-1] if shape else shape, reduction)


@function("torch.nn.functional.margin_ranking_loss")
def f_margin_ranking(call: Call):
    a, b, t = call.tensor(0, "input1"), call.tensor(1, "input2"), call.tensor(2, "target")
    if a is None or b is None or t is None:
        return None
    return margin_ranking(a, b, t, _reduction(call, 6))


@function("torch.nn.functional.triplet_margin_loss")
def f_triplet_margin(call: Call):
    a, p, n = call.tensor(0, "anchor"), call.tensor(1, "positive"), call.tensor(2, "negative")
    if a is None or p is None or n is None:
        return None
    return triplet_margin(a, p, n, _reduction(call, 9))


@dataclass(frozen=True)
class LossSpec:
    kind: str
    reduction: object = "mean"


_LOSS_KINDS = ("CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss",
               "KLDivLoss", "BCELoss", "BCEWithLogitsLoss", "SoftMarginLoss",
               "MarginRankingLoss", "TripletMarginLoss")


@layer(*_LOSS_KINDS)
class LossLayer(LayerRule):
    def build(self, kind: str, call: Call):
        reduction = call.value(None, "reduction", "mean")
        if kind == "HuberLoss":
            reduction = call.value(0, "reduction", "mean")
        if call.has(None, "reduce") or call.has(None, "size_average"):
            reduction = None   # legacy arguments: not modelled
        return LossSpec(kind, reduction if isinstance(reduction, str) else None)

    def forward(self, spec: LossSpec, call: Call):
        if spec.kind in ("MarginRankingLoss", "TripletMarginLoss"):
            names = ("input1", "input2", "target") if spec.kind == "MarginRankingLoss" else \
                ("anchor", "positive", "negative")
            ts = [call.tensor(i, name) for i, name in enumerate(names)]
            if None in ts:
                return None
            return (margin_ranking if spec.kind == "MarginRankingLoss" else triplet_margin)(
                *ts, spec.reduction)
        x, t = _pair(call)
        if x is None or t is None:
            return None
        if spec.kind == "CrossEntropyLoss":
            return cross_entropy(x, t, spec.reduction)
        if spec.kind == "NLLLoss":
            return class_target(x, t, spec.reduction)
        exact = {"BCELoss": "bce", "BCEWithLogitsLoss": "logits"}.get(spec.kind)
        return pointwise_loss(x, t, spec.reduction, exact)

    def params(self, spec):
        return 0

    def config(self, spec: LossSpec):
        return (("reduction", str(spec.reduction)),)


__all__ = ["cross_entropy", "class_target", "pointwise_loss", "LossSpec"]
