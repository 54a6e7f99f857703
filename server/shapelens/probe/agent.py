"""ShapeLens probe agent: run one Python file with torch and report the real tensor shapes.

This is a standalone script (standard library + torch only).  It runs in the *user's* Python
interpreter, where shapelens is usually not installed, as ``python /abs/path/agent.py``; it
loads its two helpers, ``guards.py`` and ``processes.py``, from beside itself.

Protocol (see ``runner.py`` for the other side):

* stdin carries one JSON request, then EOF::

      {"path": "/abs/model.py", "source": "...", "device": "auto", "secret": "9f0c...",
       "dims": {"N": 4}, "memory_limit_mb": null, "scratch": "/tmp/shapelens-probe-x1y2",
       "samples": [{"class_name": "Net", "line": 12, "inputs": {"x": ["N", 3, 32, 32]},
                    "ctor_kwargs": null}]}

* stdout is the result channel.  The first thing the agent does is take the stdout file
  descriptor for itself (``os.dup``, not inherited by child processes) and point fd 1 at fd 2,
  so nothing the probed code prints, from Python or from C, can reach the channel.  Every
  message carries the request's ``secret``, which the probed code is never given: the runner
  ignores lines without it, so a result written to the channel by the probed code is not taken
  for the agent's.  Python-level ``print`` output is kept in a bounded buffer (its tail is
  returned as ``stdout_tail``); C-level output goes to stderr, which the runner drains into a
  bounded buffer.  Every message is one JSON line::

      {"secret": "9f0c...", "progress": "running module code"}
      {"secret": "9f0c...", "result": {"status": "ok", "device": "cpu", "facts": [...], ...}}

  ``status`` is ``ok`` or ``error`` (the probed code raised), ``no-torch`` (torch cannot be
  imported here) or ``refused`` (a bad request or an unavailable device; nothing was run).
  ``skipped`` lists what the run did not do (``guards.py``: training beyond one step, writes,
  downloads...), ``dims`` the value each symbolic dim of a sample input took, and
  ``default_dims`` those of them that were not given.

What is recorded follows ``tools/groundtruth.py``: a fact is a plain name (local or global, any
function, module level, each name of a tuple unpacking, ``for`` targets, function parameters at
their ``def`` line) bound to a ``torch.Tensor``, at the line whose execution bound it, with every
distinct shape seen there.  Only frames whose code comes from the probed file are traced.

The file runs as the program, module ``__main__``, so samples written under ``if __name__ ==
"__main__":`` and in a ``main()`` called there are measured like module-level ones; what such a
program does beyond its samples is held back by the rules of ``guards.py`` (one step of a
training loop, one or two batches of a loader, no writes, no downloads, no arguments).
Everything runs under ``torch.no_grad()`` with the default device set to the requested one.
Then each sample input from the request whose class's ``forward`` was not called by the file
itself is run: the class is built (with ``ctor_kwargs``, or no arguments), put in eval mode and
called with ``torch.randn`` inputs of the sample shapes.  Symbolic dims take their value from
``dims``; a name not given there is ``DEFAULT_BATCH_DIM`` (2) when it looks like a batch size
(``N``, ``B``, ``batch``, ``batch_size``, ``bs``) and ``DEFAULT_DIM`` (32) otherwise.

The agent makes itself a child subreaper and ends every process the probed code started before
it reports (``processes.py``).
"""
import ast
import builtins
import faulthandler
import functools
import importlib.util
import inspect
import io
import json
import os
import random
import re
import signal
import sys
import time
import types

DEFAULT_BATCH_DIM = 2
DEFAULT_DIM = 32
BATCH_DIM_NAMES = frozenset({"n", "b", "batch", "batch_size", "bs", "nb"})

STDOUT_TAIL_CHARS = 8192
MAX_SHAPES_PER_FACT = 64

GENERATOR_FLAGS = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
CUDA_DEVICE = re.compile(r"^cuda(?::(\d+))?$")
BINARY_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
              ast.Mult: lambda a, b: a * b, ast.FloorDiv: lambda a, b: a // b,
              ast.Mod: lambda a, b: a % b}


