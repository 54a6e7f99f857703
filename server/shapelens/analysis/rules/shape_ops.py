"""Shape-changing tensor operations: view/reshape (with -1), permute, transpose/swapaxes, t,
squeeze/unsqueeze, expand/expand_as/broadcast_to, repeat/tile, movedim, narrow, view_as/
reshape_as, split/chunk/unbind/tensor_split, cat/concat/concatenate/stack/hstack/vstack/dstack/
column_stack, and a few shape-keeping ones (flip, roll, tril/triu) plus
index_select/gather/repeat_interleave/unfold/meshgrid/diff.

Tensor methods are registered as ``Tensor.<name>`` with the tensor first; ``torch.<name>`` forms
take the same arguments.  A symbolic size is assumed to be a positive integer where that decides
whether torch raises (``view(N, 1152)`` of an input with ``N*3200`` elements is an error).
"""
from __future__ import annotations

from ..dims import add, definitely_ne, divide_exact, floordiv, format_dim, is_int, mul, prod, sub
from ..errors import error
from ..values import Const, ListVal, Tensor, TupleVal, Unknown, format_shape
from . import function
from .call import MISSING, Call, as_int
from .common import (
    differ_for_positive_sizes,
    dims_arg,
    fmt_list,
    input_tensor,
    is_error,
    tensors_in,
    wrap_dim,
    wrap_dims,
)


def _unknown_like(x: Tensor):
    return Tensor(None, x.dtype)


