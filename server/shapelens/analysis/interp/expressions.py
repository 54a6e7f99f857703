"""Expressions other than calls, attributes and subscripts: names, literals, operators,
comparisons, comprehensions, and the truth of a value."""
from __future__ import annotations

import ast
import operator
from typing import Optional

from .. import dims as D
from ..rules import FUNCTIONS, layout
from ..rules.call import UNKNOWN, Call, as_python
from ..values import (
    Array,
    Const,
    Container,
    DictVal,
    Image,
    Instance,
    Layer,
    ListVal,
    SetVal,
    SliceVal,
    Tensor,
    TorchRef,
    Transform,
    TupleVal,
    Unknown,
    Value,
    current,
    join,
    same_value,
    uniform,
    visible,
    with_strides,
)
from .budget import MAX_LENGTH, MAX_NESTING, const_size, math_too_large
from .program import BoundFunction, ClassRef, Frame, Function, Partial, UserModuleRef, set_key


NAME, CONSTANT = ast.Name, ast.Constant


class Expressions:
    """Expressions other than calls, attributes and subscripts."""

    def eval(self, node, frame) -> Value:
        budget = self.budget
        budget.steps += 1
        if budget.steps > budget.max_steps:
            budget.out_of_steps()
        if budget.depth >= MAX_NESTING:
            budget.too_deep("expressions")
            return Unknown("expression nested too deeply")
        kind = node.__class__
        if kind is NAME:                # the commonest expressions, without a handler call
            value = self.lookup(node.id, frame)
        elif kind is CONSTANT:
            return Const(node.value)
        else:
            handler = self._expr.get(kind)
            if handler is None:
                handler = getattr(type(self), "expr_" + kind.__name__,
                                  type(self).expr_other)     # not bound: see exec_stmt
                self._expr[kind] = handler
            budget.depth += 1
            try:
                value = handler(self, node, frame)
            finally:
                budget.depth -= 1
        if type(value) is Tensor:
            if self.cells.items:
                value = current(value)
            self.rec.expr_shape(node, value, frame.env)
        return value

    def expr_other(self, node, frame):
        return Unknown("%s expressions are not modelled" % node.__class__.__name__)

    def expr_Constant(self, node, frame):
        return Const(node.value)

    def expr_Name(self, node, frame):
        return self.lookup(node.id, frame)

    def lookup(self, name, frame) -> Value:
        f = frame
        while f is not None:
            v = f.vars.get(name)
            if v is not None:
                return v
            f = f.parent
        v = frame.env.globals.get(name)
        if v is not None:
            return v
        v = self.builtins.get(name)
        if v is not None:
            return v
        return Unknown("%s is not defined here" % name)

    def expr_Slice(self, node, frame):
        def part(n):
            return self.eval(n, frame) if n is not None else Const(None)
        return SliceVal(part(node.lower), part(node.upper), part(node.step))

    def expr_Tuple(self, node, frame):
        return TupleVal(tuple(self.eval_elts(node.elts, frame)))

    def expr_List(self, node, frame):
        return ListVal(self.eval_elts(node.elts, frame))

    def expr_Set(self, node, frame):
        return self.make_set(self.eval_elts(node.elts, frame))

    def eval_elts(self, elts, frame):
        out = []
        for e in elts:
            if isinstance(e, ast.Starred):
                items = self.iterate(self.eval(e.value, frame))
                if items is None:
                    return [Unknown("starred")]
                out.extend(items)
            else:
                out.append(self.eval(e, frame))
        return out

    def expr_Dict(self, node, frame):
        items, lost = {}, None
        for k, v in zip(node.keys, node.values):
            if k is None:
                inner = visible(self.eval(v, frame))
                if type(inner) is DictVal and self.budget.fold(len(items) + len(inner.items)):
                    items.update(inner.items)
                else:
                    lost = "built from entries the analysis cannot see"
                continue
            key = as_python(self.eval(k, frame))
            val = self.eval(v, frame)
            try:
                if key is UNKNOWN:
                    raise TypeError
                items[key] = val
            except TypeError:
                # a key the analysis cannot see (or not hashable) may be any key, new or not
                lost = "a key the analysis cannot see"
        return DictVal({}, lost) if lost else DictVal(items)

    def expr_JoinedStr(self, node, frame):
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            elif isinstance(v, ast.FormattedValue):
                inner = self.eval(v.value, frame)
                if type(inner) is Const and v.format_spec is None and v.conversion == -1:
                    parts.append(str(inner.value))
                else:
                    return Unknown("formatted string")
        return Const("".join(parts))

    def expr_NamedExpr(self, node, frame):
        value = self.eval(node.value, frame)
        self.bind(node.target, value, frame)
        return value

    def expr_IfExp(self, node, frame):
        cond = self.truth(self.eval(node.test, frame))
        if cond is True:
            return self.eval(node.body, frame)
        if cond is False:
            return self.eval(node.orelse, frame)
        values = []
        self.fork(frame, lambda f: values.append(self.eval(node.body, f)),
                  lambda f: values.append(self.eval(node.orelse, f)))
        return join(values[0], values[1])

    def expr_Lambda(self, node, frame):
        return self.make_function(node, frame)

    def expr_Await(self, node, frame):
        return self.eval(node.value, frame)

    def expr_Starred(self, node, frame):
        return self.eval(node.value, frame)

    def expr_BoolOp(self, node, frame):
        """``a and b`` / ``a or b`` as Python evaluates them: an operand after one whose truth
        the analysis cannot tell runs on some paths only; the result's truth is known when
        every way the expression can end agrees (``unknown and False`` is false)."""
        stop = isinstance(node.op, ast.Or)      # ``or`` ends at a true value, ``and`` a false
        outcomes = []                           # (value, its truth when it is the result)
        last = len(node.values) - 1

        def run(i, f):
            v = self.eval(node.values[i], f)
            t = self.truth(v)
            if i == last or t is stop:
                outcomes.append((v, t))
            elif t is None:
                outcomes.append((v, stop))
                self.fork(f, lambda g: run(i + 1, g), [])
            else:
                run(i + 1, f)
            return None
        run(0, frame)
        value = outcomes[0][0]
        for v, _ in outcomes[1:]:
            value = join(value, v)
        truths = {t for _, t in outcomes}
        if type(value) is Unknown and len(truths) == 1 and None not in truths:
            value = Unknown("condition", truth=truths.pop())
        return value

    def expr_UnaryOp(self, node, frame):
        v = self.eval(node.operand, frame)
        if isinstance(node.op, ast.Not):
            t = self.truth(v)
            return Const(not t) if t is not None else Unknown("condition")
        if type(v) is Const:
            x = v.value
            if isinstance(node.op, ast.USub) and (isinstance(x, (int, float)) or
                                                  type(x) is D.Sym):
                return Const(-x if type(x) is not D.Sym else D.neg(x))
            if isinstance(node.op, ast.UAdd):
                return v
            if isinstance(node.op, ast.Invert) and type(x) is int:
                return Const(~x)
        if type(v) is Tensor:
            return with_strides(v.with_shape(v.shape), layout.pointwise(v))
        return Unknown("unary operation")

    def expr_BinOp(self, node, frame):
        left = self.eval(node.left, frame)
        right = self.eval(node.right, frame)
        return self.binop(node.op, left, right, node, frame)

    def binop(self, op, left, right, node, frame):
        name = BINOPS.get(type(op))
        left, right = visible(left), visible(right)
        if type(left) is Tensor or type(right) is Tensor:
            rule = FUNCTIONS.get("operator." + name)
            if rule is None:
                return Tensor(None)
            q = "operator." + name
            result = rule(Call(q, (left, right), {}))
            result = self.rule_result(result, node, frame, q, (left, right),
                                      rerun=lambda a: rule(Call(q, a, {})))
            scalar_op = (type(left) is Tensor) != (type(right) is Tensor) and \
                Const in (type(left), type(right))
            if scalar_op and type(result) is Tensor:
                t = left if type(left) is Tensor else right
                result = with_strides(result, layout.pointwise(t))
            return result
        if type(left) is Const and type(right) is Const:
            size = const_size(name, left.value, right.value)
            if size is not None and not self.budget.fold(size):
                return Unknown("a value too large for the analysis")
            return const_binop(name, left.value, right.value)
        if type(left) is Array or type(right) is Array:
            return self.data_binop(name, left, right)
        if is_number(left) and is_number(right):
            return Unknown("arithmetic on a number the analysis does not know", number=True)
        if name == "add" and type(left) is type(right) and type(left) in (TupleVal, ListVal):
            if not self.budget.fold(len(left.items) + len(right.items)):
                return Unknown("a value too large for the analysis")
            if type(left) is TupleVal:
                return TupleVal(left.items + right.items, left.size and right.size)
            return ListVal(left.items + right.items)
        if name == "mul" and type(left) in (TupleVal, ListVal) and type(right) is Const and \
                type(right.value) is int and 0 <= right.value <= MAX_LENGTH:
            if not self.budget.fold(len(left.items) * right.value):
                return Unknown("a value too large for the analysis")
            if type(left) is TupleVal:
                return TupleVal(left.items * right.value)
            return ListVal(left.items * right.value)
        if name == "mul" and type(right) in (TupleVal, ListVal) and type(left) is Const:
            return self.binop(op, right, left, node, frame)
        return Unknown("operation on values the analysis cannot see")

    def expr_Compare(self, node, frame):
        left = self.eval(node.left, frame)
        result: Optional[bool] = True
        for op, comp in zip(node.ops, node.comparators):
            right = self.eval(comp, frame)
            if (type(left) is Tensor or type(right) is Tensor) and \
                    type(op) not in (ast.Is, ast.IsNot):      # identity: see compare()
                if len(node.ops) == 1 and type(op) in CMPOPS:
                    name = "operator." + CMPOPS[type(op)]
                    out = FUNCTIONS[name](Call(name, (left, right), {}))
                    return self.rule_result(out, node, frame, name, (left, right))
                return Unknown("comparison")
            r = compare(op, left, right)
            if r is None:
                return Unknown("comparison of values the analysis cannot see")
            if r is False:
                result = False
            left = right
        return Const(result)

    def expr_ListComp(self, node, frame):
        maybe = [] if reads_only(node.elt) else None
        out = self.comprehension(node.generators, frame, lambda f: [self.eval(node.elt, f)],
                                 maybe)
        if out is None:
            return Unknown("comprehension")
        if maybe:
            return Unknown("a filter the analysis cannot decide", choices=tuple(out))
        return ListVal(out)

    def expr_GeneratorExp(self, node, frame):
        return self.expr_ListComp(node, frame)

    def expr_SetComp(self, node, frame):
        return self.make_set(self.comprehension(node.generators, frame,
                                                lambda f: [self.eval(node.elt, f)]))

    def expr_DictComp(self, node, frame):
        pairs = self.comprehension(node.generators, frame,
                                   lambda f: [(self.eval(node.key, f), self.eval(node.value, f))])
        if pairs is None:
            return Unknown("comprehension")
        items = {}
        for k, v in pairs:
            key = as_python(k)
            if key is UNKNOWN:
                return Unknown("comprehension keys")
            items[key] = v
        return DictVal(items)

    def comprehension(self, generators, frame, produce, maybe=None):
        """The items a comprehension makes, or None.  With ``maybe`` (a list), an item whose
        last filter (of the last ``for``) the analysis cannot decide is made as if kept, and
        ``maybe`` gets True: the items are then the ones it may hold."""
        inner = Frame(frame.env, frame, frame.func, frame.cls, frame.self_obj)
        out = []

        def run(i):
            if i == len(generators):
                out.extend(produce(inner))
                return True
            gen = generators[i]
            items = self.iterate(self.eval(gen.iter, inner))
            if items is None:
                return False
            long = len(items) > self.unroll_limit()
            if long and not uniform(items):
                return False
            previous = None
            for n, item in enumerate(items):
                self.budget.step()
                start, log = len(out), self.open_log()
                try:
                    self.bind(gen.target, item, inner)
                    ok = True
                    for k, cond in enumerate(gen.ifs):
                        t = self.truth(self.eval(cond, inner))
                        if t is None:
                            if maybe is None or k < len(gen.ifs) - 1 or \
                                    i < len(generators) - 1 or long:
                                return False
                            maybe.append(True)
                            t = True
                        ok = ok and t
                    if ok and not run(i + 1):
                        return False
                finally:
                    self.close_log(log)
                if long:
                    # The same item, nothing changed, the same values made: so are the rest.
                    made = out[start:]
                    if log.before or not all(type(v) in (Tensor, Const) for v in made):
                        return False
                    if previous is not None and len(made) == len(previous) and \
                            all(map(same_value, made, previous)):
                        if not self.budget.fold(len(out) + len(made) * (len(items) - n - 1)):
                            return False
                        out.extend(made * (len(items) - n - 1))
                        return True
                    previous = made
            return True

        return out if run(0) else None

    def truth(self, value) -> Optional[bool]:
        kind = type(value)
        if kind is Unknown:
            return value.truth
        if kind is Const:
            v = value.value
            if type(v) is D.Sym:
                return None
            try:
                return bool(v)
            except Exception:
                return None
        if kind in (TupleVal, ListVal, DictVal):
            return bool(value.items) if not getattr(value, "lost", None) else None
        if kind in (Layer, Instance, Function, ClassRef, TorchRef, BoundFunction):
            return True
        if kind is Container or kind is Transform or kind is Image:
            return True
        return None


BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv",
          ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.Pow: "pow", ast.BitAnd: "and_",
          ast.BitOr: "or_", ast.BitXor: "xor", ast.LShift: "lshift", ast.RShift: "rshift",
          ast.MatMult: "matmul"}


# ``operator.mul`` and friends: the AST operator to evaluate them as.
BINOPS_BY_NAME = {name: op() for op, name in BINOPS.items()}
CMPOPS = {ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge", ast.Eq: "eq", ast.NotEq: "ne"}


PY_CMP = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
          ast.Eq: operator.eq, ast.NotEq: operator.ne}


def reads_only(node) -> bool:
    """Whether evaluating ``node`` only reads (names, attributes, constant subscripts,
    tuples of them): it may be evaluated on a path that does not run."""
    return all(type(n) in READS for n in ast.walk(node))


READS = (ast.Name, ast.Attribute, ast.Subscript, ast.Constant, ast.Tuple, ast.Load, ast.Slice)


def const_binop(name, a, b):
    if name is None:
        return Unknown("operation")
    if type(a) is D.Sym or type(b) is D.Sym:
        if not all(type(x) in (int, D.Sym) for x in (a, b)):
            return Unknown("symbolic arithmetic")
        fn = {"add": D.add, "sub": D.sub, "mul": D.mul, "floordiv": D.floordiv,
              "mod": D.mod}.get(name)
        if fn is None:
            if name == "truediv":
                out = D.divide_exact(a, b)
                return Const(out) if out is not None else Unknown("division")
            return Unknown("symbolic %s" % name)
        out = fn(a, b)
        return Const(out) if out is not None else Unknown("symbolic arithmetic")
    op = getattr(operator, name, None)
    if op is None:
        return Unknown("operation")
    try:
        if name == "pow" and isinstance(b, int) and abs(b) > 64:
            return Unknown("large power")
        return Const(op(a, b))
    except Exception:
        return Unknown("arithmetic error")


