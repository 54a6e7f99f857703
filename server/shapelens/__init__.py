"""ShapeLens: static PyTorch tensor shapes and shape errors.

The analysis (``shapelens.analysis``) is pure: text in, an immutable report out.  The command
line, the language server and the probe are views of that report.  Importing this package never
imports torch.
"""
from __future__ import annotations

__version__ = "0.1.0"


def check_source(text: str, path: str = "<string>") -> dict:
    """The report of one file, as one entry of ``shapelens check --format json``'s ``files``."""
    from .analysis import check_source as _check
    return _check(text, path)


__all__ = ["check_source", "__version__"]
