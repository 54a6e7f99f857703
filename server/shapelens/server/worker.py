"""The analysis worker: a process of its own that runs the engine for the language server
(``python -m shapelens.server.worker``; started and restarted by :mod:`.workers`).

Why a process: the engine is pure Python and ``ast.parse`` holds the interpreter lock, so an
analysis running in a thread of the server made every hover, inlay hint and keystroke wait
for it (92-245 ms p95 while typing in a 2,000-line file).  Here the server's process only
reads and writes messages; hovers are answered there at once from the last result.

Messages on stdin/stdout: an 8-byte big-endian length, then a pickle.  A job is
``(job_id, Job)``; the answer is ``(job_id, Outcome)``, then, when its report has model
runs, ``(job_id, Parts)``: the runs' modules, calls and data flow (the shape summary's rows)
follow in a message of their own, so the diagnostics do not wait for them (making and
pickling them took 28 ms of a 2,000-line file, and most analyses never have their summary
read).  In the server each run's ``parts`` is a :class:`Later` until they come.  The worker
keeps what is worth keeping between analyses: the engine loaded, files read from disk, and
the modules analysed for imports (one
:class:`~shapelens.analysis.interp.modules.ModuleCache` per interpreter).

The collector is paused from a job's start until its messages are written, and run after:
the analysis's objects are all young, and a collection among them in the middle of pickling
cost as much as the pickling.

Cancelling: SIGUSR1 while a job runs stops it at the next Python instruction (a superseded
analysis of a long document, see :mod:`.workers`); the answer is ``Outcome(cancelled=True)``.
The module caches are dropped then: the analysis may have stopped halfway through storing a
module.  Nothing of the server's is imported here (no pygls, no asyncio).
"""
from __future__ import annotations

import ast
import copyreg
import gc
import io
import logging
import os
import pickle
import signal
import struct
import sys
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

logger = logging.getLogger("shapelens")

HEADER = struct.Struct(">Q")


@dataclass(frozen=True)
class Job:
    """What one analysis needs; plain data, sent to the worker."""

    text: str
    path: str
    roots: Tuple[str, ...] = ()             # workspace roots and extra paths
    python: Optional[str] = None            # whose environment imports resolve into
    buffers: Dict[str, str] = field(default_factory=dict)  # open buffers: norm path -> text
    inputs: Any = None                      # analyze(..., inputs): the summary's --input
    resolve: bool = True                    # follow imports (False: as ``analyze(text)``)


@dataclass(frozen=True)
class Outcome:
    report: Any = None              # the Report (None when cancelled)
    failure: Optional[str] = None   # the engine raised: what it said
    parses: bool = True             # the analysed part of the text parses whole
    cancelled: bool = False


@dataclass(frozen=True)
class Parts:
    """The parts of an answer's model runs, one pickle each (unpickled when read)."""

    blobs: Tuple[bytes, ...]


class Later:
    """The parts of one model run of an answer, in the server before its :class:`Parts`
    message is read: ``ModelRun`` calls it when the parts are first read, and it waits for
    them.  If the worker stops before sending them, it raises."""

    def __init__(self, index: int):
        self.index = index
        self.blob: Optional[bytes] = None
        self.failure: Optional[str] = None
        self.done = threading.Event()

    def __reduce__(self):
        return Later, (self.index,)

    def settle(self, blob: Optional[bytes], failure: Optional[str] = None) -> None:
        self.blob, self.failure = blob, failure
        self.done.set()

    def __call__(self):
        self.done.wait()
        if self.blob is None:
            raise RuntimeError(self.failure or "the model run's parts did not come")
        return pickle.loads(self.blob)


def laters(report) -> list:
    """The :class:`Later` parts of the model runs of a report from a worker, in order."""
    runs = getattr(report, "runs_made", ())
    if callable(runs):
        return []       # made in this process
    return [run.parts for run in runs if isinstance(run.parts, Later)]


def write_message(stream, message) -> None:
    _send(stream, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def write_answer(stream, job_id: int, outcome: Outcome) -> list:
    """Send ``(job_id, outcome)`` with each model run's parts left :class:`Later`; the runs
    whose parts are to follow (:meth:`Worker.parts`) are returned."""
    from shapelens.analysis.report import ModelRun
    runs = []

    def shell(run: ModelRun):
        runs.append(run)
        return ModelRun, (run.name, run.source, run.line, run.inputs, run.called,
                          Later(len(runs) - 1), run.unsure_widths)
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table, ModelRun: shell}
    pickler.dump((job_id, outcome))
    _send(stream, buffer.getvalue())
    return runs


def _send(stream, data: bytes) -> None:
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def read_message(stream):
    """The next message, or None at the end of the stream."""
    header = _read_exactly(stream, HEADER.size)
    if header is None:
        return None
    data = _read_exactly(stream, HEADER.unpack(header)[0])
    return None if data is None else pickle.loads(data)


