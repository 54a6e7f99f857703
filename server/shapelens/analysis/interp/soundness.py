"""Soundness: what the analysis cannot see never becomes a shape.

Lists, dicts, torch containers, module instances and layers are mutable, shared by identity like
the objects they stand for.  Three things can change them behind the analysis' back, and each
has one home here:

* **Paths the analysis cannot choose between** (an ``if`` on an unknown condition, a loop that
  runs an unknown number of times, a ``break``/``return`` on one path only).  Every change made
  on a path is recorded in a :class:`ChangeLog` (the object's state before it); the other path
  runs from the states before, and where the paths meet each changed object takes the *join* of
  its states on both paths (what holds on both).  A path that leaves early (``return``,
  ``break``, ``continue``) keeps an :class:`Exit`: the states it left with, joined in where it
  lands (the function's end, the loop's end, the next iteration).
* **Operations the analysis does not model** applied to a tracked object (an unknown method of a
  module, container, list or dict; ``setattr`` with a name it cannot see; a store at an unknown
  index): :meth:`Soundness.havoc` forgets the object's contents (``lost``), and what it holds.
* **Objects handed to code the analysis cannot follow** (a function of an unresolved import, an
  unmodelled torch function): :meth:`Soundness.escape` forgets everything reachable from the
  arguments, since that code may change any of it.

Mutations go through :meth:`Soundness.mutating` first; nothing else needs to know about paths.
"""
from __future__ import annotations

from typing import Dict, List, Optional

from ..values import (
    AttrView,
    Container,
    DictVal,
    Instance,
    Layer,
    ListVal,
    SetVal,
    Tensor,
    TensorCells,
    TupleVal,
    Unknown,
    Value,
    current,
    join,
    next_serial,
    same_value,
)
from .program import (
    BREAK,
    CONTINUE,
    RETURN,
    ArgParser,
    BoundFunction,
    ClassInfo,
    Frame,
    Function,
    Partial,
    Wrapped,
)

MUTABLE = (ListVal, DictVal, SetVal, Container, Instance, Layer, ArgParser)

LOOP_PASSES = 3          # runs of a loop body of unknown count before widening what changes


class ChangeLog:
    """The objects changed since the log was opened, each with its state before the first
    change.  Objects made after the log was opened are not recorded (no path before knew
    them)."""

    __slots__ = ("start", "before")

    def __init__(self):
        self.start = next_serial()
        self.before: Dict[int, tuple] = {}     # id -> (object, state)


class Exit:
    """A path that left early (``kind`` is RETURN, BREAK or CONTINUE) with the variables and
    object states it left with; its log keeps recording, for objects changed later on the other
    paths, their state as this path left them."""

    __slots__ = ("kind", "vars", "log")

    def __init__(self, kind, vars_, log: ChangeLog):
        self.kind = kind
        self.vars = vars_
        self.log = log


class Loop:
    """Early exits waiting for the end of an iteration (``continue``) or of the loop."""

    __slots__ = ("breaks", "continues")

    def __init__(self):
        self.breaks: List[Exit] = []
        self.continues: List[Exit] = []


# --------------------------------------------------------------------------- object states

def state_of(obj):
    kind = type(obj)
    if kind is ListVal or kind is ArgParser:
        return (list(obj.items), obj.lost)
    if kind is DictVal:
        return (dict(obj.items), obj.lost)
    if kind is SetVal:
        return (set(obj.items), obj.lost)
    if kind is Container:
        return (obj.items.copy(), obj.lost)
    if kind is Instance:
        return (dict(obj.attrs), obj.lost, obj.training, obj.opaque)
    if kind is Layer:
        return (obj.spec, obj.training)
    if kind is ClassInfo:
        return (dict(obj.attrs),)
    if kind is TensorCells:
        return (dict(obj.items),)
    return None


def set_state(obj, state):
    kind = type(obj)
    if kind in (ListVal, DictVal, SetVal, Container, ArgParser):
        obj.items, obj.lost = state[0].copy(), state[1]
    elif kind is Instance:
        obj.attrs, obj.lost, obj.training, obj.opaque = dict(state[0]), state[1], state[2], \
            state[3]
    elif kind is Layer:
        obj.spec, obj.training = state
    elif kind is ClassInfo:
        obj.attrs = dict(state[0])
    elif kind is TensorCells:
        obj.items = dict(state[0])


