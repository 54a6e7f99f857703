#!/usr/bin/env python3
# Copy of the corpus ground-truth tool (../shared/tools/groundtruth.py), kept here so the suite
# runs from a clone alone; used by tests/data/vision/test_fixtures_vs_torch.py.
"""Ground truth for one ShapeLens case file, obtained by running it with torch on CPU.

Usage: groundtruth.py CASE.py [--timeout SECONDS] [-o OUT.json]

The case is executed like ``python CASE.py`` (module name ``__main__``) under ``sys.settrace``.
Only frames whose code comes from the case file are traced.  Output (stdout, or -o):

    {"case": NAME,
     "facts": [{"line": L, "name": N, "shapes": [[...], ...]}, ...],
     "error": null | {"type": "RuntimeError", "message": "...", "lines": [L1, L2, ...]}}

A fact is a plain (local or global) name bound to a torch.Tensor, attributed to the line whose
execution bound it; function parameters are attributed to the ``def`` line.  A name is recorded
when it holds a tensor with a new (object id, shape), and also whenever the statement that just
completed assigns it (so ``x = self.relu(x)`` with an in-place ReLU, or ``out += identity``, still
count).  Tuples of tensors are not facts; each name of a tuple unpacking is.

Comment-driven cases: after the file has run without error, every ``nn.Module`` subclass whose
``def forward`` line (or the comment line directly above it) carries
``# shape: x=[N, 3, 32, 32], mask=[N, 32]`` and whose ``forward`` was not called during the run is
instantiated with no arguments and called under ``torch.no_grad()`` with ``torch.randn`` inputs
of those shapes.  Symbolic dims are bound by a header comment anywhere in the file:
``# groundtruth: N=2, H=32``.  Classes whose constructor needs arguments are skipped.

Exit status: 0 when ground truth was produced (whether or not the case raised), 2 on usage
errors, 3 when the case timed out or could not be compiled.
"""
from __future__ import annotations

import argparse
import ast
import builtins
import contextlib
import inspect
import io
import json
import os
import random
import re
import signal
import sys
import tokenize
import types

GEN_FLAGS = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR

SHAPE_COMMENT = re.compile(r"^#+\s*shape\s*:\s*(.*)$", re.IGNORECASE)
GT_HEADER = re.compile(r"^#+\s*groundtruth\s*:\s*(.*)$", re.IGNORECASE)
SAMPLE_ITEM = re.compile(r"([A-Za-z_]\w*)\s*=\s*[\[\(]([^\]\)]*)[\]\)]")


class CaseTimeout(BaseException):
    """Raised from the alarm handler; a BaseException so that case code cannot swallow it."""


# --------------------------------------------------------------------------- safe arithmetic

_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a ** b,
    ast.Div: lambda a, b: a / b,
}
_FUNCS = {"min": min, "max": max, "abs": abs}


