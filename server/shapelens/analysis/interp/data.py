"""Data pipelines (SPEC §7): PIL images, numpy arrays, torchvision transforms and datasets,
``DataLoader`` batches.  The formats and shape rules are tables in ``rules/transforms.py`` and
``rules/datasets.py``; this room builds the values (``values.py``: Image, Array, Transform,
Dataset, Loader), follows what only the interpreter can (Compose, Lambda, a user's transform or
Dataset class), and remembers which data step made each image (its ``pipeline``) so an error in
the model can name it.

The rest of the interpreter reaches it through small hooks: ``call_data`` for names under
DATA_ROOTS, and ``data_*`` for calls, attributes, subscripts, methods, iteration and the
builtins on the values above.
"""
from __future__ import annotations

import ast
import math
from typing import Optional

from .. import dims as D
from ..errors import ShapeError
from ..report import Loc, Related
from ..rules import FUNCTIONS
from ..rules import datasets as DS
from ..rules import transforms as TR
from ..rules.call import MISSING, Call, as_int, as_python
from ..rules.creation import literal_shape
from ..rules.tensor_basics import python_lists
from ..rules.indexing import getitem
from ..values import (
    Array,
    BoundMethod,
    Const,
    Dataset,
    DataStep,
    DictVal,
    Image,
    Instance,
    ListVal,
    Loader,
    Tensor,
    TorchRef,
    Transform,
    TupleVal,
    Unknown,
    Value,
    join,
)
from .budget import math_too_large
from .expressions import is_number
from .program import BoundFunction, Function

DATA_ROOTS = ("torchvision.", "PIL.", "numpy.", "torch.utils.data.", "tqdm.")
DATA_TORCH = ("torch.from_numpy", "torch.as_tensor", "torch.tensor", "torch.stack")

NUMPY_FACTORIES = {"numpy.zeros": "float64", "numpy.ones": "float64", "numpy.empty": "float64",
                   "numpy.random.rand": "float64", "numpy.random.randn": "float64",
                   "numpy.random.random": "float64", "numpy.full": None}
NUMPY_DTYPES = ("uint8", "float32", "float64", "int64", "int32", "float16", "bool")
MAX_SAMPLES = 4       # samples of a user dataset evaluated one by one to check the collate


def _label(node) -> str:
    try:
        text = ast.unparse(node)
    except Exception:
        return "?"
    return text if len(text) <= 80 else text[:77] + "..."


def _np_dtype(value) -> Optional[str]:
    name = getattr(value, "qualname", None) or as_python(value)
    if isinstance(name, str):
        name = name.rsplit(".", 1)[-1]
        return name if name in NUMPY_DTYPES else None
    return None


def image_shape(value):
    """(C, H, W) of an image value, for hovers and provenance."""
    v = TR.view(value)
    return None if v is None else (v.c, v.h, v.w)


def describe(value) -> str:
    """``PIL L 28×28``, ``Tensor[1, 28, 28]``, ``(Tensor[64, 1, 28, 28], Tensor[64])``."""
    kind = type(value)
    if kind is Image:
        return "PIL %s %s×%s" % (value.mode or "?", D.format_dim(value.width),
                                 D.format_dim(value.height))
    if kind is Tensor:
        from ..values import format_shape
        return "Tensor" + format_shape(value.shape)
    if kind is Array:
        from ..values import format_shape
        return "ndarray" + format_shape(value.shape).replace("[", "(").replace("]", ")")
    if kind in (TupleVal, ListVal):
        return "(" + ", ".join(describe(i) for i in value.items) + ")"
    if kind is DictVal:
        return "{" + ", ".join("%r: %s" % (k, describe(v)) for k, v in value.items.items()) + "}"
    if kind is Unknown and value.reason == DS.LABEL:
        return "int"
    if kind is Const:
        return type(value.value).__name__
    return "?"


def number_kinds(value, _depth=0) -> Optional[set]:
    """The Python types of the numbers in a (nested) list or tuple of numbers only (no
    tensors: what ``np.array`` makes a numeric array of), or None."""
    if type(value) is Const and type(value.value) in (int, float, bool):
        return {type(value.value)}
    if type(value) not in (ListVal, TupleVal) or getattr(value, "lost", None) or _depth > 32:
        return None
    kinds = set() if value.items else {float}       # numpy's empty array is float64
    for item in value.items:
        inner = number_kinds(item, _depth + 1)
        if inner is None:
            return None
        kinds |= inner
    return kinds


def number_items(items):
    """The Python numbers of a list of values, or None unless every one is a known number."""
    if items is None or any(type(v) is not Const or type(v.value) not in (int, float, bool)
                            and type(v.value) is not D.Sym for v in items):
        return None
    if len(items) > 10_000:
        return None
    return [v.value for v in items]