def odd_size_hint(a, b) -> str:
    """The U-Net classic: an odd size halved (pooling or stride 2, which floor) and doubled
    back (ConvTranspose stride 2, Upsample) comes back one short."""
    if not (is_int(a) and is_int(b)):
        return ""
    small, big = min(a, b), max(a, b)
    if big % 2 == 1 and small == big - 1:
        return (" %d is odd: halving it (pooling, stride 2) floors to %d and doubling gives %d. "
                "Use input sizes divisible by 2 at each level, or resize/pad the upsampled "
                "tensor to the skip's size before concatenating." % (big, big // 2, small))
    return ""


# --------------------------------------------------------------------------- view / reshape

def reshape_to(x: Tensor, sizes, op: str = "view"):
    """``x.view(*sizes)``: the reshaped Tensor or a ShapeError (``reshape-numel``)."""
    if sizes is None:
        return _unknown_like(x)
    for i, s in enumerate(sizes):
        if is_int(s) and s < -1:
            return error("reshape-numel", "invalid shape dimension %d at index %d of shape %s"
                         % (s, i, fmt_list(sizes)))
    if sizes.count(-1) > 1:
        return error("reshape-numel", "only one dimension can be inferred. Use -1 for at most one "
                     "dim of %s." % fmt_list(sizes))
    numel = prod(x.shape) if x.shape is not None else None
    out = list(sizes)
    if -1 in sizes:
        i = sizes.index(-1)
        rest = prod(s for j, s in enumerate(sizes) if j != i)
        if numel is None or rest is None:
            out[i] = None
        elif is_int(rest) and rest == 0:
            if is_int(numel) and numel == 0:
                return error("reshape-numel", "cannot reshape tensor of 0 elements into shape %s "
                             "because the unspecified dimension size -1 can be any value and is "
                             "ambiguous" % fmt_list(sizes))
            if differ_for_positive_sizes(numel, 0):
                return _numel_error(x, sizes, numel)
            out[i] = None
        else:
            q = divide_exact(numel, rest)
            if q is None and is_int(numel) and is_int(rest):
                return _numel_error(x, sizes, numel)
            out[i] = q
    else:
        total = prod(sizes)
        if differ_for_positive_sizes(total, numel):
            return _numel_error(x, sizes, numel)
    return x.with_shape(tuple(out))


def _numel_error(x: Tensor, sizes, numel):
    message = "shape '%s' is invalid for input of size %s. " % (fmt_list(sizes),
                                                               format_dim(numel))
    shape = x.shape
    message += "The input %s has %s elements" % (format_shape(shape), format_dim(numel))
    if -1 not in sizes:
        message += " but shape %s holds %s" % (fmt_list(sizes), format_dim(prod(sizes)))
    else:
        rest = prod(s for s in sizes if s != -1)
        message += ", not a multiple of %s" % format_dim(rest)
    if shape and len(sizes) >= 2 and not definitely_ne(sizes[0], shape[0]) and sizes[0] != -1:
        per = divide_exact(numel, shape[0])
        if per is not None:
            message += "; keep the first dim and flatten the rest: view(%s, -1) gives %s " \
                       "features" % (format_dim(sizes[0]), format_dim(per))
    return error("reshape-numel", message + ".")


@function("Tensor.view", "Tensor.reshape")
def view(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    name = "size" if call.name == "Tensor.view" else "shape"
    if len(call.args) == 2 and not call.kwargs and type(call.args[1]) not in (
            Const, TupleVal, ListVal, Unknown):
        return _unknown_like(x)  # view(dtype) or something the analysis cannot read
    if len(call.args) == 2 and type(call.args[1]) is Const and not isinstance(
            call.args[1].value, int) and as_int(call.args[1]) is None:
        return _unknown_like(x)
    return reshape_to(x, call.dim_list(1, name), call.name[7:])


@function("torch.reshape")
def torch_reshape(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    return reshape_to(x, call.dim_list(1, "shape"), "reshape")


@function("Tensor.view_as", "Tensor.reshape_as")
def view_as(call: Call):
    x = input_tensor(call)
    other = call.tensor(1, "other")
    if x is None or other is None:
        return None
    return reshape_to(x, other.shape, call.name[7:])


# --------------------------------------------------------------------------- permutations

def permute_dims(x: Tensor, dims):
    if dims is None:
        return _unknown_like(x)
    shape = x.shape
    if shape is None:
        return Tensor((None,) * len(dims), x.dtype)
    rank = len(shape)
    if len(dims) != rank:
        return error("rank-mismatch", "permute(sparse_coo): number of dimensions in the tensor "
                     "input does not match the length of the desired ordering of dimensions i.e. "
                     "input.dim() = %d is not equal to len(dims) = %d. Give one index per dim of "
                     "%s." % (rank, len(dims), format_shape(shape)))
    wrapped = wrap_dims(dims, rank)
    if is_error(wrapped):
        return wrapped
    if None in wrapped:
        return Tensor((None,) * rank, x.dtype)
    if len(set(wrapped)) != len(wrapped):
        return error("rank-mismatch", "permute(): duplicate dims are not allowed. dims=%s names "
                     "a dim twice." % fmt_list(dims))
    return x.with_shape(tuple(shape[d] for d in wrapped))


@function("Tensor.permute", "torch.permute")
def permute(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    return permute_dims(x, call.dim_list(1, "dims"))


def transpose_dims(x: Tensor, d0, d1):
    shape = x.shape
    if shape is None:
        return _unknown_like(x)
    rank = len(shape)
    a, b = wrap_dim(d0, rank), wrap_dim(d1, rank)
    if is_error(a):
        return a
    if is_error(b):
        return b
    if a is None or b is None:
        return Tensor((None,) * rank, x.dtype) if rank else x.with_shape(())
    if rank == 0:
        return x.with_shape(())
    out = list(shape)
    out[a], out[b] = out[b], out[a]
    return x.with_shape(tuple(out))


@function("Tensor.transpose", "torch.transpose", "Tensor.transpose_", "Tensor.swapdims",
          "torch.swapdims", "Tensor.swapaxes", "torch.swapaxes", "Tensor.swapdims_",
          "Tensor.swapaxes_")
def transpose(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    if "swapaxes" in call.name:
        d0, d1 = call.int(1, "axis0"), call.int(2, "axis1")
    else:
        d0, d1 = call.int(1, "dim0"), call.int(2, "dim1")
    return transpose_dims(x, d0, d1)


@function("Tensor.t", "torch.t", "Tensor.t_")
def t(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    if x.shape is None:
        return _unknown_like(x)
    if len(x.shape) > 2:
        return error("rank-mismatch", "t() expects a tensor with <= 2 dimensions, but self is %dD. "
                     "Use transpose(dim0, dim1) or permute for %s." % (len(x.shape),
                                                                       format_shape(x.shape)))
    return x.with_shape(tuple(reversed(x.shape)))


def movedim(x: Tensor, src, dst):
    if src is None or dst is None or x.shape is None:
        return _unknown_like(x)
    shape = x.shape
    rank = len(shape)
    if len(src) != len(dst):
        return error("rank-mismatch", "movedim: Invalid source or destination dims: source (%s "
                     "dims) should contain the same number of dims as destination (%s dims)"
                     % (fmt_list(src), fmt_list(dst)))
    ws, wd = wrap_dims(src, rank), wrap_dims(dst, rank)
    for w in (ws, wd):
        if is_error(w):
            return w
    if None in ws or None in wd:
        return Tensor((None,) * rank, x.dtype)
    if len(set(ws)) != len(ws):
        return error("rank-mismatch", "movedim: repeated dim in `source` (%s)" % fmt_list(src))
    if len(set(wd)) != len(wd):
        return error("rank-mismatch", "movedim: repeated dim in `destination` (%s)"
                     % fmt_list(dst))
    if rank == 0:
        return x.with_shape(())
    out = [None] * rank
    for s, d in zip(ws, wd):
        out[d] = shape[s]
    rest = iter(shape[i] for i in range(rank) if i not in ws)
    for i in range(rank):
        if i not in wd:
            out[i] = next(rest)
    return x.with_shape(tuple(out))


@function("Tensor.movedim", "torch.movedim", "Tensor.moveaxis", "torch.moveaxis")
def f_movedim(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    src = dims_arg(call, 1, "source")
    dst = dims_arg(call, 2, "destination")
    if type(src) is not tuple or type(dst) is not tuple:
        return _unknown_like(x)
    return movedim(x, src, dst)


# --------------------------------------------------------------------------- squeeze / unsqueeze

def squeeze(x: Tensor, dims):
    """``dims`` None: every size-1 dim."""
    shape = x.shape
    if shape is None:
        return _unknown_like(x)
    rank = len(shape)
    if dims is None:
        if any(d is None or (not is_int(d) and not differ_for_positive_sizes(d, 1))
               for d in shape):
            return _unknown_like(x)
        return x.with_shape(tuple(d for d in shape if not (is_int(d) and d == 1)))
    wrapped = wrap_dims(dims, rank)
    if is_error(wrapped):
        return wrapped
    if None in wrapped:
        return _unknown_like(x)
    if len(set(wrapped)) != len(wrapped):
        dup = next(w for w in wrapped if wrapped.count(w) > 1)
        return error("rank-mismatch", "dim %d appears multiple times in the list of dims" % dup)
    if rank == 0:
        return x.with_shape(())
    out = []
    for i, d in enumerate(shape):
        if i in wrapped:
            if is_int(d) and d == 1:
                continue
            if d is None or not differ_for_positive_sizes(d, 1):
                return _unknown_like(x)
        out.append(d)
    return x.with_shape(tuple(out))


@function("Tensor.squeeze", "torch.squeeze", "Tensor.squeeze_")
def f_squeeze(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    dims = dims_arg(call, 1, "dim", None)
    if dims is not None and type(dims) is not tuple:
        return _unknown_like(x)
    return squeeze(x, dims)


def unsqueeze(x: Tensor, dim):
    shape = x.shape
    if shape is None:
        return _unknown_like(x)
    rank = len(shape) + 1
    w = wrap_dim(dim, rank)
    if is_error(w):
        return w
    if w is None:
        return Tensor((None,) * rank, x.dtype)
    return x.with_shape(tuple(shape[:w]) + (1,) + tuple(shape[w:]))


@function("Tensor.unsqueeze", "torch.unsqueeze", "Tensor.unsqueeze_")
def f_unsqueeze(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    return unsqueeze(x, call.int(1, "dim"))


# --------------------------------------------------------------------------- expand / repeat

def expand(x: Tensor, sizes):
    if sizes is None:
        return _unknown_like(x)
    shape = x.shape
    for s in sizes:
        if is_int(s) and s < -1:
            return error("shape-mismatch", "expand: invalid size %d in %s; sizes must be -1 "
                         "(keep) or at least 0" % (s, fmt_list(sizes)))
    if shape is None:
        return Tensor(tuple(None if s == -1 else s for s in sizes), x.dtype)
    rank = len(shape)
    if len(sizes) < rank:
        return error("rank-mismatch", "expand(%s, size=%s): the number of sizes provided (%d) must "
                     "be greater or equal to the number of dimensions in the tensor (%d)"
                     % ("torch.FloatTensor{%s}" % fmt_list(shape), fmt_list(sizes), len(sizes),
                        rank))
    lead = len(sizes) - rank
    out = []
    for i, s in enumerate(sizes):
        if i < lead:
            if is_int(s) and s == -1 and rank == 0 and 0 in sizes:
                return Tensor(None, x.dtype)  # torch lets this through with a size of -1
            if is_int(s) and s == -1:
                return error("shape-mismatch", "The expanded size of the tensor (-1) isn't allowed "
                             "in a leading, non-existing dimension %d" % i)
            out.append(s)
            continue
        d = shape[i - lead]
        if is_int(s) and s == -1:
            out.append(d)
            continue
        if s is None:
            out.append(None)
            continue
        if d is not None and differ_for_positive_sizes(d, s) and differ_for_positive_sizes(d, 1):
            return error("shape-mismatch", "The expanded size of the tensor (%s) must match the "
                         "existing size (%s) at non-singleton dimension %d.  Target sizes: %s.  "
                         "Tensor sizes: %s. Only size-1 dims can be expanded."
                         % (format_dim(s), format_dim(d), i, fmt_list(sizes), fmt_list(shape)))
        out.append(s)
    return x.with_shape(tuple(out))


@function("Tensor.expand")
def f_expand(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    return expand(x, call.dim_list(1, "size"))


@function("torch.broadcast_to", "Tensor.broadcast_to")
def f_broadcast_to(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    return expand(x, call.dim_list(1, "size"))


@function("Tensor.expand_as")
def f_expand_as(call: Call):
    x = input_tensor(call)
    other = call.tensor(1, "other")
    if x is None or other is None:
        return None
    return expand(x, other.shape)


def repeat(x: Tensor, reps, tile: bool = False):
    if reps is None:
        return _unknown_like(x)
    shape = x.shape
    if shape is None:
        if tile:
            return _unknown_like(x)
        return Tensor((None,) * len(reps), x.dtype)
    if tile and len(reps) < len(shape):
        reps = (1,) * (len(shape) - len(reps)) + tuple(reps)
    if len(reps) < len(shape):
        return error("rank-mismatch", "Number of dimensions of repeat dims can not be smaller than "
                     "number of dimensions of tensor. Give at least %d repeat counts for %s."
                     % (len(shape), format_shape(shape)))
    padded = (1,) * (len(reps) - len(shape)) + tuple(shape)
    out = tuple(mul(d, r) for d, r in zip(padded, reps))
    for r, o in zip(reps, out):
        if is_int(r) and r < 0:
            return error("shape-mismatch", "Trying to create tensor with negative dimension %s: %s"
                         % (format_dim(o) if o is not None else r, fmt_list(out)))
    return x.with_shape(out)


@function("Tensor.repeat")
def f_repeat(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    return repeat(x, call.dim_list(1, "repeats"))


@function("Tensor.tile", "torch.tile")
def f_tile(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    return repeat(x, call.dim_list(1, "dims"), tile=True)


@function("Tensor.repeat_interleave", "torch.repeat_interleave")
def f_repeat_interleave(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    r = call.get(1, "repeats")
    n = as_int(r) if r is not MISSING else None
    if n is None or x.shape is None:
        return Tensor(None if x.shape is None or not call.has(2, "dim") else
                      (None,) * len(x.shape), x.dtype)
    dim = call.get(2, "dim")
    if dim is MISSING or (type(dim) is Const and dim.value is None):
        return x.with_shape((mul(prod(x.shape), n),))
    d = wrap_dim(as_int(dim), len(x.shape))
    if is_error(d):
        return d
    if d is None or not x.shape:
        return Tensor((None,) * len(x.shape), x.dtype)
    out = list(x.shape)
    out[d] = mul(out[d], n)
    return x.with_shape(tuple(out))


# --------------------------------------------------------------------------- narrow

@function("Tensor.narrow", "torch.narrow")
def narrow(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    dim, start, length = call.int(1, "dim"), call.int(2, "start"), call.int(3, "length")
    shape = x.shape
    if shape is None:
        return _unknown_like(x)
    if not shape:
        return error("rank-mismatch", "narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, len(shape))
    if is_error(d):
        return d
    if d is None:
        return Tensor((None,) * len(shape), x.dtype)
    size = shape[d]
    if is_int(length) and length < 0:
        return error("shape-mismatch", "narrow(): length must be non-negative.")
    if is_int(size) and is_int(start):
        if start < -size or start > size:
            return error("shape-mismatch", "start out of range (expected to be in range of [%d, "
                         "%d], but got %d)" % (-size, size, start))
        s = start + size if start < 0 else start
        if is_int(length) and s + length > size:
            return error("shape-mismatch", "start (%d) + length (%d) exceeds dimension size (%d)."
                         % (s, length, size))
    out = list(shape)
    out[d] = length
    return x.with_shape(tuple(out))


# --------------------------------------------------------------------------- split family

def _dim_of(x: Tensor, dim):
    """The wrapped dim or a ShapeError/None."""
    if x.shape is None:
        return None
    return wrap_dim(dim, len(x.shape))


def _pieces(x: Tensor, d, sizes):
    out = []
    for s in sizes:
        shape = list(x.shape)
        shape[d] = s
        out.append(x.with_shape(tuple(shape)))
    return TupleVal(tuple(out))


def split_sizes_of(size, split):
    """Piece sizes of ``split(split)`` on a dim of ``size``; None when not known."""
    if is_int(size) and is_int(split):
        if split == 0:
            return [0] if size == 0 else None
        n = max(1, -(-size // split))
        return [split] * (n - 1) + [size - split * (n - 1)]
    if split is not None and size is not None:
        n = divide_exact(size, split)
        if is_int(n) and n >= 1:
            return [split] * n
    return None


@function("Tensor.split", "torch.split")
def split(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    arg = call.get(1, "split_size_or_sections")
    if arg is MISSING:
        arg = call.get(1, "split_size")
    dim = call.int(2, "dim", 0)
    if x.shape is not None and not x.shape:
        return error("rank-mismatch", "split expects at least a 1-dimensional tensor")
    d = _dim_of(x, dim)
    if is_error(d):
        return d
    if type(arg) in (TupleVal, ListVal):
        return _split_with_sizes(x, d, tuple(as_int(i) for i in arg.items))
    n = as_int(arg) if arg is not MISSING else None
    if is_int(n) and n < 0:
        return error("shape-mismatch", "split expects split_size be non-negative, but got "
                     "split_size=%d" % n)
    if d is None:
        return Unknown("split of a tensor of unknown shape")
    size = x.shape[d]
    if is_int(n) and n == 0 and is_int(size) and size != 0:
        return error("shape-mismatch", "split_size can only be 0 if dimension size is 0, but got "
                     "dimension size of %d" % size)
    sizes = split_sizes_of(size, n)
    if sizes is None:
        return Unknown("number of pieces not known")
    return _pieces(x, d, sizes)


def _split_with_sizes(x: Tensor, d, sizes):
    if any(is_int(s) and s < 0 for s in sizes):
        return error("shape-mismatch", "split_with_sizes expects split_sizes have only "
                     "non-negative entries, but got split_sizes=%s" % fmt_list(sizes))
    if d is None:
        return TupleVal(tuple(Tensor(None, x.dtype) for _ in sizes))
    size = x.shape[d]
    total = _sum(sizes)
    if differ_for_positive_sizes(total, size) or (not sizes and is_int(size) and size != 0):
        return error("shape-mismatch", "split_with_sizes expects split_sizes to sum exactly to %s "
                     "(input tensor's size at dimension %d), but got split_sizes=%s"
                     % (format_dim(size), d, fmt_list(sizes)))
    return _pieces(x, d, sizes)


def _sum(ds):
    total = 0
    for d in ds:
        total = add(total, d)
    return total


@function("Tensor.split_with_sizes", "torch.split_with_sizes")
def split_with_sizes(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    sizes = call.dim_list(1, "split_sizes")
    d = _dim_of(x, call.int(2, "dim", 0))
    if is_error(d):
        return d
    if sizes is None:
        return Unknown("split sizes not known")
    return _split_with_sizes(x, d, sizes)


@function("Tensor.chunk", "torch.chunk")
def chunk(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    chunks = call.int(1, "chunks")
    if is_int(chunks) and chunks <= 0:
        return error("shape-mismatch", "chunk expects `chunks` to be greater than 0, got: %d"
                     % chunks)
    if x.shape is not None and not x.shape:
        return error("rank-mismatch", "chunk expects at least a 1-dimensional tensor")
    d = _dim_of(x, call.int(2, "dim", 0))
    if is_error(d):
        return d
    if d is None or chunks is None:
        return Unknown("number of chunks not known")
    size = x.shape[d]
    if is_int(size) and is_int(chunks):
        if size == 0:
            return _pieces(x, d, [0] * chunks)
        return _pieces(x, d, split_sizes_of(size, -(-size // chunks)))
    q = divide_exact(size, chunks) if size is not None else None
    if q is not None and is_int(chunks):
        return _pieces(x, d, [q] * chunks)
    return Unknown("number of chunks not known")


@function("Tensor.tensor_split", "torch.tensor_split")
def tensor_split(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    arg = call.get(1, "indices_or_sections")
    for name in ("sections", "indices"):
        if arg is MISSING:
            arg = call.get(1, name)
    if x.shape is not None and not x.shape:
        return error("rank-mismatch", "tensor_split expected at least a 1-dimensional tensor, but "
                     "got a tensor with 0 dims")
    d = _dim_of(x, call.int(2, "dim", 0))
    if is_error(d):
        return d
    if type(arg) in (TupleVal, ListVal):
        # indices: the pieces are x[:i0], x[i0:i1], ..., x[ik:] along the dim, as slices
        indices = [as_int(i) for i in arg.items]
        size = x.shape[d] if d is not None else None
        if not is_int(size) or not all(is_int(i) for i in indices):
            return Unknown("tensor_split pieces not known")
        bounds = [0] + indices + [size]
        return _pieces(x, d, [len(range(size)[a:b]) for a, b in zip(bounds, bounds[1:])])
    n = as_int(arg) if arg is not MISSING else None
    if d is None or n is None:
        return Unknown("tensor_split pieces not known")
    if is_int(n) and n <= 0:
        return error("shape-mismatch", "number of sections must be larger than 0, got %d" % n)
    size = x.shape[d]
    if is_int(size) and is_int(n):
        q, r = divmod(size, n)
        return _pieces(x, d, [q + 1] * r + [q] * (n - r))
    q = divide_exact(size, n) if size is not None else None
    if q is not None and is_int(n):
        return _pieces(x, d, [q] * n)
    return Unknown("tensor_split pieces not known")


@function("Tensor.unbind", "torch.unbind")
def unbind(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    if x.shape is None:
        return Unknown("unbind of a tensor of unknown rank")
    dim = call.int(1, "dim", 0)
    if not x.shape:
        return error("rank-mismatch", "Dimension specified as %s but tensor has no dimensions"
                     % format_dim(dim))
    d = wrap_dim(dim, len(x.shape))
    if is_error(d):
        return d
    if d is None:
        return Unknown("unbind dim not known")
    n = x.shape[d]
    if not is_int(n):
        return Unknown("number of pieces not known")
    rest = tuple(x.shape[:d]) + tuple(x.shape[d + 1:])
    return TupleVal(tuple(x.with_shape(rest) for _ in range(n)))


# --------------------------------------------------------------------------- cat / stack

def _maybe_legacy_empty(shape) -> bool:
    """A 1-D tensor that may be empty: torch.cat skips ``[0]`` tensors."""
    return shape is not None and len(shape) == 1 and not differ_for_positive_sizes(shape[0], 0) \
        and not (is_int(shape[0]) and shape[0] != 0)


def cat(tensors, dim, op: str = "cat"):
    if tensors is None:
        return Tensor(None)
    if not tensors:
        return error("shape-mismatch", "torch.%s(): expected a non-empty list of Tensors" % op)
    for i, t in enumerate(tensors):
        if t.shape is not None and not t.shape:
            return error("rank-mismatch", "zero-dimensional tensor (at position %d) cannot be "
                         "concatenated. Use torch.stack to join scalars, or unsqueeze them first."
                         % i)
    definite = [(i, t) for i, t in enumerate(tensors)
                if t.shape is not None and not _maybe_legacy_empty(t.shape)]
    if not definite:
        # Only (maybe) empty 1-D tensors: an ordinary 1-D cat when every shape is known.
        if all(t.shape == (0,) for t in tensors):
            return tensors[0].with_shape((0,))  # torch skips them all, whatever the dim
        definite = [(i, t) for i, t in enumerate(tensors) if t.shape is not None]
        if len(definite) != len(tensors) or not definite:
            return Tensor(None, tensors[0].dtype)
    i0, first = definite[0]
    rank = len(first.shape)
    for i, t in definite[1:]:
        if len(t.shape) != rank:
            return error("rank-mismatch", "Tensors must have same number of dimensions: got %d "
                         "and %d. Tensor %d is %s and tensor %d is %s."
                         % (rank, len(t.shape), i0, format_shape(first.shape), i,
                            format_shape(t.shape)))
    d = wrap_dim(dim, rank)
    if is_error(d):
        return d
    if d is None:
        return Tensor((None,) * rank, first.dtype)
    for i, t in definite[1:]:
        for k in range(rank):
            if k == d:
                continue
            a, b = first.shape[k], t.shape[k]
            if differ_for_positive_sizes(a, b):
                return error("shape-mismatch",
                             "Sizes of tensors must match except in dimension %d. Expected size %s "
                             "but got size %s for tensor number %d in the list. torch.%s joins "
                             "along dim %d, so every other dim must be equal: tensor %d is %s and "
                             "tensor %d is %s.%s" % (d, format_dim(a), format_dim(b), i, op, d, i0,
                                                     format_shape(first.shape), i,
                                                     format_shape(t.shape), odd_size_hint(a, b)),
                             detail="dim:%d" % k)
    out = []
    for k in range(rank):
        if k == d:
            total = 0
            for t in tensors:
                if t.shape is not None and rank != 1 and _maybe_legacy_empty(t.shape):
                    continue  # skipped by torch.cat (or an error reported above)
                if t.shape is None:
                    total = None
                    break
                total = add(total, t.shape[k])
            out.append(total)
        else:
            v = next((t.shape[k] for _, t in definite if t.shape[k] is not None), None)
            out.append(v)
    return first.with_shape(tuple(out))


def _seq(call: Call):
    v = call.get(0, "tensors")
    return tensors_in(v) if v is not MISSING else None


@function("torch.cat", "torch.concat", "torch.concatenate")
def f_cat(call: Call):
    ts = _seq(call)
    dim = call.get(1, "dim")
    if dim is MISSING:
        dim = call.get(None, "axis")
    d = 0 if dim is MISSING else as_int(dim)
    return cat(ts, d, call.name.rsplit(".", 1)[1])


def stack(tensors, dim):
    if tensors is None:
        return Tensor(None)
    if not tensors:
        return error("shape-mismatch", "stack expects a non-empty TensorList")
    known = [(i, t) for i, t in enumerate(tensors) if t.shape is not None]
    if known:
        i0, first = known[0]
        for i, t in known[1:]:
            if len(t.shape) != len(first.shape) or any(
                    differ_for_positive_sizes(a, b) for a, b in zip(first.shape, t.shape)):
                return error("shape-mismatch", "stack expects each tensor to be equal size, but "
                             "got %s at entry %d and %s at entry %d"
                             % (fmt_list(first.shape), i0, fmt_list(t.shape), i))
    if not known:
        return Tensor(None, tensors[0].dtype)
    first = known[0][1]
    rank = len(first.shape) + 1
    d = wrap_dim(dim, rank)
    if is_error(d):
        return d
    if d is None:
        return Tensor((None,) * rank, first.dtype)
    shape = tuple(next((t.shape[k] for _, t in known if t.shape[k] is not None), None)
                  for k in range(rank - 1))
    return first.with_shape(shape[:d] + (len(tensors),) + shape[d:])


@function("torch.stack")
def f_stack(call: Call):
    ts = _seq(call)
    d = call.int(1, "dim", 0)
    return stack(ts, d)


@function("torch.diff", "Tensor.diff")
def diff(call: Call):
    """n-th differences along ``dim``: that size plus the prepended/appended sizes, less n
    (ATen ``diff``: with n = 0 the input comes back as it is; with no prepend/append and no
    elements too, even before ``dim`` is checked)."""
    x = input_tensor(call)
    if x is None:
        return None
    n, dim = call.int(1, "n", 1), call.int(2, "dim", -1)
    if x.shape is None:
        return _unknown_like(x)
    if not x.shape:
        return error("rank-mismatch", "diff expects input to be at least one-dimensional")
    if is_int(n) and n < 0:
        return error("shape-mismatch", "order must be non-negative but got %d" % n)
    extras = []
    for name, index in (("prepend", 3), ("append", 4)):
        if call.has(index, name) and call.value(index, name) is not None:
            extras.append(call.tensor(index, name))
    if not extras and (n == 0 or any(is_int(v) and v == 0 for v in x.shape)):
        return x.with_shape(x.shape)   # returned as it is, dim unchecked
    d = wrap_dim(dim, len(x.shape))
    if is_error(d):
        return d
    if d is None or not is_int(n):
        return Tensor((None,) * len(x.shape), x.dtype)
    size = x.shape[d]
    for extra in extras:
        if extra is None or extra.shape is None:
            size = None
            continue
        if len(extra.shape) != len(x.shape):
            return error("rank-mismatch", "diff expects prepend or append to be the same "
                         "dimension as input")
        for k, (a, b) in enumerate(zip(x.shape, extra.shape)):
            if k != d and (is_int(a) and is_int(b) and a != b or definitely_ne(a, b)):
                return error("shape-mismatch", "diff expects the shape of tensor to prepend or "
                             "append to match that of input except along the differencing "
                             "dimension; input.size(%d) = %s, but got tensor.size(%d) = %s"
                             % (k, format_dim(a), k, format_dim(b)))
        size = add(size, extra.shape[d]) if size is not None else None
    if n == 0:
        return x.with_shape(x.shape)   # prepend/append are checked, then ignored
    if size is None:
        out = None
    elif is_int(size):
        out = max(size - n, 0)
    else:
        out = size if n == 0 else None   # a symbolic size may be smaller than n
    return x.with_shape(tuple(x.shape[:d]) + (out,) + tuple(x.shape[d + 1:]))


@function("torch.meshgrid")
def meshgrid(call: Call):
    """``meshgrid(a, b, ...)`` or ``meshgrid([a, b, ...])`` of 0-D/1-D tensors: one tensor per
    input, each of shape (len(a), len(b), ...); ``indexing='xy'`` swaps the first two."""
    if len(call.args) == 1 and type(call.args[0]) in (TupleVal, ListVal):
        ts = tensors_in(call.args[0])
    else:
        ts = [call.tensor(i, None) for i in range(len(call.args))]
        ts = None if any(t is None for t in ts) else ts
    if ts is None:
        return None
    if not ts:
        return error("shape-mismatch", "torch.meshgrid expects a non-empty TensorList")
    sizes = []
    for t in ts:
        if t.shape is not None and len(t.shape) > 1:
            return error("rank-mismatch", "torch.meshgrid: Expected 0D or 1D tensor in the tensor "
                         "list but got: %s" % format_shape(t.shape))
        sizes.append(None if t.shape is None else (t.shape[0] if t.shape else 1))
    indexing = call.value(None, "indexing", "ij")
    if indexing not in ("ij", "xy"):
        sizes = [None] * len(sizes)
    elif indexing == "xy" and len(sizes) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    # expanded views of the inputs: not contiguous
    return TupleVal(tuple(Tensor(tuple(sizes), t.dtype, None, None, None, "?") for t in ts))


def _atleast(t: Tensor, n: int):
    s = t.shape
    if s is None:
        return t
    if n == 1:
        return t.with_shape(s) if s else t.with_shape((1,))
    if n == 2:
        if len(s) == 0:
            return t.with_shape((1, 1))
        if len(s) == 1:
            return t.with_shape((1,) + tuple(s))
        return t
    if len(s) == 0:
        return t.with_shape((1, 1, 1))
    if len(s) == 1:
        return t.with_shape((1, s[0], 1))
    if len(s) == 2:
        return t.with_shape(tuple(s) + (1,))
    return t


@function("torch.hstack", "torch.vstack", "torch.row_stack", "torch.dstack",
          "torch.column_stack")
def f_hvstack(call: Call):
    ts = _seq(call)
    if ts is None:
        return Tensor(None)
    if not ts:
        return error("shape-mismatch", "%s expects a non-empty TensorList"
                     % call.name.rsplit(".", 1)[1])
    op = call.name.rsplit(".", 1)[1]
    if op == "hstack":
        ts = [_atleast(t, 1) for t in ts]
        if ts[0].shape is None:
            return Tensor(None, ts[0].dtype)
        return cat(ts, 0 if len(ts[0].shape) == 1 else 1, "hstack")
    if op in ("vstack", "row_stack"):
        return cat([_atleast(t, 2) for t in ts], 0, op)
    if op == "dstack":
        return cat([_atleast(t, 3) for t in ts], 2, op)
    # column_stack: 0-d and 1-d tensors become columns [n, 1]
    cols = []
    for t in ts:
        if t.shape is not None and len(t.shape) <= 1:
            cols.append(t.with_shape((t.shape[0] if t.shape else 1, 1)))
        else:
            cols.append(t)
    return cat(cols, 1, op)


# --------------------------------------------------------------------------- others

@function("Tensor.flip", "torch.flip", "Tensor.roll", "torch.roll", "Tensor.fliplr",
          "torch.fliplr", "Tensor.flipud", "torch.flipud")
def keep_shape(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    name = call.name.rsplit(".", 1)[1]
    if x.shape is not None:
        if name in ("fliplr",) and len(x.shape) < 2:
            return error("rank-mismatch", "Input must be >= 2-d.")
        if name in ("flipud",) and len(x.shape) < 1:
            return error("rank-mismatch", "Input must be >= 1-d.")
        if name == "flip":
            dims = dims_arg(call, 1, "dims")
            if type(dims) is tuple:
                for d in dims:
                    w = wrap_dim(d, len(x.shape))
                    if is_error(w):
                        return w
    return x.with_shape(x.shape)


@function("Tensor.tril", "torch.tril", "Tensor.triu", "torch.triu", "Tensor.tril_",
          "Tensor.triu_")
def tril(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    if x.shape is not None and len(x.shape) < 2:
        name = call.name.rsplit(".", 1)[1].rstrip("_")
        return error("rank-mismatch", "%s: input tensor must have at least 2 dimensions" % name)
    return x.with_shape(x.shape)


@function("Tensor.index_select", "torch.index_select")
def index_select(call: Call):
    x = input_tensor(call)
    idx = call.tensor(2, "index")
    if x is None or idx is None:
        return None
    if x.shape is None:
        return _unknown_like(x)
    d = wrap_dim(call.int(1, "dim"), len(x.shape))
    if is_error(d):
        return d
    if d is None:
        return Tensor((None,) * len(x.shape), x.dtype)
    if idx.shape is not None and len(idx.shape) > 1:
        return error("rank-mismatch", "index_select(): Index is supposed to be a vector")
    n = (idx.shape[0] if idx.shape else 1) if idx.shape is not None else None
    if not x.shape:
        return x.with_shape(())
    out = list(x.shape)
    out[d] = n
    return x.with_shape(tuple(out))


@function("Tensor.gather", "torch.gather", "Tensor.take_along_dim", "torch.take_along_dim")
def gather(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    idx = call.tensor(1 if "take_along" in call.name else 2, "indices" if "take_along"
                      in call.name else "index")
    if idx is None:
        return _unknown_like(x)
    if "take_along" in call.name:
        return Tensor(None, x.dtype)
    if x.shape is not None and idx.shape is not None and len(x.shape) != len(idx.shape) \
            and x.shape and idx.shape:
        return error("rank-mismatch", "Index tensor must have the same number of dimensions as "
                     "input tensor")
    return x.with_shape(idx.shape)


@function("Tensor.select", "torch.select")
def select(call: Call):
    """``x.select(dim, index)``: x without ``dim``; the index must be inside it."""
    x = input_tensor(call)
    if x is None:
        return None
    if x.shape is None:
        return _unknown_like(x)
    if not x.shape:
        return error("rank-mismatch", "select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(call.int(1, "dim"), len(x.shape))
    if is_error(d):
        return d
    if d is None:
        return Tensor((None,) * (len(x.shape) - 1), x.dtype)
    i, size = call.int(2, "index"), x.shape[d]
    if is_int(i) and is_int(size) and not -size <= i < size:
        return error("rank-mismatch", "select(): index %d out of range for tensor of size %s at "
                     "dimension %d" % (i, fmt_list(x.shape), d))
    return x.with_shape(tuple(x.shape[:d]) + tuple(x.shape[d + 1:]))


@function("Tensor.take", "torch.take")
def take(call: Call):
    """Elements of the flattened input at ``index``: index's shape."""
    x, idx = input_tensor(call), call.tensor(1, "index")
    if x is None or idx is None:
        return None
    return x.with_shape(idx.shape)


@function("Tensor.unfold")
def unfold(call: Call):
    x = input_tensor(call)
    if x is None:
        return None
    dim, size, step = call.int(1, "dimension"), call.int(2, "size"), call.int(3, "step")
    if x.shape is None:
        return _unknown_like(x)
    if not x.shape:
        return x.with_shape((size,))
    d = wrap_dim(dim, len(x.shape))
    if is_error(d):
        return d
    if d is None:
        return Tensor((None,) * (len(x.shape) + 1), x.dtype)
    n = x.shape[d]
    if is_int(step) and step <= 0:
        return error("shape-mismatch", "step is %d but must be > 0" % step)
    if is_int(n) and is_int(size) and size > n:
        return error("shape-mismatch", "maximum size for tensor at dimension %d is %d but size is "
                     "%d" % (d, n, size))
    count = floordiv(sub(n, size), step) + 1 if None not in (n, size, step) and is_int(step) \
        else None
    out = list(x.shape)
    out[d] = count
    return x.with_shape(tuple(out) + (size,))


__all__ = ["reshape_to", "permute_dims", "transpose_dims", "squeeze", "unsqueeze", "expand",
           "repeat", "movedim", "cat", "stack", "split_sizes_of"]
