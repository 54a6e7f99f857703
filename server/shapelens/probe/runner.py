"""Run the probe agent in a subprocess of the user's interpreter and collect its result.

This module is imported by the language server: it must not import torch and must stay cheap to
import.  :func:`run_probe` never raises for anything the probed code or its interpreter does (a
crash, a hang, a flood of output, a missing torch, an interpreter that does not exist); it
returns a :class:`ProbeResult` whose ``status`` says what happened:

``ok``         the file (and the sample calls) ran; ``facts`` holds the shapes seen
``error``      the probed code raised; ``error`` holds the exception and its lines
``timeout``    it ran past ``timeout_s`` (or could not even start) and was killed
``cancelled``  ``cancel`` was set and it was killed
``crashed``    the process died without reporting (segfault, ``os._exit``...)
``oom``        it ran out of memory (``MemoryError``, an allocator failure, or killed by SIGKILL)
``no-torch``   torch cannot be imported by that interpreter
``refused``    nothing was run: a bad request, an interpreter that cannot be started, or a
               device this torch cannot use (``cuda`` on a CPU-only build...)
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

AGENT_PATH = str(Path(__file__).with_name("agent.py"))

STATUSES = ("ok", "error", "timeout", "crashed", "no-torch", "cancelled", "oom", "refused")
DEVICE_PATTERN = re.compile(r"^(auto|cpu|meta|mps|cuda(:\d+)?)$")

STDERR_TAIL_BYTES = 16 * 1024
MAX_CHANNEL_LINE = 256 * 1024 * 1024
POLL_S = 0.02
EXIT_GRACE_S = 2.0  # how long a process that has reported may take to exit
STARTUP_TIMEOUT_S = 120.0  # interpreter start and `import torch`, before timeout_s starts
INTERRUPT_GRACE_S = 1.0  # how long a timed-out agent may take to report what it saw so far
RUN_STARTED = "running module code"  # the agent's progress line when the file starts running
OOM_MESSAGES = ("can't allocate memory", "out of memory", "cannot allocate memory")


@dataclass(frozen=True)
class ProbeFact:
    """A plain name bound to a tensor at ``line`` (1-based), with every distinct shape seen."""

    line: int
    name: str
    shapes: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class ProbeError:
    """An exception raised by the probed code; ``lines`` are its traceback lines in the file,
    outermost call first (the last one is where it was raised)."""

    type: str
    message: str
    lines: tuple[int, ...]


@dataclass(frozen=True)
class ProbeResult:
    """What one probe run produced.  ``message`` is one human-readable sentence or two."""

    status: str
    message: str
    device: str | None = None
    facts: tuple[ProbeFact, ...] = ()
    error: ProbeError | None = None
    elapsed_s: float = 0.0
    stdout_tail: str = ""
    stderr_tail: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        """The result as JSON-ready Python objects."""
        return {
            "status": self.status, "message": self.message, "device": self.device,
            "facts": [{"line": f.line, "name": f.name, "shapes": [list(s) for s in f.shapes]}
                      for f in self.facts],
            "error": None if self.error is None else {
                "type": self.error.type, "message": self.error.message,
                "lines": list(self.error.lines)},
            "elapsed_s": self.elapsed_s, "stdout_tail": self.stdout_tail,
            "stderr_tail": self.stderr_tail, "warnings": list(self.warnings),
        }


def run_probe(request: dict, *, python: str = sys.executable, timeout_s: float,
              cancel: threading.Event | None = None,
              on_progress: Callable[[str], None] | None = None,
              memory_limit_mb: int | None = None, cwd: str | None = None,
              startup_timeout_s: float = STARTUP_TIMEOUT_S) -> ProbeResult:
    """Probe one file in a subprocess of ``python`` and return what happened.

    ``request`` is the agent's request (see ``agent.py``): ``path`` (absolute), ``source`` (the
    text to run, e.g. an unsaved buffer; read from ``path`` when absent), ``device``
    (``auto``/``cpu``/``cuda``/``cuda:N``/``mps``/``meta``), ``dims`` (symbolic dim values) and
    ``samples`` (sample inputs for modules the file does not call itself).

    The whole process tree is killed when the probed code (the file, then the sample calls) has
    run for ``timeout_s`` seconds, when starting the interpreter and importing torch takes more
    than ``startup_timeout_s`` (a cold import of a CUDA build can take many seconds, which should
    not eat into the user's run time), or as soon as ``cancel`` is set.  On a timeout the agent
    is first interrupted, so the facts seen so far and the line it was on still come back.
    ``on_progress`` is called from a background thread with short texts such as
    ``"calling Net.forward"``; exceptions it raises are ignored.  ``memory_limit_mb`` caps the
    child's address space (POSIX), so that a huge allocation fails with status ``oom`` instead
    of exhausting the machine.  ``cwd`` defaults to the file's directory.  Never raises for failures of the probed code or interpreter.
    """
    started = time.monotonic()
    problem = _request_problem(request)
    if problem:
        return ProbeResult("refused", "bad probe request: " + problem)
    request = dict(request)
    request["path"] = os.path.abspath(request["path"])
    if memory_limit_mb:
        request["memory_limit_mb"] = int(memory_limit_mb)
    try:
        payload = json.dumps(request).encode("utf-8")
    except (TypeError, ValueError) as exc:
        return ProbeResult("refused", "bad probe request: %s" % exc)
    if cwd is None:
        cwd = os.path.dirname(request["path"])
        if not os.path.isdir(cwd):
            cwd = None

    try:
        process = subprocess.Popen(
            [python, AGENT_PATH], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, cwd=cwd, env=_child_env(), **_new_process_group())
    except (OSError, ValueError) as exc:
        return ProbeResult("refused", "cannot start the Python interpreter %r: %s"
                           % (python, exc))

    session = _Session(process, request["path"], on_progress)
    session.start(payload)
    ended_by = None  # "cancelled", "timeout" or "lingering" when we stopped it
    reported_at = interrupted_at = None
    while process.poll() is None:
        now = time.monotonic()
        if cancel is not None and cancel.is_set():
            ended_by = "cancelled"
        elif session.result is not None:
            reported_at = reported_at or now
            if now - reported_at > EXIT_GRACE_S:
                ended_by = "lingering"  # it reported but did not exit: stop it
        elif interrupted_at is not None and now - interrupted_at > INTERRUPT_GRACE_S:
            ended_by = "timeout"
        elif interrupted_at is None and now >= session.deadline(started, timeout_s,
                                                                startup_timeout_s):
            # Ask for a report first (SIGINT raises ProbeTimeout in the agent); kill if ignored.
            interrupted_at = now
            if not _interrupt(process):
                ended_by = "timeout"
        if ended_by:
            _kill_tree(process)
            process.wait()
            break
        if cancel is not None:
            cancel.wait(POLL_S)
        else:
            time.sleep(POLL_S)
    _kill_tree(process)  # grandchildren the probed code left behind (DataLoader workers...)
    session.join()
    elapsed = time.monotonic() - started
    if ended_by == "cancelled" and session.result is None:
        return session.make("cancelled", "probe cancelled", elapsed)
    if interrupted_at is not None:
        return _timed_out(session, timeout_s, startup_timeout_s, elapsed)
    if session.result is not None:
        return _from_agent(session, elapsed)
    return _from_exit(session, process.returncode, elapsed)


def _request_problem(request) -> str:
    if not isinstance(request, dict):
        return "the request must be a dict, not %s" % type(request).__name__
    path = request.get("path")
    if not isinstance(path, str) or not path:
        return "'path' must be a file path"
    source = request.get("source")
    if source is None and not os.path.isfile(path):
        return "no such file: %s (and no 'source' given)" % path
    if source is not None and not isinstance(source, str):
        return "'source' must be a string"
    device = request.get("device", "auto")
    if not isinstance(device, str) or not DEVICE_PATTERN.match(device.strip()):
        return "unknown device %r: use auto, cpu, cuda, cuda:N, mps or meta" % (device,)
    dims = request.get("dims")
    if dims is None:
        dims = {}
    if not isinstance(dims, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in dims.values()):
        return "'dims' must map names to integers"
    samples = request.get("samples")
    if samples is None:
        samples = []
    if not isinstance(samples, list):
        return "'samples' must be a list"
    for sample in samples:
        if not (isinstance(sample, dict) and isinstance(sample.get("class_name"), str)
                and isinstance(sample.get("inputs"), dict)
                and isinstance(sample.get("ctor_kwargs") or {}, dict)):
            return "each sample needs a 'class_name', an 'inputs' dict and 'ctor_kwargs' " \
                   "(a dict or null): %r" % (sample,)
    return ""


def _interrupt(process: subprocess.Popen) -> bool:
    """Send SIGINT to the agent alone (POSIX); False where that is not possible."""
    if os.name != "posix":
        return False
    try:
        os.kill(process.pid, signal.SIGINT)
    except OSError:
        return False
    return True


def _timed_out(session: "_Session", timeout_s: float, startup_timeout_s: float,
               elapsed: float) -> ProbeResult:
    """A timeout, with the facts and the line the agent reported when interrupted, if it did."""
    if session.run_started_at is None:
        return session.make("timeout", "the probe did not start within %g s: starting the "
                            "interpreter and importing torch took too long (the process was "
                            "stopped)" % startup_timeout_s, elapsed)
    agent = session.result or {}
    facts = _facts(agent)
    error = agent.get("error") or {}
    lines = error.get("lines") or []
    where = " at line %d" % lines[-1] if lines and error.get("type") == "ProbeTimeout" else ""
    return session.make("timeout", "the probe timed out after %g s%s: the file or a sample call "
                        "did not finish (the process was stopped)" % (timeout_s, where),
                        elapsed, facts=facts)


def _facts(agent: dict) -> tuple[ProbeFact, ...]:
    return tuple(
        ProbeFact(int(f["line"]), str(f["name"]),
                  tuple(tuple(int(d) for d in s) for s in f["shapes"]))
        for f in agent.get("facts") or ())


def _child_env() -> dict:
    """The environment of the probed program: the server's, without the folder the server's
    own bundled libraries were put on PYTHONPATH from (the VS Code extension's bundled/libs),
    so the user's packages are the ones torch and their code import."""
    env = dict(os.environ)
    bundle = str(Path(__file__).resolve().parent.parent.parent)
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    kept = [p for p in parts if os.path.realpath(p) != os.path.realpath(bundle)]
    if len(kept) != len(parts):
        if kept:
            env["PYTHONPATH"] = os.pathsep.join(kept)
        else:
            env.pop("PYTHONPATH", None)
    return env


def _new_process_group() -> dict:
    if os.name == "posix":
        return {"start_new_session": True}
    return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}


def _kill_tree(process: subprocess.Popen) -> None:
    """Kill the agent and everything in its process group (POSIX); the agent alone elsewhere."""
    if os.name == "posix":
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    elif process.poll() is None:
        try:
            process.kill()
        except OSError:
            pass


class _Session:
    """The three pipes of one agent process, each served by its own thread so none can fill."""

    def __init__(self, process: subprocess.Popen, path: str, on_progress):
        self.process = process
        self.path = path
        self.on_progress = on_progress
        self.result: dict | None = None
        self.run_started_at: float | None = None  # when the agent began running the file
        self.stderr_tail = bytearray()
        self.threads = [
            threading.Thread(target=self._read_channel, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]

    def start(self, payload: bytes) -> None:
        writer = threading.Thread(target=self._write_request, args=(payload,), daemon=True)
        self.threads.append(writer)
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=2.0)  # a pipe held open by an escaped grandchild must not hang us

    def deadline(self, started: float, timeout_s: float, startup_timeout_s: float) -> float:
        """When to stop: ``timeout_s`` after the file started running, or the start-up limit."""
        if self.run_started_at is None:
            return started + startup_timeout_s
        return self.run_started_at + timeout_s

    def _write_request(self, payload: bytes) -> None:
        try:
            self.process.stdin.write(payload)
            self.process.stdin.close()
        except OSError:
            pass  # the child died before reading: its exit status tells why

    def _read_channel(self) -> None:
        stream = self.process.stdout
        try:
            for line in iter(lambda: stream.readline(MAX_CHANNEL_LINE), b""):
                try:
                    message = json.loads(line)
                except ValueError:
                    continue  # not ours (e.g. a sitecustomize that prints)
                if not isinstance(message, dict):
                    continue
                if isinstance(message.get("result"), dict):
                    self.result = message["result"]
                elif isinstance(message.get("progress"), str):
                    if message["progress"] == RUN_STARTED and self.run_started_at is None:
                        self.run_started_at = time.monotonic()
                    if self.on_progress is None:
                        continue
                    try:
                        self.on_progress(message["progress"])
                    except Exception:
                        pass  # a broken progress callback must not break the probe
        except (OSError, ValueError):
            pass

    def _read_stderr(self) -> None:
        stream = self.process.stderr
        try:
            while True:
                chunk = stream.read1(65536)
                if not chunk:
                    break
                self.stderr_tail += chunk
                if len(self.stderr_tail) > 2 * STDERR_TAIL_BYTES:
                    del self.stderr_tail[:-STDERR_TAIL_BYTES]
        except (OSError, ValueError):
            pass

    def stderr_text(self) -> str:
        return bytes(self.stderr_tail[-STDERR_TAIL_BYTES:]).decode("utf-8", "replace")

    def make(self, status: str, message: str, elapsed: float, **fields) -> ProbeResult:
        agent = self.result or {}
        return ProbeResult(
            status=status, message=message, device=agent.get("device"),
            elapsed_s=round(elapsed, 4), stdout_tail=str(agent.get("stdout_tail") or ""),
            stderr_tail=self.stderr_text(),
            warnings=tuple(str(w) for w in agent.get("warnings") or ()), **fields)


def _from_agent(session: _Session, elapsed: float) -> ProbeResult:
    """Map the agent's own report to a ProbeResult."""
    agent = session.result
    status = agent.get("status")
    facts = _facts(agent)
    raw_error = agent.get("error")
    error = None
    if isinstance(raw_error, dict):
        error = ProbeError(str(raw_error.get("type")), str(raw_error.get("message")),
                           tuple(int(n) for n in raw_error.get("lines") or ()))
    device = agent.get("device")
    if status == "ok":
        names = len({f.name for f in facts})
        return session.make("ok", "probed %d tensor name%s on %s in %.1f s"
                            % (names, "" if names == 1 else "s", device, elapsed),
                            elapsed, facts=facts)
    if status == "error" and error is not None:
        where = " at line %d" % error.lines[-1] if error.lines else ""
        if _is_out_of_memory(error):
            return session.make("oom", "out of memory%s on %s: %s: %s"
                                % (where, device, error.type, error.message or "no message"),
                                elapsed, facts=facts, error=error)
        return session.make("error", "%s%s: %s" % (error.type, where, error.message),
                            elapsed, facts=facts, error=error)
    if status in ("no-torch", "refused"):
        return session.make(status, str(agent.get("message") or status), elapsed)
    return session.make("crashed", "the probe agent sent an unexpected result (status %r)"
                        % (status,), elapsed)


def _is_out_of_memory(error: ProbeError) -> bool:
    if error.type in ("MemoryError", "OutOfMemoryError"):
        return True
    text = error.message.lower()
    return any(marker in text for marker in OOM_MESSAGES)


def _from_exit(session: _Session, returncode: int | None, elapsed: float) -> ProbeResult:
    """The process ended without a result: say how, with what it wrote to stderr."""
    stderr = session.stderr_text()
    where = _crash_location(stderr, session.path)
    if returncode is not None and returncode < 0:
        signum = -returncode
        try:
            signame = signal.Signals(signum).name
        except ValueError:
            signame = "signal %d" % signum
        if signum == getattr(signal, "SIGKILL", None):
            return session.make("oom", "the probe process was killed by SIGKILL%s, most likely "
                                "by the system's out-of-memory killer; try a smaller input, "
                                "device meta, or a memory limit" % where, elapsed)
        description = signal.strsignal(signum) if hasattr(signal, "strsignal") else None
        return session.make("crashed", "the probe process crashed with %s (%s)%s"
                            % (signame, description or "no description", where), elapsed)
    if "MemoryError" in stderr:
        return session.make("oom", "the probe process ran out of memory%s" % where, elapsed)
    last = stderr.strip().splitlines()[-1:] or ["no output on stderr"]
    return session.make("crashed", "the probe process exited with status %s before reporting"
                        "%s: %s" % (returncode, where, last[0]), elapsed)


def _crash_location(stderr: str, path: str) -> str:
    """' at line N' from a faulthandler or traceback dump on stderr, innermost frame of the file."""
    lines = [int(n) for file, n in re.findall(r'File "([^"]+)", line (\d+)', stderr)
             if file == path]
    # faulthandler prints the innermost frame first; a Python traceback prints it last
    if not lines:
        return ""
    line = lines[0] if "Fatal Python error" in stderr else lines[-1]
    return " at line %d" % line