def eval_dim(expr, bindings):
    """Evaluate an integer dim expression over bound symbolic names; raise ValueError otherwise."""
    if isinstance(expr, bool):
        raise ValueError("boolean dim")
    if isinstance(expr, int):
        return expr
    if not isinstance(expr, str):
        raise ValueError("dim is neither int nor string: %r" % (expr,))
    tree = ast.parse(expr.strip(), mode="eval")

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int) \
                and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in bindings:
                raise ValueError("unbound symbolic dim %r" % node.id)
            return bindings[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in _FUNCS and not node.keywords:
            return _FUNCS[node.func.id](*[ev(a) for a in node.args])
        raise ValueError("unsupported dim expression %r" % expr)

    value = ev(tree)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("dim %r is not an integer" % expr)
        value = int(value)
    return value


def parse_bindings(text):
    out = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, _, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not name.isidentifier():
            raise ValueError("bad binding %r" % part)
        out[name] = int(value)
    return out


# --------------------------------------------------------------------------- static facts

class SourceInfo:
    """What the tracer needs to know about the case source."""

    def __init__(self, source, path):
        self.source = source
        self.tree = ast.parse(source, filename=path)
        self.comments = {}  # line -> comment text
        try:
            for tok in tokenize.generate_tokens(io.StringIO(source).readline):
                if tok.type == tokenize.COMMENT:
                    self.comments[tok.start[0]] = tok.string
        except (tokenize.TokenError, IndentationError, SyntaxError):
            pass
        self.lines = source.splitlines()
        self.bindings = {}
        for line in sorted(self.comments):
            m = GT_HEADER.match(self.comments[line].strip())
            if m:
                self.bindings.update(parse_bindings(m.group(1)))
        # first line of a code object (decorator line for decorated functions) -> def line
        self.def_line = {}
        # function first line -> names declared global in it
        self.globals_of = {}
        # target line -> (names assigned by a statement whose target starts there, last line of
        # the statement part whose completion binds them)
        self.bound = {}
        self._walk()

    def _walk(self):
        for node in ast.walk(self.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                first = node.lineno
                for dec in getattr(node, "decorator_list", []):
                    first = min(first, dec.lineno)
                self.def_line[first] = node.lineno
                names = set()
                if not isinstance(node, ast.Lambda):
                    for sub in ast.walk(node):
                        if isinstance(sub, ast.Global):
                            names.update(sub.names)
                self.globals_of[first] = names
            targets, end = None, None
            if isinstance(node, ast.Assign):
                targets, end = node.targets, node.end_lineno
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                if getattr(node, "value", None) is not None:
                    targets, end = [node.target], node.end_lineno
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                targets, end = [node.target], node.iter.end_lineno
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                targets = [it.optional_vars for it in node.items if it.optional_vars is not None]
                end = max(it.context_expr.end_lineno for it in node.items)
            if not targets:
                continue
            for tgt in targets:
                for name_node in _target_names(tgt):
                    entry = self.bound.setdefault(name_node.lineno, [set(), node.lineno, end])
                    entry[0].add(name_node.id)
                    entry[1] = min(entry[1], node.lineno)
                    entry[2] = max(entry[2], end)

    def shape_comment_classes(self):
        """Top-level classes with a ``# shape:`` comment on (or above) ``def forward``."""
        found = []
        for node in self.tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                        and item.name == "forward":
                    text = None
                    for line in (item.lineno, item.lineno - 1):
                        comment = self.comments.get(line)
                        if comment is None:
                            continue
                        if line != item.lineno and self.lines[line - 1].strip() != comment.strip():
                            continue  # the line above must be a comment line
                        m = SHAPE_COMMENT.match(comment.strip())
                        if m:
                            text = m.group(1)
                            break
                    if text is not None:
                        found.append((node.name, item, text))
        return found


def _target_names(node):
    if isinstance(node, ast.Name):
        yield node
    elif isinstance(node, (ast.Tuple, ast.List)):
        for elt in node.elts:
            yield from _target_names(elt)
    elif isinstance(node, ast.Starred):
        yield from _target_names(node.value)


# --------------------------------------------------------------------------- tracer

class Tracer:
    def __init__(self, path, info, torch):
        self.path = path
        self.info = info
        self.Tensor = torch.Tensor
        self.facts = {}  # (line, name) -> set of shape tuples
        self.frames = {}  # frame -> [prev_line, snapshot, skip_rule]
        self.global_snaps = {}  # id(globals dict) -> snapshot
        self.called = set()  # code objects of the case that were entered

    def _record(self, line, name, value):
        if line is None:
            return
        self.facts.setdefault((line, name), set()).add(tuple(int(d) for d in value.shape))

    def _tensor_items(self, frame):
        """Tensors visible as plain names bound by this frame: (name, value, is_declared_global)."""
        f_locals = frame.f_locals
        items = [(k, v, False) for k, v in f_locals.items() if isinstance(v, self.Tensor)]
        if f_locals is not frame.f_globals:
            gnames = self.info.globals_of.get(frame.f_code.co_firstlineno)
            if gnames:
                g = frame.f_globals
                items += [(k, g[k], True) for k in gnames if isinstance(g.get(k), self.Tensor)]
        return items

    def _scan(self, frame, state, new_line, completed):
        prev, snap, skip_rule = state
        current = {}
        for name, value, is_global in self._tensor_items(frame):
            key = (id(value), tuple(value.shape))
            current[name] = (key, value)
            if is_global:
                # a global assigned from a function: shared with the module frame's view
                gsnap = self.global_snaps.setdefault(id(frame.f_globals), {})
                if gsnap.get(name) != key:
                    self._record(prev, name, value)
                    gsnap[name] = key
            elif snap.get(name) != key:
                self._record(prev, name, value)
        if prev is not None and not skip_rule and prev in self.info.bound:
            names, start, end = self.info.bound[prev]
            # the statement is complete once execution left its lines (or the frame returns)
            if completed or not (start < new_line <= end):
                for name in names:
                    if name in current:
                        self._record(prev, name, current[name][1])
        snap.clear()
        snap.update((k, v[0]) for k, v in current.items())

    def global_trace(self, frame, event, arg):
        code = frame.f_code
        if code.co_filename != self.path:
            return None
        self.called.add(code)
        if frame in self.frames:  # a resumed generator or coroutine
            return self.local_trace
        if frame.f_locals is frame.f_globals:
            snap = self.global_snaps.setdefault(id(frame.f_globals), {})
        else:
            snap = {}
        state = [None, snap, False]
        self.frames[frame] = state
        nparams = code.co_argcount + code.co_kwonlyargcount
        nparams += bool(code.co_flags & inspect.CO_VARARGS)
        nparams += bool(code.co_flags & inspect.CO_VARKEYWORDS)
        def_line = self.info.def_line.get(code.co_firstlineno, code.co_firstlineno)
        f_locals = frame.f_locals
        for name in code.co_varnames[:nparams]:
            value = f_locals.get(name)
            if isinstance(value, self.Tensor):
                self._record(def_line, name, value)
        for name, value, is_global in self._tensor_items(frame):
            key = (id(value), tuple(value.shape))
            if is_global:
                self.global_snaps.setdefault(id(frame.f_globals), {})[name] = key
            else:
                snap[name] = key
        return self.local_trace

    def local_trace(self, frame, event, arg):
        state = self.frames.get(frame)
        if state is None:
            return self.local_trace
        if event == "line":
            self._scan(frame, state, frame.f_lineno, False)
            state[0] = frame.f_lineno
            state[2] = False
        elif event == "exception":
            # the statement being executed did not complete: only real changes count
            state[2] = True
            self._scan(frame, state, frame.f_lineno, False)
        elif event == "return":
            self._scan(frame, state, frame.f_lineno, True)
            if not frame.f_code.co_flags & GEN_FLAGS:
                del self.frames[frame]
            else:
                state[2] = True
        return self.local_trace

    def result_facts(self):
        out = []
        for (line, name), shapes in sorted(self.facts.items()):
            out.append({"line": line, "name": name, "shapes": [list(s) for s in sorted(shapes)]})
        return out


def error_record(exc, path):
    lines = []
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path and tb.tb_lineno is not None:
            if tb.tb_lineno not in lines:
                lines.append(tb.tb_lineno)
        tb = tb.tb_next
    return {"type": type(exc).__name__, "message": str(exc), "lines": lines}


def needs_arguments(cls):
    try:
        sig = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return False
    params = list(sig.parameters.values())[1:]
    return any(p.default is inspect.Parameter.empty
               and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
               for p in params)


def run_case(path, timeout):
    path = os.path.abspath(path)
    with open(path, encoding="utf-8") as fh:
        source = fh.read()
    info = SourceInfo(source, path)
    code = compile(source, path, "exec", dont_inherit=True)

    import torch  # imported here so that the case's own warnings are not ours

    random.seed(0)
    torch.manual_seed(0)

    module = types.ModuleType("__main__")
    module.__dict__.update({
        "__name__": "__main__", "__file__": path, "__builtins__": builtins,
        "__package__": None, "__spec__": None, "__loader__": None, "__cached__": None,
    })
    g = module.__dict__
    tracer = Tracer(path, info, torch)
    error = None
    warnings_out = []

    saved_main = sys.modules.get("__main__")
    saved_argv = sys.argv[:]
    saved_path = sys.path[:]
    sys.modules["__main__"] = module
    sys.argv = [path]
    sys.path.insert(0, os.path.dirname(path))

    def on_alarm(signum, frame):
        raise CaseTimeout()

    old_handler = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            sys.settrace(tracer.global_trace)
            try:
                exec(code, g)
            except SystemExit as exc:
                if exc.code not in (None, 0):
                    error = error_record(exc, path)
            except Exception as exc:  # the case raised: that is the ground truth
                error = error_record(exc, path)
            finally:
                sys.settrace(None)
            if error is None:
                called_in_run = set(tracer.called)
                error = run_shape_comments(info, g, tracer, path, torch, warnings_out,
                                           called_in_run)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        sys.settrace(None)
        if saved_main is not None:
            sys.modules["__main__"] = saved_main
        sys.argv = saved_argv
        sys.path[:] = saved_path
    for w in warnings_out:
        print("groundtruth: %s: %s" % (os.path.basename(path), w), file=sys.stderr)
    name = os.path.splitext(os.path.basename(path))[0]
    return {"case": name, "facts": tracer.result_facts(), "error": error}


def run_shape_comments(info, g, tracer, path, torch, warnings_out, called_in_run):
    """Call not-yet-called commented modules with inputs built from their ``# shape:`` comment."""
    error = None
    for cls_name, fn_node, text in info.shape_comment_classes():
        cls = g.get(cls_name)
        if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
            warnings_out.append("class %s not found after the run" % cls_name)
            continue
        forward = cls.__dict__.get("forward")
        fcode = getattr(forward, "__code__", None)
        if fcode is None or fcode.co_filename != path:
            continue
        if fcode in called_in_run:
            continue  # already exercised by the file's own sample input
        if needs_arguments(cls):
            warnings_out.append("class %s skipped: its constructor needs arguments" % cls_name)
            continue
        inputs = {}
        try:
            items = SAMPLE_ITEM.findall(text)
            if not items:
                raise ValueError("no shapes in comment %r" % text)
            for pname, dims in items:
                shape = [eval_dim(d.strip(), info.bindings) for d in dims.split(",") if d.strip()]
                inputs[pname] = shape
        except (ValueError, SyntaxError) as exc:
            warnings_out.append("class %s skipped: %s" % (cls_name, exc))
            continue
        sys.settrace(tracer.global_trace)
        try:
            model = cls()
            model.eval()
            with torch.no_grad():
                args = {k: torch.randn(*v) for k, v in inputs.items()}
                model(**args)
        except Exception as exc:
            if error is None:
                error = error_record(exc, path)
        finally:
            sys.settrace(None)
    return error


def dump(result):
    parts = ['{"case": %s,' % json.dumps(result["case"]), ' "facts": [']
    facts = result["facts"]
    for i, fact in enumerate(facts):
        parts.append("  " + json.dumps(fact) + ("," if i < len(facts) - 1 else ""))
    parts.append(" ],")
    parts.append(' "error": %s}' % json.dumps(result["error"]))
    return "\n".join(parts) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description="Run a ShapeLens case with torch and print its "
                                             "ground truth as JSON.")
    ap.add_argument("case", help="the case file (*.py)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds (default 60)")
    ap.add_argument("-o", "--output", help="write the JSON here instead of stdout")
    args = ap.parse_args(argv)
    if not os.path.isfile(args.case):
        print("groundtruth: no such file: %s" % args.case, file=sys.stderr)
        return 2
    real_stdout = sys.stdout
    try:
        result = run_case(args.case, args.timeout)
    except CaseTimeout:
        print("groundtruth: %s: timed out after %gs" % (args.case, args.timeout), file=sys.stderr)
        return 3
    except (SyntaxError, ValueError, UnicodeDecodeError) as exc:
        print("groundtruth: %s: cannot run: %s" % (args.case, exc), file=sys.stderr)
        return 3
    text = dump(result)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        real_stdout.write(text)
        real_stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