def _read_exactly(stream, size: int) -> Optional[bytes]:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# ----------------------------------------------------------------------------- the engine

_warm_lock = threading.Lock()
_warm = False


def warm_engine() -> None:
    """Import the engine, its op rules and its interpreter (once, thread-safe): a worker does
    it as it starts, while the server imports pygls, so the first analysis does not pay for
    it (8 ms of the first diagnostics)."""
    global _warm
    if _warm:
        return
    with _warm_lock:
        if not _warm:
            import shapelens.analysis as engine
            engine._load_rules()
            engine.analyze("import torch\n", "<warm-up>")   # imports the interpreter
            _warm = True


def engine_report(text: str, path: str, resolver, inputs=None) -> Tuple[Any, Optional[str],
                                                                         bool]:
    """(report, failure, whether the text parses): the engine's part of an analysis (the
    rest is :func:`~.results.make_result`, in the server).  ``failure`` is what the engine
    raised (a bug), with an empty report."""
    warm_engine()
    from shapelens.analysis import analyze
    from shapelens.analysis.report import Report
    failure = None
    try:
        report = analyze(text, path, resolver, inputs)
        cache = getattr(resolver, "cache", None)
        if cache is not None:
            cache.settle()      # library modules loaded: out of the collector's scans
    except (Exception, RecursionError) as exc:  # an engine bug must not take the server down
        logger.exception("analysis of %s failed", path)
        failure = "%s: %s" % (type(exc).__name__, exc)
        report = Report(path)
    # whether a carry-over may be needed is decided here: ast.parse is the costly part
    parses = failure is None and (not is_empty(report) or _parses(text))
    return report, failure, parses


def is_empty(report) -> bool:
    return not (report.shapes or report.expr_shapes or report.layers or report.modules
                or report.diagnostics)


def _parses(text: str) -> bool:
    """Whether the part of ``text`` the engine analyses parses."""
    from shapelens.analysis.source import within_size
    try:
        ast.parse(within_size(text)[0])
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


# ----------------------------------------------------------------------------- the process

class Cancelled(BaseException):
    """Raised in the running analysis by SIGUSR1 (BaseException: nothing meant for an
    analysis bug catches it)."""


class Worker:
    def __init__(self):
        from shapelens.analysis.resolver import FileCache
        import shapelens.environment  # noqa: F401  (before the first job, not during it)
        self.files = FileCache()
        self.caches: Dict[Optional[str], Any] = {}     # interpreter -> ModuleCache
        self.running = False

    def cancel(self, signum, frame) -> None:
        if self.running:
            self.running = False
            raise Cancelled()

    def run(self, job: Job) -> Outcome:
        self.running = True
        try:
            outcome = self.analyse(job)
            self.running = False
            return outcome
        except Cancelled:
            self.running = False
            self.caches.clear()
            return Outcome(cancelled=True)

    def parts(self, runs) -> Parts:
        """The parts of model runs, made now (the answer has been sent)."""
        return Parts(tuple(pickle.dumps(run._parts(), protocol=pickle.HIGHEST_PROTOCOL)
                           for run in runs))

    def analyse(self, job: Job) -> Outcome:
        return Outcome(*engine_report(job.text, job.path, self.resolver(job) if job.resolve
                                      else None, job.inputs))

    def resolver(self, job: Job):
        from shapelens.analysis.interp.modules import ModuleCache
        from shapelens.environment import workspace_resolver
        buffers, files = job.buffers, self.files

        def read(path: str) -> Optional[str]:
            text = buffers.get(os.path.normcase(os.path.abspath(path)))
            return text if text is not None else files(path)
        cache = self.caches.get(job.python)
        if cache is None:
            cache = self.caches[job.python] = ModuleCache()
        return workspace_resolver(dict.fromkeys(job.roots), job.python, read, cache)


def main() -> int:
    from shapelens.analysis.report import gc_paused
    jobs, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr         # a stray print() must not corrupt the answers
    warnings.filterwarnings("ignore", category=SyntaxWarning)
    worker = Worker()
    signal.signal(signal.SIGUSR1, worker.cancel)
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the editor's Ctrl-C is not for us
    warm_engine()                   # before the first job, not during it
    gc.freeze()                     # the engine's modules: out of the collections after jobs
    while True:
        message = read_message(jobs)
        if message is None:
            return 0                # the server closed the pipe: it is gone
        job_id, job = message
        with gc_paused():
            runs = write_answer(answers, job_id, worker.run(job))
            if runs:
                write_message(answers, (job_id, worker.parts(runs)))
        gc.collect()                # the job's garbage, once it is answered


if __name__ == "__main__":
    # run as the module its classes are pickled by (not ``__main__``)
    from shapelens.server import worker as _worker
    sys.exit(_worker.main())