class Data:
    """Data pipelines."""

    # ------------------------------------------------------------------ constructors

    def call_data(self, q, args, kwargs, node, frame):
        """A call of a name under DATA_ROOTS (or torch.from_numpy & co.); None when not a data
        call (the caller goes on as before)."""
        if q in DATA_TORCH:
            if q == "torch.stack":
                return None
            if args and type(args[0]) is Array:
                a = args[0]
                return Tensor(a.shape, DS._np_dtype(a.dtype), pipeline=a.pipeline)
            return None
        loc = Loc(frame.env.src.range(node), self.path_of(frame.env))
        if q.startswith("torchvision.transforms.") and ".functional." in q:
            return self.functional_transform(q, args, kwargs, node, frame, loc)
        if q.startswith("torchvision.transforms."):
            return self.make_transform(q, args, kwargs, node, frame, loc)
        if q.startswith("torchvision.datasets."):
            return self.make_dataset(q[len("torchvision.datasets."):], args, kwargs, node, frame,
                                     loc)
        if q.startswith("torch.utils.data."):
            return self.torch_data(q[len("torch.utils.data."):], args, kwargs, node, frame, loc)
        if q.startswith("PIL."):
            return self.pil_call(q, args, kwargs, node, loc)
        if q.startswith("numpy."):
            return self.numpy_call(q, args, kwargs)
        if q.startswith("tqdm.") and args:
            return args[0]          # tqdm(loader) iterates the loader
        return Unknown("%s is not modelled" % q)

    def make_transform(self, q, args, kwargs, node, frame, loc):
        kind = q.rsplit(".", 1)[-1]
        if ".functional." in q:
            kind = TR.FUNCTIONAL.get(kind, kind)
        v2 = ".v2." in q
        text = _label(node)
        if kind in ("Compose", "RandomChoice", "RandomOrder", "RandomApply"):
            items = self.iterate(args[0]) if args else self.iterate(kwargs.get("transforms"))
            if items is None or not all(type(t) in (Transform, Function, BoundFunction,
                                                    Instance) for t in items):
                return Transform(kind, None, loc, text, v2)
            elements = ()
            if args and isinstance(node.args[0], (ast.List, ast.Tuple)):
                elements = tuple(Loc(frame.env.src.range(e), loc.path)
                                 for e in node.args[0].elts)
            return Transform(kind, (), loc, text, v2, tuple(items), elements=elements)
        if kind == "Lambda":
            fn = args[0] if args else kwargs.get("lambd")
            return Transform(kind, (), loc, text, v2, func=fn)
        rule, _ = TR.rule_for(q)
        if rule is None:
            return Transform(kind, None, loc, text, v2)
        try:
            spec = rule.build(Call(q, args, kwargs))
        except Exception as exc:
            self.rec.internal_error(node, self.call_env or self.rec, exc)
            spec = None
        return Transform(kind, spec, loc, text, v2)

    def functional_transform(self, q, args, kwargs, node, frame, loc):
        """``F.resize(img, size)``: the transform's rule on the image (args[0] or ``img``/
        ``pic``/``tensor``/``inpt``)."""
        image = args[0] if args else next((kwargs.pop(k) for k in ("img", "pic", "tensor",
                                                                    "inpt", "image")
                                           if k in kwargs), None)
        if image is None or TR.rule_for(q)[0] is None:
            return Unknown("%s is not modelled" % q)
        kwargs = {("num_output_channels" if k == "num_output_channels" else
                   "size" if k == "output_size" else k): v for k, v in kwargs.items()}
        t = self.make_transform(q, tuple(args[1:]), kwargs, node, frame, loc)
        return self.apply_transform(t, (image,), {}, node, frame)

    def pil_call(self, q, args, kwargs, node, loc):
        name = q.rsplit(".", 1)[-1]
        step = (DataStep(_label(node), loc),)
        if name == "new":
            mode = as_python(args[0]) if args else as_python(kwargs.get("mode", Const(None)))
            size = as_python(args[1]) if len(args) > 1 else as_python(kwargs.get("size",
                                                                                 Const(None)))
            if not isinstance(mode, str) or not isinstance(size, tuple) or len(size) != 2:
                return Unknown("an image of unknown size")
            img = Image(mode, size[0], size[1])
            return Image(mode, size[0], size[1], self.step(step[0], img))
        if name == "open":
            img = Image(None, D.sym("W"), D.sym("H"))
            return Image(None, img.width, img.height, self.step(step[0], img))
        if name == "fromarray" and args and type(args[0]) is Array:
            a = args[0]
            mode = as_python(args[1]) if len(args) > 1 else as_python(kwargs.get("mode",
                                                                                 Const(None)))
            if a.shape is None or len(a.shape) not in (2, 3):
                return Unknown("an image from an array of unknown shape")
            if mode is None and a.dtype == "uint8":
                c = a.shape[2] if len(a.shape) == 3 else 1
                mode = TR.CHANNEL_MODES.get(c) if type(c) is int else None
            img = Image(mode if isinstance(mode, str) else None, a.shape[1], a.shape[0])
            return Image(img.mode, img.width, img.height, a.pipeline + self.step(step[0], img))
        return Unknown("%s is not modelled" % q)

    def numpy_call(self, q, args, kwargs):
        if q in ("numpy.prod", "numpy.sum") and len(args) == 1 and not kwargs:
            # of a tuple or list of numbers (``np.prod(img_shape)``); numpy's empty product
            # and sum are floats
            vals = number_items(self.iterate(args[0]) if type(args[0]) in (TupleVal, ListVal)
                                else None)
            if vals is None or any(type(v) is D.Sym for v in vals) or \
                    math_too_large("prod", vals):
                return Unknown(q)
            out = math.prod(vals) if q == "numpy.prod" else sum(vals)
            return Const(out if vals else float(out))
        if q in NUMPY_FACTORIES:
            shape = self.sizes(args[0] if args else kwargs.get("shape")) if q in (
                "numpy.zeros", "numpy.ones", "numpy.empty", "numpy.full") else \
                tuple(as_int(a) for a in args)
            if shape is None:
                return Unknown("array of unknown shape")
            dtype = _np_dtype(kwargs.get("dtype", Const(None))) or NUMPY_FACTORIES[q]
            return Array(shape, dtype)
        if q == "numpy.linspace":
            # of two numbers (arrays as ends add dims), without retstep (a tuple)
            ends = list(args[:2]) + [kwargs[k] for k in ("start", "stop") if k in kwargs]
            retstep = kwargs.get("retstep", Const(False))
            num = as_int(args[2] if len(args) > 2 else kwargs.get("num", Const(50)))
            if len(args) <= 4 and len(ends) == 2 and all(is_number(e) for e in ends) and \
                    type(retstep) is Const and retstep.value is False and \
                    type(num) is int and num >= 0:
                return Array((num,), _np_dtype(kwargs.get("dtype", Const(None))) or "float64")
            return Unknown(q)
        if q == "numpy.random.randint":
            size = kwargs.get("size", args[2] if len(args) > 2 else None)
            shape = self.sizes(size) if size is not None else None
            dtype = _np_dtype(kwargs.get("dtype", Const(None))) or "int64"
            return Array(shape, dtype) if shape is not None else Unknown("randint")
        if q in ("numpy.random.uniform", "numpy.random.normal"):
            size = kwargs.get("size", args[2] if len(args) > 2 else None)
            shape = self.sizes(size) if size is not None else None
            return Array(shape, "float64") if shape is not None else Unknown(q)
        if q in ("numpy.asarray", "numpy.array") and args:
            x = args[0]
            dtype = _np_dtype(kwargs.get("dtype", Const(None)))
            if type(x) is Image:
                c = TR.MODE_CHANNELS.get(x.mode) if x.mode else None
                shape = (x.height, x.width) if c == 1 else (x.height, x.width, c)
                if c is None:
                    return Unknown("an image of unknown mode")
                if c == 1 and x.mode not in ("L", "P"):
                    return Unknown("array of a %s image" % x.mode)
                return Array(shape, dtype or "uint8", x.pipeline)
            if type(x) is Array:
                return Array(x.shape, dtype or x.dtype, x.pipeline)
            kinds = number_kinds(x)
            shape = literal_shape(x) if kinds is not None else None
            if shape is not None:       # a regular (nested) list or tuple of numbers
                return Array(shape, dtype or ("float64" if float in kinds else
                                              "int64" if int in kinds else "bool"))
            return Unknown("array")
        if q == "numpy.transpose" and args and type(args[0]) is Array:
            return self.array_method(args[0], "transpose", args[1:], kwargs)
        if q == "numpy.expand_dims" and len(args) == 2 and type(args[0]) is Array:
            t = FUNCTIONS["Tensor.unsqueeze"](Call("Tensor.unsqueeze", (Tensor(args[0].shape),
                                                                         args[1]), {}))
            return Array(t.shape, args[0].dtype, args[0].pipeline) if type(t) is Tensor else \
                Unknown("expand_dims")
        return Unknown("%s is not modelled" % q)

    def sizes(self, value):
        d = as_int(value) if value is not None else None
        if d is not None:
            return (d,)
        items = self.iterate(value) if value is not None else None
        if items is None:
            return None
        return tuple(as_int(i) for i in items)

    # ------------------------------------------------------------------ datasets

    def make_dataset(self, kind, args, kwargs, node, frame, loc):
        text = _label(node)
        transform = kwargs.get("transform", MISSING)
        target_transform = kwargs.get("target_transform", MISSING)
        if kind == "FakeData":
            size = as_int(kwargs.get("size", args[0] if args else Const(1000)))
            image_size = self.sizes(kwargs.get("image_size", args[1] if len(args) > 1 else
                                               TupleVal((Const(3), Const(224), Const(224)))))
            fmt = DS.fake_data_format(image_size)
            length = size
            transform = kwargs.get("transform", args[3] if len(args) > 3 else MISSING)
            target_transform = kwargs.get("target_transform", args[4] if len(args) > 4
                                          else MISSING)
        elif kind in ("ImageFolder", "DatasetFolder"):
            fmt = DS.DATASETS.get(kind, DS.Format(None, None))
            length = None
            if kind == "DatasetFolder" or "loader" in kwargs:
                fmt = DS.Format(None, None)
            transform = kwargs.get("transform", args[1] if len(args) > 1 else MISSING)
            target_transform = kwargs.get("target_transform", args[2] if len(args) > 2
                                          else MISSING)
        else:
            fmt = DS.DATASETS.get(kind)
            if fmt is None:
                return Unknown("dataset %s is not modelled" % kind)
            length = None
            if fmt.split is not None and fmt.lengths:
                chosen = kwargs.get(fmt.split, args[1] if len(args) > 1 else MISSING)
                value = fmt.default if chosen is MISSING else as_python(chosen)
                length = fmt.lengths.get(value) if not isinstance(value, (list, tuple)) else None
                if "folds" in kwargs and as_python(kwargs["folds"]) is not None:
                    length = None
            if transform is MISSING and len(args) > 2 and fmt.split == "train":
                transform = args[2]
        if fmt.mode is None and fmt.size is None and kind != "FakeData":
            image = Unknown("an image the analysis cannot see")
        elif fmt.size is None:
            image = Image(fmt.mode, None, None)
        else:
            image = Image(fmt.mode, fmt.size[1], fmt.size[0])
        if type(image) is Image:
            image = Image(image.mode, image.width, image.height,
                          self.step(DataStep(text, loc), image))
        sample_image = self.apply_optional(transform, image, node, frame, deferred=True)
        target = self.apply_optional(target_transform, DS.label(), node, frame, deferred=True)
        if kind == "FakeData" and target_transform is not MISSING:
            target = Unknown("FakeData's target after its target_transform (then .item())")
        sample = TupleVal((sample_image, target))
        ds = Dataset(kind, sample, length, loc, text=text)
        if fmt.data is not None:
            split = fmt.default
            if fmt.split is not None:
                chosen = kwargs.get(fmt.split, args[1] if len(args) > 1 else MISSING)
                split = fmt.default if chosen is MISSING else as_python(chosen)
            shape = fmt.data.get(split) if isinstance(split, (bool, str)) else None
            if shape is not None:
                ds.attrs = (("data", Tensor(shape, "uint8") if fmt.data_kind == "tensor"
                               else Array(shape, "uint8")),)
        self.rec.data_fact(node, self.dataset_text(ds), frame.env)
        return ds

    def apply_optional(self, transform, value, node, frame, deferred=False):
        if transform is MISSING or (type(transform) is Const and transform.value is None):
            return value
        out = self.call(transform, (value,), {}, node, frame) if not deferred else \
            self.apply_deferred(transform, value, node, frame)
        return out

    def apply_deferred(self, transform, value, node, frame):
        """A dataset's transform runs when a sample is fetched: an error it raises is kept in
        the sample (as an Unknown carrying it) and reported where the sample is fetched."""
        errors = []
        saved = self.pending_data_errors
        self.pending_data_errors = errors
        try:
            out = self.call(transform, (value,), {}, node, frame)
        finally:
            self.pending_data_errors = saved
        if errors:
            return DataError(errors[0])
        return out

    def torch_data(self, name, args, kwargs, node, frame, loc):
        text = _label(node)
        if name == "DataLoader":
            return self.make_loader(args, kwargs, node, frame, loc, text)
        if name == "TensorDataset":
            tensors = [a for a in args]
            if not tensors or not all(type(t) is Tensor for t in tensors):
                return Dataset(name, None, None, loc, text=text)
            firsts = [t.shape[0] if t.shape else None for t in tensors]
            for t, n in zip(tensors[1:], firsts[1:]):
                if D.definitely_ne(firsts[0], n):
                    from ..errors import error
                    err = error("shape-mismatch", "Size mismatch between tensors: TensorDataset "
                                "takes tensors with the same size of dim 0, got %s and %s."
                                % (D.format_dim(firsts[0]), D.format_dim(n)))
                    return self.report_error(err, node, frame, tuple(tensors))
            sample = TupleVal(tuple(Tensor(t.shape[1:] if t.shape else None, t.dtype,
                                           pipeline=t.pipeline) for t in tensors))
            ds = Dataset(name, sample, firsts[0], loc, text=text)
            self.rec.data_fact(node, self.dataset_text(ds), frame.env)
            return ds
        if name == "Subset" and len(args) >= 1:
            base = args[0]
            indices = args[1] if len(args) > 1 else kwargs.get("indices")
            items = self.iterate(indices) if indices is not None else None
            n = len(items) if items is not None else (
                indices.shape[0] if type(indices) is Tensor and indices.shape else None)
            return Dataset(name, self.sample_of(base, node, frame), n, loc, text=text)
        if name == "random_split" and len(args) >= 2:
            base = args[0]
            lengths = self.iterate(args[1])
            if lengths is None:
                return Unknown("random_split of unknown lengths")
            sample = self.sample_of(base, node, frame)
            total = self.length_of(base)
            sizes = [as_int(n) if type(as_python(n)) is int else None for n in lengths]
            fractions = [as_python(n) for n in lengths]
            if all(type(f) is float for f in fractions) and type(total) is int and \
                    abs(sum(fractions) - 1) < 1e-9:
                sizes = [int(total * f) for f in fractions]
                for i in range(total - sum(sizes)):
                    sizes[i % len(sizes)] += 1
            return ListVal([Dataset("Subset", sample, n, loc, text=text) for n in sizes])
        if name == "ConcatDataset" and args:
            parts = self.iterate(args[0])
            if not parts:
                return Dataset(name, None, None, loc, text=text)
            samples = [self.sample_of(p, node, frame) for p in parts]
            sample = samples[0]
            for s in samples[1:]:
                sample = join(sample, s)
            lengths = [self.length_of(p) for p in parts]
            total = sum(lengths) if all(type(n) is int for n in lengths) else None
            return Dataset(name, sample, total, loc, text=text)
        if name in ("default_collate",) and args:
            items = self.iterate(args[0])
            if items:
                return self.collated(items, len(items), node, frame)
            return Unknown("collate")
        if name in ("Dataset", "IterableDataset", "Sampler"):
            return TorchRef("torch.utils.data." + name)
        return Unknown("torch.utils.data.%s is not modelled" % name)

    def sample_of(self, dataset, node, frame):
        """One sample of a dataset value (``dataset[i]`` for an unknown i)."""
        if type(dataset) is Dataset:
            return dataset.sample
        if type(dataset) is Instance and dataset.cls.method("__getitem__")[1] is not None:
            # The index is an int the analysis does not know: a symbolic one.
            return self.call_dunder(dataset, "__getitem__", (Const(D.sym("index")),), node,
                                    frame)
        return None

    def length_of(self, dataset):
        if type(dataset) is Dataset:
            return dataset.length
        if type(dataset) is Instance and dataset.cls.method("__len__")[1] is not None:
            saved = self.rec.muted
            self.rec.muted += 1
            try:
                n = self.call_dunder(dataset, "__len__", (), None, None)
            finally:
                self.rec.muted = saved
            d = as_int(n)
            return d if type(d) is int else None
        return None

    def call_dunder(self, inst, name, args, node, frame):
        cls, _ = inst.cls.method(name)
        fn = cls.method_values[name]
        return self.call_function(fn, (inst,) + args, {}, node, frame, cls=cls)

    # ------------------------------------------------------------------ loaders

    def make_loader(self, args, kwargs, node, frame, loc, text):
        dataset = args[0] if args else kwargs.get("dataset", Unknown("no dataset"))
        bs_value = kwargs.get("batch_size", args[1] if len(args) > 1 else Const(1))
        batch_size = as_int(bs_value)
        shuffle = as_python(kwargs.get("shuffle", args[2] if len(args) > 2 else Const(False)))
        drop_last = as_python(kwargs.get("drop_last", Const(False)))
        if drop_last not in (True, False):
            drop_last = None
        loader = Loader(dataset, batch_size, (), None, loc, text)
        sample = self.sample_of(dataset, node, frame)
        custom = [k for k in ("collate_fn", "batch_sampler", "sampler") if k in kwargs and not (
            type(kwargs[k]) is Const and kwargs[k].value is None)]
        if sample is None or "batch_sampler" in custom:
            loader.batches = (Unknown("batches of a dataset the analysis cannot see"),)
            return loader
        if type(bs_value) is Const and bs_value.value is None:
            loader.batches = (sample,)
            return loader
        # A sampler chooses which samples (and so how many): the batch size stays.
        length = self.length_of(dataset) if "sampler" not in custom else None
        sizes = DS.batch_sizes(length, batch_size, drop_last)
        batches = []
        for n in sizes:
            if "collate_fn" in custom:
                batches.append(self.custom_collate(kwargs["collate_fn"], sample, n, node, frame))
                continue
            samples = [sample]
            if type(dataset) is Instance and shuffle is not True and "sampler" not in custom \
                    and not _known(sample):
                samples = self.first_samples(dataset, n, length, node, frame) or samples
            out = self.collated(samples, n, node, frame)
            if isinstance(out, ShapeError):
                loader.error = out
                out = Unknown("error: " + out.message.split(".")[0])
            batches.append(out)
        loader.batches = tuple(batches)
        self.rec.data_fact(node, self.loader_text(loader, length), frame.env)
        return loader

    def first_samples(self, dataset, n, length, node, frame):
        """The first samples of a user dataset, each fetched with its own index (the first
        batch of an unshuffled loader), when they may differ."""
        count = min(n if type(n) is int else 0, length if type(length) is int else 0,
                    MAX_SAMPLES)
        if count < 2:
            return None
        saved = self.rec.muted
        self.rec.muted += 1
        try:
            return [self.call_dunder(dataset, "__getitem__", (Const(i),), node, frame)
                    for i in range(count)]
        finally:
            self.rec.muted = saved

    def collated(self, samples, n, node, frame):
        for s in samples:
            failed = _data_error_in(s)
            if failed is not None:
                return failed
        if len(samples) == 1:
            samples = samples * 2 if n != 1 else samples
        try:
            return DS.collate(samples, n)
        except Exception as exc:
            self.rec.internal_error(node, frame.env, exc)
            return Unknown("collate")

    def custom_collate(self, fn, sample, n, node, frame):
        if type(fn) not in (Function, BoundFunction) or type(n) is not int or n > 256:
            return Unknown("a batch made by a collate_fn the analysis cannot follow")
        saved = self.rec.muted
        self.rec.muted += 1
        try:
            return self.call(fn, (ListVal([sample] * n),), {}, node, frame)
        finally:
            self.rec.muted = saved

    def loader_batches(self, loader, node, frame):
        """The batches of a loader being iterated; the collate error reported here."""
        if loader.error is not None:
            where = node if node is not None else self.stmt
            if isinstance(where, (ast.For, ast.AsyncFor)):
                where = where.iter
            self.report_error(loader.error, where, frame or self.stmt_frame, ())
        out = []
        for b in loader.batches:
            if type(b) is DataError:
                out.append(self.report_data_error(b, node, frame))
            else:
                out.append(b)
        return out

    def report_data_error(self, value, node, frame):
        err, step_loc, step_text = value.error
        where = node if node is not None else self.stmt
        if isinstance(where, (ast.For, ast.AsyncFor)):
            where = where.iter
        return self.report_error(err, where, frame or self.stmt_frame, (), related=(Related(
            step_loc, "raised by %s in the dataset's transform" % step_text),))

    # ------------------------------------------------------------------ transforms

    def apply_transform(self, t: Transform, args, kwargs, node, frame):
        """``transform(x)``: each step of a Compose in turn, with the pipeline recorded."""
        if not args:
            return Unknown("transform called without an image")
        x = args[0]
        if t.spec is None and t.kind not in ("Lambda",) or type(x) is DataError:
            return x if type(x) is DataError else Unknown("%s is not modelled" % t.kind)
        if t.kind == "Compose":
            trace = [describe(x)]
            for i, step in enumerate(t.steps):
                x = self.apply_step(step, x, node, frame, t, i)
                if type(x) is Unknown and x.reason.startswith("error"):
                    return x
                trace.append("%s → %s" % (_short(step), describe(x)))
            self.rec.data_fact_loc(t.loc, "**Compose**: " + " → ".join(trace), frame.env)
            return x
        if t.kind in ("RandomApply", "RandomChoice", "RandomOrder"):
            out = x
            if t.kind == "RandomApply":
                for i, step in enumerate(t.steps):
                    out = self.apply_step(step, out, node, frame, t, i)
                return join(out, x) if not same_image(out, x) else out
            results = [self.apply_step(s, x, node, frame, t, i) for i, s in enumerate(t.steps)]
            out = results[0] if results else x
            for r in results[1:]:
                out = join(out, r)
            return out
        return self.apply_step(t, x, node, frame, None, -1)

    def apply_step(self, step, x, node, frame, compose, index):
        pil = type(x) is Image
        if type(step) is Transform and step.kind == "Lambda":
            out = self.call(step.func, (x,), {}, node, frame) if step.func is not None else \
                Unknown("lambda")
        elif type(step) is Transform and step.kind in TR.STRUCTURAL:
            out = self.apply_transform(step, (x,), {}, node, frame)
        elif type(step) is Transform:
            rule = TR.TRANSFORMS.get(step.kind)
            if rule is None or step.spec is None:
                return Unknown("%s is not modelled" % step.kind) if type(x) is not Tensor \
                    else Tensor(None, None, pipeline=x.pipeline)
            try:
                out = rule.apply(step.spec, x, step.v2)
            except Exception as exc:
                self.rec.internal_error(node, frame.env, exc)
                out = None
            if out is None:
                return Tensor(None) if type(x) is Tensor else Unknown(
                    "%s on this input is not modelled" % step.kind)
            if isinstance(out, ShapeError):
                return self.data_error(out, step, node, frame)
        else:
            out = self.call(step, (x,), {}, node, frame)
        shape = image_shape(out)
        if shape is not None and type(step) is Transform:
            ds = DataStep(step.text, step.loc, shape, compose, index, pil)
            out = _with_pipeline(out, getattr(x, "pipeline", ()) + (ds,))
        elif shape is not None and getattr(out, "pipeline", None) == () and \
                getattr(x, "pipeline", ()):
            out = _with_pipeline(out, x.pipeline)
        return out

    def data_error(self, err, step, node, frame):
        if self.pending_data_errors is not None:
            self.pending_data_errors.append((err, step.loc, step.text))
            return Unknown("error: " + err.message.split(".")[0])
        return self.report_error(err, node, frame, (), related=(Related(
            step.loc, "raised by %s" % step.text),))

    def step(self, step: DataStep, value):
        return (DataStep(step.label, step.loc, image_shape(value)),)

    # ------------------------------------------------------------------ hovers

    def dataset_text(self, ds: Dataset) -> str:
        n = "%s samples" % D.format_dim(ds.length) if ds.length is not None else \
            "length not known"
        return "**%s** (%s) → sample `%s`" % (ds.kind, n, describe(ds.sample))

    def loader_text(self, loader: Loader, length) -> str:
        if loader.error is not None:
            return "**DataLoader**: the default collate fails: %s" % loader.error.message
        batches = [describe(b) for b in loader.batches]
        n = DS.loader_length(length, loader.batch_size, None)
        text = "**DataLoader** → `%s`" % (batches[0] if batches else "no batch")
        if len(batches) > 1:
            text += (" × %d, then `%s`" % (n - 1, batches[1])) if n else \
                ", then `%s`" % batches[1]
        elif n:
            text += " × %d" % n
        return text

    # ------------------------------------------------------------------ hooks

    def call_data_value(self, func, args, kwargs, node, frame):
        if type(func) is Transform:
            return self.apply_transform(func, args, kwargs, node, frame)
        return Unknown("a %s is not callable" % type(func).__name__)

    def data_attribute(self, obj, attr, node, frame):
        kind = type(obj)
        if kind is Image:
            if attr == "size":
                return TupleVal((Const(obj.width), Const(obj.height))) if obj.width is not None \
                    and obj.height is not None else Unknown("image size")
            if attr in ("width", "height"):
                d = getattr(obj, attr)
                return Const(d) if d is not None else Unknown("image size")
            if attr == "mode":
                return Const(obj.mode) if obj.mode else Unknown("image mode")
            return BoundMethod(obj, attr)
        if kind is Array:
            if attr == "shape" and obj.shape is not None:
                return TupleVal(tuple(Const(d) if d is not None else Unknown("dim")
                                      for d in obj.shape))
            if attr == "ndim" and obj.shape is not None:
                return Const(len(obj.shape))
            if attr == "T" and obj.shape is not None:
                return Array(tuple(reversed(obj.shape)), obj.dtype, obj.pipeline)
            return BoundMethod(obj, attr)
        if kind is Dataset:
            if attr == "dataset":
                return Unknown("the dataset of a subset")
            for key, value in obj.attrs:
                if key == attr:
                    return value
            if attr in ("transform", "target_transform", "classes", "targets", "data"):
                return Unknown("%s of a dataset" % attr)
            return BoundMethod(obj, attr)
        if kind is Loader:
            if attr == "dataset":
                return obj.dataset
            if attr == "batch_size":
                return Const(obj.batch_size)
            return Unknown("loader attribute %s" % attr)
        return Unknown("attribute %s" % attr)

    def data_method(self, obj, name, args, kwargs, node, frame):
        kind = type(obj)
        if kind is Image:
            return self.image_method(obj, name, args, kwargs)
        if kind is Array:
            return self.array_method(obj, name, args, kwargs)
        if kind is Dataset and name == "__getitem__":
            return self.fetch(obj, node, frame)
        return Unknown("method %s" % name)

    def image_method(self, img, name, args, kwargs):
        if name == "convert":
            mode = as_python(args[0]) if args else as_python(kwargs.get("mode", Const(None)))
            if not isinstance(mode, str) or mode not in TR.MODE_CHANNELS:
                return Image(None, img.width, img.height, img.pipeline)
            return Image(mode, img.width, img.height, img.pipeline)
        if name == "resize" and (args or "size" in kwargs):
            size = as_python(args[0] if args else kwargs["size"])
            if isinstance(size, tuple) and len(size) == 2:
                return Image(img.mode, size[0], size[1], img.pipeline)
            return Image(img.mode, None, None, img.pipeline)
        if name == "crop" and args:
            box = as_python(args[0])
            if isinstance(box, tuple) and len(box) == 4:
                left, top, right, bottom = box
                return Image(img.mode, D.sub(right, left), D.sub(bottom, top), img.pipeline)
            return Image(img.mode, None, None, img.pipeline)
        if name in ("copy", "filter", "point") or (name == "rotate" and not as_python(
                kwargs.get("expand", Const(False)))):
            return img
        if name == "getbands" and img.mode in TR.MODE_CHANNELS:
            return TupleVal(tuple(Unknown("band") for _ in range(TR.MODE_CHANNELS[img.mode])))
        return Unknown("image method %s" % name)

    def array_method(self, arr, name, args, kwargs):
        proxy = Tensor(arr.shape)
        if name in ("astype", "copy"):
            dtype = _np_dtype(args[0]) if args and name == "astype" else arr.dtype
            return Array(arr.shape, dtype, arr.pipeline)
        if name == "transpose":
            if not args:
                return Array(tuple(reversed(arr.shape)) if arr.shape else None, arr.dtype,
                             arr.pipeline)
            out = FUNCTIONS["Tensor.permute"](Call("Tensor.permute", (proxy,) + tuple(args),
                                                   {}))
        elif name == "tolist" and not args and not kwargs:
            return python_lists(arr.shape)
        elif name in ("reshape", "squeeze", "flatten"):
            out = FUNCTIONS["Tensor." + name](Call("Tensor." + name, (proxy,) + tuple(args), {}))
        else:
            return Unknown("array method %s" % name)
        if type(out) is Tensor:
            return Array(out.shape, arr.dtype, arr.pipeline)
        return Unknown("array %s" % name)

    def data_subscript(self, obj, key, node, frame):
        if type(obj) is Dataset:
            return self.fetch(obj, node, frame)
        if type(obj) is Array:
            out = getitem(Tensor(obj.shape), key)
            if type(out) is Tensor:
                return Array(out.shape, obj.dtype, obj.pipeline)
            return Unknown("array indexing")
        if type(obj) is Loader:
            return Unknown("a DataLoader is not subscriptable")
        return Unknown("subscript")

    def fetch(self, ds: Dataset, node, frame):
        sample = ds.sample
        if sample is None:
            return Unknown("a sample of %s" % ds.kind)
        return self.undefer(sample, node, frame)

    def undefer(self, value, node, frame):
        if type(value) is DataError:
            return self.report_data_error(value, node, frame)
        if type(value) is TupleVal and any(type(i) is DataError for i in value.items):
            return TupleVal(tuple(self.undefer(i, node, frame) for i in value.items))
        return value

    def data_iterate(self, value):
        if type(value) is Loader:
            return self.loader_batches(value, None, None)
        if type(value) is Dataset and type(value.length) is int and value.length <= 256:
            sample = self.fetch(value, self.stmt, self.stmt_frame)
            return [sample] * value.length
        return None

    def data_builtin(self, name, args, node, frame):
        """``len``, ``iter``, ``next`` of data values; None when not one."""
        x = args[0] if args else None
        if name == "len":
            if type(x) is Dataset:
                return Const(x.length) if x.length is not None else Unknown("len")
            if type(x) is Loader:
                n = DS.loader_length(self.length_of(x.dataset), x.batch_size, None)
                return Const(n) if n is not None else Unknown("len")
            if type(x) is Instance and x.cls.method("__len__")[1] is not None:
                return self.call_dunder(x, "__len__", (), node, frame)
            return None
        if name == "iter" and type(x) in (Loader, Dataset):
            return x
        if name == "next" and type(x) is Loader:
            batches = self.loader_batches(x, node, frame)
            return batches[0] if batches else Unknown("an empty loader")
        return None

    def data_binop(self, op, left, right):
        arr = left if type(left) is Array else right
        other = right if arr is left else left
        if type(arr) is not Array or type(other) not in (Const, Array):
            return Unknown("operation on data values")
        if type(other) is Array:
            out = FUNCTIONS["operator.add"](Call("operator.add", (Tensor(arr.shape),
                                                                  Tensor(other.shape)), {}))
            return Array(out.shape, arr.dtype, arr.pipeline) if type(out) is Tensor else \
                Unknown("array operation")
        dtype = "float64" if type(other.value) is float or op == "truediv" else arr.dtype
        return Array(arr.shape, dtype, arr.pipeline)

    def instance_getitem(self, inst, key, node, frame):
        """``dataset[i]`` on a user class with ``__getitem__``."""
        return self.call_dunder(inst, "__getitem__", (key,), node, frame)


