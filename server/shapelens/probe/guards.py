"""What a probe run does not do: train, write files, reach the network.

Standard library only: the agent loads this file in the user's interpreter and hands torch in.

The probe runs the file as the program (``__main__``), so that samples written under
``if __name__ == "__main__":`` or in a ``main()`` it calls are measured like module-level
ones.  What such a program does beyond its samples is held back by these rules, and every
rule that changed something leaves a :class:`Notes` entry (line, what was not done), which the
user sees in the probe's report:

* a loop whose body trains — it calls ``.backward()``, or a function or method of the file
  that does — runs its first iteration only (:func:`limit_training_loops` rewrites the
  syntax tree; line numbers stay as written);
* a ``DataLoader`` yields its first batch and, when the last batch of an epoch is smaller,
  one batch of that size (a hard-coded batch size fails as it would at the end of an epoch);
  map-style datasets are read in this process, so no worker processes start;
* ``backward()`` does not run (the probe runs under ``torch.no_grad()``); code after it that
  then finds no gradient (``param.grad`` is None: a TypeError or AttributeError naming
  ``NoneType``) ends the run with a note, not a run-time error;
* nothing is written outside the run's scratch folder (the temp dir, deleted afterwards):
  ``torch.save``/``torch.jit.save``/``torch.onnx.export`` to a path do nothing, ``open`` for
  writing gives a stream to the null device, directories are not made, nothing is removed or
  renamed;
* no connection leaves the machine: it fails as a refused connection, so libraries fall back
  as they do offline (a cached model still loads); an error that follows at the same line of
  the file ends the run with a note ("needs a download") instead of a run-time error;
* the program gets no command-line arguments; when argument parsing exits for want of them,
  the run ends with a note;
* on ``meta``, device moves (``.to(device)``, ``.cuda()``, ``device=``) keep tensors on meta and
  tensors from elsewhere (a loader, numpy, ``torch.FloatTensor(array)``) are moved there, and
  distributions do not check their arguments' values; an operation that needs values
  (``.item()``, printing a number) ends the run with a note.

These are rules for a measuring run of trusted code, not a sandbox: C extensions that write or
connect on their own are not stopped.
"""
from __future__ import annotations

import argparse
import ast
import builtins
import errno
import io
import os
import re
import socket
import sys

HELPER = "__shapelens_probe__"  # the name rewritten loops call, set in builtins
WRITE_MODES = frozenset("wax+")
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "", None})
MIXED_DEVICES = re.compile(r"expected device|same device|found at least two devices")
META_ARTIFACT = re.compile(r"\bmeta\b|Tensor\.__format__", re.IGNORECASE)


class Notes:
    """What the run did not do, one entry per line and kind; ``stop`` is where it ended early."""

    def __init__(self, path):
        self.path = path
        self.entries = {}  # (line, kind) -> message
        self.stop = None  # {"line": n, "message": text} when a rule ended the run

    def line(self):
        """The line of the probed file that is executing (innermost), or None."""
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == self.path:
                return frame.f_lineno
            frame = frame.f_back
        return None

    def add(self, kind, message, line=None):
        line = self.line() if line is None else line
        self.entries.setdefault((line or 0, kind), message)
        return line

    def lines_of(self, kind):
        return {line for line, k in self.entries if k == kind}

    def to_json(self):
        out = [{"line": line, "message": message}
               for (line, _kind), message in sorted(self.entries.items())]
        if self.stop is not None:
            out.append(dict(self.stop))
        return out


# --------------------------------------------------------------------------- training loops

def training_functions(tree):
    """Names of the file's functions and methods that train: call ``.backward()``, directly or
    through another function or method of the file (matched by name)."""
    calls, direct = {}, set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names = _called_names(node)
            calls.setdefault(node.name, set()).update(names)
            if "backward" in names:
                direct.add(node.name)
    training = set(direct)
    changed = True
    while changed:
        changed = False
        for name, called in calls.items():
            if name not in training and called & training:
                training.add(name)
                changed = True
    return training


