"""Shape errors as values, and the diagnostic codes of SPEC §2.

A rule returns a :class:`ShapeError` instead of an output when PyTorch would raise; the
interpreter turns it into a diagnostic with a range, related locations and fixes.  The message
starts with PyTorch's own wording (so it can be searched) and then says in plain words what to
change.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

# code -> default severity.  Errors are only for what PyTorch really rejects.
CODES = {
    "conv-in-channels": "error",
    "collate-mismatch": "error",
    "linear-in-features": "error",
    "norm-features": "error",
    "spatial-collapse": "error",
    "padding-invalid": "error",
    "shape-mismatch": "error",
    "reshape-numel": "error",
    "view-stride": "error",
    "matmul-mismatch": "error",
    "rank-mismatch": "error",
    "shape-contract": "warning",
    "shape-comment": "warning",
    "probe-disagrees": "information",
    "probe-skipped": "information",
    "analysis-incomplete": "information",
    "runtime-error": "error",
}


@dataclass(frozen=True, slots=True)
class FixHint:
    """A fix a rule can name without knowing the source: set the layer's constructor argument
    ``param`` (positional ``index`` when passed positionally) to ``value``."""

    param: str
    value: Any
    index: Optional[int] = None


@dataclass(frozen=True, slots=True)
class ShapeError:
    """What PyTorch would raise.  ``blame`` says which value is at fault when the interpreter
    chooses where to point: "input" (the tensor passed in) or "layer" (the layer's config)."""

    code: str
    message: str
    fix: Optional[FixHint] = None
    blame: str = "input"
    # The dim/size involved, for causes named downstream ("spatial", "features", ...).
    detail: Optional[str] = None


def error(code: str, message: str, **kw) -> ShapeError:
    assert code in CODES, code
    return ShapeError(code, message, **kw)
