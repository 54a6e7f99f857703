"""Matrix products: ``@``/``torch.matmul`` (1-D cases and batch broadcasting), ``mm``, ``bmm``,
``mv``, ``dot``/``vdot``, ``outer``/``ger``, ``inner``, ``addmm``/``addbmm``/``baddbmm``/
``addmv``/``addr``, ``einsum``, ``tensordot``, ``kron``, ``linalg.multi_dot``/``chain_matmul``,
``cdist`` (pairwise distances: [..., P, M] and [..., R, M] give [..., P, R]), ``pdist``.

torch words a mismatch differently per path, and the message starts with its words:
    2-D (and N-D @ 2-D, folded):  mat1 and mat2 shapes cannot be multiplied (8x4096 and 3136x128)
    @ a vector:                   size mismatch, got input (2), mat (2x3), vec (4)
    batched:                      Expected size for first two dimensions of batch2 tensor to be:
                                  [7, 3] but got: [7, 4].
"""
from __future__ import annotations

from ..dims import format_dim, is_int, mul, prod
from ..errors import error
from ..values import ListVal, Tensor, TupleVal, format_shape
from . import function
from .call import MISSING, Call, as_int
from .common import differ_for_positive_sizes, fmt_list, fmt_x, is_error, tensors_in


def _differ(a, b) -> bool:
    return differ_for_positive_sizes(a, b)


def broadcast_batch(a, b):
    """Broadcast two batch shapes: (shape, None) or (None, ShapeError)."""
    n = max(len(a), len(b))
    pa = (1,) * (n - len(a)) + tuple(a)
    pb = (1,) * (n - len(b)) + tuple(b)
    out = []
    for i, (x, y) in enumerate(zip(pa, pb)):
        if is_int(x) and x == 1:
            out.append(y)
        elif is_int(y) and y == 1:
            out.append(x)
        elif x is None or y is None:
            known = x if y is None else y
            out.append(known if known is not None and _differ(known, 1) else None)
        elif _differ(x, y) and _differ(x, 1) and _differ(y, 1):
            return None, error("shape-mismatch", "The size of tensor a (%s) must match the size of "
                               "tensor b (%s) at non-singleton dimension %d. The batch dims %s "
                               "and %s do not broadcast." % (format_dim(x), format_dim(y), i,
                                                              fmt_list(a), fmt_list(b)))
        elif x == y or _differ(x, 1):
            out.append(x)
        elif _differ(y, 1):
            out.append(y)
        else:
            out.append(None)
    return tuple(out), None


def _mm_error(rows, k1, k2, cols, extra=""):
    return error("matmul-mismatch", "mat1 and mat2 shapes cannot be multiplied (%s and %s). The "
                 "inner dims differ: %s vs %s%s." % (fmt_x((rows, k1)), fmt_x((k2, cols)),
                                                      format_dim(k1), format_dim(k2), extra))


def _dot_error(k1, k2):
    return error("matmul-mismatch", "inconsistent tensor size, expected tensor [%s] and src [%s] "
                 "to have the same number of elements, but got %s and %s elements respectively"
                 % (format_dim(k1), format_dim(k2), format_dim(k1), format_dim(k2)))


def _mv_error(rows, k1, k2):
    return error("matmul-mismatch", "size mismatch, got input (%s), mat (%s), vec (%s). The "
                 "matrix has %s columns but the vector has %s elements."
                 % (format_dim(rows), fmt_x((rows, k1)), format_dim(k2), format_dim(k1),
                    format_dim(k2)))


def _bmm_error(batch, k1, b2_batch, k2):
    return error("matmul-mismatch", "Expected size for first two dimensions of batch2 tensor to "
                 "be: [%s, %s] but got: [%s, %s]. The inner dims differ: %s vs %s."
                 % (format_dim(batch), format_dim(k1), format_dim(b2_batch), format_dim(k2),
                    format_dim(k1), format_dim(k2)))