def _called_names(node):
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            if isinstance(func, ast.Attribute):
                names.add(func.attr)
            elif isinstance(func, ast.Name):
                names.add(func.id)
    return names


class _LimitLoops(ast.NodeTransformer):
    def __init__(self, training):
        self.training = training | {"backward"}

    def trains(self, statements):
        return any(self.training & _called_names(s) for s in statements)

    def visit_For(self, node):
        self.generic_visit(node)
        if self.trains(node.body):
            node.iter = _limited(node.iter, node.lineno)
        return node

    def visit_While(self, node):
        self.generic_visit(node)
        if not self.trains(node.body):
            return node
        enter = ast.Expr(_helper_call("enter", None, node.lineno, node))
        again = _helper_call("again", None, node.lineno, node.test)
        node.test = ast.copy_location(ast.BoolOp(op=ast.And(), values=[again, node.test]),
                                      node.test)
        return [ast.copy_location(enter, node), node]


WRAPPERS = frozenset({"enumerate", "zip", "tqdm", "iter"})  # limited through their first argument


def _limited(iterable, line):
    """``once(iterable)``; ``enumerate(once(loader))`` for ``enumerate(loader)`` (also ``zip``,
    ``tqdm``), so that the helper sees the loader itself."""
    func = iterable.func if isinstance(iterable, ast.Call) else None
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if name in WRAPPERS and iterable.args and not isinstance(iterable.args[0], ast.Starred):
        iterable.args[0] = _limited(iterable.args[0], line)
        return iterable
    return _helper_call("once", iterable, line, iterable)


def _helper_call(method, argument, line, where):
    """``__shapelens_probe__.method([argument,] line)``, placed where ``where`` is."""
    args = ([argument] if argument is not None else []) + [ast.Constant(line)]
    call = ast.Call(func=ast.Attribute(value=ast.Name(id=HELPER, ctx=ast.Load()), attr=method,
                                       ctx=ast.Load()), args=args, keywords=[])
    return ast.copy_location(call, where)  # fix_missing_locations places the inner nodes


def limit_training_loops(tree):
    """Rewrite ``tree`` in place so that loops that train run one iteration; returns it."""
    tree = _LimitLoops(training_functions(tree)).visit(tree)
    return ast.fix_missing_locations(tree)


class Loops:
    """The helper the rewritten loops call (``__shapelens_probe__.once(...)`` and friends)."""

    def __init__(self, notes, loader_type):
        self.notes = notes
        self.loader_type = loader_type
        self.rounds = {}

    def once(self, iterable, line):
        if isinstance(iterable, self.loader_type):
            yield from iterable  # a DataLoader limits itself (its first and last-size batch)
            return
        iterator = iter(iterable)
        for item in iterator:
            yield item
            break
        else:
            return
        try:
            ran = "ran 1 of %d iterations" % len(iterable)
        except TypeError:
            ran = "ran 1 iteration"
        self.notes.add("loop", "training loop: " + ran, line)

    def enter(self, line):
        self.rounds[line] = 0

    def again(self, line):
        self.rounds[line] = self.rounds.get(line, 0) + 1
        if self.rounds[line] <= 1:
            return True
        self.notes.add("loop", "training loop: ran 1 iteration", line)
        return False


# --------------------------------------------------------------------------- the guards