# Values that are objects other than None (classes, functions, torch names, modules...).
NOT_NONE = (Tensor, Layer, Container, Instance, TupleVal, ListVal, DictVal, TorchRef, ClassRef,
            Function, BoundFunction, Partial, UserModuleRef)


def compare(op, left, right) -> Optional[bool]:
    if type(left) is ClassRef and type(right) is ClassRef and \
            isinstance(op, (ast.Is, ast.IsNot, ast.Eq, ast.NotEq)):
        same = left.info is right.info      # a class is equal only to itself
        return same if isinstance(op, (ast.Is, ast.Eq)) else not same
    if isinstance(op, (ast.Is, ast.IsNot)):
        def is_none(v):
            if type(v) is Const:
                return v.value is None
            if type(v) in NOT_NONE:
                return False
            return None
        ln, rn = is_none(left), is_none(right)
        if ln is None or rn is None:
            return None
        if not (ln or rn):
            return None          # two objects: identity is not something the analysis tracks
        same = ln == rn
        return same if isinstance(op, ast.Is) else not same
    if isinstance(op, (ast.In, ast.NotIn)):
        right = visible(right)
        if type(right) in (TupleVal, ListVal) and type(left) is Const:
            vals = [i.value for i in right.items if type(i) is Const]
            if len(vals) != len(right.items):
                return None
            r = left.value in vals
            return r if isinstance(op, ast.In) else not r
        if type(right) is SetVal and not right.lost:
            key = set_key(left)
            try:
                r = key is not UNKNOWN and key in right.items
            except TypeError:
                return None
            return (r if isinstance(op, ast.In) else not r) if key is not UNKNOWN else None
        if type(right) is DictVal and type(left) is Const:
            try:
                r = left.value in right.items
            except TypeError:
                return None
            return r if isinstance(op, ast.In) else not r
        if type(right) is Const and type(left) is Const and isinstance(right.value, str):
            try:
                r = left.value in right.value
            except TypeError:
                return None
            return r if isinstance(op, ast.In) else not r
        return None
    if type(left) is Const and type(right) is Const:
        a, b = left.value, right.value
        if type(a) is D.Sym or type(b) is D.Sym:
            if isinstance(op, ast.Eq) and D.definitely_ne(a, b):
                return False
            if isinstance(op, ast.NotEq) and D.definitely_ne(a, b):
                return True
            if a == b and isinstance(op, (ast.Eq, ast.LtE, ast.GtE)):
                return True
            return None
        try:
            return bool(PY_CMP[type(op)](a, b))
        except Exception:
            return None
    if type(left) is TupleVal and type(right) is TupleVal and isinstance(op, (ast.Eq, ast.NotEq)):
        if len(left.items) != len(right.items):
            return isinstance(op, ast.NotEq)
        return None
    return None


def math_call(name, args):
    if name in ("prod", "fsum") and len(args) == 1 and type(args[0]) in (TupleVal, ListVal):
        args = args[0].items            # of a tuple or list of numbers
        if len(args) > 10_000:
            return Unknown("math.%s" % name)
        return _math_of(name, args, True)
    return _math_of(name, args, False)


def _math_of(name, args, iterable):
    vals = [a.value for a in args if type(a) is Const]
    if len(vals) != len(args) or any(type(v) is D.Sym for v in vals) or \
            math_too_large(name, vals):
        return Unknown("math.%s" % name)
    import math
    fn = getattr(math, name, None)
    if fn is None or not callable(fn):
        return Unknown("math.%s" % name)
    try:
        return Const(fn(vals) if iterable else fn(*vals))
    except Exception:
        return Unknown("math.%s" % name)


def is_number(value) -> bool:
    """A Python number, known or not (``x.item()``)."""
    kind = type(value)
    return (kind is Unknown and value.number) or \
        (kind is Const and type(value.value) in (int, float, bool))
