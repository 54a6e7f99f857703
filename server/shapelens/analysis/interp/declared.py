"""Shapes the user declared (``# shape:`` comments and annotations), checked against the
inferred ones."""
from __future__ import annotations

import ast
from typing import Optional

from .. import dims as D
from ..report import Loc
from ..source import annotation_shape
from ..values import Tensor, Unknown
from .program import ModuleEnv


class Declared:
    """Declared shapes (comments, annotations)."""

    def annotation_tensor(self, annotation, env) -> Optional[Tensor]:
        is_shape, shape, _ = annotation_shape(annotation)
        if not is_shape:
            return None
        return Tensor(shape, None, Loc(env.src.range(annotation), None if env.is_main else
                                       env.src.path))

    def check_declared(self, value, declared: Tensor, node, frame, what):
        """A value meets its declared shape: keep the value, warn on a certain difference;
        an unknown value takes the declared shape."""
        if type(value) is not Tensor or value.shape is None:
            return declared if type(value) in (Tensor, Unknown) else value
        if declared.shape is None:
            return value
        if len(value.shape) != len(declared.shape) or any(
                D.definitely_ne(a, b) for a, b in zip(value.shape, declared.shape)
                if a is not None and b is not None and type(b) is int):
            self.rec.contract_mismatch(node, frame.env, value.shape, declared.shape, what,
                                       self.uncertain > 0)
        return value

    def apply_assignment_comment(self, node, value, frame):
        comment = frame.env.comments.get(node.end_lineno) or frame.env.comments.get(node.lineno)
        if comment is None or comment.named is not None:
            return value
        if comment.error:
            return value
        if comment.shape is None:
            return value
        declared = Tensor(comment.shape, None, Loc(comment.range(frame.env.src.lines),
                                                   self.path_of(frame.env)))
        return self.check_declared(value, declared, node, frame, "comment")

    def check_return(self, fn, result, frame):
        node = fn.node
        declared = None
        if isinstance(node, ast.Lambda):
            return
        if node.returns is not None:
            declared = self.annotation_tensor(node.returns, fn.env)
        if declared is None:
            comment = forward_comment(fn.env, node)
            if comment is not None and comment.returns is not None:
                declared = Tensor(comment.returns)
        if declared is not None and type(result) is Tensor:
            where = node.returns if node.returns is not None else node
            self.check_declared(result, declared, where, frame, "return")


def forward_comment(env: ModuleEnv, node):
    """The ``# shape:`` comment on a def line (after the signature's first line) or just above."""
    first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
    for line in (node.lineno, first - 1):
        c = env.comments.get(line)
        if c is not None:
            return c
    # A comment after the signature closes, on a multi-line def.
    body_line = node.body[0].lineno if node.body else node.lineno
    for line in range(node.lineno + 1, body_line):
        c = env.comments.get(line)
        if c is not None and c.named is not None:
            return c
    return None
