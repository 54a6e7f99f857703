"""Statements: assignment and binding, control flow (if/for/while/with/try), definitions."""
from __future__ import annotations

import ast
from contextlib import contextmanager

from ..rules.broadcast import inplace_result
from ..values import (
    DATA_VALUES,
    Const,
    Container,
    DictVal,
    Instance,
    Layer,
    ListVal,
    Stream,
    Tensor,
    Unknown,
    same_value,
    uniform,
    visible,
)
from .expressions import BINOPS
from .program import (
    BREAK,
    CONTINUE,
    MAX_UNROLL,
    MAX_UNROLL_IMPORTING,
    RAISE,
    RETURN,
    SELF_KEY,
    ClassInfo,
    ClassRef,
    Function,
)
from .soundness import MUTABLE, Loop, same_state, state_of


MAX_CHOICES = 8     # items a loop of unknown length may run on, each followed (else unknown)


class Statements:
    """Statements: binding, control flow, definitions."""

    def exec_block(self, stmts, frame):
        for stmt in stmts:
            flow = self.exec_stmt(stmt, frame)
            if flow is not None:
                return flow
        return None

    def raised(self):
        """An error raised for certain (not on a path that may not run, not where a ``try``
        may catch it): Python runs nothing more.  The analysis goes on, as if that error were
        fixed, to find the next one; what it finds from there gives way to the real run on
        the lines that run reached (as an inferred input does, Recorder.drop_hypothetical)."""
        if not self.past_error and self.uncertain == 0 and self.in_try == 0:
            self.past_error = True
            self.rec.hypothetical += 1

    @contextmanager
    def separate_run(self):
        """A run of the program from a fresh start (the file's top level, a declared sample):
        an error of another run does not end it."""
        past, self.past_error = self.past_error, False
        try:
            yield
        finally:
            if self.past_error:
                self.rec.hypothetical -= 1
            self.past_error = past

    def exec_stmt(self, node, frame):
        self.stmt = node
        self.stmt_frame = frame
        if frame.env.is_main:
            self.main_stmt = node
        budget = self.budget
        budget.steps += 1
        if budget.steps > budget.max_steps:
            budget.out_of_steps()
        if frame.env.library:
            budget.library_step()
        handler = self._stmt.get(node.__class__)
        if handler is None:
            # the function, not a bound method: a method kept on self would make the
            # interpreter, and all it holds, cyclic garbage (freed only by a gc pass)
            handler = getattr(type(self), "stmt_" + node.__class__.__name__,
                              type(self).stmt_other)
            self._stmt[node.__class__] = handler
        try:
            return handler(self, node, frame)
        except RecursionError:      # Python's stack is the depth budget's last line (budget.py)
            raise
        except Exception as exc:  # an analysis bug must never take the report down
            self.rec.internal_error(node, frame.env, exc)
            return None

    def stmt_other(self, node, frame):
        return None

    def stmt_Expr(self, node, frame):
        self.eval(node.value, frame)

    def stmt_Pass(self, node, frame):
        return None

    def stmt_Assign(self, node, frame):
        value = self.eval(node.value, frame)
        value = self.apply_assignment_comment(node, value, frame)
        for target in node.targets:
            self.bind(target, value, frame)

    def stmt_AnnAssign(self, node, frame):
        declared = self.annotation_tensor(node.annotation, frame.env)
        if node.value is None:
            if declared is not None and isinstance(node.target, ast.Name):
                self.bind(node.target, declared, frame)
            return
        value = self.eval(node.value, frame)
        if declared is not None:
            value = self.check_declared(value, declared, node.annotation, frame, "annotation")
        value = self.apply_assignment_comment(node, value, frame)
        self.bind(node.target, value, frame)

    def stmt_AugAssign(self, node, frame):
        current = self.eval(node.target, frame) if not isinstance(node.target, ast.Name) else \
            self.lookup(node.target.id, frame)
        other = self.eval(node.value, frame)
        container = current         # a subclass of a torch container: ``+=`` is the container's
        if type(current) is Instance and SELF_KEY in current.attrs and \
                current.cls.method("__i" + BINOPS.get(type(node.op), "op") + "__")[1] is None:
            container = visible(current.attrs[SELF_KEY])
        if type(current) is Tensor:
            result = inplace_result(current, other)
            result = self.rule_result(result, node, frame, "operator.i" + BINOPS.get(
                type(node.op), "op"), (current, other), rerun=lambda a: inplace_result(*a))
        elif type(current) is ListVal and isinstance(node.op, (ast.Add, ast.Mult)):
            # ``+=`` and ``*=`` change a list in place (every alias sees it).
            self.list_in_place(current, node.op, other)
            result = current
        elif type(container) is Container and isinstance(node.op, ast.Add):
            # ModuleList ``+=`` extends in place; Sequential ``+=`` adds another Sequential's
            # children (anything else raises)
            if container.kind == "ModuleList" or (type(other) is Container and
                                                  other.kind == "Sequential"):
                self.container_append(container, self.iterate(other))
            result = current
        elif type(current) is DictVal and isinstance(node.op, ast.BitOr):
            self.dict_method(current, "update", (other,), {})
            result = current
        else:
            result = self.binop(node.op, current, other, node, frame)
            if type(result) is Unknown and type(current) in MUTABLE:
                # its ``__iadd__`` (or the like), which the analysis does not follow, may
                # change it in place
                self.havoc(current, "changed by an augmented assignment the analysis cannot "
                           "follow", deep=False)
        self.bind(node.target, result, frame)

    def stmt_Return(self, node, frame):
        value = self.eval(node.value, frame) if node.value is not None else Const(None)
        frame.returns.append(value)
        return RETURN

    def stmt_Break(self, node, frame):
        return BREAK

    def stmt_Continue(self, node, frame):
        return CONTINUE

    def stmt_Delete(self, node, frame):
        for t in node.targets:
            if isinstance(t, ast.Name):
                frame.vars.pop(t.id, None)
            elif isinstance(t, ast.Attribute):
                self.delete_attribute(self.eval(t.value, frame), t.attr)
            elif isinstance(t, ast.Subscript):
                self.delete_item(self.eval(t.value, frame), self.eval(t.slice, frame))
            elif isinstance(t, (ast.Tuple, ast.List)):
                self.stmt_Delete(ast.Delete(targets=t.elts), frame)

    def stmt_Global(self, node, frame):
        return None

    def stmt_FunctionDef(self, node, frame):
        fn = self.make_function(node, frame)
        frame.vars[node.name] = self.decorate(node, fn, frame) if node.decorator_list else fn

    stmt_AsyncFunctionDef = stmt_FunctionDef

    def make_function(self, node, frame, owner=None):
        args = node.args
        defaults = [self.eval(d, frame) for d in args.defaults]
        kw_defaults = [self.eval(d, frame) if d is not None else None for d in args.kw_defaults]
        closure = frame if frame.func is not None else None
        return Function(node, frame.env, closure, defaults, kw_defaults, owner)

    def stmt_ClassDef(self, node, frame):
        bases = [self.eval(b, frame) for b in node.bases]
        info = ClassInfo(node, frame.env, bases)
        frame.vars[node.name] = ClassRef(info)
        frame.env.classes.append(info)
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                info.methods[stmt.name] = stmt
                # defaults of methods evaluated in the enclosing scope
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                saved = frame.vars
                try:
                    value = self.eval(stmt.value, frame) if stmt.value is not None else None
                finally:
                    frame.vars = saved
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for t in targets:
                    if isinstance(t, ast.Name) and value is not None:
                        info.attrs[t.id] = value
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and \
                        "ClassVar" not in ast.unparse(stmt.annotation):
                    info.fields.append((stmt.target.id, value))
        info.method_values = {}
        for name, fnode in info.methods.items():
            info.method_values[name] = self.make_function(fnode, frame, owner=info)

    def stmt_If(self, node, frame):
        cond = self.truth(self.eval(node.test, frame))
        if cond is True:
            return self.exec_block(node.body, frame)
        if cond is False:
            return self.exec_block(node.orelse, frame)
        return self.fork(frame, node.body, node.orelse)

    def stmt_For(self, node, frame):
        iterable = self.eval(node.iter, frame)
        items = self.iterate(iterable)
        target_read = reads_target(node, self.tree_reads)
        if items is None:
            item = iterable.item if type(iterable) is Stream else None
            choices = iterable.choices if type(iterable) is Unknown else ()
            return self.loop_end(frame, self.loop_rest(frame, node, item, choices),
                                 node.orelse)
        unroll = self.unroll_limit()
        if len(items) > unroll and target_read and not uniform(items):
            return self.loop_end(frame, self.loop_rest(frame, node, None), node.orelse)
        loop = Loop()
        frame.loops.append(loop)
        flow = None
        try:
            previous = None
            for i, item in enumerate(items):
                if i == unroll:     # the rest runs as a loop of unknown length
                    rest = items[i:]
                    self.loop_rest(frame, node, rest[0] if uniform(rest) else None)
                    break
                log = self.open_log()
                errors = len(self.rec.diagnostics)
                try:
                    self.bind(node.target, item, frame)
                    flow = self.iteration(frame, loop, lambda f: self.exec_block(node.body, f))
                finally:
                    self.close_log(log)
                if flow is not None:
                    break
                if len(self.rec.diagnostics) > errors and self.uncertain == 0 and \
                        self.rec.raised_since(errors):
                    break       # an error raised: the iterations after it never run
                # A run that left everything as the run before left it (lists only grown by
                # the same items) is the same as every run after it, when the next item is
                # the same too or the body never reads it: the remaining runs are not needed.
                step = self.loop_step(frame, node, log, target_read)
                if step is not None and previous is not None and same_step(step, previous) \
                        and (not target_read or uniform(items[i:])):
                    self.repeat_appends(step, len(items) - i - 1)
                    break
                previous = step
        finally:
            frame.loops.pop()
        return self.loop_end(frame, flow, node.orelse, loop)

    def unroll_limit(self) -> int:
        """Iterations followed one by one: more while a package's top level runs (its
        registries and tables: timm registers 313 configurations in one loop), which its
        import allowance bounds and which runs once per run or session."""
        return MAX_UNROLL_IMPORTING if self.budget.importing else MAX_UNROLL

    def loop_rest(self, frame, node, item, choices=()):
        """Runs of a ``for`` body the analysis does not follow one by one; each run on
        ``item``, or on one of ``choices`` (the runs on each joined), or on an unknown item."""
        distinct = []
        for c in choices:
            if not any(same_value(c, d) for d in distinct):
                distinct.append(c)
        if len(distinct) == 1:
            item = distinct[0]
        elif 1 < len(distinct) <= MAX_CHOICES:
            def run_body(f, rest=tuple(distinct)):
                def run_one(g):
                    self.bind(node.target, rest[0], g)
                    return self.exec_block(node.body, g)
                if len(rest) == 1:
                    return run_one(f)
                return self.fork(f, run_one, lambda g: run_body(g, rest[1:]))
            return self.loop_unknown(frame, run_body)

        def run_body(f):
            self.bind(node.target, item if item is not None else Unknown("loop variable"), f)
            return self.exec_block(node.body, f)
        return self.loop_unknown(frame, run_body)

    def loop_step(self, frame, node, log, target_read):
        """What one run of a loop body did, in a form two runs can be compared by: the
        variables it left (the loop's own target left out when the body never reads it), the
        states it left objects in, and the items it appended to lists that only grow in the
        loop."""
        skip = () if target_read else bound_names(node.target)
        names = tuple((k, v) for k, v in frame.vars.items() if k not in skip)
        states, appends = [], []
        for obj, before in log.before.values():
            after = state_of(obj)
            if type(obj) is ListVal and not obj.lost and not before[1] and \
                    obj.items[:len(before[0])] == before[0] and \
                    appends_only(node, frame, obj, self.tree_reads):
                appends.append((obj, tuple(obj.items[len(before[0]):])))
            else:
                states.append((id(obj), after))
        return names, states, appends

    def repeat_appends(self, step, times):
        for obj, added in step[2]:
            self.mutating(obj)
            if self.budget.fold(len(obj.items) + len(added) * times):
                obj.items.extend(added * times)
            else:
                self.havoc(obj, "a list longer than the analysis follows", deep=False)

    stmt_AsyncFor = stmt_For

    def loop_end(self, frame, flow, orelse, loop=None):
        """After a loop: ``else`` runs when it was not left by ``break``; paths that may have
        broken out join in after it."""
        if flow is None and orelse:
            flow = self.exec_block(orelse, frame)
        if flow == BREAK:
            flow = None
        if loop is not None and loop.breaks:
            if flow is not None:
                # This path leaves (return); only the paths that broke out go on from here.
                self.switch_to(frame, flow, loop.breaks)
                flow = None
            else:
                self.land(frame, loop.breaks, True)
        return flow

    def stmt_While(self, node, frame):
        cond = self.truth(self.eval(node.test, frame))
        if cond is False:
            return self.exec_block(node.orelse, frame)

        def run_body(f):
            flow = self.exec_block(node.body, f)
            if flow is None:
                self.eval(node.test, f)
            return flow
        return self.loop_end(frame, self.loop_unknown(frame, run_body), node.orelse)

    def stmt_With(self, node, frame):
        grad = self.grad_enabled
        for item in node.items:
            value = self.eval(item.context_expr, frame)
            if item.optional_vars is not None:
                self.bind(item.optional_vars, Unknown("context manager value")
                          if not isinstance(value, Tensor) else value, frame)
            mode = grad_mode_of(item.context_expr, value)
            if mode is not NO_CHANGE:
                grad = mode
        saved = self.grad_enabled
        self.grad_enabled = grad
        try:
            return self.exec_block(node.body, frame)
        finally:
            self.grad_enabled = saved

    stmt_AsyncWith = stmt_With

    def stmt_Try(self, node, frame):
        self.in_try += 1        # what the body raises may be caught: it does not end the run
        try:
            flow = self.exec_block(node.body, frame)
        finally:
            self.in_try -= 1
        if node.handlers:
            # Either the body ran through (then ``else``), or it raised somewhere and a handler
            # ran; the body's state at its end stands in for the state where it raised.
            body_flow = None if flow == RAISE else flow

            def completed(f):
                if body_flow is None and node.orelse:
                    return self.exec_block(node.orelse, f)
                return body_flow

            def handled(f):
                for h in node.handlers:
                    if h.name:
                        f.vars[h.name] = Unknown("exception")
                    self.fork(f, h.body, [])
                return None
            flow = self.fork(frame, completed, handled)
        elif flow is None and node.orelse:
            flow = self.exec_block(node.orelse, frame)
        if node.finalbody:
            flow = self.exec_block(node.finalbody, frame) or flow
        return flow

    stmt_TryStar = stmt_Try

    def stmt_Assert(self, node, frame):
        self.eval(node.test, frame)

    def stmt_Raise(self, node, frame):
        if node.exc is not None:
            self.eval(node.exc, frame)
        return RAISE

    def bind(self, target, value, frame):
        kind = target.__class__
        if kind is ast.Name:
            frame.vars[target.id] = value
            if type(value) is Tensor:
                self.rec.name_bound(target.id, target, value, frame.env, self.uncertain)
            elif type(value) is Layer and frame.func is None and value.name is None:
                value.name = target.id      # a layer held by a module-level variable
                self.rec.layer_ref(target, value, frame.env)
            elif type(value) in DATA_VALUES:
                self.rec.data_alias(target, value, frame.env)
            return
        if kind is ast.Attribute:
            obj = self.eval(target.value, frame)
            self.set_attribute(obj, target.attr, value, target, frame)
            return
        if kind in (ast.Tuple, ast.List):
            self.unpack(target.elts, value, frame)
            return
        if kind is ast.Subscript:
            obj = self.eval(target.value, frame)
            key = self.eval(target.slice, frame)
            self.set_item(obj, key, value, target, frame)
            return
        if kind is ast.Starred:
            self.bind(target.value, value, frame)

    def unpack(self, targets, value, frame):
        items = self.iterate(value)
        star = [i for i, t in enumerate(targets) if isinstance(t, ast.Starred)]
        if items is not None and not star and len(items) != len(targets):
            items = None
        if items is None:
            for t in targets:
                self.bind(t, Unknown("unpacked from a value the analysis cannot see"), frame)
            return
        if star:
            s = star[0]
            after = len(targets) - s - 1
            if len(items) < len(targets) - 1:
                for t in targets:
                    self.bind(t, Unknown("unpacking"), frame)
                return
            head, mid, tail = items[:s], items[s:len(items) - after], items[len(items) - after:]
            for t, v in zip(targets[:s], head):
                self.bind(t, v, frame)
            self.bind(targets[s].value, ListVal(list(mid)), frame)
            for t, v in zip(targets[s + 1:], tail):
                self.bind(t, v, frame)
            return
        for t, v in zip(targets, items):
            self.bind(t, v, frame)


