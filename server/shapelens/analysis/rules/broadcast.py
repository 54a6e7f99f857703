"""Element-wise binary ops with broadcasting: ``a + b``, ``torch.add``, ``x.mul(y)``,
``torch.where``, comparisons, and their in-place forms.

Broadcasting (right-aligned): sizes match, or one of them is 1.  A mismatch is an error only
when it holds for every value of the symbolic names; when it could only pass if a symbolic size
were 1 (``H`` against ``H - 2`` passes at ``H = 3``) it is a warning that says so.
"""
from __future__ import annotations

from ..dims import Sym, definitely_ne, format_dim
from ..errors import error
from ..values import Const, Tensor, TupleVal, Unknown, format_shape
from . import function
from .call import Call

_DTYPE_ORDER = {"bool": 0, "long": 1, "float": 2}


def operand_shape(value):
    """Shape of a tensor or a Python number operand (``()``); None for anything else."""
    if type(value) is Tensor:
        return value.shape, value.dtype
    if type(value) is Const and (isinstance(value.value, (int, float, bool, Sym))):
        kind = "bool" if type(value.value) is bool else (
            "float" if type(value.value) is float else "long")
        return (), kind
    if type(value) is Unknown and value.number:
        return (), None
    return None


def broadcast_shapes(a, b):
    """(shape, None) or (None, (index, da, db, certain)) for the first mismatching dim."""
    if a is None or b is None:
        return None, None
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    out = []
    # torch checks from the last dim backwards and reports the first mismatch it meets.
    for i in range(n - 1, -1, -1):
        x, y = a[i], b[i]
        if x == y:
            out.append(x)
        elif x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif x is None or y is None:
            # Passes only if the unknown one is 1 or equal to the other: then the result is the
            # other one, unless that one could itself be 1.
            known = y if x is None else x
            out.append(known if definitely_ne(known, 1) else None)
        elif definitely_ne(x, y):
            certain = definitely_ne(x, 1) and definitely_ne(y, 1)
            return None, (i, x, y, certain)
        else:
            out.append(x if definitely_ne(x, 1) else (y if definitely_ne(y, 1) else None))
    return tuple(reversed(out)), None


def mismatch_error(a, b, problem, what="tensor"):
    i, x, y, certain = problem
    message = ("The size of tensor a (%s) must match the size of tensor b (%s) at non-singleton "
               "dimension %d. Shapes %s and %s do not broadcast"
               % (format_dim(x), format_dim(y), i, format_shape(a), format_shape(b)))
    if not certain:
        message += " (unless a symbolic size is 1)"
    return error("shape-mismatch", message + ".", detail="dim:%d" % i,
                 blame="input" if certain else "maybe")


def _result_dtype(da, db):
    if da is None or db is None:
        return da or db
    return da if _DTYPE_ORDER.get(da, 2) >= _DTYPE_ORDER.get(db, 2) else db


def binary(a, b, comparison=False):
    """Broadcast two operands: a Tensor, a ShapeError, or None when neither is a tensor."""
    if type(a) is not Tensor and type(b) is not Tensor:
        return None
    sa, sb = operand_shape(a), operand_shape(b)
    if sa is None or sb is None:
        # The other operand is something the analysis cannot see: it may be a tensor of a
        # higher rank, so not even the result's rank is known.
        t = a if type(a) is Tensor else b
        return Tensor(None, t.dtype)
    shape, problem = broadcast_shapes(sa[0], sb[0])
    if problem:
        return mismatch_error(sa[0], sb[0], problem)
    dtype = "bool" if comparison else _result_dtype(sa[1], sb[1])
    if not comparison and (sa[1] is None or sb[1] is None) and dtype != "float":
        dtype = None        # a number of unknown type (``x.item()``) may be a float
    cause = a.cause if type(a) is Tensor and a.cause else (b.cause if type(b) is Tensor else None)
    return Tensor(shape, dtype, None, cause)


ARITHMETIC = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "and_", "or_", "xor",
              "lshift", "rshift")
COMPARISONS = ("lt", "le", "gt", "ge", "eq", "ne")


def _register():
    for op in ARITHMETIC:
        function("operator." + op)(lambda call: binary(call.args[0], call.args[1]))
    for op in COMPARISONS:
        function("operator." + op)(lambda call: binary(call.args[0], call.args[1], True))


_register()

_TORCH_BINARY = ("add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
                 "floor_divide", "remainder", "fmod", "pow", "maximum", "minimum", "fmax", "fmin",
                 "atan2", "hypot", "logaddexp", "bitwise_and", "bitwise_or", "bitwise_xor",
                 "logical_and", "logical_or", "logical_xor", "copysign", "xlogy", "arctan2",
                 "heaviside", "float_power", "gcd", "lcm", "ldexp", "nextafter", "logaddexp2",
                 "bitwise_left_shift", "bitwise_right_shift", "igamma", "igammac")
