"""Finding the workspace files that ``import`` statements name.

A module name resolves against the importing file's folder and the workspace roots, the way
Python's path search would for a project run from its root: ``models.blocks`` is
``ROOT/models/blocks.py`` or ``ROOT/models/blocks/__init__.py``; relative imports start at the
importing file's package.  Anything outside the workspace (site-packages) is not followed.
"""
from __future__ import annotations

import os
from typing import Callable, Iterable, Optional, Tuple

Reader = Callable[[str], Optional[str]]


def read_file(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


class WorkspaceResolver:
    """``resolver(module, from_path, level) -> (path, text) | None``.

    ``read`` may serve unsaved editor buffers before the disk.
    """

    def __init__(self, roots: Iterable[str] = (), read: Reader = read_file):
        self.roots = [os.path.abspath(r) for r in roots]
        self.read = read

    def __call__(self, module: str, from_path: str, level: int) -> Optional[Tuple[str, str]]:
        if not from_path or from_path.startswith("<"):
            return None
        here = os.path.dirname(os.path.abspath(from_path))
        parts = [p for p in module.split(".") if p] if module else []
        if level > 0:
            base = here
            for _ in range(level - 1):
                base = os.path.dirname(base)
            bases = [base]
        else:
            bases = [here] + [r for r in self.roots if r != here]
        for base in bases:
            found = self._find(base, parts)
            if found is not None:
                text = self.read(found)
                if text is not None:
                    return found, text
        return None

    @staticmethod
    def _find(base: str, parts) -> Optional[str]:
        if not parts:
            init = os.path.join(base, "__init__.py")
            return init if os.path.isfile(init) else None
        path = os.path.join(base, *parts)
        if os.path.isfile(path + ".py"):
            return path + ".py"
        init = os.path.join(path, "__init__.py")
        if os.path.isfile(init):
            return init
        return None