NO_CHANGE = object()


def grad_mode_of(expr, value):
    """``torch.no_grad()`` / ``torch.inference_mode()`` -> False, ``torch.enable_grad()`` ->
    True, ``torch.set_grad_enabled(flag)`` -> flag; NO_CHANGE for other context managers."""
    call = expr if isinstance(expr, ast.Call) else None
    func = call.func if call is not None else expr
    name = ast.unparse(func) if isinstance(func, (ast.Attribute, ast.Name)) else ""
    last = name.rsplit(".", 1)[-1]
    if last in ("no_grad", "inference_mode"):
        if last == "inference_mode" and call is not None and call.args and \
                isinstance(call.args[0], ast.Constant) and call.args[0].value is False:
            return NO_CHANGE
        return False
    if last == "enable_grad":
        return True
    if last == "set_grad_enabled":
        if call is not None and call.args and isinstance(call.args[0], ast.Constant):
            return bool(call.args[0].value)
        return None
    return NO_CHANGE


# ----------------------------------------------------------------------- loops, read in the tree

def bound_names(target) -> frozenset:
    return frozenset(n.id for n in ast.walk(target) if type(n) is ast.Name)


def reads_names(body, names) -> bool:
    return any(type(n) is ast.Name and n.id in names for stmt in body for n in ast.walk(stmt))


