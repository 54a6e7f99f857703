"""Datasets and the default collate as data.

``DATASETS`` holds the documented sample format of the torchvision datasets: the PIL image each
sample starts as (mode, height, width), its length per split, and the shape of its ``.data``.
:func:`collate` is ``torch.utils.data.default_collate`` on abstract samples: tensors and arrays
stacked under a batch dim, numbers made a 1-D tensor, tuples and dicts collated per field, and
a ``collate-mismatch`` where torch raises.

The formats are checked against torchvision's own classes on generated files in
tests/data/vision/test_datasets_vs_torchvision.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

from .. import dims as D
from ..errors import error
from ..values import Array, Const, DictVal, Image, ListVal, Tensor, TupleVal, Unknown
from ..widths import numpy_array


@dataclass(frozen=True)
class Format:
    """A torchvision dataset's sample: ``(PIL image, int target)``."""

    mode: Optional[str]           # PIL mode of the image (None: varies)
    size: Optional[tuple]         # (H, W), None when each image has its own
    split: Optional[str] = None   # the argument that selects the split: "train" or "split"
    lengths: Any = None           # {split value: len}
    default: Any = True           # the split when not given
    data: Any = None              # {split value: shape of .data}, and its kind
    data_kind: str = "tensor"
    never_empty: bool = True


MNIST_LIKE = Format("L", (28, 28), "train", {True: 60000, False: 10000},
                    data={True: (60000, 28, 28), False: (10000, 28, 28)})
CIFAR = Format("RGB", (32, 32), "train", {True: 50000, False: 10000},
               data={True: (50000, 32, 32, 3), False: (10000, 32, 32, 3)}, data_kind="array")

DATASETS: Dict[str, Format] = {
    "MNIST": MNIST_LIKE,
    "FashionMNIST": MNIST_LIKE,
    "KMNIST": MNIST_LIKE,
    "EMNIST": Format("L", (28, 28)),
    "QMNIST": Format("L", (28, 28)),
    "CIFAR10": CIFAR,
    "CIFAR100": CIFAR,
    "SVHN": Format("RGB", (32, 32), "split", {"train": 73257, "test": 26032, "extra": 531131},
                   default="train", data={"train": (73257, 3, 32, 32),
                                          "test": (26032, 3, 32, 32)}, data_kind="array"),
    "STL10": Format("RGB", (96, 96), "split", {"train": 5000, "test": 8000,
                                               "unlabeled": 100000,
                                               "train+unlabeled": 105000}, default="train"),
    "ImageFolder": Format("RGB", None),
}


def label() -> Unknown:
    """An int whose value is not known (a class index)."""
    return Unknown(LABEL)


LABEL = "a class index (int)"


def is_number(value) -> Optional[str]:
    """'long' / 'float' for a Python number (known or a class index), else None."""
    if type(value) is Const and type(value.value) in (int, bool, D.Sym):
        return "bool" if type(value.value) is bool else "long"
    if type(value) is Const and type(value.value) is float:
        return "float"
    if type(value) is Unknown and value.reason == LABEL:
        return "long"
    return None


def fake_data_format(image_size) -> Format:
    """FakeData's images: ToPILImage of a float [C, H, W] tensor."""
    if image_size is None or len(image_size) != 3 or type(image_size[0]) is not int:
        return Format(None, None)
    c, h, w = image_size
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}.get(c)
    return Format(mode, (h, w))


# --------------------------------------------------------------------------- collate

