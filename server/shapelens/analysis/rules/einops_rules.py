"""einops.rearrange / reduce / repeat (and the einops.layers.torch Rearrange/Reduce layers), and
einops.pack / unpack:
the pattern is parsed here, axis sizes come from the input shape and the keyword lengths.

Pattern: ``left -> right``; each side is a list of axis names, ``...``, anonymous sizes (``1``,
``3``) and parenthesised groups (a product of axes; ``()`` is a size-1 axis).  A left group
splits one input dim, inferring at most one unknown axis by exact division.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..dims import add, divide_exact, format_dim, is_int, mul, prod, sub
from ..errors import error
from ..values import Const, ListVal, Tensor, TupleVal, Unknown
from . import LayerRule, function, layer
from .call import Call, as_int
from .common import differ_for_positive_sizes, fmt_size, tensors_in

_REDUCTIONS = ("min", "max", "sum", "mean", "prod", "any", "all")


class PatternError(Exception):
    pass


def _parse_side(text: str):
    """Elements: ("axis", name) | ("anon", n) | ("ellipsis",) | ("group", [elements])."""
    out = []
    stack = None
    token = ""
    text = text.replace("…", "...")

    def flush():
        nonlocal token
        if not token:
            return
        if token == "...":
            item = ("ellipsis",)
        elif token.isdigit():
            item = ("anon", int(token))
        elif token.isidentifier():
            item = ("axis", token)
        else:
            raise PatternError("Invalid axis identifier: %s" % token)
        (stack if stack is not None else out).append(item)
        token = ""

    i = 0
    while i < len(text):
        ch = text[i]
        if text.startswith("...", i):
            flush()
            token = "..."
            flush()
            i += 3
            continue
        if ch == "(":
            flush()
            if stack is not None:
                raise PatternError("Axis composition is one-level (brackets inside brackets not "
                                   "allowed)")
            stack = []
        elif ch == ")":
            flush()
            if stack is None:
                raise PatternError("Brackets are not balanced")
            out.append(("group", stack))
            stack = None
        elif ch.isspace():
            flush()
        else:
            token += ch
        i += 1
    flush()
    if stack is not None:
        raise PatternError("Imbalanced parentheses in expression")
    return out


def _names(side):
    names = []
    for el in side:
        if el[0] == "axis":
            names.append(el[1])
        elif el[0] == "group":
            names.extend(e[1] for e in el[1] if e[0] == "axis")
    return names


def _has_ellipsis(side):
    return any(el[0] == "ellipsis" or (el[0] == "group" and any(e[0] == "ellipsis"
                                                                 for e in el[1]))
               for el in side)


def einops_shape(op: str, x: Tensor, pattern: str, lengths: dict, reduction=None):
    """Output Tensor of rearrange/reduce/repeat, a ShapeError, or None (pattern not readable)."""
    head = 'Error while processing %s-reduction pattern "%s".' % (
        reduction if op == "reduce" and isinstance(reduction, str) else op, pattern)

    def fail(code, text):
        shape = "torch.Size(%s)" % (fmt_size(x.shape)[11:-1] if x.shape is not None else "[?]")
        info = "{%s}" % ", ".join("'%s': %s" % (k, format_dim(v)) for k, v in lengths.items())
        return error(code, "%s Input tensor shape: %s. Additional info: %s. %s"
                     % (head, shape, info, text))

    if "->" not in pattern:
        return fail("shape-mismatch", "Pattern must contain '->'")
    left_text, right_text = pattern.split("->", 1)
    try:
        left, right = _parse_side(left_text), _parse_side(right_text)
    except PatternError as exc:
        return fail("shape-mismatch", str(exc))
    if op == "reduce" and isinstance(reduction, str) and reduction not in _REDUCTIONS:
        return fail("shape-mismatch", "Unknown reduction %s. Expect one of %s."
                    % (reduction, _REDUCTIONS))
    lnames, rnames = _names(left), _names(right)
    for names in (lnames, rnames):
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup:
            return fail("shape-mismatch", 'Indexing expression contains duplicate dimension "%s"'
                        % dup)
    if any(el[0] == "group" and any(e[0] == "ellipsis" for e in el[1]) for el in left):
        return fail("shape-mismatch", "Ellipsis inside parenthesis in the left side is not "
                    "allowed: %s" % pattern)
    if _has_ellipsis(right) and not _has_ellipsis(left):
        return fail("shape-mismatch", "Ellipsis found in right side, but not left side of a "
                    "pattern %s" % pattern)
    if op == "rearrange":
        anon = [e for el in left + right for e in ([el] if el[0] != "group" else el[1])
                if e[0] == "anon" and e[1] != 1]
        if anon:
            return fail("shape-mismatch", "Non-unitary anonymous axes are not supported in "
                        "rearrange (exception is length 1)")
        if _has_ellipsis(left) and not _has_ellipsis(right):
            return fail("shape-mismatch", "Ellipsis found in left side, but not right side of a "
                        "pattern %s" % pattern)
        one_side = set(lnames) ^ set(rnames)
        if one_side:
            return fail("shape-mismatch", "Identifiers only on one side of expression (should be "
                        "on both): {%s}" % ", ".join("'%s'" % n for n in sorted(one_side)))
    elif op == "reduce":
        extra = set(rnames) - set(lnames)
        if extra:
            return fail("shape-mismatch", "Unexpected identifiers on the right side of reduce %s: "
                        "{%s}" % (reduction, ", ".join("'%s'" % n for n in sorted(extra))))
    else:  # repeat
        extra = set(lnames) - set(rnames)
        if extra:
            return fail("shape-mismatch", "Unexpected identifiers on the left side of repeat: {%s}"
                        % ", ".join("'%s'" % n for n in sorted(extra)))
        new = set(rnames) - set(lnames) - set(lengths)
        if new:
            return fail("shape-mismatch", "Specify sizes for new axes in repeat: {%s}"
                        % ", ".join("'%s'" % n for n in sorted(new)))
    unused = [k for k in lengths if k not in lnames and k not in rnames]
    if unused:
        return fail("shape-mismatch", "Axis %s is not used in transform" % unused[0])
    # Left side against the input shape.
    for el in left:
        if el[0] == "group":
            unknown = [e[1] for e in el[1] if e[0] == "axis" and e[1] not in lengths]
            if len(unknown) > 1:
                return fail("shape-mismatch", "Could not infer sizes for {%s}"
                            % ", ".join("'%s'" % n for n in unknown))
    shape = x.shape
    if shape is None:
        return Tensor(None, x.dtype)
    has_ell = _has_ellipsis(left)
    fixed = len(left) - (1 if has_ell else 0)
    rank = len(shape)
    if (not has_ell and rank != fixed) or (has_ell and rank < fixed):
        return fail("rank-mismatch", "Wrong shape: expected %s%d dims. Received %d-dim tensor."
                    % ("at least " if has_ell else "", fixed, rank))
    sizes = dict(lengths)
    ell = ()
    pos = 0
    for el in left:
        if el[0] == "ellipsis":
            n = rank - fixed
            ell = tuple(shape[pos:pos + n])
            pos += n
            continue
        d = shape[pos]
        pos += 1
        if el[0] == "axis":
            name = el[1]
            if name in sizes and d is not None and differ_for_positive_sizes(sizes[name], d):
                return fail("reshape-numel", "Shape mismatch, %s != %s"
                            % (format_dim(d), format_dim(sizes[name])))
            sizes[name] = d if d is not None else sizes.get(name)
        elif el[0] == "anon":
            if d is not None and differ_for_positive_sizes(d, el[1]):
                return fail("reshape-numel", "Shape mismatch, %s != %d" % (format_dim(d), el[1]))
        else:
            items = el[1]
            known = prod([sizes[e[1]] for e in items if e[0] == "axis" and e[1] in sizes]
                         + [e[1] for e in items if e[0] == "anon"])
            unknown = [e[1] for e in items if e[0] == "axis" and e[1] not in sizes]
            if unknown:
                if known is None or d is None:
                    sizes[unknown[0]] = None
                    continue
                q = divide_exact(d, known)
                if q is None and is_int(d) and is_int(known):
                    return fail("reshape-numel", "Shape mismatch, can't divide axis of length %s "
                                "in chunks of %s" % (format_dim(d), format_dim(known)))
                sizes[unknown[0]] = q
            elif d is not None and known is not None and differ_for_positive_sizes(d, known):
                return fail("reshape-numel", "Shape mismatch, %s != %s"
                            % (format_dim(d), format_dim(known)))
    # Right side.
    out = []
    for el in right:
        if el[0] == "ellipsis":
            out.extend(ell)
        elif el[0] == "axis":
            out.append(sizes.get(el[1]))
        elif el[0] == "anon":
            out.append(el[1])
        else:
            total = 1
            for e in el[1]:
                if e[0] == "ellipsis":
                    total = mul(total, prod(ell))
                elif e[0] == "axis":
                    total = mul(total, sizes.get(e[1]))
                else:
                    total = mul(total, e[1])
            out.append(total)
    dtype = x.dtype
    return x.with_shape(tuple(out), dtype)


def _lengths(call: Call, skip=("tensor", "pattern", "reduction")):
    out = {}
    for k, v in call.kwargs.items():
        if k in skip:
            continue
        out[k] = as_int(v)
    return out


def _input(call: Call):
    v = call.get(0, "tensor")
    if type(v) is Tensor:
        return v
    if type(v) is Unknown:
        return Tensor(None)
    if type(v) in (TupleVal, ListVal):
        ts = tensors_in(v)
        if ts is None:
            return Tensor(None)
        first = next((t for t in ts if t.shape is not None), None)
        if first is None:
            return Tensor(None)
        return first.with_shape((len(ts),) + tuple(first.shape))
    return None


def _einops_function(op: str):
    """``einops.<op>(tensor, pattern, [reduction,] **axis_lengths)``."""
    def rule(call: Call):
        x = _input(call)
        if x is None:
            return None
        pattern = call.value(1, "pattern")
        if not isinstance(pattern, str):
            return Tensor(None, x.dtype)
        if op == "reduce":
            return einops_shape(op, x, pattern, _lengths(call), call.value(2, "reduction"))
        return einops_shape(op, x, pattern, _lengths(call))
    return function("einops." + op)(rule)


for _op in ("rearrange", "reduce", "repeat"):
    _einops_function(_op)


def _pack_pattern(pattern):
    """(axes before ``*``, axes after) of a pack/unpack pattern such as ``b * d``, or None."""
    parts = pattern.split() if isinstance(pattern, str) else []
    if parts.count("*") != 1 or not all(p == "*" or p.isidentifier() for p in parts):
        return None
    i = parts.index("*")
    return i, len(parts) - i - 1


@function("einops.pack")
def pack(call: Call):
    """``pack([a, b], "b * d")`` -> (packed tensor, the shapes ``*`` stood for, per tensor)."""
    ts = tensors_in(call.get(0, "tensors"))
    pattern = call.value(1, "pattern")
    axes = _pack_pattern(pattern)
    if ts is None or axes is None or not ts:
        return None
    before, after = axes
    if any(t.shape is None for t in ts):
        return TupleVal((Tensor(None, ts[0].dtype), Unknown("the packed shapes are not known")))
    outer, middles = None, []
    for i, t in enumerate(ts):
        if len(t.shape) < before + after:
            return error("rank-mismatch", "packed tensor #%d (enumeration starts with 0) has "
                         "shape %s, while pattern %s assumes at least %d axes"
                         % (i, fmt_size(t.shape), pattern, before + after))
        mid = t.shape[before:len(t.shape) - after]
        middles.append(mid)
        rest = tuple(t.shape[:before]) + tuple(t.shape[len(t.shape) - after:])
        if outer is None:
            outer = rest
            continue
        for k, (a, b) in enumerate(zip(outer, rest)):
            if differ_for_positive_sizes(a, b):
                return error("shape-mismatch", "Sizes of tensors must match except in dimension "
                             "%d. Expected size %s but got size %s for tensor number %d in the "
                             "list." % (before, format_dim(a), format_dim(b), i))
            if a is None:
                outer = outer[:k] + (b,) + outer[k + 1:]
    sizes = [prod(m) if None not in m else None for m in middles]
    total = None
    if None not in sizes:
        total = sizes[0]
        for size in sizes[1:]:
            total = add(total, size)
    packed = ts[0].with_shape(outer[:before] + (total,) + outer[before:])
    shapes = ListVal([TupleVal(tuple(Const(d) for d in m), size=True) if None not in m
                      else Unknown("an unknown packed shape") for m in middles])
    return TupleVal((packed, shapes))


@function("einops.unpack")
def unpack(call: Call):
    """``unpack(x, packed_shapes, "b * d")`` -> a list with one tensor per packed shape."""
    x = call.tensor(0, "tensor")
    pattern = call.value(2, "pattern")
    axes = _pack_pattern(pattern)
    shapes = call.get(1, "packed_shapes")
    if x is None or axes is None or type(shapes) not in (TupleVal, ListVal):
        return None
    before, after = axes
    parts = []
    for item in shapes.items:
        if type(item) not in (TupleVal, ListVal):
            return Unknown("unpack: a packed shape is not known")
        parts.append(tuple(as_int(d) for d in item.items))
    if x.shape is None:
        return ListVal([Tensor(None, x.dtype) for _ in parts])
    if len(x.shape) != before + after + 1:
        return error("rank-mismatch", "unpack(..., %r): the tensor has %d axes, the pattern "
                     "%d" % (pattern, len(x.shape), before + after + 1))
    head, axis, tail = tuple(x.shape[:before]), x.shape[before], tuple(x.shape[before + 1:])
    sizes = [prod(p) if None not in p and -1 not in p else None for p in parts]
    inferred = [i for i, p in enumerate(parts) if -1 in p]
    if not inferred and None not in sizes and axis is not None and is_int(axis) \
            and all(is_int(s) for s in sizes) and sum(sizes) != axis:
        return error("shape-mismatch", "Error during unpack(..., %r): could not split axis of "
                     "size %d into requested %s" % (pattern, axis, list(parts)))
    if len(inferred) == 1 and axis is not None:
        i = inferred[0]
        others = [size for j, size in enumerate(sizes) if j != i]
        known = [d for d in parts[i] if d != -1]
        if None not in others and None not in known:
            remaining = axis
            for size in others:
                remaining = sub(remaining, size)
            fill = divide_exact(remaining, prod(known))
            if is_int(fill) and fill < 0:
                fill = None   # more than the axis holds: einops's own arithmetic decides
            parts[i] = tuple(fill if d == -1 else d for d in parts[i])
    return ListVal([x.with_shape(head + tuple(p) + tail) for p in parts])


@dataclass(frozen=True)
class EinopsSpec:
    op: str
    pattern: object
    reduction: object
    lengths: tuple


@layer("Rearrange", "Reduce")
class EinopsLayer(LayerRule):
    def build(self, kind: str, call: Call):
        pattern = call.value(0, "pattern")
        reduction = call.value(1, "reduction") if kind == "Reduce" else None
        return EinopsSpec(kind.lower(), pattern, reduction,
                          tuple(sorted(_lengths(call).items())))

    def forward(self, spec: EinopsSpec, call: Call):
        x = call.tensor(0, "input")
        if x is None:
            return None
        if not isinstance(spec.pattern, str):
            return Tensor(None, x.dtype)
        return einops_shape(spec.op, x, spec.pattern, dict(spec.lengths), spec.reduction)

    def params(self, spec):
        return 0

    def config(self, spec: EinopsSpec):
        return (("pattern", repr(spec.pattern)),)


def _make_layer(kind):
    def build(call: Call):
        from ..values import Layer
        rule = EinopsLayer()
        spec = rule.build(kind, call)
        return Layer(kind, spec)
    return build


# The interpreter spells ``einops.layers.torch`` as ``einops.layers``.
function("einops.layers.torch.Rearrange", "einops.layers.Rearrange")(_make_layer("Rearrange"))
function("einops.layers.torch.Reduce", "einops.layers.Reduce")(_make_layer("Reduce"))

__all__ = ["einops_shape", "EinopsSpec"]
