"""Abstract values: what the analysis knows about a Python value at one point of the program.

Most values are immutable.  The exceptions are the ones Python itself makes mutable and model
code builds step by step: lists and dicts (``layers.append(...)``) and instances of user classes
(``self.conv1 = ...`` in ``__init__``); they carry their contents by identity, like the objects
they stand for.

Shapes are tuples of dims (``int``, :class:`~shapelens.analysis.dims.Sym`, or ``None`` for an
unknown dim), or ``None`` when even the rank is unknown.
"""
from __future__ import annotations

import itertools
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Optional, Tuple

from .dims import Dim, format_dim

Shape = Optional[Tuple[Optional[Dim], ...]]


def format_shape(shape: Shape) -> str:
    """``[1, 64, H//2, ?]``; ``?`` for an unknown dim, ``[?]`` for an unknown rank."""
    if shape is None:
        return "[?]"
    return "[" + ", ".join(format_dim(d) for d in shape) + "]"


def shape_known(shape: Shape) -> bool:
    return shape is not None and all(d is not None for d in shape)


class Value:
    """Base class of abstract values."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Unknown(Value):
    """A value the analysis cannot see; ``reason`` says why, for hovers.  ``receiver`` is the
    tracked object it was read from (``self.helper`` that no code the analysis sees defines):
    calling it may change that object."""

    reason: str = "not modelled"
    receiver: Any = field(default=None, compare=False)
    truth: Optional[bool] = None     # known truth of a value that is otherwise unknown
    number: bool = False             # a Python number (``x.item()``), value not known
    # A list of unknown length whose items are some of these, in order (a comprehension whose
    # filter the analysis cannot decide: ``[l for l in layers if random() > p]``).
    choices: tuple = field(default=(), compare=False)
    # One of these modules, from branches the analysis could not choose between
    # (``DropPath(p) if p > 0 else nn.Identity()``): a call runs each as a branch.
    options: tuple = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class Stream(Value):
    """An iterable of unknown length whose items are all like ``item``
    (``model.parameters()`` gives tensors of shapes the analysis does not list)."""

    item: Value
    reason: str = "iterable of unknown length"


class AttrView(Value):
    """``obj.__dict__`` / ``vars(obj)`` of a plain (not nn.Module) object: reads and writes
    through it are reads and writes of ``obj``'s attributes."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj


@dataclass(frozen=True, slots=True)
class Cause:
    """A conv/pool layer that shrank the spatial size, kept with the tensors that follow it so a
    mismatch downstream can name it.  ``keep`` is the padding that keeps the size; the output
    shape it would give is computed only when a mismatch asks (``kept_shape``)."""

    layer: str            # "conv2"
    loc: Any              # Loc of the layer's construction
    padding: Any          # its padding now, as written
    keep: Any             # padding that keeps the size
    shape: Shape          # its output shape now
    kept: Any = None      # () -> output shape with ``keep``

    @property
    def kept_shape(self) -> Shape:
        return self.kept() if self.kept is not None else None


@dataclass(frozen=True, slots=True)
class Tensor(Value):
    """A tensor.  ``origin`` is where it was produced (a Loc), ``cause`` the last layer that
    shrank it because of its padding (see :class:`Cause`), ``param`` the forward parameter it is
    (while inferring an input that no sample gives), ``nn_param`` whether it is a module's
    parameter (derived tensors are not)."""

    shape: Shape = None
    dtype: Optional[str] = None      # "float", "long", "bool" when known
    origin: Any = None
    cause: Optional[Cause] = None
    param: Optional[str] = None
    strides: Any = None              # None: contiguous; a tuple; "?": not known (rules/layout.py)
    pipeline: tuple = ()             # DataSteps that made it, when it comes from data (§7)
    nn_param: Optional[str] = None   # an nn.Parameter: "trainable", "frozen" or "unknown"
    owner: Any = field(default=None, compare=False)   # the layer whose parameter this is

    @property
    def rank(self) -> Optional[int]:
        return None if self.shape is None else len(self.shape)

    def with_shape(self, shape: Shape, dtype: Optional[str] = None) -> "Tensor":
        """A tensor derived from this one (same dtype and padding cause unless given).  Its
        memory layout is contiguous when this one's is, else not known."""
        return Tensor(shape, dtype or self.dtype, None, self.cause, None,
                      None if self.strides is None else "?", self.pipeline)


