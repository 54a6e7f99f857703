"""Source text: parsing with recovery, positions, and the shape annotations people write.

* :func:`parse` keeps going past syntax errors by blanking the offending lines, so the rest
  of a file being typed still gets shapes and diagnostics.
* :class:`Source` converts ``ast`` columns (UTF-8 bytes) to code points, once, here.
* Shape comments (``# shape: x=[N, 3, 32, 32], mask=[N, 32]`` on ``def forward`` or the line
  above it; ``x = batch["image"]  # shape: [N, 3, 224, 224]``) and jaxtyping / torchtyping
  annotations (``Float[Tensor, "batch 3 h w"]``, ``TensorType["b", 3]``) become declared
  shapes: tuples of ints, names (symbolic dims) and None (``_``/``?``: any size).
"""
from __future__ import annotations

import ast
import re
import weakref
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from .dims import sym
from .report import Range

MAX_RECOVERY = 50
# Each recovery step parses the whole text again: past this many characters parsed in all,
# a big file gets fewer steps (at least 3), so recovery stays linear in its size.
RECOVERY_CHARS = 2_000_000
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Source:
    """One file's text with its lines and column conversion."""

    __slots__ = ("text", "path", "lines", "_wide")

    def __init__(self, text: str, path: str):
        self.text = text
        self.path = path
        # Split where Python's tokenizer does (not str.splitlines, which also breaks at form
        # feeds and U+2028 inside a line).
        self.lines = text.split("\n") if "\r" not in text else _LINE_BREAK.split(text)
        if self.lines and self.lines[-1] == "" and text.endswith(("\n", "\r")):
            self.lines.pop()
        self._wide: Dict[int, bytes] = {}

    def col(self, line: int, byte_col: int) -> int:
        """Code-point column of a UTF-8 byte column on a 1-based line."""
        if byte_col <= 0 or line < 1 or line > len(self.lines):
            return max(byte_col, 0)
        raw = self._wide.get(line)
        if raw is None:
            text = self.lines[line - 1]
            raw = self._wide[line] = b"" if text.isascii() else text.encode("utf-8")
        if not raw:
            return byte_col
        return len(raw[:byte_col].decode("utf-8", errors="replace"))

    def range(self, node) -> Range:
        line, end_line = node.lineno, node.end_lineno or node.lineno
        return Range(line, self.col(line, node.col_offset), end_line,
                     self.col(end_line, node.end_col_offset or node.col_offset))

    def line_range(self, line: int) -> Range:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        start = len(text) - len(text.lstrip())
        return Range(line, start, line, len(text))

    def segment(self, r: Range) -> str:
        if r.start_line != r.end_line:
            return ""
        return self.lines[r.start_line - 1][r.start_col:r.end_col]


# Python's syntax tree takes about 160 bytes of memory per character of source while it is
# built: a 5 MB file peaks near 1 GB.  Past this size only the head of a file is analysed.
MAX_SOURCE_CHARS = 1_000_000
_TOP_LEVEL = re.compile(r"^(?:@|class\b|def\b|async\s+def\b|if\s+__name__\b)", re.MULTILINE)


def within_size(text: str, limit: Optional[int] = None) -> Tuple[str, Optional[int]]:
    """``text``, or for a text longer than ``limit`` its head: up to the last top-level
    ``class``, ``def``, decorator or ``if __name__`` that starts within the limit (where a
    statement surely begins), else up to the last line break.  Returns the text to analyse
    and the first line left out (None when nothing is)."""
    limit = MAX_SOURCE_CHARS if limit is None else limit
    if len(text) <= limit:
        return text, None
    cut = None
    for match in _TOP_LEVEL.finditer(text, 0, limit):
        cut = match.start()
    if not cut:
        cut = text.rfind("\n", 0, limit) + 1
    return text[:cut], text.count("\n", 0, cut) + 1


# The trees of imported modules, while something holds them (the ModuleCache shares them
# across analyses): a file imported before it is analysed itself is not parsed again.  The same
# text gives the same tree, and the analysis never changes a tree.
_imported: "weakref.WeakValueDictionary[str, ast.Module]" = weakref.WeakValueDictionary()


