"""Decorators written in plain code, and the registries they fill.

Model libraries register their factory functions with a decorator (torchvision's
``@register_model()``, timm's ``@register_model``) and look them up by name
(``torchvision.models.get_model("resnet18")``, ``timm.create_model("resnet18")``).  A decorator
the analysis can read (a function of the program or of a library) on a module-level function is
called with it,
so the registry it writes is filled as at import time.  The name keeps the function itself
unless the decorator returns it (a wrapper's own body is not followed: its arguments are the
function's, which the function's own body checks).  A decorator the analysis cannot read
changes nothing.
"""
from __future__ import annotations

from .program import BoundFunction, Function

# Decorators with a meaning of their own elsewhere (members.py, statements), or none for shapes.
SKIPPED = {"property", "cached_property", "staticmethod", "classmethod", "abstractmethod",
           "overload", "override", "final", "dataclass"}


class Decorators:
    """Running decorators written in plain code."""

    def decorate(self, node, fn, frame):
        if frame.func is not None:
            # Only a module's own definitions: registries are filled at import time, and a
            # decorator run inside a function (a wrapper's own decorators) fills none.
            return fn
        for deco in reversed(node.decorator_list):
            head = deco.func if hasattr(deco, "func") else deco
            if getattr(head, "id", getattr(head, "attr", None)) in SKIPPED:
                continue
            decorator = self.eval(deco, frame)
            if type(decorator) not in (Function, BoundFunction):
                continue
            result = self.call(decorator, (fn,), {}, deco, frame)
            if result is not fn:
                continue        # a wrapper: the name keeps the function (see above)
        return fn
