"""Embedding, EmbeddingBag, F.embedding, F.embedding_bag and F.one_hot.

Embedding maps indices of any shape to ``indices.shape + [embedding_dim]``; EmbeddingBag takes
``[B, bag]`` (or 1-D indices with ``offsets``) and gives ``[B, embedding_dim]``.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..dims import format_dim, is_int, sym
from ..errors import error
from ..values import Const, Layer, Tensor
from . import LayerRule, function, layer
from .call import MISSING, Call


@dataclass(frozen=True)
class EmbeddingSpec:
    num_embeddings: object
    embedding_dim: object
    bag: bool = False
    padding_idx: object = None
    include_last_offset: object = False


def _check(n, d, padding_idx):
    for name, v in (("num_embeddings", n), ("embedding_dim", d)):
        if is_int(v) and v < 0:
            return error("shape-mismatch", "Trying to create tensor with negative dimension %d: "
                         "%s=%d must be at least 0" % (v, name, v), blame="layer")
    if is_int(padding_idx) and is_int(n) and not -n <= padding_idx < n:
        return error("shape-mismatch", "Padding_idx must be within num_embeddings (padding_idx=%d, "
                     "num_embeddings=%d)" % (padding_idx, n), blame="layer")
    return None


def embedding_forward(x: Tensor, dim):
    if x.shape is None:
        return Tensor(None, "float")
    return Tensor(tuple(x.shape) + (dim,), "float", None, None)


def bag_forward(x: Tensor, dim, offsets, include_last_offset=False):
    s = x.shape
    if s is None:
        return Tensor((None, dim), "float")
    if len(s) == 2:
        if offsets is not None:
            return error("shape-mismatch", "if input is 2D, then offsets has to be None, as input "
                         "is treated is a mini-batch of fixed length sequences. However, found "
                         "offsets of type <class 'torch.Tensor'>")
        return Tensor((s[0], dim), "float")
    if len(s) == 1:
        if offsets is None:
            return error("shape-mismatch", "offsets has to be a 1D Tensor but got None. A 1-D "
                         "input needs offsets saying where each bag starts.")
        if offsets.shape is not None and len(offsets.shape) != 1:
            return error("rank-mismatch", "offsets has to be a 1D Tensor")
        bags = offsets.shape[0] if offsets.shape is not None else None
        if include_last_offset is True and bags is not None:
            bags = bags - 1
        elif include_last_offset is not False:
            bags = None
        return Tensor((bags, dim), "float")
    return error("rank-mismatch", "input has to be 1D or 2D Tensor, but got Tensor of dimension %d"
                 % len(s))


@layer("Embedding", "EmbeddingBag")
class EmbeddingLayer(LayerRule):
    def build(self, kind: str, call: Call):
        n = call.int(0, "num_embeddings")
        d = call.int(1, "embedding_dim")
        bag = kind == "EmbeddingBag"
        pad = call.int(9 if bag else 2, "padding_idx", None)
        weight = call.tensor(7, "_weight")
        if weight is not None and weight.shape is not None and len(weight.shape) == 2:
            n, d = weight.shape
        last = call.value(8, "include_last_offset", False) if bag else False
        return _check(n, d, pad) or EmbeddingSpec(n, d, bag, pad, last)

    def forward(self, spec: EmbeddingSpec, call: Call):
        x = call.tensor(0, "input")
        if x is None:
            return None
        if spec.bag:
            return bag_forward(x, spec.embedding_dim, call.tensor(1, "offsets"),
                               spec.include_last_offset)
        return embedding_forward(x, spec.embedding_dim)

    def params(self, spec: EmbeddingSpec):
        n, d = spec.num_embeddings, spec.embedding_dim
        return n * d if is_int(n) and is_int(d) else None

    def config(self, spec: EmbeddingSpec):
        out = [("num_embeddings", format_dim(spec.num_embeddings)),
               ("embedding_dim", format_dim(spec.embedding_dim))]
        if spec.padding_idx is not None:
            out.append(("padding_idx", format_dim(spec.padding_idx)))
        return tuple(out)

    def expected_input(self, spec: EmbeddingSpec):
        return (sym("N"), sym("L"))

    def attribute(self, spec: EmbeddingSpec, name: str):
        if name == "weight":
            return Tensor((spec.num_embeddings, spec.embedding_dim), "float")
        if name in ("num_embeddings", "embedding_dim", "padding_idx"):
            v = getattr(spec, name)
            return Const(v) if v is not None or name == "padding_idx" else None
        return None


@function("torch.nn.Embedding.from_pretrained", "torch.nn.EmbeddingBag.from_pretrained")
def from_pretrained(call: Call):
    w = call.tensor(0, "embeddings")
    if w is None:
        return None
    kind = "EmbeddingBag" if "Bag" in call.name else "Embedding"
    if w.shape is not None and len(w.shape) != 2:
        return error("rank-mismatch", "Embeddings parameter is expected to be 2-dimensional")
    n, d = w.shape if w.shape is not None else (None, None)
    pad = call.int(2, "padding_idx", None) if kind == "Embedding" else None
    spec = _check(n, d, pad) or EmbeddingSpec(n, d, kind == "EmbeddingBag", pad)
    if type(spec) is not EmbeddingSpec:
        return spec
    return Layer(kind, spec)


@function("torch.nn.functional.embedding", "torch.embedding")
def f_embedding(call: Call):
    x = call.tensor(0, "input")
    w = call.tensor(1, "weight")
    if x is None or w is None:
        return None
    if w.shape is not None and len(w.shape) != 2:
        return error("rank-mismatch", "'weight' must be 2-D")
    return embedding_forward(x, w.shape[1] if w.shape is not None else None)


@function("torch.nn.functional.embedding_bag")
def f_embedding_bag(call: Call):
    x = call.tensor(0, "input")
    w = call.tensor(1, "weight")
    if x is None or w is None:
        return None
    d = w.shape[1] if w.shape is not None and len(w.shape) == 2 else None
    return bag_forward(x, d, call.tensor(2, "offsets"), call.value(9, "include_last_offset",
                                                                   False))


@function("torch.nn.functional.one_hot")
def f_one_hot(call: Call):
    x = call.tensor(0, "tensor")
    if x is None:
        return None
    n = call.int(1, "num_classes", -1)
    if n is MISSING or (is_int(n) and n == -1) or n is None:
        n = None
    elif is_int(n) and n < -1:
        return error("shape-mismatch", "num_classes should be -1 or a positive number")
    if x.shape is None:
        return Tensor(None, "long")
    return Tensor(tuple(x.shape) + (n,), "long")


__all__ = ["EmbeddingSpec", "embedding_forward", "bag_forward"]
