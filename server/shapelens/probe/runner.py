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
``oom``        it ran out of memory (``MemoryError``, an allocator failure, killed by SIGKILL),
               or its processes together went over the memory limit and it was stopped
``no-torch``   torch cannot be imported by that interpreter
``refused``    nothing was run: a bad request, an interpreter that cannot be started, or a
               device this torch cannot use (``cuda`` on a CPU-only build...)

Whatever the status, every process the probed code started is ended with the run
(``processes.py``), its files go to a scratch folder that is deleted afterwards, and only
messages that carry the run's secret are read from the agent's channel.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from . import processes

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
DEFAULT_MEMORY_SHARE = 0.5  # of the machine's memory, for all the probe's processes together
WATCH_S = 0.5  # how often the process tree is looked at (its members, their memory)
# Given to the probed program: a non-interactive matplotlib (plt.show() returns at once) and
# no experiment-tracking uploads.
CHILD_ENV = {"MPLBACKEND": "Agg", "WANDB_MODE": "disabled"}


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
class ProbeNote:
    """Something the run did not do at ``line`` (a training loop cut to one iteration, a file
    not written, a download refused...), or where it stopped early and why."""

    line: int
    message: str


@dataclass(frozen=True)
class ProbeResult:
    """What one probe run produced.  ``message`` is one human-readable sentence or two.

    ``skipped`` says what the run did not do (see ``guards.py``); ``dims`` the value each
    symbolic dim of a sample input took, ``default_dims`` which of them were not given;
    ``memory_limit_mb`` the limit the run had."""

    status: str
    message: str
    device: str | None = None
    facts: tuple[ProbeFact, ...] = ()
    error: ProbeError | None = None
    elapsed_s: float = 0.0
    stdout_tail: str = ""
    stderr_tail: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)
    skipped: tuple[ProbeNote, ...] = ()
    dims: Mapping[str, int] = field(default_factory=dict)
    default_dims: tuple[str, ...] = ()
    memory_limit_mb: int | None = None

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
            "skipped": [{"line": n.line, "message": n.message} for n in self.skipped],
            "dims": dict(self.dims), "default_dims": list(self.default_dims),
            "memory_limit_mb": self.memory_limit_mb,
        }