class Guards:
    """Installs the rules above for one run; :meth:`explain` turns an error a rule caused into
    the note that ends the run."""

    def __init__(self, torch, path, device, scratch, notes):
        self.torch = torch
        self.path = path
        self.device = device
        self.scratch = os.path.realpath(scratch) + os.sep if scratch else None
        self.notes = notes
        self.argparse_errors = {}  # line -> argparse's message

    def install(self, namespace_builtins=builtins):
        setattr(namespace_builtins, HELPER, Loops(self.notes, self.torch.utils.data.DataLoader))
        self._no_training()
        self._few_batches()
        self._no_writes()
        self._no_network()
        self._argparse()

    # ---------------------------------------------------------------- training

    def _no_training(self):
        notes = self.notes

        def backward(*args, **kwargs):
            notes.add("backward", "backward() not run (the probe runs under torch.no_grad())")

        self.torch.Tensor.backward = backward
        self.torch.autograd.backward = backward

    def _few_batches(self):
        data = self.torch.utils.data
        original = data.DataLoader.__iter__
        notes = self.notes

        def limited(loader):
            return _few_batches(loader, original, notes, notes.line(), data)

        data.DataLoader.__iter__ = limited

    # ---------------------------------------------------------------- files

    def writable(self, file):
        """True for what may be opened for writing: the scratch folder and devices."""
        return self.in_scratch(file) or _real_path(file).startswith("/dev/")

    def in_scratch(self, file):
        """True for what may be made, removed, renamed or truncated: the scratch folder only
        (never a device: a stream sent to /dev/null that its code then deletes by name, as
        torch.hub does with a failed download, must not delete /dev/null)."""
        path = _real_path(file)
        return path == "" or (self.scratch is not None and path.startswith(self.scratch))

    def _no_writes(self):
        guards, notes = self, self.notes
        real_open, real_os_open, real_mkdir = builtins.open, os.open, os.mkdir

        def open_(file, mode="r", *args, **kwargs):
            if isinstance(file, int) or not (set(mode) & WRITE_MODES) or guards.writable(file):
                return real_open(file, mode, *args, **kwargs)
            notes.add("write", "open(%r, %r): nothing written" % (os.fspath(file), mode))
            return real_open(os.devnull, mode.replace("x", "w").replace("a", "w"), *args,
                             **kwargs)

        def os_open(path, flags, *args, **kwargs):
            if not flags & WRITE_FLAGS or guards.writable(path) or "dir_fd" in kwargs:
                return real_os_open(path, flags, *args, **kwargs)
            notes.add("write", "os.open(%r): nothing written" % (os.fspath(path),))
            return real_os_open(os.devnull, os.O_RDWR)

        def mkdir(path, *args, **kwargs):
            if guards.in_scratch(path) or os.path.exists(path) or "dir_fd" in kwargs:
                return real_mkdir(path, *args, **kwargs)
            notes.add("mkdir", "directory %r: not made" % (os.fspath(path),))
            return None

        builtins.open = io.open = open_
        os.open, os.mkdir = os_open, mkdir
        for name in ("remove", "unlink", "rmdir", "rename", "replace", "truncate", "link",
                     "symlink"):
            setattr(os, name, self._skipped_change(name, getattr(os, name)))
        torch = self.torch
        for owner, name in ((torch, "save"), (getattr(torch, "jit", None), "save"),
                            (getattr(torch, "onnx", None), "export")):
            if owner is not None and hasattr(owner, name):
                setattr(owner, name, self._skipped_save(owner, name))

    def _skipped_change(self, name, real):
        guards = self

        def change(path, *args, **kwargs):
            dst = args[0] if args else kwargs.get("dst", "")
            # (src, dst): both change, but a symbolic link may point anywhere
            targets = {"rename": [path, dst], "replace": [path, dst], "link": [path, dst],
                       "symlink": [dst]}.get(name, [path])
            if all(guards.in_scratch(t) for t in targets) or "dir_fd" in kwargs \
                    or "src_dir_fd" in kwargs:
                return real(path, *args, **kwargs)
            if not _real_path(path).startswith("/dev/"):  # a redirected stream's name
                guards.notes.add("write", "os.%s(%r): not done" % (name, os.fspath(path)))
            return None

        return change

    def _skipped_save(self, owner, name):
        real = getattr(owner, name)
        guards = self
        label = "%s.%s" % (owner.__name__, name)

        def save(*args, **kwargs):
            target = args[1] if len(args) > 1 else kwargs.get("f")
            if name == "export":
                target = args[2] if len(args) > 2 else kwargs.get("f")
            if not isinstance(target, (str, bytes, os.PathLike)) or guards.writable(target):
                return real(*args, **kwargs)  # a buffer (io.BytesIO) or the scratch folder
            guards.notes.add("write", "%s(..., %r): not run" % (label, os.fspath(target)))
            return None

        return save

    # ---------------------------------------------------------------- network

    def _no_network(self):
        notes = self.notes
        real_getaddrinfo = socket.getaddrinfo
        real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

        def refuse(host, port):
            where = "%s:%s" % (host, port) if port is not None else str(host)
            notes.add("network", "network access to %s: refused" % where)
            return NetworkRefused(where)

        def getaddrinfo(host, port, *args, **kwargs):
            if _is_local(host):
                return real_getaddrinfo(host, port, *args, **kwargs)
            raise refuse(host, port)

        def connect(sock, address):
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
                raise refuse(address[0], address[1])
            return real_connect(sock, address)

        def connect_ex(sock, address):
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
                refuse(address[0], address[1])
                return NetworkRefused.errno_value
            return real_connect_ex(sock, address)

        socket.getaddrinfo = getaddrinfo
        socket.socket.connect, socket.socket.connect_ex = connect, connect_ex

    # ---------------------------------------------------------------- arguments

    def _argparse(self):
        real_error = argparse.ArgumentParser.error
        guards = self

        def error(parser, message):
            guards.argparse_errors[guards.notes.line()] = message
            return real_error(parser, message)

        argparse.ArgumentParser.error = error

    # ---------------------------------------------------------------- meta

    def meta_mode(self):
        """A TorchFunctionMode that keeps every tensor on meta (None off meta)."""
        if self.device != "meta":
            return None
        # a distribution's argument checks read values (``.item()``); its shapes need none
        self.torch.distributions.Distribution.set_default_validate_args(False)
        return _meta_mode(self.torch)

    # ---------------------------------------------------------------- errors

    def explain(self, exc, error):
        """True (and a stop note set) when ``exc`` (recorded as ``error``) is a consequence of
        a rule rather than an error of the probed code."""
        lines = error.get("lines") or []
        line = lines[-1] if lines else None
        if isinstance(exc, SystemExit) and line in self.argparse_errors:
            message = ("stopped here: argument parsing needs command-line arguments, and the "
                       "probe passes none (%s)" % self.argparse_errors[line])
        elif (line is not None and line in self.notes.lines_of("network")) \
                or _caused_by(exc, NetworkRefused):
            message = ("stopped here: this needs a download (%s: %s), and the probe does not "
                       "download; with the files on disk (a dataset, weights) it runs on, one batch "
                       "of the data"
                       % (error["type"], _first_line(error["message"])))
        elif self.notes.lines_of("backward") and isinstance(exc, (TypeError, AttributeError)) \
                and "NoneType" in str(error.get("message")):
            message = ("stopped here: this needs the gradients of a backward() the probe did "
                       "not run (%s: %s)" % (error["type"], _first_line(error["message"])))
        elif self.device == "meta" and META_ARTIFACT.search(str(error.get("message"))):
            message = ("stopped here: this needs tensor values, which the meta device does not "
                       "compute (%s: %s); probe on cpu to run past it"
                       % (error["type"], _first_line(error["message"])))
        else:
            return False
        self.notes.stop = {"line": line or 0, "message": message}
        return True


