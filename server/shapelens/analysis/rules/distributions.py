"""``torch.distributions``: a distribution is known by its batch and event shapes (a
:class:`~shapelens.analysis.values.Distribution`), which its constructor takes from its
parameters; ``sample(sample_shape)``/``rsample`` give ``sample_shape + batch + event``,
``log_prob(value)`` broadcasts value's leading dims with the batch (torch validates the
value's shape by default: its right-most dims must be the event shape and the rest must
broadcast), ``entropy()`` has the batch shape, and ``kl_divergence(p, q)`` of one family and
one batch shape has that shape.

Methods are registered as ``torch.distributions.Distribution.<name>`` with the distribution
first; ``attribute`` answers ``mean``, ``probs``, ``batch_shape``...
"""
from __future__ import annotations

from ..dims import format_dim, is_int
from ..errors import error
from ..values import Const, Distribution, ListVal, Tensor, TupleVal
from . import function
from .broadcast import broadcast_shapes, mismatch_error, operand_shape
from .call import MISSING, Call, as_int

ROOT = "torch.distributions."

# family -> (module under torch.distributions, its parameters in order)
_BROADCAST = {
    "Normal": ("normal", ("loc", "scale")),
    "LogNormal": ("log_normal", ("loc", "scale")),
    "Laplace": ("laplace", ("loc", "scale")),
    "Cauchy": ("cauchy", ("loc", "scale")),
    "Gumbel": ("gumbel", ("loc", "scale")),
    "Uniform": ("uniform", ("low", "high")),
    "Beta": ("beta", ("concentration1", "concentration0")),
    "Gamma": ("gamma", ("concentration", "rate")),
    "HalfNormal": ("half_normal", ("scale",)),
    "HalfCauchy": ("half_cauchy", ("scale",)),
    "Exponential": ("exponential", ("rate",)),
    "Poisson": ("poisson", ("rate",)),
}
_PROBS = {"Bernoulli": "bernoulli", "Categorical": "categorical",
          "OneHotCategorical": "one_hot_categorical"}
# Families whose samples are category indices.
_INDEX_SAMPLES = ("Categorical",)
# Families without rsample (torch raises NotImplementedError).
_NO_RSAMPLE = ("Bernoulli", "Categorical", "OneHotCategorical", "Poisson")


def _passed(value) -> bool:
    """An argument given, and not as None."""
    return value is not MISSING and not (type(value) is Const and value.value is None)


def _names(kind, module):
    return (ROOT + kind, ROOT + module + "." + kind)


def _shape_of(value):
    """Shape of a tensor or number parameter; None when not known."""
    got = operand_shape(value)
    return got[0] if got is not None else None


def _broadcast_family(kind, params):
    def build(call: Call):
        shape = ()
        for i, name in enumerate(params):
            value = call.get(i, name)
            got = operand_shape(value)
            if got is None:
                return Distribution(kind, None, ())
            new, problem = broadcast_shapes(shape, got[0])
            if problem:
                return mismatch_error(shape, got[0], problem)
            shape = new
        return Distribution(kind, shape, ())
    return build


for _kind, (_module, _params) in _BROADCAST.items():
    function(*_names(_kind, _module))(_broadcast_family(_kind, _params))


def _probs_family(kind):
    def build(call: Call):
        probs, logits = call.get(0, "probs"), call.get(1, "logits")
        given = [v for v in (probs, logits) if _passed(v)]
        if len(given) != 1:
            return error("shape-mismatch", "Either `probs` or `logits` must be specified, but "
                         "not both.")
        shape = _shape_of(given[0])
        if shape is None:
            return Distribution(kind, None, None if kind == "OneHotCategorical" else ())
        if kind == "Bernoulli":
            return Distribution(kind, shape, ())
        if not shape:
            which = "probs" if given[0] is probs else "logits"
            return error("rank-mismatch", "`%s` parameter must be at least one-dimensional."
                         % which)
        n = shape[-1]
        return Distribution(kind, shape[:-1], (n,) if kind == "OneHotCategorical" else (), n)
    return build