@dataclass(frozen=True, slots=True)
class Const(Value):
    """A Python constant: int, float, str, bool, None, Ellipsis, or a symbolic int (Sym)."""

    value: Any


@dataclass(frozen=True, slots=True)
class TupleVal(Value):
    """A tuple; ``size=True`` for a ``torch.Size`` (``x.shape``)."""

    items: Tuple[Value, ...]
    size: bool = False


@dataclass(frozen=True, slots=True)
class SliceVal(Value):
    start: Value
    stop: Value
    step: Value


# Mutable values (lists, dicts, modules) are numbered as they are made, so that a record of
# changes opened at some point knows which objects existed before it (interp/soundness.py).
next_serial = itertools.count().__next__


@dataclass(eq=False, slots=True)
class ListVal(Value):
    """A list, mutable like the list it stands for.  ``lost`` says why its items are no longer
    known (an operation the analysis cannot follow changed it); ``items`` is then empty."""

    items: list
    lost: Optional[str] = None
    serial: int = field(default_factory=next_serial)
    deque: bool = False             # a collections.deque (not a list to isinstance)


@dataclass(eq=False, slots=True)
class DictVal(Value):
    """A dict with constant keys (``OrderedDict`` too); mutable; ``lost`` as for lists.
    ``default``: a ``defaultdict``'s factory, called for a key it does not have."""

    items: dict
    lost: Optional[str] = None
    serial: int = field(default_factory=next_serial)
    default: Any = None


@dataclass(eq=False, slots=True)
class SetVal(Value):
    """A set (or frozenset) of constants; mutable; ``lost`` as for lists.  Its order is not
    the order of insertion (strings hash differently in each process): iterating it is
    unknown, but for one item."""

    items: set
    lost: Optional[str] = None
    serial: int = field(default_factory=next_serial)


@dataclass(frozen=True, slots=True)
class TorchRef(Value):
    """A name inside torch (or einops, jaxtyping…), by qualified name: ``torch.nn.Conv2d``."""

    qualname: str


@dataclass(frozen=True, slots=True)
class BoundMethod(Value):
    """``obj.name`` where obj is a tensor or a torch layer: a method to call with obj first."""

    obj: Value
    name: str


@dataclass(eq=False, slots=True)
class Layer(Value):
    """An instance of a torch.nn layer.  ``spec`` is its family's config (see rules/), ``loc``
    where it was built, ``name`` the attribute path it was assigned to (``conv1``,
    ``features.0``), filled in by the interpreter when it is stored on a module."""

    kind: str
    spec: Any
    loc: Any = None
    name: Optional[str] = None       # key under its parent module (see module_path)
    parent: Any = None
    training: Optional[bool] = True  # nn.Module mode; None when the analysis cannot tell
    serial: int = field(default_factory=next_serial)


@dataclass(eq=False, slots=True)
class Container(Value):
    """``nn.Sequential`` / ``nn.ModuleList`` / ``nn.ModuleDict``: ``items`` is a list (a dict for
    ModuleDict, and a Sequential built from an OrderedDict or given named children) of module
    values; ``lost`` as for lists."""

    kind: str
    items: Any
    loc: Any = None
    name: Optional[str] = None
    parent: Any = None
    lost: Optional[str] = None
    serial: int = field(default_factory=next_serial)


@dataclass(eq=False, slots=True)
class Instance(Value):
    """An instance of a class defined by the user (an ``nn.Module`` subclass or a plain class)."""

    cls: Any                       # ClassInfo
    attrs: dict = field(default_factory=dict)
    name: Optional[str] = None     # key under its parent module when it is a sub-module
    parent: Any = None
    training: Optional[bool] = True
    opaque: bool = False           # built by an __init__ the analysis cannot see
    lost: Optional[str] = None     # why attributes not in ``attrs`` may exist (unseen changes)
    serial: int = field(default_factory=next_serial)


