"""Op rules: one module per op family, and the table that maps qualified names to them.

Adding an op is one function and one registration:

* a function form (``torch.cat``, ``torch.nn.functional.conv2d``, a tensor method such as
  ``Tensor.view`` whose first argument is the tensor) is a function ``(call) -> Value |
  ShapeError`` registered with ``@function("torch.cat", ...)``;
* a layer (``torch.nn.Conv2d``) is a :class:`LayerRule` subclass registered with
  ``@layer("Conv1d", "Conv2d", "Conv3d")``: ``build`` turns the constructor call into the
  family's config (its "spec"), ``forward`` applies it to the call's input.

Rules see only abstract values (``values.py``) through :class:`Call`, and return a value, a
``ShapeError`` when PyTorch would raise, or ``Unknown`` for what they cannot tell.  They never
guess: an unknown config value gives unknown dims, never an error.
"""
from __future__ import annotations

from typing import Callable, Dict, Optional

from ..errors import FixHint, ShapeError, error
from ..values import Shape, Tensor, Unknown, Value, shape_known
from .call import MISSING, UNKNOWN, Call

FUNCTIONS: Dict[str, Callable[[Call], object]] = {}
LAYERS: Dict[str, "LayerRule"] = {}


def function(*names: str):
    """Register a function rule under qualified names (``torch.flatten``, ``Tensor.flatten``)."""
    def register(fn):
        for name in names:
            FUNCTIONS[name] = fn
        return fn
    return register


class LayerRule:
    """A torch.nn layer family.  Subclasses override what applies to them."""

    kinds: tuple = ()

    def build(self, kind: str, call: Call):
        """Constructor call -> spec (a frozen dataclass) or ShapeError (what __init__ raises)."""
        raise NotImplementedError

    def forward(self, spec, call: Call):
        """Layer call -> output Value, or ShapeError.  ``call.args[0]`` is the input."""
        raise NotImplementedError

    def params(self, spec) -> Optional[int]:
        """Number of parameters, when known."""
        return None

    def config(self, spec) -> tuple:
        """(name, text) pairs describing the configuration, for hovers."""
        return ()

    def arithmetic(self, spec, input_shape: Shape) -> tuple:
        """For conv/pool layers: one line per spatial dim, the output-size formula with the
        numbers filled in, e.g. ``⌊(28 + 2·1 − 1·(3 − 1) − 1) / 1⌋ + 1 = 28``."""
        return ()

    def expected_input(self, spec) -> Shape:
        """The input shape this layer expects when it is a module's first layer (symbolic names
        N, C, L, D, H, W for what it does not fix), or None."""
        return None

    def attribute(self, spec, name: str):
        """A layer attribute (``fc.weight``, ``conv.out_channels``) as a Value, or None."""
        return None

    def assigned(self, spec, name: str, value):
        """The spec after ``layer.<name> = value``, or None when the rule cannot follow the
        change.  Replacing a parameter by a tensor of the same, fully known shape changes no
        shape (weight tying: ``wte.weight = lm_head.weight``)."""
        if name in ("weight", "bias"):
            old = self.attribute(spec, name)
            if type(old) is Tensor and type(value) is Tensor and shape_known(old.shape) and \
                    old.shape == value.shape:
                return spec
        return None

    def submodules(self, spec) -> tuple:
        """(name, Layer or Container) for each module torch registers inside this layer, in
        registration order (``MultiheadAttention.out_proj``, a transformer's sub-layers), with
        the parameters ``params`` counts; () for a layer that has none."""
        return ()

    def inner_calls(self, spec, children: dict, call: Call) -> list:
        """The calls of ``children`` (from ``submodules``) that torch's forward makes when
        this layer is called with ``call`` in eval mode with hooks attached (as torchinfo runs
        it): [(child name or dotted path, args, output value)]."""
        return []

    def keep_padding(self, spec):
        """(padding that keeps the spatial size, spec with that padding) for a stride-1
        conv/pool whose padding shrinks its input; None otherwise."""
        return None


def layer(*kinds: str):
    """Class decorator: register a LayerRule for torch.nn class names (``Conv2d``)."""
    def register(cls):
        rule = cls()
        rule.kinds = kinds
        for kind in kinds:
            LAYERS[kind] = rule
        return cls
    return register


def load_all() -> None:
    """Import every rule module so its registrations run."""
    import importlib
    import pkgutil

    from . import conv  # noqa: F401
    for info in pkgutil.iter_modules(__path__):
        if info.name not in ("call",):
            importlib.import_module(__name__ + "." + info.name)


__all__ = ["FUNCTIONS", "LAYERS", "LayerRule", "function", "layer", "Call", "MISSING", "UNKNOWN",
           "ShapeError", "FixHint", "error", "Tensor", "Unknown", "Value", "load_all"]