class NetworkRefused(ConnectionRefusedError):
    """A connection the probe does not make.  A refused connection, so that libraries fall back
    as they do offline."""

    errno_value = errno.ECONNREFUSED

    def __init__(self, where):
        super().__init__(self.errno_value, "the ShapeLens probe does not use the network "
                         "(%s)" % where)


def _is_local(host):
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    return host in LOCAL_HOSTS or (isinstance(host, str) and host.startswith("127."))


def _real_path(file):
    """The real path of ``file`` as text; "" for a file descriptor or a buffer (not a name)."""
    try:
        path = os.path.realpath(os.fspath(file))
    except (TypeError, ValueError):
        return ""
    return os.fsdecode(path) if isinstance(path, bytes) else path


def _caused_by(exc, kind):
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _first_line(text):
    return (str(text).strip().splitlines() or [""])[0][:200]


def _few_batches(loader, original, notes, line, data):
    """The first batch of ``loader`` and, when the epoch's last batch is smaller, one batch of
    that size (made from the first one's samples)."""
    sampler = loader.batch_sampler
    if isinstance(loader.dataset, data.IterableDataset) or sampler is None:
        iterator = original(loader)
        for batch in iterator:
            yield batch
            break
        else:
            return
        notes.add("loader", "DataLoader: its first batch only", line)
        return
    first = next(iter(sampler), None)
    if first is None:
        return
    yield _fetch(loader, first)
    try:
        count = len(sampler)
    except TypeError:
        count = None
    last_size = _last_batch_size(loader, sampler)
    if count is not None and count <= 1:
        return
    if last_size is not None and 0 < last_size < len(first):
        yield _fetch(loader, list(first)[:last_size])
        notes.add("loader", "DataLoader: 2 of %s batches, the first (%d samples) and one of "
                  "the last batch's size (%d)" % (count, len(first), last_size), line)
        return
    notes.add("loader", "DataLoader: 1 of %s batches (all have %d samples)"
              % (count if count is not None else "its", len(first)), line)