def same_state(a, b) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if isinstance(x, list):
            if not isinstance(y, list) or len(x) != len(y) or \
                    not all(same_value(p, q) for p, q in zip(x, y)):
                return False
        elif isinstance(x, dict):
            if not isinstance(y, dict) or list(x) != list(y) or \
                    not all(same_value(x[k], y[k]) for k in x):
                return False
        elif x is not y and x != y:
            return False
    return True


def join_states(obj, a, b):
    """The state of ``obj`` that holds on both paths, one of which left it in state ``a`` and
    the other in ``b``."""
    if same_state(a, b):
        return a
    kind = type(obj)
    lost = "changed differently on paths the analysis cannot choose between"
    if kind is SetVal:
        return (set(), a[1] or b[1] or lost)
    if kind in (ListVal, DictVal, Container):
        (ia, la), (ib, lb) = a, b
        if la or lb:
            return (ia.__class__(), la or lb)
        if isinstance(ia, list) and isinstance(ib, list) and len(ia) == len(ib):
            return ([join(x, y) for x, y in zip(ia, ib)], None)
        if isinstance(ia, dict) and isinstance(ib, dict) and list(ia) == list(ib):
            return ({k: join(ia[k], ib[k]) for k in ia}, None)
        return (ia.__class__(), lost)
    if kind is Instance:
        attrs = {}
        for k in a[0].keys() | b[0].keys():
            if k in a[0] and k in b[0]:
                attrs[k] = join(a[0][k], b[0][k])
            else:
                attrs[k] = Unknown("%s is set on one path only" % k)
        return (attrs, a[1] or b[1], a[2] if a[2] == b[2] else None, a[3] or b[3])
    if kind is Layer:
        return (a[0] if a[0] is b[0] else None, a[1] if a[1] == b[1] else None)
    if kind is TensorCells:
        items = {}
        for k in a[0].keys() | b[0].keys():
            t, now_a = a[0].get(k) or b[0][k]
            now_b = b[0][k][1] if k in b[0] else t
            if k not in a[0]:
                now_a = t
            items[k] = (t, join(now_a, now_b))
        return (items,)
    if kind is ClassInfo:
        attrs = {k: join(a[0][k], b[0][k]) if k in b[0] else Unknown("class attribute")
                 for k in a[0]}
        for k in b[0].keys() - a[0].keys():
            attrs[k] = Unknown("class attribute")
        return (attrs,)
    return a


def join_vars(a: dict, b: dict) -> dict:
    """Variables where two paths meet: a name bound on one path only keeps that binding (using
    it on the other path raises)."""
    merged = {}
    for name in a.keys() | b.keys():
        x, y = a.get(name), b.get(name)
        merged[name] = x if y is None else y if x is None else join(x, y)
    return merged


def children_of(value):
    """The values a tracked value holds (what code that gets it can reach and change)."""
    kind = type(value)
    if kind in (ListVal, TupleVal):
        return value.items
    if kind is DictVal or (kind is Container and isinstance(value.items, dict)):
        return value.items.values()
    if kind is Container:
        return value.items
    if kind is Instance:
        return value.attrs.values()
    if kind is Wrapped:
        return (value.module,)
    if kind is Unknown:
        return value.choices
    return ()


# --------------------------------------------------------------------------- the mixin