@dataclass(eq=False, slots=True)
class TensorCells(Value):
    """Tensors changed in place (``x.unsqueeze_(0)``, ``w.data = ...``, a tensor handed to code
    the analysis cannot follow): id -> (the tensor, what it is now).  Every alias of a changed
    tensor reads the new value.  One per analysis (``IN_PLACE``); it is part of the state that
    paths the analysis cannot choose between join (interp/soundness.py)."""

    items: dict = field(default_factory=dict)
    lost: Optional[str] = None
    serial: int = -1                 # older than any change log: every log records it


IN_PLACE: ContextVar = ContextVar("shapelens_in_place", default=None)


def current(t: Tensor) -> Tensor:
    """A tensor as it is now, after the in-place changes the analysis saw."""
    cells = IN_PLACE.get()
    if cells is not None and cells.items:
        seen = 0
        while id(t) in cells.items and seen < 64:
            t = cells.items[id(t)][1]
            seen += 1
    return t


def visible(value: Value) -> Value:
    """What code that reads ``value`` sees: a list, dict or container whose contents were lost
    is as unknown as any value the analysis cannot see; a tensor changed in place is as it is
    now (also inside the list or tuple it is read from)."""
    kind = type(value)
    if kind is Tensor:
        return current(value)
    if getattr(value, "lost", None):
        return Unknown(value.lost)
    if (kind is ListVal or kind is TupleVal) and IN_PLACE.get() is not None and \
            IN_PLACE.get().items and any(type(i) is Tensor for i in value.items):
        items = [current(i) if type(i) is Tensor else i for i in value.items]
        return ListVal(items) if kind is ListVal else TupleVal(tuple(items), value.size)
    return value


# ---------------------------------------------------------------------------- data (SPEC §7)

@dataclass(frozen=True, slots=True)
class DataStep:
    """One step of a data pipeline that made a value: a dataset, ``Image.new``, a transform.
    ``shape`` is the image after it as (C, H, W) (dims or None; C None when the mode is not
    known), for hovers and for naming the step that set a wrong size; ``compose`` the Compose
    the step belongs to (for quick fixes that insert a step), ``pil`` whether its input was a
    PIL image."""

    label: str                  # "transforms.Lambda(lambda x: x.repeat(3, 1, 1))"
    loc: Any                    # Loc of the expression
    shape: Any = None           # (C, H, W) after the step
    compose: Any = None         # the Transform (Compose) it is a step of
    index: int = -1             # its position in that Compose
    pil: bool = False


@dataclass(frozen=True, slots=True)
class Image(Value):
    """A PIL image: ``mode`` ('L', 'RGB'...; None when not known), ``width``/``height`` dims
    (None when not known)."""

    mode: Optional[str]
    width: Any
    height: Any
    pipeline: tuple = ()


@dataclass(frozen=True, slots=True)
class Array(Value):
    """A numpy ndarray; ``dtype`` is numpy's name ('uint8', 'float32') when known."""

    shape: Shape
    dtype: Optional[str] = None
    pipeline: tuple = ()


@dataclass(frozen=True, slots=True)
class Transform(Value):
    """A torchvision transform (v1 or v2): ``kind`` its class name, ``spec`` its rule's config
    (rules/transforms.py), ``steps`` the transforms of a Compose (or RandomApply...), ``func``
    the function of a Lambda, ``text`` its source text."""

    kind: str
    spec: Any
    loc: Any = None
    text: str = ""
    v2: bool = False
    steps: tuple = ()
    func: Any = None
    elements: tuple = ()        # Locs of a Compose's list elements (for inserting a step)


@dataclass(eq=False, slots=True)
class Dataset(Value):
    """A dataset: ``sample`` is one item (``dataset[i]``) after its transforms, or None when
    not known; ``length`` its len() (a dim or None); ``attrs`` (name, value) pairs of the
    attributes the analysis knows (MNIST's ``.data``)."""

    kind: str
    sample: Any
    length: Any = None
    loc: Any = None
    attrs: tuple = ()
    text: str = ""


@dataclass(eq=False, slots=True)
class Loader(Value):
    """A ``DataLoader``: ``batches`` are the distinct batches it yields in order (the full ones,
    then a smaller last one), or an error value when the default collate raises."""

    dataset: Any
    batch_size: Any
    batches: tuple = ()
    error: Any = None           # ShapeError of the default collate
    loc: Any = None
    text: str = ""