def parse(text: str, path: str, imported: bool = False
          ) -> Tuple[Optional[ast.Module], Tuple[int, ...]]:
    """Parse, blanking lines that hold syntax errors (up to MAX_RECOVERY of them, fewer in a
    big file: see RECOVERY_CHARS).  ``imported``: the text of a module an import names.

    Returns the tree (None when nothing could be recovered) and the blanked lines.
    """
    tree = _imported.get(text)
    if tree is not None:
        return tree, ()
    skipped: List[int] = []
    lines = None
    current = text
    for _ in range(max(3, min(MAX_RECOVERY, RECOVERY_CHARS // max(len(text), 1)))):
        try:
            tree = ast.parse(current, filename=path)
            if imported and not skipped:
                _imported[text] = tree
            return tree, tuple(skipped)
        except SyntaxError as exc:
            line = exc.lineno or 0
            if lines is None:
                lines = current.split("\n")   # ast counts \r\n and \n alike; keep \r in text
            if not 1 <= line <= len(lines) or line in skipped:
                # An unclosed bracket reports the end of the file; blank from its opening line.
                line = _opening_line(lines, line)
                if line is None or line in skipped:
                    return None, tuple(skipped)
            skipped.append(line)
            lines[line - 1] = _neutral_line(lines, line - 1)
            current = "\n".join(lines)
        except (ValueError, RecursionError, MemoryError):
            return None, tuple(skipped)
    return None, tuple(skipped)


_CLASS = re.compile(r"(\s*)class\s+(\w+)\s*(?:\(([\w.\s,]*))?")
_DEF = re.compile(r"(\s*)(async\s+)?def\s+(\w+)")


def _neutral_line(lines, i):
    """A valid stand-in for a broken line: ``pass``, or, when it opens an indented block, a
    header that keeps the block (and a class's name and bases, a function's name)."""
    text = lines[i]
    indent = len(text) - len(text.lstrip())
    if not text.strip():
        return ""
    following = next((t for t in lines[i + 1:] if t.strip()), "")
    if len(following) - len(following.lstrip()) <= indent:
        return " " * indent + "pass"
    closed = _close_header(text)
    if closed is not None:
        return closed
    m = _CLASS.match(text)
    if m:
        bases = ", ".join(b.strip() for b in (m.group(3) or "").split(",") if b.strip())
        return "%sclass %s%s:" % (m.group(1), m.group(2), "(%s)" % bases if bases else "")
    m = _DEF.match(text)
    if m:
        params = "self, *args, **kwargs" if indent else "*args, **kwargs"
        return "%s%sdef %s(%s):" % (m.group(1), m.group(2) or "", m.group(3), params)
    stripped = text.strip()
    if stripped.startswith(("else", "finally", "try")):
        return text.split(":", 1)[0].rstrip() + ":" if ":" in text else " " * indent + "if True:"
    if stripped.startswith("except"):
        return " " * indent + "except Exception:"
    if stripped.startswith("elif"):
        return " " * indent + "elif True:"
    return " " * indent + "if True:"


def _close_header(text):
    """``def forward(self, x`` -> ``def forward(self, x):`` when closing it is all it needs."""
    stripped = text.rstrip()
    if not stripped.lstrip().startswith(("def ", "async def ", "class ")):
        return None
    body = stripped.rstrip(":")
    missing = body.count("(") - body.count(")")
    if missing < 0:
        return None
    candidate = body.rstrip(",") + ")" * missing + ":"
    try:
        compile(candidate.strip() + " pass", "<header>", "exec")
    except (SyntaxError, ValueError):
        return None
    return candidate


def _opening_line(lines, line):
    """The last line before ``line`` that leaves a bracket open (for errors at end of file)."""
    depth = 0
    last_open = None
    for i, text in enumerate(lines[:max(line, 1)], start=1):
        code = text.split("#", 1)[0]
        before = depth
        depth += sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")
        if before == 0 and depth > 0:
            last_open = i
        if depth < 0:
            depth = 0
    return last_open


# --------------------------------------------------------------------------- shape comments

COMMENT = re.compile(r"#+\s*shape\s*:\s*(.*)$", re.IGNORECASE)
NAMED_ITEM = re.compile(r"\s*([A-Za-z_]\w*)\s*=\s*([\[\(])")


@dataclass(frozen=True)
class ShapeComment:
    line: int
    col: int                  # code-point column of the '#'
    text: str                 # what follows "shape:"
    named: Optional[Tuple[Tuple[str, tuple], ...]] = None   # x=[...], mask=[...]
    shape: Optional[tuple] = None                            # [...] alone
    returns: Optional[tuple] = None                          # -> [...]
    error: Optional[str] = None

    def range(self, lines) -> Range:
        end = len(lines[self.line - 1]) if self.line <= len(lines) else self.col
        return Range(self.line, self.col, self.line, end)


def find_shape_comments(src: Source) -> Dict[int, ShapeComment]:
    """Every ``# shape:`` comment, by line.  Cheap: only lines containing "shape" are looked at."""
    out: Dict[int, ShapeComment] = {}
    if "shape" not in src.text and "Shape" not in src.text:
        return out
    for i, text in enumerate(src.lines, start=1):
        if "#" not in text or "shape" not in text.lower():
            continue
        hash_at = _comment_start(text)
        if hash_at is None:
            continue
        m = COMMENT.match(text, hash_at)
        if not m:
            continue
        body = m.group(1).split("#", 1)[0].strip()   # a later comment is not part of it
        out[i] = parse_shape_comment(i, hash_at, body)   # hash_at is a str index already
    return out


def _comment_start(text: str) -> Optional[int]:
    """Index of the '#' that starts a comment, skipping '#' inside string literals."""
    quote = None
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "#":
            return i
        i += 1
    return None


def parse_shape_comment(line: int, col: int, body: str) -> ShapeComment:
    returns = None
    if "->" in body:
        body, _, ret = body.partition("->")
        returns, err = parse_dims(ret.strip())
        if err:
            return ShapeComment(line, col, body, error="return shape: " + err)
        body = body.strip()
    if not body:
        if returns is not None:
            return ShapeComment(line, col, body, returns=returns)
        return ShapeComment(line, col, body, error="nothing after 'shape:'; write e.g. "
                            "'# shape: x=[N, 3, 32, 32]' or '# shape: [N, 3, 224, 224]'")
    if body[0] in "[(":
        dims, err = parse_dims(body)
        if err:
            return ShapeComment(line, col, body, error=err)
        return ShapeComment(line, col, body, shape=dims, returns=returns)
    named = []
    rest = body
    while rest:
        m = NAMED_ITEM.match(rest)
        if not m:
            return ShapeComment(line, col, body, error="expected 'name=[dims]' at %r" %
                                rest.strip()[:30])
        close = "]" if m.group(2) == "[" else ")"
        end = rest.find(close, m.end())
        if end < 0:
            return ShapeComment(line, col, body, error="missing %r after %r" %
                                (close, rest.strip()[:30]))
        dims, err = parse_dims(rest[m.end() - 1:end + 1])
        if err:
            return ShapeComment(line, col, body, error="%s: %s" % (m.group(1), err))
        named.append((m.group(1), dims))
        rest = rest[end + 1:].strip()
        if rest.startswith(","):
            rest = rest[1:].strip()
        elif rest:
            return ShapeComment(line, col, body, error="expected ',' before %r" % rest[:30])
    return ShapeComment(line, col, body, named=tuple(named), returns=returns)


_DIM_OPS = {ast.Add: "__add__", ast.Sub: "__sub__", ast.Mult: "__mul__",
            ast.FloorDiv: "__floordiv__"}


def parse_dims(text: str):
    """``[N, 3, H*2, _]`` -> ((Sym N, 3, Sym, None), None) or (None, error message)."""
    text = text.strip()
    if len(text) < 2 or text[0] not in "[(" or text[-1] != {"[": "]", "(": ")"}[text[0]]:
        return None, "a shape is written in brackets, e.g. [N, 3, 32, 32]"
    inner = text[1:-1].strip()
    if not inner:
        return (), None
    dims = []
    for part in inner.split(","):
        part = part.strip()
        if not part:
            if dims and part == "" and inner.rstrip().endswith(","):
                continue
            return None, "empty dim in %s" % text
        dim, err = _parse_dim(part)
        if err:
            return None, err
        dims.append(dim)
    return tuple(dims), None


def _parse_dim(part: str):
    if part in ("_", "?", "*"):
        return None, None
    if part.isdigit():
        value = int(part)
        return (value, None) if value < 2 ** 40 else (None, "dim %s is too large" % part)
    if part.isidentifier():
        return sym(part), None
    try:
        node = ast.parse(part, mode="eval").body
    except SyntaxError:
        return None, "cannot read dim %r (use integers, names, or + - * //)" % part
    value = _eval_dim(node)
    if value is None:
        return None, "cannot read dim %r (use integers, names, or + - * //)" % part
    return value, None


def _eval_dim(node):
    if isinstance(node, ast.Constant) and type(node.value) is int and 0 <= node.value < 2 ** 40:
        return node.value
    if isinstance(node, ast.Name):
        return sym(node.id)
    if isinstance(node, ast.BinOp) and type(node.op) in _DIM_OPS:
        a, b = _eval_dim(node.left), _eval_dim(node.right)
        if a is None or b is None:
            return None
        if isinstance(node.op, ast.FloorDiv) and not (type(b) is int and b > 0):
            return None
        if type(a) is int and type(b) is int:
            return {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b,
                    ast.FloorDiv: a // max(b, 1)}[type(node.op)]
        if type(a) is int:
            a, b = b, a
            if isinstance(node.op, (ast.Sub, ast.FloorDiv)):
                return None
        return getattr(a, _DIM_OPS[type(node.op)])(b)
    return None


# --------------------------------------------------------------------------- annotations

JAXTYPING_KINDS = {"Float", "Int", "Bool", "Shaped", "Num", "Real", "Integer", "Inexact",
                   "Float32", "Float64", "Float16", "BFloat16", "Int64", "Int32", "Int8",
                   "UInt8", "Complex", "Key", "UInt", "Int16"}


def annotation_shape(node) -> Tuple[bool, Optional[tuple], Optional[str]]:
    """(is a shape annotation, dims or None when variadic, error) for an annotation node."""
    if not isinstance(node, ast.Subscript):
        return False, None, None
    head = node.value
    name = head.attr if isinstance(head, ast.Attribute) else getattr(head, "id", None)
    if name in JAXTYPING_KINDS:
        sl = node.slice
        if isinstance(sl, ast.Tuple) and len(sl.elts) == 2 and \
                isinstance(sl.elts[1], ast.Constant) and isinstance(sl.elts[1].value, str):
            return (True,) + _jaxtyping_dims(sl.elts[1].value)
        return False, None, None
    if name in ("TensorType", "TT"):
        sl = node.slice
        parts = sl.elts if isinstance(sl, ast.Tuple) else [sl]
        dims = []
        for p in parts:
            if isinstance(p, ast.Slice):     # TensorType["batch": 4] -> named dim of size 4
                p = p.upper if p.upper is not None else p.lower
            if isinstance(p, ast.Constant) and type(p.value) is int:
                dims.append(p.value)
            elif isinstance(p, ast.Constant) and isinstance(p.value, str):
                dims.append(sym(p.value) if p.value.isidentifier() else None)
            elif isinstance(p, ast.Constant) and p.value is Ellipsis:
                return True, None, None
            elif isinstance(p, (ast.Name, ast.Attribute)):
                continue                     # dtype / layout details: TensorType["b", float]
            else:
                dims.append(None)
        return True, tuple(dims), None
    return False, None, None


def _jaxtyping_dims(spec: str):
    dims = []
    for token in spec.split():
        if token in ("...", "*") or token.startswith("*"):
            return None, None
        token = token.lstrip("#")
        if token == "_" or token.startswith("_"):
            dims.append(None)
        elif token.isdigit():
            dims.append(int(token))
        elif token.isidentifier():
            dims.append(sym(token))
        elif "=" in token:
            name = token.split("=", 1)[0]
            dims.append(sym(name) if name.isidentifier() else None)
        else:
            value, err = _parse_dim(token)
            dims.append(value if not err else None)
    return tuple(dims), None