def matmul(a: Tensor, b: Tensor):
    """torch.matmul(a, b): Tensor or ShapeError."""
    sa, sb = a.shape, b.shape
    dtype = a.dtype or b.dtype
    if sa is not None and sb is not None and (not sa or not sb):
        return error("rank-mismatch", "both arguments to matmul need to be at least 1D, but they "
                     "are %dD and %dD" % (len(sa), len(sb)))
    if sa is None or sb is None:
        if sa is not None and len(sa) >= 2 and sb is not None:
            pass
        return Tensor(None, dtype)
    ra, rb = len(sa), len(sb)
    if ra == 1 and rb == 1:
        if _differ(sa[0], sb[0]):
            return _dot_error(sa[0], sb[0])
        return a.with_shape((), dtype)
    if ra == 2 and rb == 1:
        if _differ(sa[1], sb[0]):
            return _mv_error(sa[0], sa[1], sb[0])
        return a.with_shape((sa[0],), dtype)
    if ra == 1 and rb == 2:
        if _differ(sa[0], sb[0]):
            return _mm_error(1, sa[0], sb[0], sb[1])
        return a.with_shape((sb[1],), dtype)
    if ra == 2 and rb == 2:
        if _differ(sa[1], sb[0]):
            return _mm_error(sa[0], sa[1], sb[0], sb[1])
        return a.with_shape((sa[0], sb[1]), dtype)
    if ra >= 3 and rb <= 2:
        rows = prod(sa[:-1])
        if rb == 1:
            if _differ(sa[-1], sb[0]):
                return _mv_error(rows, sa[-1], sb[0])
            return a.with_shape(tuple(sa[:-1]), dtype)
        if _differ(sa[-1], sb[0]):
            return _mm_error(rows, sa[-1], sb[0], sb[1])
        return a.with_shape(tuple(sa[:-1]) + (sb[1],), dtype)
    # batched: broadcast the batch dims, then bmm
    batch_a = tuple(sa[:-2]) if ra >= 2 else ()
    batch_b = tuple(sb[:-2]) if rb >= 2 else ()
    batch, err = broadcast_batch(batch_a, batch_b)
    if err:
        return err
    ka = sa[-1]
    kb = sb[-2] if rb >= 2 else sb[0]
    if _differ(ka, kb):
        return _bmm_error(prod(batch), ka, prod(batch), kb)
    out = batch
    if ra >= 2:
        out += (sa[-2],)
    if rb >= 2:
        out += (sb[-1],)
    return a.with_shape(out, dtype)


def _two(call: Call, n1="input", n2="other"):
    a = call.tensor(0, n1)
    b = call.tensor(1, n2)
    return a, b


@function("operator.matmul", "torch.matmul", "Tensor.matmul", "Tensor.__matmul__",
          "operator.imatmul")
def f_matmul(call: Call):
    a, b = _two(call)
    if a is None or b is None:
        return None
    return matmul(a, b)


@function("Tensor.__rmatmul__")
def f_rmatmul(call: Call):
    a, b = _two(call)
    if a is None or b is None:
        return None
    return matmul(b, a)


def mm(a: Tensor, b: Tensor):
    sa, sb = a.shape, b.shape
    if sa is not None and len(sa) != 2:
        return error("rank-mismatch", "self must be a matrix (mm takes 2-D tensors; got %s). Use "
                     "torch.matmul or @ for other ranks." % format_shape(sa))
    if sb is not None and len(sb) != 2:
        return error("rank-mismatch", "mat2 must be a matrix (mm takes 2-D tensors; got %s). Use "
                     "torch.matmul or @ for other ranks." % format_shape(sb))
    if sa is None or sb is None:
        rows = sa[0] if sa is not None else None
        cols = sb[1] if sb is not None else None
        return a.with_shape((rows, cols), a.dtype or b.dtype)
    return matmul(a, b)


@function("torch.mm", "Tensor.mm", "torch.sparse.mm", "torch.spmm", "Tensor.spmm",
          "torch.smm", "Tensor.smm")
def f_mm(call: Call):
    a, b = _two(call, "input", "mat2")
    if a is None or b is None:
        return None
    return mm(a, b)


