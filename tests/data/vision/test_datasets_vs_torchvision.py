"""The documented sample formats of rules/datasets.py against torchvision's own dataset classes,
run on small files generated here (nothing is downloaded), and the default collate of
rules/datasets.py against torch's ``default_collate``.  Runs in .venv-vision."""
from __future__ import annotations

import pickle
import struct

import numpy as np
import pytest


import torch  # noqa: E402
from hypothesis import given, strategies as st  # noqa: E402
from PIL import Image as PILImage  # noqa: E402
from torch.utils.data import default_collate  # noqa: E402
from torchvision import datasets  # noqa: E402

from shapelens.analysis.errors import ShapeError  # noqa: E402
from shapelens.analysis.rules import datasets as DS  # noqa: E402
from shapelens.analysis.values import Const, DictVal, Tensor, TupleVal  # noqa: E402


def _idx(path, array):
    dims = array.shape
    code = 0x08
    with open(path, "wb") as fh:
        fh.write(struct.pack(">HBB", 0, code, len(dims)))
        fh.write(struct.pack(">" + "I" * len(dims), *dims))
        fh.write(array.astype(np.uint8).tobytes())


def _mnist_files(root, folder, n=3):
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    for prefix in ("train", "t10k"):
        _idx(raw / ("%s-images-idx3-ubyte" % prefix), np.zeros((n, 28, 28)))
        _idx(raw / ("%s-labels-idx1-ubyte" % prefix), np.arange(n))


def check_sample(kind, dataset):
    fmt = DS.DATASETS[kind]
    image, target = dataset[0]
    assert isinstance(image, PILImage.Image)
    assert image.mode == fmt.mode
    if fmt.size is not None:
        assert (image.height, image.width) == fmt.size
    assert type(target) is int
    if fmt.data is not None:
        data = dataset.data
        shape = next(iter(fmt.data.values()))
        assert tuple(data.shape[1:]) == shape[1:]
        assert isinstance(data, torch.Tensor) == (fmt.data_kind == "tensor")


@pytest.mark.parametrize("kind", ["MNIST", "FashionMNIST", "KMNIST"])
def test_mnist_family(tmp_path, kind):
    _mnist_files(tmp_path, kind)
    for train in (True, False):
        check_sample(kind, getattr(datasets, kind)(str(tmp_path), train=train, download=False))


def test_cifar(tmp_path, monkeypatch):
    monkeypatch.setattr("torchvision.datasets.cifar.check_integrity", lambda *a, **k: True)
    base = tmp_path / "cifar-10-batches-py"
    base.mkdir()
    batch = {"data": np.zeros((2, 3072), np.uint8), "labels": [1, 2]}
    for name in ["data_batch_%d" % i for i in range(1, 6)] + ["test_batch"]:
        (base / name).write_bytes(pickle.dumps(batch))
    (base / "batches.meta").write_bytes(pickle.dumps({"label_names": ["a"] * 10}))
    check_sample("CIFAR10", datasets.CIFAR10(str(tmp_path), train=True))
    base = tmp_path / "cifar-100-python"
    base.mkdir()
    batch = {"data": np.zeros((2, 3072), np.uint8), "fine_labels": [1, 2]}
    for name in ("train", "test"):
        (base / name).write_bytes(pickle.dumps(batch))
    (base / "meta").write_bytes(pickle.dumps({"fine_label_names": ["a"] * 100}))
    check_sample("CIFAR100", datasets.CIFAR100(str(tmp_path), train=False))


def test_stl10(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.STL10, "_check_integrity", lambda self: True)
    base = tmp_path / "stl10_binary"
    base.mkdir()
    (base / "train_X.bin").write_bytes(np.zeros((2, 3, 96, 96), np.uint8).tobytes())
    (base / "train_y.bin").write_bytes(np.array([1, 2], np.uint8).tobytes())
    (base / "class_names.txt").write_text("a\nb\n")
    check_sample("STL10", datasets.STL10(str(tmp_path), split="train"))


def test_image_folder(tmp_path):
    for i, (mode, size) in enumerate([("L", (20, 30)), ("RGBA", (31, 17)), ("RGB", (8, 8))]):
        folder = tmp_path / ("class%d" % (i % 2))
        folder.mkdir(exist_ok=True)
        PILImage.new(mode, size).save(folder / ("%d.png" % i))
    ds = datasets.ImageFolder(str(tmp_path))
    for image, target in ds:
        assert image.mode == DS.DATASETS["ImageFolder"].mode and type(target) is int


@given(st.integers(1, 4), st.integers(1, 40), st.integers(1, 40))
def test_fake_data(c, h, w):
    fmt = DS.fake_data_format((c, h, w))
    image, target = datasets.FakeData(size=2, image_size=(c, h, w))[0]
    assert (image.mode, image.height, image.width) == (fmt.mode,) + fmt.size
    assert type(target) is int


# --------------------------------------------------------------------------- collate

leaf = st.one_of(
    st.lists(st.integers(1, 3), min_size=0, max_size=3).map(lambda s: ("tensor", tuple(s))),
    st.just(("int", None)), st.just(("float", None)))
sample = st.recursive(leaf, lambda inner: st.one_of(
    st.lists(inner, min_size=1, max_size=3).map(lambda xs: ("tuple", xs)),
    st.dictionaries(st.sampled_from("abc"), inner, min_size=1, max_size=2).map(
        lambda d: ("dict", d))), max_leaves=4)


def _real(s):
    kind, body = s
    if kind == "tensor":
        return torch.zeros(body)
    if kind == "int":
        return 3
    if kind == "float":
        return 0.5
    if kind == "tuple":
        return tuple(_real(x) for x in body)
    return {k: _real(v) for k, v in body.items()}


def _abstract(s):
    kind, body = s
    if kind == "tensor":
        return Tensor(body, "float")
    if kind == "int":
        return Const(3)
    if kind == "float":
        return Const(0.5)
    if kind == "tuple":
        return TupleVal(tuple(_abstract(x) for x in body))
    return DictVal({k: _abstract(v) for k, v in body.items()})


def _shapes(value):
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if isinstance(value, (list, tuple)):
        return tuple(_shapes(v) for v in value)
    if isinstance(value, dict):
        return {k: _shapes(v) for k, v in value.items()}
    return type(value).__name__


def _abstract_shapes(value):
    if type(value) is Tensor:
        return tuple(value.shape)
    if type(value) is TupleVal:
        return tuple(_abstract_shapes(v) for v in value.items)
    if type(value) is DictVal:
        return {k: _abstract_shapes(v) for k, v in value.items.items()}
    return type(value).__name__


@given(st.lists(sample, min_size=1, max_size=4))
def test_default_collate(samples):
    try:
        real = ("ok", _shapes(default_collate([_real(s) for s in samples])))
    except Exception as exc:
        real = ("raise", str(exc))
    ours = DS.collate([_abstract(s) for s in samples], len(samples))
    if isinstance(ours, ShapeError):
        assert real[0] == "raise", (ours.message, real)
    elif "Unknown" not in str(_abstract_shapes(ours)):     # partly unknown: no claim
        assert real == ("ok", _abstract_shapes(ours)), (real, ours)