def _last_batch_size(loader, sampler):
    batch_size, drop_last = getattr(sampler, "batch_size", None), getattr(sampler, "drop_last",
                                                                          True)
    if not isinstance(batch_size, int) or drop_last:
        return None
    try:
        return len(sampler.sampler) % batch_size
    except (TypeError, AttributeError):
        return None


def _fetch(loader, indices):
    dataset = loader.dataset
    getitems = getattr(dataset, "__getitems__", None)
    samples = getitems(list(indices)) if getitems else [dataset[i] for i in indices]
    return loader.collate_fn(samples)


def _meta_mode(torch):
    from torch.overrides import TorchFunctionMode

    Tensor = torch.Tensor
    moves = {Tensor.cuda, Tensor.cpu, Tensor.pin_memory}
    if hasattr(Tensor, "mps"):
        moves.add(Tensor.mps)

    def on_meta(value):
        if isinstance(value, Tensor) and value.device.type != "meta":
            return value.to("meta")
        if isinstance(value, (tuple, list)) and any(isinstance(v, Tensor) for v in value):
            moved = [on_meta(v) for v in value]
            return type(value)(moved) if type(value) in (tuple, list) else value
        return value

    def is_device(value):
        if isinstance(value, torch.device):
            return True
        if isinstance(value, str):
            try:
                torch.device(value)
                return True
            except (RuntimeError, ValueError):
                return False
        return isinstance(value, int) and not isinstance(value, bool)

    class KeepOnMeta(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = dict(kwargs or {})
            if func in moves and args and isinstance(args[0], Tensor):
                return on_meta(args[0])
            if "device" in kwargs:
                kwargs["device"] = "meta"
            if func is Tensor.to:
                args = tuple("meta" if i > 0 and is_device(a) else a
                             for i, a in enumerate(args))
            try:
                return on_meta(func(*args, **kwargs))
            except RuntimeError as exc:  # a tensor made where no function sees it:
                if not MIXED_DEVICES.search(str(exc)):  # torch.FloatTensor(array)
                    raise
            return on_meta(func(*[on_meta(a) for a in args],
                                **{k: on_meta(v) for k, v in kwargs.items()}))

    return KeepOnMeta()
