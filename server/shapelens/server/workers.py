"""The server's analysis workers: processes running :mod:`.worker`, fed jobs from the event
loop (:meth:`Workers.submit`), answering with the engine's report.

* A job goes to an idle worker; when every worker is busy it waits in line, and if it is
  still waiting after ``PATIENCE`` another worker starts (up to ``MAX_WORKERS``), so a
  document whose analysis runs long never holds another's back for more than that.  Workers
  beyond ``KEEP`` stop when they fall idle with nothing in line.
* A worker that dies (killed, out of memory, a crash) is replaced; the job it ran is tried
  once more on another, then answered with a failure, so diagnostics go on either way.
* An analysis running past ``TIME_LIMIT`` stops its worker (the engine's own budget should
  end it long before).
* :meth:`Workers.cancel`: a job in line is dropped, a running one is interrupted (SIGUSR1).
* Answers are read, unpickled and turned into results by ``finish`` in a reader thread per
  worker, not on the event loop: the loop only settles the future.  The parts of the
  answer's model runs come after it (see :mod:`.worker`): the worker takes no other job
  until they are read.

The first worker is started by :func:`start_early`, before the server imports pygls, so the
engine loads in parallel with the server.
"""
from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import os
import signal
import subprocess
import sys
import threading
from typing import Callable, Deque, Dict, List, Optional

from .worker import Job, Outcome, Parts, laters, read_message, write_message

logger = logging.getLogger("shapelens")

# the server's interpreter, with its options (-X importtime, -I, -S...)
WORKER = [sys.executable, *subprocess._args_from_interpreter_flags(), "-m",
          "shapelens.server.worker"]
KEEP = 2            # workers kept running when idle
MAX_WORKERS = 6     # workers at most, whatever is waiting
PATIENCE = 0.5      # s a job waits for a busy worker before another one starts
TIME_LIMIT = 60.0   # s an analysis may run before its worker is stopped
RETRIES = 1         # a job whose worker died is run again this many times

_early: Optional["Process"] = None


def start_early() -> None:
    """Start the first worker now (it is adopted by the first :class:`Workers`)."""
    global _early
    try:
        _early = Process()
    except OSError:
        _early = None   # Workers tries again, and says why


class Process:
    """One worker process, seen from the server."""

    def __init__(self):
        self.popen = subprocess.Popen(WORKER, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      bufsize=0)
        self.job: Optional["Pending"] = None    # the job it runs
        self.answered = 0                       # jobs it answered

    @property
    def pid(self) -> int:
        return self.popen.pid

    def listen(self, on_answer: Callable, on_exit: Callable) -> None:
        """Read answers in a thread of their own: ``on_answer(process, job_id, outcome,
        value, more)`` for each (``value``: what the job's ``finish`` made of it, in this
        thread; ``more``: the parts of its model runs follow), then ``on_answer(process,
        job_id, None, None, False)`` once they are read; ``on_exit(process)`` when the
        worker is gone."""
        def read() -> None:
            stream = self.popen.stdout
            waiting: list = []      # the Later parts of the last answer
            try:
                while True:
                    message = read_message(stream)
                    if message is None:
                        break
                    job_id, outcome = message
                    if isinstance(outcome, Parts):
                        for later, blob in zip(waiting, outcome.blobs):
                            later.settle(blob)
                        waiting = []
                        on_answer(self, job_id, None, None, False)
                        continue
                    waiting = laters(outcome.report)
                    job = self.job
                    value = None
                    if job is not None and job.id == job_id and not outcome.cancelled:
                        try:
                            value = job.finish(outcome)
                        except Exception as exc:
                            logger.exception("reading an analysis failed")
                            value = exc
                    on_answer(self, job_id, outcome, value, bool(waiting))
            except Exception:
                logger.exception("reading from analysis worker %d failed", self.pid)
            finally:
                for later in waiting:
                    later.settle(None, "the analysis worker stopped before sending the model "
                                       "runs")
                self.popen.wait()
                on_exit(self)
        threading.Thread(target=read, name="shapelens-worker-%d" % self.pid,
                         daemon=True).start()

    def send(self, job: "Pending") -> None:
        self.job = job
        write_message(self.popen.stdin, (job.id, job.job))

    def interrupt(self) -> None:
        try:
            os.kill(self.pid, signal.SIGUSR1)
        except OSError:
            pass

    def stop(self) -> None:
        """Ask it to end (it ends when its job is done)."""
        try:
            self.popen.stdin.close()
        except OSError:
            pass

    def kill(self) -> None:
        try:
            self.popen.kill()
        except OSError:
            pass