def default_memory_limit_mb() -> int | None:
    """The memory limit of a run that sets none: a share of this machine's memory."""
    total = processes.machine_memory_bytes()
    return int(total * DEFAULT_MEMORY_SHARE) // (1024 * 1024) if total else None


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
    not eat into the user's run time), as soon as ``cancel`` is set, or when its processes
    together use more than ``memory_limit_mb`` megabytes (default: :data:`DEFAULT_MEMORY_SHARE`
    of this machine's memory; an explicit limit also caps the agent's address space, so that a
    huge allocation fails at its line).  On a timeout or over the memory limit the agent is
    first interrupted, so the facts seen so far and the line it was on still come back; either
    is reported as ``timeout``/``oom``.  ``on_progress`` is called from a background thread
    with short texts such as ``"calling Net.forward"``; exceptions it raises are ignored.
    ``cwd`` defaults to the file's directory.  Never raises for failures of the probed code or
    interpreter.
    """
    started = time.monotonic()
    problem = _request_problem(request)
    if problem:
        return ProbeResult("refused", "bad probe request: " + problem)
    request = dict(request)
    request["path"] = os.path.abspath(request["path"])
    if memory_limit_mb:
        request["memory_limit_mb"] = int(memory_limit_mb)
    limit_mb = int(memory_limit_mb) if memory_limit_mb else default_memory_limit_mb()
    secret = secrets.token_hex(16)
    scratch = tempfile.mkdtemp(prefix="shapelens-probe-")
    request.update(secret=secret, scratch=scratch)
    try:
        payload = json.dumps(request).encode("utf-8")
    except (TypeError, ValueError) as exc:
        shutil.rmtree(scratch, ignore_errors=True)
        return ProbeResult("refused", "bad probe request: %s" % exc)
    if cwd is None:
        cwd = os.path.dirname(request["path"])
        if not os.path.isdir(cwd):
            cwd = None

    try:
        process = subprocess.Popen(
            [python, AGENT_PATH], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, cwd=cwd, env=_child_env(scratch), **_new_process_group())
    except (OSError, ValueError) as exc:
        shutil.rmtree(scratch, ignore_errors=True)
        return ProbeResult("refused", "cannot start the Python interpreter %r: %s"
                           % (python, exc))
    try:
        return _supervise(process, request["path"], payload, secret, limit_mb, started,
                          timeout_s, startup_timeout_s, cancel, on_progress)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _supervise(process, path, payload, secret, limit_mb, started, timeout_s,
               startup_timeout_s, cancel, on_progress) -> ProbeResult:
    """Watch one agent process to its end (or ours) and make its result."""
    session = _Session(process, path, secret, on_progress, limit_mb)
    session.start(payload)
    watch = processes.TreeWatch(process.pid)
    next_look = time.monotonic()
    ended_by = None  # "cancelled", "timeout" or "lingering" when we stopped it
    reported_at = interrupted_at = None
    in_startup = False
    while process.poll() is None:
        now = time.monotonic()
        if now >= next_look:
            next_look = now + WATCH_S
            used = watch.look()
            if limit_mb and used > limit_mb * 1024 * 1024 and session.over_memory is None \
                    and session.result is None:
                session.over_memory = used
        if cancel is not None and cancel.is_set():
            ended_by = "cancelled"
        elif session.result is not None:
            reported_at = reported_at or now
            if now - reported_at > EXIT_GRACE_S:
                ended_by = "lingering"  # it reported but did not exit: stop it
        elif interrupted_at is not None and now - interrupted_at > INTERRUPT_GRACE_S:
            ended_by = "timeout"
        elif interrupted_at is None and (session.over_memory is not None or now >= (
                session.deadline(started, timeout_s, startup_timeout_s))):
            # Ask for a report first (SIGINT raises ProbeTimeout in the agent); kill if ignored.
            interrupted_at = now
            # which deadline passed (the agent's "started" may still be on its way)
            in_startup = session.run_started_at is None
            if not _interrupt(process):
                ended_by = "timeout"
        if ended_by:
            watch.end()  # the agent's descendants first, while it still holds them
            _kill_tree(process)
            process.wait()
            break
        if cancel is not None:
            cancel.wait(POLL_S)
        else:
            time.sleep(POLL_S)
    watch.end()
    _kill_tree(process)  # grandchildren the probed code left behind (DataLoader workers...)
    session.join()
    elapsed = time.monotonic() - started
    if ended_by == "cancelled" and session.result is None:
        return session.make("cancelled", "probe cancelled", elapsed)
    if session.over_memory is not None:
        return _over_memory(session, elapsed)
    if interrupted_at is not None:
        return _timed_out(session, timeout_s, startup_timeout_s, elapsed, in_startup)
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
               elapsed: float, in_startup: bool) -> ProbeResult:
    """A timeout, with the facts and the line the agent reported when interrupted, if it did;
    ``in_startup``: the start-up deadline passed (the run had not begun when it was seen)."""
    if in_startup:
        return session.make("timeout", "the probe did not start within %g s: starting the "
                            "interpreter and importing torch took too long (the process was "
                            "stopped)" % startup_timeout_s, elapsed)
    return session.make("timeout", "the probe timed out after %g s%s: the file or a sample call "
                        "did not finish (the process was stopped)"
                        % (timeout_s, _interrupted_at(session)), elapsed,
                        facts=_facts(session.result or {}))


def _over_memory(session: "_Session", elapsed: float) -> ProbeResult:
    """Stopped because its processes together used more memory than the limit."""
    return session.make(
        "oom", "out of memory: the probe's processes used %d MB, more than its limit of %d MB "
        "(shapelens.probe.memoryLimitMb; by default half of this machine's memory)%s, and "
        "were stopped" % (session.over_memory // (1024 * 1024), session.limit_mb,
                          _interrupted_at(session)),
        elapsed, facts=_facts(session.result or {}))


def _interrupted_at(session: "_Session") -> str:
    """' at line N' when the agent reported where the interrupt found it."""
    error = (session.result or {}).get("error") or {}
    lines = error.get("lines") or []
    return " at line %d" % lines[-1] if lines and error.get("type") == "ProbeTimeout" else ""


def _facts(agent: dict) -> tuple[ProbeFact, ...]:
    return tuple(
        ProbeFact(int(f["line"]), str(f["name"]),
                  tuple(tuple(int(d) for d in s) for s in f["shapes"]))
        for f in agent.get("facts") or ())


def _child_env(scratch: str) -> dict:
    """The environment of the probed program: the server's, without the folder the server's
    own bundled libraries were put on PYTHONPATH from (the VS Code extension's bundled/libs),
    so the user's packages are the ones torch and their code import; the run's scratch folder
    as the temp dir; :data:`CHILD_ENV`."""
    env = dict(os.environ, TMPDIR=scratch, TEMP=scratch, TMP=scratch, **CHILD_ENV)
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

    def __init__(self, process: subprocess.Popen, path: str, secret: str, on_progress,
                 limit_mb: int | None):
        self.process = process
        self.path = path
        self.secret = secret
        self.on_progress = on_progress
        self.limit_mb = limit_mb
        self.over_memory: int | None = None  # bytes used when the memory limit was passed
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
                if not isinstance(message, dict) or message.get("secret") != self.secret:
                    continue  # not the agent's: the probed code cannot know the secret
                if isinstance(message.get("result"), dict):
                    if self.result is None:
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
        skipped = _notes(agent)
        if skipped:
            message += "; " + _notes_summary(skipped)
        return ProbeResult(
            status=status, message=message, device=agent.get("device"),
            elapsed_s=round(elapsed, 4), stdout_tail=str(agent.get("stdout_tail") or ""),
            stderr_tail=self.stderr_text(),
            warnings=tuple(str(w) for w in agent.get("warnings") or ()), skipped=skipped,
            dims=_dims(agent.get("dims")),
            default_dims=tuple(str(n) for n in agent.get("default_dims") or ()),
            memory_limit_mb=self.limit_mb, **fields)


def _notes(agent: dict) -> tuple[ProbeNote, ...]:
    notes = []
    for note in agent.get("skipped") or ():
        if isinstance(note, dict):
            try:
                notes.append(ProbeNote(int(note.get("line") or 0), str(note.get("message"))))
            except (TypeError, ValueError):
                continue
    return tuple(notes)


def _notes_summary(notes: tuple[ProbeNote, ...], shown: int = 3) -> str:
    """'held back ...: line 44: training loop ...; line 52: ...' (the first few, where the run
    stopped first; the rest counted)."""
    notes = sorted(notes, key=lambda n: not n.message.startswith("stopped here"))
    parts = ["line %d: %s" % (n.line, n.message) if n.line else n.message
             for n in notes[:shown]]
    if len(notes) > shown:
        parts.append("%d more in the report" % (len(notes) - shown))
    return "held back (the probe measures: it does not train, write files or download): " \
        + "; ".join(parts)


def _dims(raw) -> dict:
    if not isinstance(raw, dict):
        return {}
    return {str(k): int(v) for k, v in raw.items()
            if isinstance(v, int) and not isinstance(v, bool)}


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
        return session.make("ok", "probed %d tensor name%s on %s in %.1f s%s"
                            % (names, "" if names == 1 else "s", device, elapsed,
                               _dims_used(agent)), elapsed, facts=facts)
    if status == "error" and error is not None:
        where = " at line %d" % error.lines[-1] if error.lines else ""
        if _is_out_of_memory(error):
            return session.make("oom", "out of memory%s on %s: %s: %s"
                                % (where, device, error.type, error.message or "no message"),
                                elapsed, facts=facts, error=error)
        return session.make("error", "%s%s%s: %s" % (error.type, where, _dims_used(agent),
                                                     error.message),
                            elapsed, facts=facts, error=error)
    if status in ("no-torch", "refused"):
        return session.make(status, str(agent.get("message") or status), elapsed)
    return session.make("crashed", "the probe agent sent an unexpected result (status %r)"
                        % (status,), elapsed)


def _dims_used(agent: dict) -> str:
    """' with N=4, H=32 (default)' for the symbolic dims the samples used."""
    dims = _dims(agent.get("dims"))
    if not dims:
        return ""
    defaulted = set(agent.get("default_dims") or ())
    return " with " + ", ".join("%s=%d%s" % (name, value, " (default)" if name in defaulted
                                             else "") for name, value in dims.items())


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