def load_helper(name):
    """A helper module beside this file (``guards``, ``processes``), under a private name so
    that it cannot collide with the user's modules."""
    spec = importlib.util.spec_from_file_location(
        "_shapelens_probe_" + name, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 name + ".py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class DeviceUnavailable(Exception):
    """The requested device cannot be used with this interpreter's torch."""


class ProbeTimeout(BaseException):
    """Raised by SIGINT, which the runner sends when time is up, so that the agent still reports
    the facts seen so far and where the code was.  A BaseException: ``except Exception`` in the
    probed code does not swallow it."""


def on_sigint(signum, frame):
    raise ProbeTimeout("the runner's time limit was reached")


# --------------------------------------------------------------------------- I/O plumbing

class Channel:
    """The result pipe: one JSON object per line, written straight to a private file descriptor,
    each carrying the run's secret."""

    def __init__(self, fd):
        self.fd = fd
        self.secret = None

    def send(self, message):
        message = dict(message, secret=self.secret)
        data = memoryview((json.dumps(message) + "\n").encode("utf-8"))
        try:
            while data:
                data = data[os.write(self.fd, data):]
        except OSError:
            os._exit(1)  # the runner is gone: nobody is waiting for the result

    def progress(self, text):
        self.send({"progress": text})


class TailWriter(io.TextIOBase):
    """A text stream that keeps only the last ``limit`` characters written to it."""

    def __init__(self, limit):
        super().__init__()
        self.limit = limit
        self.parts = []
        self.size = 0

    @property
    def encoding(self):
        return "utf-8"

    def writable(self):
        return True

    def isatty(self):
        return False

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        self.parts.append(text)
        self.size += len(text)
        if self.size > 2 * self.limit:  # amortised trim: floods cost O(1) per write
            kept = "".join(self.parts)[-self.limit:]
            self.parts = [kept]
            self.size = len(kept)
        return len(text)

    def tail(self):
        return "".join(self.parts)[-self.limit:]


# --------------------------------------------------------------------------- static source map

class SourceMap:
    """What the tracer needs to know about the probed source, read from its syntax tree."""

    def __init__(self, tree):
        self.def_line = {}  # first line of a code object (decorator line) -> its `def` line
        self.globals_of = {}  # first line of a function -> names it declares `global`
        self.bound = {}  # line of an assignment target -> [names, first line, last line]
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                self._add_function(node)
            targets, last_line = _binding_targets(node)
            for target in targets:
                for name in _target_names(target):
                    entry = self.bound.setdefault(name.lineno, [set(), node.lineno, last_line])
                    entry[0].add(name.id)
                    entry[1] = min(entry[1], node.lineno)
                    entry[2] = max(entry[2], last_line)

    def _add_function(self, node):
        decorators = getattr(node, "decorator_list", [])
        first_line = min([node.lineno] + [d.lineno for d in decorators])
        self.def_line[first_line] = node.lineno
        declared = set()
        if not isinstance(node, ast.Lambda):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Global):
                    declared.update(sub.names)
        self.globals_of[first_line] = declared