class Pending:
    """A submitted job: its future (on the event loop) and what makes the value."""

    _ids = itertools.count(1)

    def __init__(self, job: Job, finish: Callable[[Outcome], object],
                 future: asyncio.Future):
        self.id = next(self._ids)
        self.job = job
        self.finish = finish
        self.future = future
        self.tries = 0
        self.process: Optional[Process] = None
        self.timer: Optional[asyncio.TimerHandle] = None
        self.too_long = False


class Workers:
    """The pool (used on the event loop's thread only)."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.idle: List[Process] = []
        self.busy: Dict[Process, Pending] = {}
        self.queue: Deque[Pending] = collections.deque()
        self.finishing: List[Process] = []  # answered; sending the parts of its model runs
        self.growing: Optional[asyncio.TimerHandle] = None
        self.closed = False
        self.failed_starts = 0      # workers in a row that died before answering anything
        global _early
        if _early is not None:
            self._adopt(_early)
            _early = None

    @property
    def broken(self) -> bool:
        """Workers cannot be started (or die at once): analyse in the server's process."""
        return self.failed_starts >= 3

    @property
    def processes(self) -> List[Process]:
        return self.idle + list(self.busy) + self.finishing

    # ------------------------------------------------------------------ jobs

    def submit(self, job: Job, finish: Callable[[Outcome], object]) -> asyncio.Future:
        """Run ``job``; the future's value is ``finish(outcome)`` (made off the loop), or an
        :class:`Outcome` with ``cancelled`` set when :meth:`cancel` got there first."""
        pending = Pending(job, finish, self.loop.create_future())
        self.queue.append(pending)
        self._dispatch()
        return pending.future

    def cancel(self, future: asyncio.Future, running: bool = True) -> None:
        """Stop the job of ``future`` (submitted here): dropped if waiting, interrupted if
        running (and ``running``).  Its future gets a cancelled :class:`Outcome`."""
        for pending in self.queue:
            if pending.future is future:
                self.queue.remove(pending)
                _settle(pending.future, Outcome(cancelled=True))
                return
        for process, pending in self.busy.items():
            if pending.future is future and running:
                process.interrupt()
                return

    def close(self) -> None:
        """End the workers (the server shuts down)."""
        self.closed = True
        for process in self.processes:
            process.kill()
        if not self.loop.is_closed():
            for pending in list(self.queue) + list(self.busy.values()):
                _settle(pending.future, Outcome(cancelled=True))
        self.queue.clear()

    # ------------------------------------------------------------------ scheduling

    def _dispatch(self) -> None:
        while self.queue and not self.closed:
            # a worker sending the parts of its last answer takes a job within milliseconds:
            # a job waits for it rather than start another worker (100 ms of CPU)
            if not self.idle and len(self.queue) > len(self.finishing) and \
                    len(self.processes) < KEEP:
                self._start()
            if not self.idle:
                break
            pending = self.queue.popleft()
            process = self.idle.pop()
            self.busy[process] = pending
            pending.tries += 1
            pending.process = process
            pending.timer = self.loop.call_later(TIME_LIMIT, self._time_up, process, pending)
            try:
                process.send(pending)
            except OSError:     # it died: its reader thread reports the exit
                pass
        if self.queue and self.growing is None and not self.closed:
            self.growing = self.loop.call_later(PATIENCE, self._grow)

    def _grow(self) -> None:
        self.growing = None
        if self.queue and not self.idle and len(self.processes) < MAX_WORKERS:
            logger.debug("analyses waiting: starting another worker")
            self._start()
        self._dispatch()

    def _start(self) -> None:
        try:
            self._adopt(Process())
        except OSError as exc:
            logger.error("cannot start the analysis worker: %s", exc)
            self.failed_starts += 1
            for pending in list(self.queue):
                self.queue.remove(pending)
                _settle(pending.future, Outcome(failure="the analysis worker cannot start: "
                                                        "%s" % exc))

    def _adopt(self, process: Process) -> None:
        self.idle.append(process)
        process.listen(
            lambda p, job_id, outcome, value, more: self._threadsafe(
                self._answered, p, job_id, outcome, value, more),
            lambda p: self._threadsafe(self._exited, p))

    def _threadsafe(self, fn, *args) -> None:
        try:
            self.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            pass    # the loop is closed: the server is gone

    def _time_up(self, process: Process, pending: Pending) -> None:
        if self.busy.get(process) is pending:
            logger.error("an analysis of %s ran past %d s: its worker is stopped",
                         pending.job.path, TIME_LIMIT)
            pending.too_long = True
            process.kill()

    def _answered(self, process: Process, job_id: int, outcome: Optional[Outcome], value,
                  more: bool) -> None:
        """An answer (``outcome``), or (None) the parts that followed it."""
        if outcome is None:
            if process not in self.finishing:
                return
            self.finishing.remove(process)
            self._free(process)
            return
        pending = self.busy.get(process)
        if pending is None or pending.id != job_id:
            return
        del self.busy[process]
        pending.timer.cancel()
        process.job = None
        process.answered += 1
        self.failed_starts = 0
        if isinstance(value, Exception):
            pending.future.set_exception(value) if not pending.future.done() else None
        else:
            _settle(pending.future, outcome if outcome.cancelled else value)
        if more:
            self.finishing.append(process)
        else:
            self._free(process)

    def _free(self, process: Process) -> None:
        """``process`` takes the next job, or stops when more than ``KEEP`` are running."""
        if self.queue or len(self.processes) <= KEEP:
            self.idle.append(process)
        else:
            process.stop()      # an extra worker with nothing to do
        self._dispatch()

    def _exited(self, process: Process) -> None:
        pending = self.busy.pop(process, None)
        if process in self.idle:
            self.idle.remove(process)
        if process in self.finishing:
            self.finishing.remove(process)
        if self.closed:
            return
        code = process.popen.returncode
        if process.answered == 0:
            self.failed_starts += 1
        if pending is not None:
            pending.timer.cancel()
            logger.warning("the analysis worker stopped (exit code %s) while analysing %s",
                           code, pending.job.path)
            if pending.too_long:
                self._fail(pending, "the analysis took longer than %d s" % TIME_LIMIT)
            elif pending.tries > RETRIES or self.broken:
                self._fail(pending, "the analysis worker stopped (exit code %s)" % code)
            else:
                self.queue.appendleft(pending)
        elif self.broken:
            for waiting in list(self.queue):
                self.queue.remove(waiting)
                self._fail(waiting, "the analysis worker cannot start (exit code %s)" % code)
        if not self.broken:
            self._dispatch()

    def _fail(self, pending: Pending, why: str) -> None:
        """Answer with a failure, made into a value by the job's ``finish`` like any other."""
        try:
            value = pending.finish(Outcome(failure=why, parses=False))
        except Exception as exc:
            value = exc
        if isinstance(value, Exception):
            if not pending.future.done():
                pending.future.set_exception(value)
        else:
            _settle(pending.future, value)


async def parts_in(report) -> None:
    """Wait, without holding the event loop, until the parts of ``report``'s model runs have
    come from its worker (they follow its answer: see :mod:`.worker`)."""
    waiting = [later.done for later in laters(report) if not later.done.is_set()]
    if waiting:
        await asyncio.to_thread(lambda: [done.wait() for done in waiting])


def _settle(future: asyncio.Future, value) -> None:
    if not future.done():
        future.set_result(value)
