"""Baselines: ``shapelens check --write-baseline FILE`` records today's findings;
``--baseline FILE`` reports only the ones that are not in it.

A finding is matched on its file, its code, its message and the definition that encloses it
(``Net.forward``, or ``<module>``), never on its line, so code that moves keeps matching.
Line references inside messages (``blocks.py:13``) are left out of the match for the same
reason.  Each recorded finding matches one reported finding (two identical findings in one
definition need two entries).  Paths are stored relative to the baseline file's folder, so the
baseline works from any working directory.
"""
from __future__ import annotations

import ast
import bisect
import json
import os
import re
from collections import Counter
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

VERSION = 1
_LINE_REF = re.compile(r"(\.pyi?):\d+")

Key = Tuple[str, str, str, str]     # (path, definition, code, message)


class BaselineError(Exception):
    pass


def definitions(text: str):
    """``line -> qualified name`` of the innermost ``def``/``class`` around that line
    ("<module>" outside any); a file that does not parse is all "<module>"."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return lambda line: "<module>"
    spans: List[Tuple[int, int, str]] = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + child.name
                first = min([child.lineno] + [d.lineno for d in child.decorator_list])
                spans.append((first, child.end_lineno or child.lineno, name))
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    spans.sort()
    starts = [s[0] for s in spans]

    def enclosing(line: int) -> str:
        best = "<module>"
        for first, last, name in spans[:bisect.bisect_right(starts, line)]:
            if first <= line <= last:
                best = name   # later starts are nested deeper
        return best

    return enclosing


def finding_key(path: str, definition: str, code: str, message: str, base: str) -> Key:
    rel = os.path.relpath(os.path.abspath(path), base).replace(os.sep, "/")
    return rel, definition, code, _LINE_REF.sub(r"\1", message)


def write_baseline(file: str, keys: Iterable[Key]) -> int:
    """Write the findings ``keys`` to ``file``; returns how many.  Raises
    :class:`BaselineError`."""
    findings = [{"path": p, "definition": d, "code": c, "message": m}
                for p, d, c, m in sorted(keys)]
    try:
        os.makedirs(os.path.dirname(os.path.abspath(file)), exist_ok=True)
        with open(file, "w", encoding="utf-8") as fh:
            json.dump({"version": VERSION, "tool": "shapelens", "findings": findings}, fh,
                      indent=1, ensure_ascii=False)
            fh.write("\n")
    except OSError as exc:
        raise BaselineError("cannot write the baseline %s: %s" % (file, exc.strerror or exc))
    return len(findings)


def read_baseline(file: str) -> Counter:
    """The findings recorded in ``file``, counted; raises :class:`BaselineError`."""
    try:
        with open(file, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise BaselineError("cannot read the baseline %s: %s" % (file, exc.strerror or exc))
    except ValueError as exc:
        raise BaselineError("the baseline %s is not JSON: %s" % (file, exc))
    if not isinstance(data, dict) or data.get("version") != VERSION \
            or not isinstance(data.get("findings"), list):
        raise BaselineError("%s is not a ShapeLens baseline (version %d)" % (file, VERSION))
    keys: Counter = Counter()
    for entry in data["findings"]:
        try:
            keys[(entry["path"], entry["definition"], entry["code"],
                  _LINE_REF.sub(r"\1", entry["message"]))] += 1
        except (TypeError, KeyError) as exc:
            raise BaselineError("%s: a finding lacks %s" % (file, exc))
    return keys


def new_findings(keys: Sequence[Key], recorded: Counter) -> Tuple[List[bool], int]:
    """For each of ``keys`` (in order), whether it is new (not matched by a recorded finding);
    and how many recorded findings matched nothing (fixed since)."""
    left: Dict[Key, int] = dict(recorded)
    new = []
    for key in keys:
        if left.get(key, 0) > 0:
            left[key] -= 1
            new.append(False)
        else:
            new.append(True)
    return new, sum(left.values())


def baseline_base(file: Optional[str]) -> str:
    return os.path.dirname(os.path.abspath(file)) if file else os.getcwd()


__all__ = ["definitions", "finding_key", "write_baseline", "read_baseline", "new_findings",
           "BaselineError"]