def reads_target(loop, known: dict) -> bool:
    """Whether the body of the ``for`` loop ``loop`` reads its target (``known``: the
    interpreter's ``tree_reads``: the tree is read once per analysis)."""
    key = ("target", loop)
    if key not in known:
        known[key] = reads_names(loop.body, bound_names(loop.target))
    return known[key]


def same_step(a, b) -> bool:
    (names_a, states_a, appends_a), (names_b, states_b, appends_b) = a, b
    return len(names_a) == len(names_b) and \
        all(k == j and same_value(v, w) for (k, v), (j, w) in zip(names_a, names_b)) and \
        len(states_a) == len(states_b) and \
        all(i == j and same_state(x, y) for (i, x), (j, y) in zip(states_a, states_b)) and \
        len(appends_a) == len(appends_b) and \
        all(p is q and len(x) == len(y) and all(map(same_value, x, y))
            for (p, x), (q, y) in zip(appends_a, appends_b))


GROWS = ("append", "extend")


def appends_only(loop, frame, lst, known: dict) -> bool:
    """Whether ``lst`` is held by a variable of ``frame`` that the loop body only appends to
    (``xs.append(...)``, ``xs.extend(...)``, ``xs += [...]``) and no function or lambda that
    could run meanwhile names: then how long it grew changes nothing a run does.  ``known``:
    the interpreter's ``tree_reads``."""
    names = frozenset(k for k, v in frame.vars.items() if v is lst)
    if not names:
        return False
    scope = frame.func.node if frame.func is not None else frame.env.tree
    key = ("appends", loop, names, scope)  # the answer depends on nothing else: read the tree once
    if key not in known:
        known[key] = _appends_only(loop, scope, names, known)
    return known[key]


def _appends_only(loop, scope, names, known) -> bool:
    allowed = set()
    for stmt in loop.body:
        for n in ast.walk(stmt):
            if type(n) is ast.Call and type(n.func) is ast.Attribute and n.func.attr in GROWS:
                allowed.add(id(n.func.value))
            elif type(n) is ast.AugAssign and type(n.op) is ast.Add:
                allowed.add(id(n.target))
    for stmt in loop.body:
        for n in ast.walk(stmt):
            if type(n) is ast.Name and n.id in names and id(n) not in allowed:
                return False
    key = ("inner", scope)
    if key not in known:
        known[key] = names_in_inner_scopes(scope)
    return not names & known[key]


def names_in_inner_scopes(scope) -> frozenset:
    """The names that the functions, lambdas and classes inside ``scope`` name."""
    return frozenset(m.id for n in ast.walk(scope) if n is not scope and type(n) in SCOPES
                     for m in ast.walk(n) if type(m) is ast.Name)


SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
