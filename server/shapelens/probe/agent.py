"""ShapeLens probe agent: run one Python file with torch and report the real tensor shapes.

This is a standalone script (standard library + torch only).  It runs in the *user's* Python
interpreter, where shapelens is usually not installed, as ``python /abs/path/agent.py``.

Protocol (see ``runner.py`` for the other side):

* stdin carries one JSON request, then EOF::

      {"path": "/abs/model.py", "source": "...", "device": "auto",
       "dims": {"N": 4}, "memory_limit_mb": null,
       "samples": [{"class_name": "Net", "line": 12, "inputs": {"x": ["N", 3, 32, 32]},
                    "ctor_kwargs": null}]}

* stdout is the result channel.  The first thing the agent does is take the stdout file
  descriptor for itself (``os.dup``) and point fd 1 at fd 2, so nothing the probed code prints,
  from Python or from C, can reach the channel.  Python-level ``print`` output is kept in a
  bounded buffer (its tail is returned as ``stdout_tail``); C-level output goes to stderr, which
  the runner drains into a bounded buffer.  Every message is one JSON line::

      {"progress": "running module code"}
      {"result": {"status": "ok", "device": "cpu", "facts": [...], "error": null, ...}}

  ``status`` is ``ok`` or ``error`` (the probed code raised), ``no-torch`` (torch cannot be
  imported here) or ``refused`` (a bad request or an unavailable device; nothing was run).

What is recorded follows ``tools/groundtruth.py``: a fact is a plain name (local or global, any
function, module level, each name of a tuple unpacking, ``for`` targets, function parameters at
their ``def`` line) bound to a ``torch.Tensor``, at the line whose execution bound it, with every
distinct shape seen there.  Only frames whose code comes from the probed file are traced.

Unlike ``groundtruth.py`` the file runs as module ``__probe__`` (not ``__main__``), so
``if __name__ == "__main__":`` blocks do not run; module-level code, including a ``main()``
called at module level, does.  Everything runs under ``torch.no_grad()`` with the default device
set to the requested one.  Then each sample input from the request whose class's ``forward`` was
not called by the file itself is run: the class is built (with ``ctor_kwargs``, or no arguments),
put in eval mode and called with ``torch.randn`` inputs of the sample shapes.  Symbolic dims take
their value from ``dims``; a name not given there is ``DEFAULT_BATCH_DIM`` (2) when it looks like a
batch size (``N``, ``B``, ``batch``, ``batch_size``, ``bs``) and ``DEFAULT_DIM`` (32) otherwise.
"""
import ast
import builtins
import faulthandler
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
    """The result pipe: one JSON object per line, written straight to a private file descriptor."""

    def __init__(self, fd):
        self.fd = fd

    def send(self, message):
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


def dim_value(dim, dims):
    """An int for one sample dim: an int, a symbolic name, or an integer expression of names."""
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
            if node.id in dims:
                return int(dims[node.id])
            return DEFAULT_BATCH_DIM if node.id.lower() in BATCH_DIM_NAMES else DEFAULT_DIM
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


def run_sample(sample, namespace, torch, tracer, called_in_run, dims, channel, warnings):
    """Build and call one sample module; returns an error record, or None."""
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
        return error_record(exc, tracer.path)
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


def probe(request, channel):
    """Run one request; returns the result object (without ``stdout_tail``)."""
    started = time.perf_counter()
    warnings = []
    result = {"status": "ok", "device": None, "facts": [], "error": None, "message": "",
              "warnings": warnings, "torch_version": None, "elapsed_s": 0.0}

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

    try:
        code = compile(source, path, "exec", dont_inherit=True)
        tree = ast.parse(source, filename=path)
    except (SyntaxError, ValueError) as exc:  # ValueError: null bytes in the source
        result.update(status="error", error=error_record(exc, path))
        return result

    module = types.ModuleType("__probe__")
    namespace = module.__dict__
    namespace.update({"__name__": "__probe__", "__file__": path, "__builtins__": builtins,
                      "__package__": None, "__spec__": None, "__loader__": None,
                      "__cached__": None})
    sys.modules["__probe__"] = module  # dataclasses, pickle and typing look their module up
    sys.argv = [path]
    sys.path[0] = os.path.dirname(path)  # in place of this agent's own directory

    tracer = ShapeTracer(path, SourceMap(tree), torch.Tensor, warnings)
    dims = request.get("dims") or {}
    random.seed(0)
    torch.manual_seed(0)
    if device != "cpu":  # cpu is already the default; skip the dispatch cost of a device mode
        if not hasattr(torch, "set_default_device"):
            result.update(status="refused", message="device %s needs torch 2.0 or newer (this "
                          "is torch %s); use device cpu" % (device, torch.__version__))
            return result
        torch.set_default_device(device)
    error = None
    run_started = time.perf_counter()
    with torch.no_grad():
        channel.progress("running module code")
        sys.settrace(tracer.on_call)
        try:
            exec(code, namespace)
        except SystemExit as exc:
            if exc.code not in (None, 0):
                error = error_record(exc, path)
        except BaseException as exc:  # anything the file raised is the probe's answer
            error = error_record(exc, path)
        finally:
            sys.settrace(None)
        if error is None:
            called_in_run = set(tracer.entered)
            try:
                for sample in request.get("samples") or []:
                    sample_error = run_sample(sample, namespace, torch, tracer, called_in_run,
                                              dims, channel, warnings)
                    error = error or sample_error
            except ProbeTimeout as exc:
                error = error_record(exc, path)
    if device.startswith(("cuda", "mps")) and error is None:
        try:  # surface errors of kernels still running asynchronously
            torch.cuda.synchronize() if device != "mps" else torch.mps.synchronize()
        except Exception as exc:
            error = error_record(exc, path)
    result["facts"] = tracer.result_facts()
    if error is not None:
        result.update(status="error", error=error)
    result["run_s"] = time.perf_counter() - run_started
    result["elapsed_s"] = time.perf_counter() - started
    return result


def main():
    signal.signal(signal.SIGINT, on_sigint)
    # Take stdout for the result channel before anything can print to it.
    channel = Channel(os.dup(1))
    os.dup2(2, 1)
    stdout = TailWriter(STDOUT_TAIL_CHARS)
    sys.stdout = stdout
    faulthandler.enable(file=sys.__stderr__)  # a segfault dumps the Python stack to stderr

    raw = sys.stdin.buffer.read()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # probed code reading stdin sees end of file
    sys.stdin = io.TextIOWrapper(io.FileIO(devnull, closefd=False))

    try:
        request = json.loads(raw.decode("utf-8"))
        if not isinstance(request, dict) or not isinstance(request.get("path"), str):
            raise ValueError("the request must be an object with a 'path'")
    except ValueError as exc:
        result = {"status": "refused", "message": "bad probe request: %s" % exc}
    else:
        try:
            result = probe(request, channel)
        except MemoryError:
            result = {"status": "error", "error": {"type": "MemoryError", "message": "",
                                                   "lines": []}}
        except Exception as exc:  # a problem of the agent itself, e.g. an unreadable file
            result = {"status": "refused", "message": "%s: %s" % (type(exc).__name__, exc)}
    result["stdout_tail"] = stdout.tail()
    channel.send({"result": result})
    # Exit at once: threads the probed code started must not keep the process alive.
    os._exit(0)


if __name__ == "__main__":
    main()