_TORCH_COMPARE = ("eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "greater_equal",
                  "less_equal", "not_equal", "isclose")


@function(*["torch." + n for n in _TORCH_BINARY] + ["Tensor." + n for n in _TORCH_BINARY])
def torch_binary(call: Call):
    a = call.get(0, "input")
    b = call.get(1, "other")
    return binary(a, b)


@function(*["torch." + n for n in _TORCH_COMPARE] + ["Tensor." + n for n in _TORCH_COMPARE])
def torch_compare(call: Call):
    return binary(call.get(0, "input"), call.get(1, "other"), comparison=True)


@function(*["Tensor.%s_" % n for n in _TORCH_BINARY + _TORCH_COMPARE])
def inplace(call: Call):
    return inplace_result(call.args[0], call.get(1, "other"))


def inplace_result(target, other):
    """``a += b`` / ``a.add_(b)``: the broadcast shape must be ``a``'s own shape."""
    out = binary(target, other)
    if type(out) is not Tensor or type(target) is not Tensor:
        return out
    if target.shape is not None and out.shape is not None and len(out.shape) == len(target.shape):
        if any(definitely_ne(x, y) for x, y in zip(out.shape, target.shape)):
            return error("shape-mismatch", "output with shape %s doesn't match the broadcast "
                         "shape %s" % (format_shape(target.shape), format_shape(out.shape)))
        return target.with_shape(target.shape)
    if target.shape is not None and out.shape is not None and len(out.shape) > len(target.shape):
        return error("shape-mismatch", "output with shape %s doesn't match the broadcast shape %s"
                     % (format_shape(target.shape), format_shape(out.shape)))
    return out


@function("torch.where", "Tensor.where")
def where(call: Call):
    if len(call.args) + len(call.kwargs) < 3:
        cond = call.tensor(0, "condition")
        if call.name != "torch.where" or len(call.args) + len(call.kwargs) != 1 or \
                cond is None or cond.shape is None:
            return None
        # torch.where(cond): nonzero(cond, as_tuple=True), one index vector per dim, of a
        # length that depends on the values
        return TupleVal(tuple(Tensor((None,), "long") for _ in range(max(len(cond.shape), 1))))
    operands = [operand_shape(v) for v in (call.get(0, "condition"), call.get(1, "input"),
                                           call.get(2, "other"))]
    if any(o is None for o in operands):
        return Tensor(None)
    shape = operands[0][0]
    for other, _ in operands[1:]:
        new, problem = broadcast_shapes(shape, other)
        if problem:
            return mismatch_error(shape, other, problem)
        shape = new
    return Tensor(shape, _result_dtype(operands[1][1], operands[2][1]))


@function("torch.lerp", "Tensor.lerp", "Tensor.lerp_")
def lerp(call: Call):
    """``lerp(start, end, weight)``: the three broadcast (in place: to start's shape)."""
    start, end, weight = call.get(0, "input"), call.get(1, "end"), call.get(2, "weight")
    if type(start) is not Tensor or type(end) is not Tensor:
        return None
    out = binary(start, end)
    if type(out) is Tensor and type(weight) is Tensor:
        out = binary(out, weight)
    if call.name.endswith("_") and type(out) is Tensor:
        return inplace_result(start, out)
    return out


@function("torch.clamp_min", "torch.clamp_max", "Tensor.clamp_min", "Tensor.clamp_max",
          "Tensor.clamp_min_", "Tensor.clamp_max_", "torch.clamp_min_", "torch.clamp_max_")
def clamp_bound(call: Call):
    """A number bound keeps the shape; a tensor bound broadcasts (in place: to x's shape)."""
    x = call.get(0, "input")
    bound = call.get(1, "min" if "clamp_min" in call.name else "max")
    if call.name.endswith("_"):
        return inplace_result(x, bound)
    return binary(x, bound)


@function("torch.addcmul", "torch.addcdiv", "Tensor.addcmul", "Tensor.addcdiv",
          "Tensor.addcmul_", "Tensor.addcdiv_")
def addcmul(call: Call):
    """``input + value * tensor1 (* or /) tensor2``: the three broadcast (in place: to input's
    shape)."""
    x, t1, t2 = call.get(0, "input"), call.get(1, "tensor1"), call.get(2, "tensor2")
    if type(x) is not Tensor or type(t1) is not Tensor or type(t2) is not Tensor:
        return None
    product = binary(t1, t2)
    if type(product) is not Tensor:
        return product
    if call.name.endswith("_"):
        return inplace_result(x, product)
    return binary(x, product)