class Soundness:
    """Paths, joins, and what unmodelled operations may change."""

    # ----------------------------------------------------------------- change logs

    def mutating(self, obj):
        """Call before changing ``obj``: every open log that knew it keeps its state before."""
        if self.shared is not None:
            self.shared.changed(obj)        # a module other analyses share (modules.py)
        if type(obj) in (Layer, Container):
            # a sub-module made from a torch layer's spec (members.layer_child), at any depth:
            # the layer's rule no longer describes the layer
            up = obj.parent
            while type(up) is Container:
                up = up.parent
            if type(up) is Layer and up.spec is not None:
                self.havoc(up, "one of its sub-modules changed", deep=False)
        for log in self.logs:
            if obj.serial < log.start:
                key = id(obj)
                if key not in log.before:
                    log.before[key] = (obj, state_of(obj))

    def open_log(self) -> ChangeLog:
        log = ChangeLog()
        self.logs.append(log)
        return log

    def close_log(self, log: ChangeLog):
        for i in range(len(self.logs) - 1, -1, -1):
            if self.logs[i] is log:
                del self.logs[i]
                return

    # ----------------------------------------------------------------- unmodelled operations

    def havoc(self, value, reason: str, deep=True, _seen=None, tensors=False):
        """Forget what ``value`` holds and, when ``deep``, what any value it holds holds: an
        operation the analysis does not follow may have changed any of it (also the tensors
        among them, in place, when ``tensors``; and it may call the functions among them)."""
        seen = _seen if _seen is not None else set()
        if id(value) in seen or len(seen) > 10_000:
            return
        seen.add(id(value))
        kind = type(value)
        if kind is AttrView:            # obj.__dict__ handed on: obj may change
            value, kind = value.obj, Instance
        if kind is Tensor:
            if tensors:
                self.changed_in_place(value, Tensor(None))
            return
        if deep and kind in (Function, BoundFunction, Partial):
            self.call_escaped(value)
            return
        if kind is Unknown and value.options:       # one of several modules: any of them
            for option in value.options:
                self.havoc(option, reason, deep, seen, tensors)
            return
        if kind not in MUTABLE and kind is not TupleVal and kind is not Wrapped and \
                not (kind is Unknown and value.choices):
            return
        if deep:
            for child in list(children_of(value)):
                self.havoc(child, reason, True, seen, tensors)
        if kind is TupleVal or kind is Wrapped or kind is Unknown:
            return
        self.mutating(value)
        if kind in (ListVal, DictVal, SetVal, Container):
            value.items = value.items.__class__()
            value.lost = reason
        elif kind is Instance:
            value.attrs = {}
            value.lost = reason
        elif kind is Layer:
            value.spec = None

    def escape(self, args, kwargs, reason: str, tensors=True):
        """``args`` and ``kwargs`` go to code the analysis cannot follow: it may change what
        they hold, call the functions among them, and (unless it is torch's, ``tensors=False``)
        change the tensors among them in place."""
        seen = set()
        for v in list(args) + list(kwargs.values()):
            self.havoc(v, reason, True, seen, tensors)

    def changed_in_place(self, t: Tensor, now: Value):
        """Tensor ``t`` (every alias of it) is ``now`` from here on; a layer's parameter
        changed this way leaves the layer's configuration unknown."""
        t = current(t)
        self.mutating(self.cells)
        self.cells.items[id(t)] = (t, now if type(now) is Tensor else Tensor(None))
        if t.owner is not None:
            self.havoc(t.owner, "its parameter changed in place", deep=False)

    def call_escaped(self, fn):
        """A function handed to code the analysis cannot follow may be called by it, any number
        of times, with arguments the analysis cannot see."""
        if type(fn) is Partial:
            self.escape(fn.args, fn.kwargs, "given to code the analysis cannot follow")
            fn = fn.func
        function = fn.func if type(fn) is BoundFunction else fn
        if type(function) is not Function or id(function) in self.escaping:
            return
        node = function.node
        a = node.args
        n = len(a.posonlyargs + a.args) - len(a.defaults) - (type(fn) is BoundFunction)
        args = tuple(Unknown("argument from code the analysis cannot follow")
                     for _ in range(max(n, 0)))
        self.escaping.add(id(function))
        try:
            self.loop_unknown(Frame(function.env),
                              lambda f: (self.call(fn, args, {}, None, f), None)[1])
        finally:
            self.escaping.discard(id(function))

    # ----------------------------------------------------------------- paths

    def fork(self, frame, body, orelse):
        """Run two branches the analysis cannot choose between (statement lists, or callables
        taking the frame), then join what they bound and changed."""
        run_a = body if callable(body) else (lambda f: self.exec_block(body, f))
        run_b = orelse if callable(orelse) else (
            (lambda f: self.exec_block(orelse, f)) if orelse else (lambda f: None))
        before = dict(frame.vars)
        self.uncertain += 1
        library = frame.env.library
        self.library_forks += library
        try:
            log_a = self.open_log()
            try:
                flow_a = run_a(frame)
            finally:
                self.close_log(log_a)
            vars_a = dict(frame.vars)
            end_a = {k: state_of(obj) for k, (obj, _) in log_a.before.items()}
            for obj, state in log_a.before.values():
                set_state(obj, state)
            put_vars(frame, before)
            log_b = self.open_log()
            try:
                flow_b = run_b(frame)
            finally:
                self.close_log(log_b)
            vars_b = dict(frame.vars)
        finally:
            self.uncertain -= 1
            self.library_forks -= library
        changed = dict(log_a.before)
        for k, entry in log_b.before.items():
            changed.setdefault(k, entry)
        # States at the end of each path; the objects are now as path B left them.
        states_a = {k: (obj, end_a[k] if k in end_a else before_state)
                    for k, (obj, before_state) in changed.items()}
        states_b = {k: (obj, state_of(obj)) for k, (obj, _) in changed.items()}
        if flow_a is not None and flow_b is not None:
            self.leave(frame, flow_a, vars_a, states_a)
            return flow_b
        if flow_a is not None:
            self.leave(frame, flow_a, vars_a, states_a)
            put_vars(frame, vars_b)
            return None
        if flow_b is not None:
            self.leave(frame, flow_b, vars_b, states_b)
            for obj, state in states_a.values():
                set_state(obj, state)
            put_vars(frame, vars_a)
            return None
        for k, (obj, sa) in states_a.items():
            set_state(obj, join_states(obj, sa, states_b[k][1]))
        put_vars(frame, join_vars(vars_a, vars_b))
        return None

    def leave(self, frame, kind, vars_, states):
        """A path leaves early with ``states`` for the objects its branch changed: keep an Exit
        that joins in where the path lands."""
        log = ChangeLog()
        # Objects changed since an enclosing branch began may be restored before the landing
        # point: keep their state as this path leaves them too.
        for outer in self.logs:
            for k, (obj, _) in outer.before.items():
                if k not in log.before:
                    log.before[k] = (obj, state_of(obj))
        log.before.update(states)
        self.logs.append(log)
        exit_ = Exit(kind, dict(vars_), log)
        if kind == RETURN:
            frame.exits.append(exit_)
        elif kind in (BREAK, CONTINUE) and frame.loops:
            loop = frame.loops[-1]
            (loop.breaks if kind == BREAK else loop.continues).append(exit_)
        else:                   # raise: the path does not come back
            self.close_log(log)

    def land(self, frame, exits: List[Exit], join_variables: bool):
        """Paths that left early land here: join their states (and variables) in."""
        for exit_ in exits:
            self.close_log(exit_.log)
            for obj, state in exit_.log.before.values():
                set_state(obj, join_states(obj, state_of(obj), state))
            if join_variables:
                put_vars(frame, join_vars(frame.vars, exit_.vars))
        exits.clear()

    def loop_unknown(self, frame, run_body) -> Optional[str]:
        """A loop body that runs an unknown number of times: run it (as a branch that may not
        run) until what it binds and changes stops changing, then widen what still does."""
        self.uncertain += 1
        loop = Loop()
        frame.loops.append(loop)
        try:
            for _ in range(LOOP_PASSES):
                vars_before = dict(frame.vars)
                log = self.open_log()
                try:
                    self.fork(frame, lambda f: self.iteration(f, loop, run_body), [])
                finally:
                    self.close_log(log)
                stable = all(same_value(v, vars_before.get(k)) for k, v in frame.vars.items()) \
                    and all(same_state(state_of(obj), state)
                            for obj, state in log.before.values())
                if stable:
                    break
            else:
                for k, v in frame.vars.items():
                    if not same_value(v, vars_before.get(k)):
                        frame.vars[k] = Unknown("changes on every run of a loop")
                for obj, state in log.before.values():
                    if not same_state(state_of(obj), state):
                        self.havoc(obj, "changes on every run of a loop")
        finally:
            frame.loops.pop()
            self.uncertain -= 1
        self.land(frame, loop.breaks, True)
        return None

    def iteration(self, frame, loop: Loop, run_body):
        """One run of a loop body; ``continue`` paths land at its end."""
        flow = run_body(frame)
        self.land(frame, loop.continues, True)
        if flow == CONTINUE:
            return None
        return flow

    def unknown_receiver_call(self, func: Unknown, args, kwargs):
        """Calling a value the analysis cannot see: it may change what it was read from and
        what it is given."""
        if func.receiver is not None:
            self.havoc(func.receiver, func.reason)
        self.escape(args, kwargs, "given to %s" % func.reason)


def put_vars(frame, new: dict):
    """Give ``frame`` the variables ``new``, in its own dict: a module's globals are the dict
    the functions defined in it read their global names from."""
    if new is not frame.vars:
        frame.vars.clear()
        frame.vars.update(new)