def _binding_targets(node):
    """(target nodes, last line whose completion binds them) for a statement that binds names."""
    if isinstance(node, ast.Assign):
        return node.targets, node.end_lineno
    if isinstance(node, (ast.AugAssign, ast.AnnAssign)) and node.value is not None:
        return [node.target], node.end_lineno
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return [node.target], node.iter.end_lineno
    if isinstance(node, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
        if targets:
            return targets, max(item.context_expr.end_lineno for item in node.items)
    return [], None


def _target_names(node):
    if isinstance(node, ast.Name):
        yield node
    elif isinstance(node, (ast.Tuple, ast.List)):
        for element in node.elts:
            yield from _target_names(element)
    elif isinstance(node, ast.Starred):
        yield from _target_names(node.value)


# --------------------------------------------------------------------------- tracer

class FrameState:
    __slots__ = ("line", "seen", "interrupted")

    def __init__(self, seen):
        self.line = None  # the line that was executing before the current event
        self.seen = seen  # name -> (id, shape) of the tensor it held at the last event
        self.interrupted = False  # that line raised (or a generator yielded): it bound nothing


class ShapeTracer:
    """A ``sys.settrace`` function recording tensor shapes bound by plain names in one file."""

    def __init__(self, path, source_map, tensor_type, warnings):
        self.path = path
        self.map = source_map
        self.Tensor = tensor_type
        self.warnings = warnings
        self.facts = {}  # (line, name) -> set of shape tuples
        self.frames = {}  # live frame -> FrameState
        self.module_seen = {}  # id(globals dict) -> the `seen` map shared by module-level code
        self.entered = set()  # code objects of the file that ran

    def record(self, line, name, tensor):
        if line is None:
            return
        shapes = self.facts.setdefault((line, name), set())
        if len(shapes) < MAX_SHAPES_PER_FACT:
            shapes.add(tuple(int(d) for d in tensor.shape))
        elif len(shapes) == MAX_SHAPES_PER_FACT:
            shapes.add(None)  # marker: more shapes were seen than are kept
            self.warnings.append("line %d: `%s` took more than %d shapes; only the first %d are "
                                 "kept" % (line, name, MAX_SHAPES_PER_FACT, MAX_SHAPES_PER_FACT))

    def tensors_in(self, frame):
        """(name, tensor, declared global) for every plain name of the frame holding a tensor."""
        local_vars = frame.f_locals
        found = [(k, v, False) for k, v in local_vars.items() if isinstance(v, self.Tensor)]
        if local_vars is not frame.f_globals:
            declared = self.map.globals_of.get(frame.f_code.co_firstlineno)
            if declared:
                module_vars = frame.f_globals
                found += [(k, module_vars[k], True) for k in declared
                          if isinstance(module_vars.get(k), self.Tensor)]
        return found

    def on_call(self, frame, event, arg):
        code = frame.f_code
        if code.co_filename != self.path:
            return None  # code from other files runs untraced
        self.entered.add(code)
        if frame in self.frames:  # a generator or coroutine resumed
            return self.on_event
        if frame.f_locals is frame.f_globals:
            seen = self.module_seen.setdefault(id(frame.f_globals), {})
        else:
            seen = {}
        self.frames[frame] = FrameState(seen)
        param_count = code.co_argcount + code.co_kwonlyargcount
        param_count += bool(code.co_flags & inspect.CO_VARARGS)
        param_count += bool(code.co_flags & inspect.CO_VARKEYWORDS)
        def_line = self.map.def_line.get(code.co_firstlineno, code.co_firstlineno)
        local_vars = frame.f_locals
        for name in code.co_varnames[:param_count]:
            value = local_vars.get(name)
            if isinstance(value, self.Tensor):
                self.record(def_line, name, value)
        for name, value, is_global in self.tensors_in(frame):
            key = (id(value), tuple(value.shape))
            if is_global:
                self.module_seen.setdefault(id(frame.f_globals), {})[name] = key
            else:
                seen[name] = key
        return self.on_event

    def on_event(self, frame, event, arg):
        state = self.frames.get(frame)
        if state is None:
            return self.on_event
        if event == "line":
            self.scan(frame, state, frame.f_lineno, False)
            state.line = frame.f_lineno
            state.interrupted = False
        elif event == "exception":
            state.interrupted = True  # only names that really changed count
            self.scan(frame, state, frame.f_lineno, False)
        elif event == "return":
            self.scan(frame, state, frame.f_lineno, True)
            if frame.f_code.co_flags & GENERATOR_FLAGS:
                state.interrupted = True
            else:
                del self.frames[frame]
        return self.on_event

    def scan(self, frame, state, new_line, returning):
        """Attribute names that changed since the last event to the line that just ran."""
        line, seen = state.line, state.seen
        current = {}
        for name, value, is_global in self.tensors_in(frame):
            key = (id(value), tuple(value.shape))
            current[name] = value
            if is_global:
                # assigned from a function: compare with what module-level code last saw
                module_seen = self.module_seen.setdefault(id(frame.f_globals), {})
                if module_seen.get(name) != key:
                    self.record(line, name, value)
                    module_seen[name] = key
            elif seen.get(name) != key:
                self.record(line, name, value)
        if line is not None and not state.interrupted and line in self.map.bound:
            # A completed assignment counts even when the tensor is the same object
            # (`x = self.relu(x)` with an in-place ReLU, `out += identity`).
            names, first, last = self.map.bound[line]
            if returning or not (first < new_line <= last):
                for name in names:
                    if name in current:
                        self.record(line, name, current[name])
        seen.clear()
        seen.update((name, (id(value), tuple(value.shape))) for name, value in current.items())

    def result_facts(self):
        facts = []
        for (line, name), shapes in sorted(self.facts.items()):
            kept = sorted(s for s in shapes if s is not None)
            facts.append({"line": line, "name": name, "shapes": [list(s) for s in kept]})
        return facts


# --------------------------------------------------------------------------- running

def error_record(exc, path):
    """Type, message and the traceback lines inside ``path`` (outermost first) of an exception."""
    lines = []
    if isinstance(exc, SyntaxError) and exc.filename == path and exc.lineno:
        lines.append(exc.lineno)
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path and tb.tb_lineno is not None:
            if tb.tb_lineno not in lines:
                lines.append(tb.tb_lineno)
        tb = tb.tb_next
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    return {"type": type(exc).__name__, "message": message, "lines": lines}


def resolve_device(torch, requested):
    """The device string to run on; raises DeviceUnavailable with a message a user can act on."""
    requested = (requested or "auto").strip()
    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    if requested in ("cpu", "meta"):
        return requested
    cuda = CUDA_DEVICE.match(requested)
    if cuda:
        if not torch.cuda.is_available():
            if torch.version.cuda is None:
                raise DeviceUnavailable(
                    "CUDA is not available in this torch build (torch %s is CPU-only); use "
                    "device cpu or meta, or install a CUDA build of torch" % torch.__version__)
            raise DeviceUnavailable(
                "CUDA is not available: torch %s was built for CUDA %s but finds no usable GPU "
                "(check the driver and CUDA_VISIBLE_DEVICES)" % (torch.__version__,
                                                                 torch.version.cuda))
        count = torch.cuda.device_count()
        if cuda.group(1) is not None and int(cuda.group(1)) >= count:
            raise DeviceUnavailable("%s requested but only %d CUDA device(s) are visible "
                                    "(cuda:0 to cuda:%d)" % (requested, count, count - 1))
        return requested
    if requested == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_built():
            raise DeviceUnavailable("MPS is not available in this torch build (torch %s); MPS "
                                    "needs a macOS build of torch" % torch.__version__)
        if not mps.is_available():
            raise DeviceUnavailable("MPS is not available on this machine (it needs macOS 12.3+ "
                                    "and an Apple-silicon or AMD GPU)")
        return "mps"
    raise DeviceUnavailable("unknown device %r: use auto, cpu, cuda, cuda:N, mps or meta"
                            % requested)


class SampleDims:
    """The values of symbolic dims: the request's ``dims``, else a default; remembers every
    name it was asked for, so the report can say which values the samples used."""

    def __init__(self, given):
        self.given = {str(name): int(value) for name, value in (given or {}).items()}
        self.used = {}

    def __getitem__(self, name):
        if name in self.given:
            value = self.given[name]
        else:
            value = DEFAULT_BATCH_DIM if name.lower() in BATCH_DIM_NAMES else DEFAULT_DIM
        self.used[name] = value
        return value

    def defaulted(self):
        return sorted(name for name in self.used if name not in self.given)


def dim_value(dim, dims):
    """An int for one sample dim: an int, a symbolic name, or an integer expression of names;
    ``dims`` is a :class:`SampleDims`."""
    if isinstance(dim, bool) or dim is None:
        raise ValueError("dim %r is not a size" % (dim,))
    if isinstance(dim, int) and dim >= 0:
        return dim
    if not isinstance(dim, str):
        raise ValueError("dim %r is not a size" % (dim,))

    def value_of(node):
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.Name):
            return dims[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value_of(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY_OPS:
            return BINARY_OPS[type(node.op)](value_of(node.left), value_of(node.right))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("min", "max") and node.args and not node.keywords:
            return (min if node.func.id == "min" else max)(value_of(a) for a in node.args)
        raise ValueError("dim %r is not an integer expression of names" % dim)

    try:
        value = value_of(ast.parse(dim.strip(), mode="eval").body)
    except (SyntaxError, ArithmeticError) as exc:
        raise ValueError("dim %r cannot be evaluated: %s" % (dim, exc))
    if value < 0:
        raise ValueError("dim %r is %d, a negative size" % (dim, value))
    return value


def needs_arguments(cls):
    """True when the class's constructor has a required parameter."""
    try:
        signature = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return False
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD,
             inspect.Parameter.KEYWORD_ONLY)
    return any(p.default is inspect.Parameter.empty and p.kind in kinds
               for p in list(signature.parameters.values())[1:])


def run_sample(sample, namespace, torch, tracer, called_in_run, dims, channel, warnings,
               failure):
    """Build and call one sample module; returns ``failure(exception)`` if it raised, else
    None."""
    class_name = sample.get("class_name")
    cls = namespace.get(class_name)
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        warnings.append("sample for %s skipped: no nn.Module of that name after the run"
                        % class_name)
        return None
    forward_code = getattr(getattr(cls, "forward", None), "__code__", None)
    if forward_code is None or forward_code.co_filename != tracer.path:
        warnings.append("sample for %s skipped: its forward is not defined in this file"
                        % class_name)
        return None
    if forward_code in called_in_run:
        return None  # the file's own code already called it with real inputs
    ctor_kwargs = sample.get("ctor_kwargs")
    if ctor_kwargs is None and needs_arguments(cls):
        warnings.append("sample for %s skipped: its constructor needs arguments" % class_name)
        return None
    try:
        shapes = {param: [dim_value(d, dims) for d in shape]
                  for param, shape in (sample.get("inputs") or {}).items()}
    except (ValueError, TypeError) as exc:
        warnings.append("sample for %s skipped: %s" % (class_name, exc))
        return None
    channel.progress("calling %s.forward" % class_name)
    sys.settrace(tracer.on_call)
    try:
        model = cls(**(ctor_kwargs or {}))
        model.eval()
        inputs = {param: torch.randn(*shape) for param, shape in shapes.items()}
        model(**inputs)
    except Exception as exc:  # the sample raised: that is what the probe reports
        return failure(exc)
    finally:
        sys.settrace(None)
    return None


def set_memory_limit(megabytes, warnings):
    """Cap the address space of this process, so a huge allocation fails instead of swapping."""
    try:
        import resource
    except ImportError:
        warnings.append("memory_limit_mb ignored: no resource module on this platform")
        return
    limit = int(megabytes) * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def probe(request, channel, helpers):
    """Run one request; returns the result object (without ``stdout_tail``)."""
    started = time.perf_counter()
    warnings = []
    result = {"status": "ok", "device": None, "facts": [], "error": None, "message": "",
              "warnings": warnings, "skipped": [], "dims": {}, "default_dims": [],
              "torch_version": None, "elapsed_s": 0.0}

    path = os.path.abspath(request["path"])
    source = request.get("source")
    if source is None:
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
    if request.get("memory_limit_mb"):
        set_memory_limit(request["memory_limit_mb"], warnings)

    channel.progress("importing torch")
    try:
        import torch
    except BaseException as exc:  # ImportError, or a broken install (missing shared library...)
        limit = request.get("memory_limit_mb")
        result.update(status="no-torch", message=(
            "torch cannot be imported by %s (Python %s): %s: %s.%s Install it into that "
            "interpreter with: %s -m pip install torch"
            % (sys.executable, sys.version.split()[0], type(exc).__name__, exc,
               " (The address space was limited to %s MB, which may be too little to load "
               "torch.)" % limit if limit else "", sys.executable)))
        return result
    result["torch_version"] = torch.__version__

    try:
        device = resolve_device(torch, request.get("device"))
    except DeviceUnavailable as exc:
        result.update(status="refused", message=str(exc))
        return result
    result["device"] = device

    guards = helpers.guards
    try:
        tree = ast.parse(source, filename=path)
        code = compile(guards.limit_training_loops(ast.parse(source, filename=path)), path,
                       "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:  # ValueError: null bytes in the source
        result.update(status="error", error=error_record(exc, path))
        return result

    # The file is the program: module __main__ (sys.modules too, for pickle and dataclasses).
    module = types.ModuleType("__main__")
    namespace = module.__dict__
    namespace.update({"__name__": "__main__", "__file__": path, "__builtins__": builtins,
                      "__package__": None, "__spec__": None, "__loader__": None,
                      "__cached__": None})
    sys.modules["__main__"] = module
    sys.argv = [path]  # no command-line arguments: argparse takes its defaults
    sys.path[0] = os.path.dirname(path)  # in place of this agent's own directory
    sys.dont_write_bytecode = True  # importing the user's modules writes no __pycache__

    tracer = ShapeTracer(path, SourceMap(tree), torch.Tensor, warnings)
    dims = SampleDims(request.get("dims"))
    notes = guards.Notes(path)
    rules = guards.Guards(torch, path, device, request.get("scratch"), notes)
    rules.install()
    random.seed(0)
    torch.manual_seed(0)
    if device != "cpu":  # cpu is already the default; skip the dispatch cost of a device mode
        if not hasattr(torch, "set_default_device"):
            result.update(status="refused", message="device %s needs torch 2.0 or newer (this "
                          "is torch %s); use device cpu" % (device, torch.__version__))
            return result
        torch.set_default_device(device)

    def failure(exc):
        """The error record of an exception, or None when a guard caused it (a refused
        download, argument parsing without arguments, values on meta): then a note says
        where and why the run stopped."""
        record = error_record(exc, path)
        return None if rules.explain(exc, record) else record

    error = None
    run_started = time.perf_counter()
    meta_mode = rules.meta_mode()
    with torch.no_grad(), (meta_mode if meta_mode is not None else NoMode()):
        channel.progress("running module code")
        sys.settrace(tracer.on_call)
        try:
            exec(code, namespace)
        except SystemExit as exc:
            if exc.code not in (None, 0):
                error = failure(exc)
        except ProbeTimeout as exc:
            error = error_record(exc, path)
        except BaseException as exc:  # anything the file raised is the probe's answer
            error = failure(exc)
        finally:
            sys.settrace(None)
        if error is None:  # also after a guard stopped the file: the classes are defined
            called_in_run = set(tracer.entered)
            try:
                for sample in request.get("samples") or []:
                    sample_error = run_sample(sample, namespace, torch, tracer, called_in_run,
                                              dims, channel, warnings, failure)
                    error = error or sample_error
            except ProbeTimeout as exc:
                error = error_record(exc, path)
    if device.startswith(("cuda", "mps")) and error is None:
        try:  # surface errors of kernels still running asynchronously
            torch.cuda.synchronize() if device != "mps" else torch.mps.synchronize()
        except Exception as exc:
            error = error_record(exc, path)
    result["facts"] = tracer.result_facts()
    result["skipped"] = notes.to_json()
    result["dims"] = dict(sorted(dims.used.items()))
    result["default_dims"] = dims.defaulted()
    if error is not None:
        result.update(status="error", error=error)
    result["run_s"] = time.perf_counter() - run_started
    result["elapsed_s"] = time.perf_counter() - started
    return result


class NoMode:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class Helpers:
    """The agent's helper modules, loaded from beside this file."""

    def __init__(self):
        self.guards = load_helper("guards")
        self.processes = load_helper("processes")


def main():
    signal.signal(signal.SIGINT, on_sigint)
    # Take stdout for the result channel before anything can print to it.
    channel = Channel(os.dup(1))  # os.dup: not inherited by the processes the probed code starts
    os.dup2(2, 1)
    stdout = TailWriter(STDOUT_TAIL_CHARS)
    sys.stdout = stdout
    faulthandler.enable(file=sys.__stderr__)  # a segfault dumps the Python stack to stderr

    raw = sys.stdin.buffer.read()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # probed code reading stdin sees end of file
    sys.stdin = io.TextIOWrapper(io.FileIO(devnull, closefd=False))

    helpers = Helpers()
    agent_pid = os.getpid()
    end_processes = functools.partial(helpers.processes.end_tree, agent_pid)
    helpers.processes.become_subreaper()
    real_exit = os._exit

    def exit_after_cleanup(status):
        if os.getpid() == agent_pid:  # not in a forked child (multiprocessing workers...)
            end_processes()  # the probed code's os._exit must not leave its children behind
        real_exit(status)

    os._exit = exit_after_cleanup
    try:
        request = json.loads(raw.decode("utf-8"))
        if not isinstance(request, dict) or not isinstance(request.get("path"), str):
            raise ValueError("the request must be an object with a 'path'")
        channel.secret = request.pop("secret", None)
        del raw
    except ValueError as exc:
        result = {"status": "refused", "message": "bad probe request: %s" % exc}
    else:
        try:
            result = probe(request, channel, helpers)
        except MemoryError:
            result = {"status": "error", "error": {"type": "MemoryError", "message": "",
                                                   "lines": []}}
        except Exception as exc:  # a problem of the agent itself, e.g. an unreadable file
            result = {"status": "refused", "message": "%s: %s" % (type(exc).__name__, exc)}
    end_processes()
    result["stdout_tail"] = stdout.tail()
    channel.send({"result": result})
    # Exit at once: threads the probed code started must not keep the process alive.
    real_exit(0)


if __name__ == "__main__":
    main()
