"""Run a real torchvision transform and an abstract rule on the same image, and compare."""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image as PILImage

from shapelens.analysis.rules import load_all
from shapelens.analysis.rules.call import Call
from shapelens.analysis.rules.transforms import TRANSFORMS
from shapelens.analysis.errors import ShapeError
from shapelens.analysis.values import (Array, Const, Image, ListVal, Tensor, TorchRef,
                                       TupleVal)

load_all()


def abstract(value):
    """A Python config value as the analysis sees it."""
    if isinstance(value, tuple):
        return TupleVal(tuple(abstract(v) for v in value))
    if isinstance(value, list):
        return ListVal([abstract(v) for v in value])
    if isinstance(value, torch.dtype):
        return TorchRef(str(value))
    return Const(value)


def real_image(kind, mode=None, size=None, shape=None, dtype=None):
    if kind == "pil":
        return PILImage.new(mode, size)
    if kind == "tensor":
        if dtype == "uint8":
            return torch.randint(0, 256, shape, dtype=torch.uint8)
        return torch.rand(shape)
    return np.zeros(shape, dtype=dtype)


def abstract_image(kind, mode=None, size=None, shape=None, dtype=None):
    if kind == "pil":
        return Image(mode, size[0], size[1])
    if kind == "tensor":
        return Tensor(tuple(shape), "uint8" if dtype == "uint8" else "float")
    return Array(tuple(shape), dtype)


def described(out):
    """The shape-relevant description of a real output."""
    if isinstance(out, PILImage.Image):
        return ("pil", out.mode, out.size)
    if isinstance(out, torch.Tensor):
        return ("tensor", tuple(out.shape))
    if isinstance(out, (tuple, list)):
        return ("tuple", tuple(described(o) for o in out))
    return ("other", type(out).__name__)


def described_abstract(out):
    if isinstance(out, Image):
        return ("pil", out.mode, (out.width, out.height))
    if isinstance(out, Tensor):
        return ("tensor", tuple(out.shape))
    if isinstance(out, TupleVal):
        return ("tuple", tuple(described_abstract(o) for o in out.items))
    return ("other", type(out).__name__)


def compare(module, kind, args, kwargs, image, must_know=False):
    """Build ``module.kind(*args, **kwargs)`` for real and abstractly, apply both to ``image``
    (a dict for real_image/abstract_image), and check that they agree: the rule's shape is the
    real one, its error is a real exception, and it knows the answer when ``must_know``."""
    v2 = module.__name__.endswith("v2")
    rule = TRANSFORMS[kind]
    spec = rule.build(Call("torchvision.transforms.%s%s" % ("v2." if v2 else "", kind),
                           tuple(abstract(a) for a in args),
                           {k: abstract(v) for k, v in kwargs.items()}))
    try:
        t = getattr(module, kind)(*args, **kwargs)
    except Exception as exc:        # the constructor rejects the config
        assert spec is None, "%s(%r, %r) raised %r but the rule built %r" % (
            kind, args, kwargs, exc, spec)
        return "ctor-error"
    try:
        real = ("ok", described(t(real_image(**image))))
    except Exception as exc:
        real = ("raise", "%s: %s" % (type(exc).__name__, exc))
    if spec is None:
        assert not must_know, "%s(%r, %r): config not understood" % (kind, args, kwargs)
        return "unknown"
    ours = rule.apply(spec, abstract_image(**image), v2)
    where = "%s%s(%r, %r) on %r" % ("v2." if v2 else "", kind, args, kwargs, image)
    if ours is None:
        assert not must_know, "%s: rule does not know; torchvision: %s" % (where, real)
        return "unknown"
    if isinstance(ours, ShapeError):
        assert real[0] == "raise", "%s: rule says %s; torchvision returned %s" % (
            where, ours.message, real[1])
        return "error"
    assert real[0] == "ok", "%s: rule says %s; torchvision raised %s" % (
        where, described_abstract(ours), real[1])
    assert matches(described_abstract(ours), real[1]), "%s: rule says %s; torchvision %s" % (
        where, described_abstract(ours), real[1])
    return "shape"


def matches(ours, real) -> bool:
    """Equal, where an unknown dim (None) of ours matches any."""
    if ours is None:
        return True
    if isinstance(ours, tuple) and isinstance(real, tuple):
        return len(ours) == len(real) and all(matches(a, b) for a, b in zip(ours, real))
    return ours == real