def collate(samples: list, n):
    """The batch ``default_collate`` makes of ``samples`` (``n`` of them, a dim): a value, a
    ShapeError (what torch raises), or an Unknown."""
    first = samples[0]
    kind = type(first)
    if any(type(s) is not kind for s in samples):
        if all(is_number(s) for s in samples):
            return Tensor((n,), is_number(first))
        return Unknown("samples of different kinds")
    if kind in (Tensor, Array):
        shapes = [s.shape for s in samples]
        base = shapes[0]
        for i, s in enumerate(shapes[1:], start=1):
            if base is not None and s is not None and (
                    len(base) != len(s) or any(D.definitely_ne(a, b) for a, b in zip(base, s))):
                return error("collate-mismatch", "stack expects each tensor to be equal size, "
                             "but got %s at entry 0 and %s at entry %d. The default collate of "
                             "DataLoader stacks the samples of a batch: make every sample the "
                             "same size (e.g. a Resize((H, W)) in the transform), or pass a "
                             "collate_fn." % (_fmt(base), _fmt(s), i))
        shape = base
        for s in shapes[1:]:
            shape = None if shape is None or s is None else tuple(
                a if a == b else None for a, b in zip(shape, s))
        dtype = first.dtype if kind is Tensor else _np_dtype(first.dtype)
        pipeline = getattr(first, "pipeline", ())
        return Tensor((n,) + tuple(shape) if shape is not None else None, dtype,
                      pipeline=pipeline)
    if is_number(first):
        return Tensor((n,), is_number(first))
    if kind is Image:
        return error("collate-mismatch", "default_collate: batch must contain tensors, numpy "
                     "arrays, numbers, dicts or lists; found <class 'PIL.Image.Image'>. The "
                     "samples are still PIL images: add transforms.ToTensor() (or "
                     "PILToTensor) to the dataset's transform.")
    if kind in (TupleVal, ListVal):
        width = len(first.items)
        if any(len(s.items) != width for s in samples):
            return error("collate-mismatch", "each element in list of batch should be of "
                         "equal size")
        fields = []
        for i in range(width):
            out = collate([s.items[i] for s in samples], n)
            if not isinstance(out, (Tensor, TupleVal, ListVal, DictVal, Unknown)):
                return out
            fields.append(out)
        return TupleVal(tuple(fields)) if kind is TupleVal else ListVal(fields)
    if kind is DictVal:
        keys = list(first.items)
        if any(list(s.items) != keys for s in samples):
            return Unknown("samples with different keys")
        out = {}
        for k in keys:
            v = collate([s.items[k] for s in samples], n)
            if not isinstance(v, (Tensor, TupleVal, ListVal, DictVal, Unknown)):
                return v
            out[k] = v
        return DictVal(out)
    if kind is Const and isinstance(first.value, str):
        return ListVal([Unknown("a string") for _ in range(n)]) if type(n) is int and \
            n <= 256 else Unknown("strings")
    return Unknown("a batch the analysis cannot see")


def _np_dtype(dtype):
    if dtype is None:
        return None
    numpy_array(dtype)
    if dtype.startswith("float"):
        return "float"
    if dtype.startswith(("int", "uint")):
        return "uint8" if dtype == "uint8" else "long"
    return None


def _fmt(shape) -> str:
    if shape is None:
        return "[?]"
    return "[" + ", ".join(D.format_dim(d) for d in shape) + "]"


def batch_sizes(length, batch_size, drop_last):
    """The distinct batch sizes a loader yields, in order: ``[64, 32]`` for 60000 samples in
    batches of 64 (the last one smaller); a symbolic ``B`` when it is not known."""
    if type(batch_size) is not int or batch_size <= 0 or drop_last not in (True, False):
        return [D.sym("B")]
    if type(length) is not int:
        return [batch_size] if drop_last is True else [D.sym("B")]
    full, rest = divmod(length, batch_size)
    out = [batch_size] if full else []
    if rest and drop_last is False:
        out.append(rest)
    return out


def loader_length(length, batch_size, drop_last):
    if type(length) is not int or type(batch_size) is not int or batch_size <= 0:
        return None
    return length // batch_size if drop_last else -(-length // batch_size)


__all__ = ["DATASETS", "Format", "collate", "batch_sizes", "loader_length", "label",
           "is_number", "fake_data_format"]