DATA_VALUES = (Image, Array, Transform, Dataset, Loader)


@dataclass(frozen=True, slots=True)
class Packed(Value):
    """A ``PackedSequence`` of ``batch`` sequences whose steps have the shape ``features``; how
    many steps it holds in all depends on the lengths (rules/recurrent.py)."""

    batch: Any
    features: Shape
    dtype: Optional[str] = None


@dataclass(frozen=True, slots=True)
class Distribution(Value):
    """A ``torch.distributions`` object (rules/distributions.py): its family, batch and event
    shapes, for the categorical families the number of categories, for ``Independent`` the
    distribution it wraps."""

    kind: str
    batch_shape: Shape
    event_shape: Shape
    categories: Any = None
    base: Any = None


def with_strides(t: Tensor, strides) -> Tensor:
    """``t`` with another memory layout (the same object when it does not change)."""
    if strides == t.strides:
        return t
    return Tensor(t.shape, t.dtype, t.origin, t.cause, t.param, strides, t.pipeline)


def set_training(module, mode: Optional[bool], _depth: int = 0) -> None:
    """``module.train(mode)`` / ``module.eval()``: the mode of a module and all it contains."""
    if _depth > 64:
        return
    if type(module) in (Layer, Instance):
        module.training = mode
    children = ()
    if type(module) is Instance:
        children = module.attrs.values()
    elif type(module) is Container:
        children = module.items.values() if isinstance(module.items, dict) else module.items
    for child in children:
        if type(child) in (Layer, Instance, Container):
            set_training(child, mode, _depth + 1)


def module_path(module) -> Optional[str]:
    """``blocks.0.body.conv``: the attribute path of a sub-module from its root model."""
    parts = []
    seen = 0
    while module is not None and module.name is not None and seen < 64:
        if module.name != "__self__":   # the torch module an nn.Conv2d subclass wraps
            parts.append(str(module.name))
        module = module.parent
        seen += 1
    return ".".join(reversed(parts)) if parts else None


def same_value(a: Value, b: Value) -> bool:
    """Equality that treats mutable values by identity."""
    return a is b or (type(a) is type(b) and a == b)


def uniform(items) -> bool:
    """Whether every item is the same value (a loop over them repeats one run)."""
    first = items[0] if items else None
    return all(same_value(x, first) for x in items)


def join(a: Value, b: Value) -> Value:
    """What a name holds when it may hold ``a`` or ``b`` (after an ``if`` the analysis cannot
    decide): the common knowledge of both."""
    if a is b or same_value(a, b):
        return a
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.shape is None or b.shape is None or len(a.shape) != len(b.shape):
            shape = None
        else:
            shape = tuple(x if x == y else None for x, y in zip(a.shape, b.shape))
        return Tensor(shape, a.dtype if a.dtype == b.dtype else None)
    if isinstance(a, TupleVal) and isinstance(b, TupleVal) and len(a.items) == len(b.items):
        return TupleVal(tuple(join(x, y) for x, y in zip(a.items, b.items)), a.size and b.size)
    if type(a) is Const and type(b) is Const and isinstance(a.value, str) and \
            isinstance(b.value, str):
        return Unknown(TEXT_OF_BRANCHES)      # a device name, not a dtype (widths.py)
    if type(a) is TorchRef and type(b) is TorchRef and \
            a.qualname.replace(".cuda.", ".") == b.qualname.replace(".cuda.", "."):
        # ``torch.cuda.FloatTensor if cuda else torch.FloatTensor``: the same shapes
        return TorchRef(a.qualname.replace(".cuda.", "."))
    options = module_options(a) + module_options(b)
    if options and all(options) and len(options) <= MAX_OPTIONS:
        distinct = []
        for o in options:
            if not any(o is d for d in distinct):
                distinct.append(o)
        return Unknown("differs between branches", options=tuple(distinct))
    return Unknown("differs between branches")


MAX_OPTIONS = 4


def module_options(value: Value) -> tuple:
    """The modules a value may be (itself, or the options of a join), else ``(None,)``."""
    kind = type(value)
    if kind is Layer or kind is Container or kind is Instance:
        return (value,)
    if kind is Unknown and value.options:
        return value.options
    return (None,)


TEXT_OF_BRANCHES = "text that differs between branches"