class DataError(Value):
    """A sample whose transform raises: (the ShapeError, the step's Loc), reported where the
    sample is fetched."""

    __slots__ = ("error", "reason")

    def __init__(self, error):
        self.error = error
        self.reason = "error: " + error[0].message.split(".")[0]


def _data_error_in(value):
    if type(value) is DataError:
        return value
    if type(value) in (TupleVal, ListVal):
        for item in value.items:
            found = _data_error_in(item)
            if found is not None:
                return found
    return None


def _short(step) -> str:
    if type(step) is Transform:
        return step.kind
    return getattr(getattr(step, "cls", None), "name", None) or "function"


def _known(sample) -> bool:
    if type(sample) is Tensor:
        return sample.shape is not None and all(d is not None for d in sample.shape)
    if type(sample) in (TupleVal, ListVal):
        return all(_known(i) for i in sample.items)
    return True


def same_image(a, b) -> bool:
    return image_shape(a) == image_shape(b) and type(a) is type(b) and \
        getattr(a, "mode", None) == getattr(b, "mode", None)


def _with_pipeline(value, pipeline):
    kind = type(value)
    if kind is Tensor:
        return Tensor(value.shape, value.dtype, value.origin, value.cause, value.param,
                      value.strides, pipeline)
    if kind is Image:
        return Image(value.mode, value.width, value.height, pipeline)
    if kind is Array:
        return Array(value.shape, value.dtype, pipeline)
    if kind is TupleVal:
        return TupleVal(tuple(_with_pipeline(i, pipeline) for i in value.items))
    return value