for _kind, _module in _PROBS.items():
    function(*_names(_kind, _module))(_probs_family(_kind))


@function(*_names("Dirichlet", "dirichlet"))
def dirichlet(call: Call):
    shape = _shape_of(call.get(0, "concentration"))
    if shape is None:
        return Distribution("Dirichlet", None, None)
    if not shape:
        return error("rank-mismatch", "`concentration` parameter must be at least "
                     "one-dimensional.")
    return Distribution("Dirichlet", shape[:-1], shape[-1:])


@function(*_names("MultivariateNormal", "multivariate_normal"))
def multivariate_normal(call: Call):
    loc = _shape_of(call.get(0, "loc"))
    mats = [(name, call.get(i, name)) for i, name in ((1, "covariance_matrix"),
                                                       (2, "precision_matrix"),
                                                       (3, "scale_tril"))]
    mats = [(name, v) for name, v in mats if _passed(v)]
    if len(mats) != 1:
        return error("shape-mismatch", "Exactly one of covariance_matrix or precision_matrix or "
                     "scale_tril may be specified.")
    name, mat = mats[0]
    shape = mat.shape if type(mat) is Tensor else None
    if loc is not None and not loc:
        return error("rank-mismatch", "loc must be at least one-dimensional.")
    if shape is not None and len(shape) < 2:
        return error("rank-mismatch", "%s matrix must be at least two-dimensional, with "
                     "optional leading batch dimensions" % name.replace("_matrix", ""))
    if loc is None or shape is None:
        return Distribution("MultivariateNormal", None, loc[-1:] if loc else None)
    k = loc[-1]
    if not (is_int(k) and shape[-1] == k and shape[-2] == k):
        return Distribution("MultivariateNormal", None, (k,))   # torch fails later, or not
    batch, problem = broadcast_shapes(shape[:-2], loc[:-1])
    if problem:
        return mismatch_error(shape[:-2], loc[:-1], problem)
    return Distribution("MultivariateNormal", batch, (k,))


@function(*_names("Independent", "independent"))
def independent(call: Call):
    base, n = call.get(0, "base_distribution"), call.int(1, "reinterpreted_batch_ndims")
    if type(base) is not Distribution or base.batch_shape is None or \
            base.event_shape is None or not is_int(n):
        return Distribution("Independent", None, None)
    if n > len(base.batch_shape):
        return error("rank-mismatch", "Expected reinterpreted_batch_ndims <= "
                     "len(base_distribution.batch_shape), actual %d vs %d"
                     % (n, len(base.batch_shape)))
    cut = len(base.batch_shape) - n
    return Distribution("Independent", base.batch_shape[:cut],
                        base.batch_shape[cut:] + base.event_shape, base=base)


def _sample_shape(call: Call):
    """``sample_shape`` as a tuple of dims, () when not given, None when not known."""
    value = call.get(1, "sample_shape")
    if value is MISSING:
        return ()
    if type(value) in (TupleVal, ListVal):
        return tuple(as_int(i) for i in value.items)
    return None


def _is_index_family(d: Distribution) -> bool:
    return d.kind in _INDEX_SAMPLES or (d.kind == "Independent" and d.base is not None and
                                        _is_index_family(d.base))


@function(ROOT + "Distribution.sample", ROOT + "Distribution.rsample")
def sample(call: Call):
    d = call.get(0, "self")
    if type(d) is not Distribution:
        return None
    if call.name.endswith("rsample") and d.kind in _NO_RSAMPLE:
        return None
    extra = _sample_shape(call)
    dtype = "long" if _is_index_family(d) else "float"
    if extra is None or d.batch_shape is None or d.event_shape is None:
        return Tensor(None, dtype)
    return Tensor(extra + d.batch_shape + d.event_shape, dtype)


def _fmt(shape):
    return "torch.Size([%s])" % ", ".join(format_dim(x) for x in shape)