@function("torch.cdist")
def cdist(call: Call):
    a, b = call.tensor(0, "x1"), call.tensor(1, "x2")
    if a is None or b is None:
        return None
    if a.shape is None or b.shape is None:
        return Tensor(None, a.dtype or b.dtype)
    for name, t in (("X1", a), ("X2", b)):
        if len(t.shape) < 2:
            return error("rank-mismatch", "cdist only supports at least 2D tensors, %s got: %dD"
                         % (name, len(t.shape)))
    if _differ(a.shape[-1], b.shape[-1]):
        return error("shape-mismatch", "X1 and X2 must have the same number of columns. X1: %s "
                     "X2: %s" % (format_dim(a.shape[-1]), format_dim(b.shape[-1])))
    batch, err = broadcast_batch(a.shape[:-2], b.shape[:-2])
    if err is not None:
        return err
    return a.with_shape(batch + (a.shape[-2], b.shape[-2]), a.dtype or b.dtype)


@function("torch.nn.functional.pdist", "torch.pdist")
def pdist(call: Call):
    """[N, M] -> [N·(N-1)/2]: the distance of every pair of rows."""
    x = call.tensor(0, "input")
    if x is None:
        return None
    if x.shape is None:
        return x.with_shape((None,))
    if len(x.shape) != 2:
        return error("rank-mismatch", "pdist only supports 2D tensors, got: %dD" % len(x.shape))
    n = x.shape[0]
    return x.with_shape((n * (n - 1) // 2 if is_int(n) else None,))


def bmm(a: Tensor, b: Tensor):
    sa, sb = a.shape, b.shape
    if sa is not None and len(sa) != 3:
        return error("rank-mismatch", "batch1 must be a 3D tensor (bmm takes [B, n, m] and "
                     "[B, m, p]; got %s)" % format_shape(sa))
    if sb is not None and len(sb) != 3:
        return error("rank-mismatch", "batch2 must be a 3D tensor (bmm takes [B, n, m] and "
                     "[B, m, p]; got %s)" % format_shape(sb))
    if sa is None or sb is None:
        s = sa if sa is not None else sb
        if s is None:
            return Tensor((None, None, None), a.dtype or b.dtype)
        return a.with_shape((s[0], sa[1] if sa is not None else None,
                             sb[2] if sb is not None else None), a.dtype or b.dtype)
    if _differ(sa[0], sb[0]) or _differ(sa[2], sb[1]):
        return _bmm_error(sa[0], sa[2], sb[0], sb[1])
    batch = sa[0] if sa[0] is not None else sb[0]
    return a.with_shape((batch, sa[1], sb[2]), a.dtype or b.dtype)


@function("torch.bmm", "Tensor.bmm")
def f_bmm(call: Call):
    a, b = _two(call, "input", "mat2")
    if a is None or b is None:
        return None
    return bmm(a, b)


@function("torch.mv", "Tensor.mv")
def f_mv(call: Call):
    a, b = _two(call, "input", "vec")
    if a is None or b is None:
        return None
    sa, sb = a.shape, b.shape
    if sa is not None and sb is not None and (len(sa) != 2 or len(sb) != 1):
        return error("rank-mismatch", "vector + matrix @ vector expected, got 1, %d, %d"
                     % (len(sa), len(sb)))
    if sa is None:
        return Tensor((None,), a.dtype)
    if sb is None:
        return a.with_shape((sa[0],)) if len(sa) == 2 else Tensor((None,), a.dtype)
    return matmul(a, b)


@function("torch.dot", "Tensor.dot", "torch.vdot", "Tensor.vdot")
def f_dot(call: Call):
    a, b = _two(call, "input", "other" if "vdot" in call.name else "tensor")
    if a is None or b is None:
        return None
    sa, sb = a.shape, b.shape
    if sa is not None and sb is not None:
        if len(sa) != 1 or len(sb) != 1:
            return error("rank-mismatch", "1D tensors expected, but got %dD and %dD tensors"
                         % (len(sa), len(sb)))
        if _differ(sa[0], sb[0]):
            return _dot_error(sa[0], sb[0])
    return a.with_shape((), a.dtype or b.dtype)


@function("torch.outer", "Tensor.outer", "torch.ger", "Tensor.ger")
def f_outer(call: Call):
    a, b = _two(call, "input", "vec2")
    if a is None or b is None:
        return None
    for t, what in ((a, "self"), (b, "vec2")):
        if t.shape is not None and len(t.shape) != 1:
            return error("rank-mismatch", "outer: Expected 1-D argument %s, but got %d-D"
                         % (what, len(t.shape)))
    return a.with_shape((a.shape[0] if a.shape else None, b.shape[0] if b.shape else None),
                        a.dtype or b.dtype)


@function("torch.inner", "Tensor.inner")
def f_inner(call: Call):
    a, b = _two(call)
    if a is None or b is None:
        return None
    sa, sb = a.shape, b.shape
    if sa is None or sb is None:
        return Tensor(None, a.dtype or b.dtype)
    if not sa or not sb:
        return a.with_shape(tuple(sa) + tuple(sb))  # a scalar multiplies
    if _differ(sa[-1], sb[-1]):
        return error("matmul-mismatch", "inner() the last dimension must match on both input "
                     "tensors but got shapes %s and %s" % (fmt_list(sa), fmt_list(sb)))
    return a.with_shape(tuple(sa[:-1]) + tuple(sb[:-1]))


def _expandable(bias: Tensor, target, op):
    """addmm-style: the added tensor must expand to the product's shape."""
    if bias is None or bias.shape is None or target is None:
        return None
    bs = bias.shape
    if len(bs) > len(target):
        return error("shape-mismatch", "%s: the added tensor %s has more dims than the product %s"
                     % (op, fmt_list(bs), fmt_list(target)))
    for i in range(1, len(bs) + 1):
        d, t = bs[-i], target[-i]
        if _differ(d, 1) and _differ(d, t):
            return error("shape-mismatch", "The expanded size of the tensor (%s) must match the "
                         "existing size (%s) at non-singleton dimension %d.  Target sizes: %s.  "
                         "Tensor sizes: %s" % (format_dim(t), format_dim(d), len(target) - i,
                                                fmt_list(target), fmt_list(bs)))
    return None


def _add_product(call: Call, product, op):
    if is_error(product) or product is None:
        return product
    bias = call.tensor(0, "input")
    return _expandable(bias, product.shape, op) or product


@function("torch.addmm", "Tensor.addmm", "Tensor.addmm_")
def f_addmm(call: Call):
    a, b = call.tensor(1, "mat1"), call.tensor(2, "mat2")
    if a is None or b is None:
        return None
    return _add_product(call, mm(a, b), "addmm")


@function("torch.baddbmm", "Tensor.baddbmm", "Tensor.baddbmm_")
def f_baddbmm(call: Call):
    a, b = call.tensor(1, "batch1"), call.tensor(2, "batch2")
    if a is None or b is None:
        return None
    return _add_product(call, bmm(a, b), "baddbmm")


@function("torch.addbmm", "Tensor.addbmm", "Tensor.addbmm_")
def f_addbmm(call: Call):
    a, b = call.tensor(1, "batch1"), call.tensor(2, "batch2")
    if a is None or b is None:
        return None
    out = bmm(a, b)
    if is_error(out):
        return out
    return _add_product(call, out.with_shape(out.shape[1:]), "addbmm")


@function("torch.addmv", "Tensor.addmv", "Tensor.addmv_")
def f_addmv(call: Call):
    m, v = call.tensor(1, "mat"), call.tensor(2, "vec")
    if m is None or v is None:
        return None
    out = f_mv(Call("torch.mv", (m, v), {}))
    return _add_product(call, out, "addmv")


@function("torch.addr", "Tensor.addr", "Tensor.addr_")
def f_addr(call: Call):
    a, b = call.tensor(1, "vec1"), call.tensor(2, "vec2")
    if a is None or b is None:
        return None
    out = f_outer(Call("torch.outer", (a, b), {}))
    return _add_product(call, out, "addr")


# --------------------------------------------------------------------------- einsum

def _parse_term(term: str):
    """A subscript term: list of labels with "..." for an ellipsis; None when malformed."""
    out = []
    i = 0
    term = term.replace(" ", "")
    while i < len(term):
        if term.startswith("...", i):
            if "..." in out:
                return None
            out.append("...")
            i += 3
        elif term[i].isalpha():
            out.append(term[i])
            i += 1
        else:
            return None
    return out


def _merge(a, b):
    """Broadcast-merge two sizes of one label: (size, ok)."""
    if is_int(a) and a == 1:
        return b, True
    if is_int(b) and b == 1:
        return a, True
    if a is None or b is None:
        known = a if b is None else b
        return (known if known is not None and _differ(known, 1) else None), True
    if a == b:
        return a, True
    if _differ(a, b) and _differ(a, 1) and _differ(b, 1):
        return None, False
    return None, True


def einsum(equation: str, operands):
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->", 1)
        out_terms = _parse_term(rhs)
        if out_terms is None:
            return None
    else:
        lhs, out_terms = eq, None
    terms = [_parse_term(t) for t in lhs.split(",")]
    if any(t is None for t in terms):
        return None
    if len(terms) > len(operands):
        return error("shape-mismatch", "einsum(): fewer operands were provided than specified in "
                     "the equation")
    if len(terms) < len(operands):
        return error("shape-mismatch", "einsum(): more operands were provided than specified in "
                     "the equation")
    sizes: dict = {}
    ell = None          # broadcast shape of the ellipsis dims, None: not known
    ell_seen = False
    ell_rank_known = True
    dtype = operands[0].dtype if operands else None
    for k, (term, t) in enumerate(zip(terms, operands)):
        letters = [c for c in term if c != "..."]
        has_ell = "..." in term
        if has_ell:
            ell_seen = True
        if t.shape is None:
            if has_ell:
                ell_rank_known = False
            for c in letters:
                sizes.setdefault(c, None) if c not in sizes else None
            continue
        shape = t.shape
        if not has_ell and len(letters) != len(shape):
            return error("rank-mismatch", "einsum(): the number of subscripts in the equation (%d) "
                         "does not match the number of dimensions (%d) for operand %d and no "
                         "ellipsis was given" % (len(letters), len(shape), k))
        if has_ell and len(letters) > len(shape):
            return error("rank-mismatch", "einsum(): the number of subscripts in the equation (%d) "
                         "is more than the number of dimensions (%d) for operand %d"
                         % (len(letters), len(shape), k))
        pos = term.index("...") if has_ell else len(term)
        n_ell = len(shape) - len(letters)
        local: dict = {}
        for i, c in enumerate(term):
            if c == "...":
                continue
            j = i if i < pos else i - 1 + n_ell
            d = shape[j]
            if c in local:
                if _differ(local[c], d):
                    return error("shape-mismatch", "einsum(): subscript %s is repeated for operand "
                                 "%d but the sizes don't match, %s != %s"
                                 % (c, k, format_dim(d), format_dim(local[c])))
                continue
            local[c] = d
        for c, d in local.items():
            if c in sizes:
                merged, ok = _merge(sizes[c], d)
                if not ok:
                    return error("shape-mismatch", "einsum(): subscript %s has size %s for operand "
                                 "%d which does not broadcast with previously seen size %s"
                                 % (c, format_dim(d), k, format_dim(sizes[c])))
                sizes[c] = merged
            else:
                sizes[c] = d
        if has_ell:
            eshape = tuple(shape[pos:pos + n_ell])
            if ell is None:
                ell = eshape
            else:
                merged, err = broadcast_batch(ell, eshape)
                if err:
                    return err
                ell = merged
    if out_terms is None:
        counts: dict = {}
        for term in terms:
            for c in term:
                if c != "...":
                    counts[c] = counts.get(c, 0) + 1
        out_terms = (["..."] if ell_seen else []) + sorted(c for c, n in counts.items() if n == 1)
    out = []
    for c in out_terms:
        if c == "...":
            if not ell_rank_known or ell is None:
                return Tensor(None, dtype)
            out.extend(ell)
        elif c not in sizes:
            return error("shape-mismatch", "einsum(): output subscript %s does not appear in the "
                         "equation for any input operand" % c)
        else:
            out.append(sizes[c])
    return Tensor(tuple(out), dtype)


@function("torch.einsum")
def f_einsum(call: Call):
    eq = call.value(0, "equation")
    if not isinstance(eq, str):
        return Tensor(None)
    ops = list(call.args[1:])
    if len(ops) == 1 and type(ops[0]) in (TupleVal, ListVal):
        ops = list(ops[0].items)
    tensors = []
    for v in ops:
        if type(v) is Tensor:
            tensors.append(v)
        else:
            t = tensors_in(TupleVal((v,)))
            if t is None:
                return Tensor(None)
            tensors.append(t[0])
    out = einsum(eq, tensors)
    return out if out is not None else Tensor(None)


# --------------------------------------------------------------------------- others

@function("torch.tensordot")
def f_tensordot(call: Call):
    a, b = call.tensor(0, "a"), call.tensor(1, "b")
    if a is None or b is None:
        return None
    dims = call.get(2, "dims")
    if a.shape is None or b.shape is None:
        return Tensor(None, a.dtype)
    if dims is MISSING:
        n = 2
    else:
        n = as_int(dims)
    if n is not None:
        if not is_int(n) or n < 0 or n > len(a.shape) or n > len(b.shape):
            return Tensor(None, a.dtype)
        da = list(range(len(a.shape) - n, len(a.shape)))
        db = list(range(n))
    else:
        if type(dims) not in (TupleVal, ListVal) or len(dims.items) != 2:
            return Tensor(None, a.dtype)
        lists = []
        for item in dims.items:
            if type(item) in (TupleVal, ListVal):
                lists.append([as_int(i) for i in item.items])
            elif as_int(item) is not None:
                lists.append([as_int(item)])
            else:
                return Tensor(None, a.dtype)
        da, db = lists
        if None in da or None in db or len(da) != len(db):
            return Tensor(None, a.dtype)
        da = [d % len(a.shape) if a.shape else d for d in da]
        db = [d % len(b.shape) if b.shape else d for d in db]
    for i, j in zip(da, db):
        if _differ(a.shape[i], b.shape[j]):
            return error("matmul-mismatch", "contracted dimensions need to match, but first has "
                         "size %s in dim %d and second has size %s in dim %d"
                         % (format_dim(a.shape[i]), i, format_dim(b.shape[j]), j))
    out = tuple(d for i, d in enumerate(a.shape) if i not in da) + \
        tuple(d for j, d in enumerate(b.shape) if j not in db)
    return a.with_shape(out)


@function("torch.kron", "Tensor.kron")
def f_kron(call: Call):
    a, b = _two(call)
    if a is None or b is None:
        return None
    if a.shape is None or b.shape is None:
        return Tensor(None, a.dtype)
    n = max(len(a.shape), len(b.shape))
    pa = (1,) * (n - len(a.shape)) + tuple(a.shape)
    pb = (1,) * (n - len(b.shape)) + tuple(b.shape)
    return a.with_shape(tuple(mul(x, y) for x, y in zip(pa, pb)))


@function("torch.linalg.multi_dot", "torch.chain_matmul")
def f_multi_dot(call: Call):
    if call.name == "torch.chain_matmul":
        ts = [call.tensor(i, None) for i in range(len(call.args))]
        if any(t is None for t in ts):
            return None
    else:
        ts = tensors_in(call.get(0, "tensors"))
        if ts is None:
            return Tensor(None)
    if len(ts) < 2 and call.name != "torch.chain_matmul":
        return error("shape-mismatch", "multi_dot(): expected at least 2 tensors but got %d"
                     % len(ts))
    if not ts:
        return None
    out = ts[0]
    for t in ts[1:]:
        out = matmul(out, t)
        if is_error(out):
            return out
    return out


__all__ = ["matmul", "mm", "bmm", "einsum", "broadcast_batch"]
