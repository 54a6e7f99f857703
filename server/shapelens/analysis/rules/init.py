"""``torch.nn.init``: every initializer fills its tensor in place and returns that same tensor;
some need a rank (the fan-based ones at least 2 dims, ``eye_``/``sparse_`` exactly 2,
``dirac_`` 3 to 5 with ``groups`` dividing dim 0), and raise ValueError otherwise."""
from __future__ import annotations

from ..dims import is_int
from ..errors import error
from . import function
from .call import Call

_ANY_RANK = ("uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_")
_FAN = ("xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_")


def _rank_error(name, rank):
    if name in _FAN and rank < 2:
        return "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
    if name == "orthogonal_" and rank < 2:
        return "Only tensors with 2 or more dimensions are supported"
    if name in ("eye_", "sparse_") and rank != 2:
        return "Only tensors with 2 dimensions are supported"
    if name == "dirac_" and rank not in (3, 4, 5):
        return "Only tensors with 3, 4, or 5 dimensions are supported"
    return None


@function(*["torch.nn.init." + n for n in _ANY_RANK + _FAN + ("eye_", "dirac_", "orthogonal_",
                                                                "sparse_")])
def initializer(call: Call):
    x = call.tensor(0, "tensor")
    if x is None:
        return None
    name = call.name.rsplit(".", 1)[1]
    if x.shape is not None:
        message = _rank_error(name, len(x.shape))
        if message:
            return error("rank-mismatch", "nn.init.%s: %s (got a tensor of shape %s)"
                         % (name, message, list(x.shape)))
        groups = call.int(1, "groups", 1)
        if name == "dirac_" and is_int(groups) and is_int(x.shape[0]) and groups > 0 and \
                x.shape[0] % groups:
            return error("shape-mismatch", "nn.init.dirac_: dim 0 must be divisible by groups "
                         "(%d is not divisible by %d)" % (x.shape[0], groups))
    return call.get(0, "tensor")