@function(ROOT + "Distribution.log_prob")
def log_prob(call: Call):
    d, value = call.get(0, "self"), call.tensor(1, "value")
    if type(d) is not Distribution or value is None:
        return None
    if value.shape is None or d.batch_shape is None or d.event_shape is None:
        return Tensor(None, "float")
    if d.kind == "Independent":
        # the wrapped distribution checks the value; its reinterpreted dims are summed
        inner = log_prob(Call(call.name, (d.base, value), {}))
        if type(inner) is not Tensor or inner.shape is None:
            return inner
        cut = len(inner.shape) - (len(d.event_shape) - len(d.base.event_shape))
        return Tensor(inner.shape[:cut], "float")
    ev = len(d.event_shape)
    tail = value.shape[len(value.shape) - ev:] if ev else ()
    if len(value.shape) < ev or any(is_int(a) and is_int(b) and a != b
                                    for a, b in zip(tail, d.event_shape)):
        return error("shape-mismatch", "The right-most size of value must match event_shape: "
                     "%s vs %s." % (_fmt(value.shape), _fmt(d.event_shape)))
    expected = d.batch_shape + d.event_shape
    for a, b in zip(reversed(value.shape), reversed(expected)):
        if is_int(a) and is_int(b) and a != 1 and b != 1 and a != b:
            return error("shape-mismatch", "Value is not broadcastable with "
                         "batch_shape+event_shape: %s vs %s." % (_fmt(value.shape),
                                                                 _fmt(expected)))
    if any(not is_int(x) for x in tail) or any(not is_int(x) for x in d.event_shape):
        return Tensor(None, "float")
    lead, problem = broadcast_shapes(value.shape[:len(value.shape) - ev], d.batch_shape)
    if problem:
        return Tensor(None, "float")
    return Tensor(lead, "float")


@function(ROOT + "Distribution.entropy")
def entropy(call: Call):
    d = call.get(0, "self")
    if type(d) is not Distribution:
        return None
    return Tensor(d.batch_shape, "float")


@function(ROOT + "kl_divergence", ROOT + "kl.kl_divergence")
def kl_divergence(call: Call):
    """Of two distributions of one family with the same batch shape: that shape (torch's
    formulas differ per family where the batches differ: left unknown); the event shapes (a
    categorical's categories) must agree."""
    p, q = call.get(0, "p"), call.get(1, "q")
    if type(p) is not Distribution or type(q) is not Distribution or p.kind != q.kind or \
            p.kind == "Independent" or p.batch_shape is None or q.batch_shape is None:
        return None
    if p.kind == "MultivariateNormal" and p.event_shape and q.event_shape and \
            is_int(p.event_shape[0]) and is_int(q.event_shape[0]) and \
            p.event_shape != q.event_shape:
        return error("shape-mismatch", "KL-divergence between two Multivariate Normals with "
                     "different event shapes cannot be computed")
    if p.batch_shape != q.batch_shape or None in p.batch_shape:
        return None
    n, m = (p.event_shape[0], q.event_shape[0]) if p.kind == "Dirichlet" else \
        (p.categories, q.categories)
    if is_int(n) and is_int(m) and n != m and n != 1 and m != 1:
        return error("shape-mismatch", "kl_divergence: the two %s distributions have %d and %d "
                     "categories" % (p.kind, n, m))
    if n != m:
        return None
    return Tensor(p.batch_shape, "float")


def attribute(d: Distribution, name: str):
    """``d.batch_shape``, ``d.event_shape``, ``d.mean``/``variance``/``stddev`` (batch +
    event), ``d.probs``/``d.logits`` of the categorical families; None for anything else."""
    if d.batch_shape is None or d.event_shape is None:
        return None
    from .tensor_basics import size_value
    if name in ("batch_shape", "event_shape"):
        return size_value(getattr(d, name))
    if name in ("mean", "variance", "stddev") and d.kind not in _INDEX_SAMPLES + ("Independent",):
        return Tensor(d.batch_shape + d.event_shape, "float")
    if name in ("probs", "logits") and d.kind in _PROBS:
        full = d.batch_shape + ((d.categories,) if d.kind != "Bernoulli" else ())
        return Tensor(full, "float")
    return None


__all__ = ["attribute"]
