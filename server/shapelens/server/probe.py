"""The probe's LSP side: ``workspace/executeCommand`` ``shapelens.runProbe``.

Arguments ``[{uri, device?, timeoutSeconds?, className?}]``; returns ``{status, message,
device, skipped}`` (``skipped``: ``[{line, message}]``, what the run held back).

Trust: the probe runs the workspace's code, so it needs trust the user gave.  Refused in an
untrusted workspace (``initializationOptions.workspaceTrusted === false``).  A client that says
nothing about trust (``workspaceTrusted`` absent: any client but VS Code) gets the probe only
through this command, which a user has to ask for (no code lenses), and only with the
interpreter and probe settings of the user's own configuration (what the client sent, or the
server's own interpreter): a value read from a file in the workspace (``[tool.shapelens]``,
``Config.origins``) makes the probe refuse until the client says the workspace is trusted.

Otherwise the document's current text and the sample inputs the analysis found go
to :func:`shapelens.probe.runner.run_probe`, in a worker thread, with work-done progress
(server-created, cancellable).  ``window/workDoneProgress/cancel``, ``$/cancelRequest`` and
closing the document all stop the run through its cancel event.  The event loop never waits
on the probe, so hovers are served during and after it, whatever the probed code does.

Lifetime of a result: a probe result belongs to the exact text that was probed.  It is shown
(hovers, inlay hints, ``runtime-error`` / ``probe-disagrees`` diagnostics) only while the
analysed text is that text: the first edit hides it (line numbers and shapes may no longer
hold), and undoing back to the probed text shows it again.  The next probe of the document
replaces it (a cancelled or refused run leaves the previous result), closing drops it.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import os
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping, Optional, Tuple

from lsprotocol import types

from .documents import uri_path
from .feature import LanguageFeature

if TYPE_CHECKING:  # the runner itself is imported by the first probe, not at start-up
    from shapelens.probe.runner import ProbeError, ProbeNote

logger = logging.getLogger("shapelens")

COMMAND = "shapelens.runProbe"
UNTRUSTED = ("the probe runs code from this workspace, so it is disabled while the workspace "
             "is not trusted; trust the workspace to probe")
# The settings that choose what the probe runs and how (Settings field names).
PROBE_SETTINGS = ("python", "probe_device", "probe_timeout_s", "probe_dims",
                  "probe_memory_limit_mb")
PROGRESS_CREATE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ProbeOutcome:
    text: str                                   # the exact text probed
    status: str
    message: str
    device: Optional[str]
    facts: Mapping[Tuple[int, str], tuple] = field(default_factory=dict)
    error: Optional[ProbeError] = None
    skipped: Tuple[ProbeNote, ...] = ()


def reply(status: str, message: str, device: Optional[str] = None,
          skipped: Tuple[ProbeNote, ...] = ()) -> dict:
    return {"status": status, "message": message, "device": device,
            "skipped": [{"line": n.line, "message": n.message} for n in skipped]}


def trust_refusal(trusted: Optional[bool], config) -> str:
    """Why the probe may not run with this trust and this configuration ("" when it may):
    ``config`` is a :class:`shapelens.config.Config`, whose ``origins`` say where each value
    came from."""
    if trusted is False:
        return UNTRUSTED
    origins = getattr(config, "origins", None) or {}
    from_workspace = ["%s (from %s)" % (name, origins[name].path) for name in PROBE_SETTINGS
                      if getattr(origins.get(name), "from_workspace_file", False)]
    if trusted is None and from_workspace:
        return ("the probe would run with %s, read from a file in this workspace, and the "
                "client has not said that the workspace is trusted; set these in your own "
                "editor settings, or trust the workspace (initializationOptions."
                "workspaceTrusted: true)" % ", ".join(from_workspace))
    return ""


class Probe(LanguageFeature):
    def __init__(self, server):
        super().__init__(server)
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="shapelens-probe")
        self.by_token = {}   # progress token -> cancel event

    def register(self) -> None:
        self.command(COMMAND, self.run_command)
        self.handle(types.WINDOW_WORK_DONE_PROGRESS_CANCEL, self.progress_cancelled)

    # ------------------------------------------------------------------ state

    def current(self, target) -> Optional[ProbeOutcome]:
        """The probe outcome that applies to the target's last analysed text, if any."""
        outcome, result = target.probe, target.result
        if outcome is None or result is None or outcome.text != result.snapshot.text:
            return None
        return outcome

    def target_closed(self, target) -> None:
        if target.probing is not None:
            target.probing.set()
        target.probe = None

    def shutdown(self) -> None:
        for target in self.server.documents.targets.values():
            if target.probing is not None:
                target.probing.set()
        self.executor.shutdown(wait=False, cancel_futures=True)

    def progress_cancelled(self, params: types.WorkDoneProgressCancelParams) -> None:
        event = self.by_token.get(params.token)
        if event is not None:
            logger.info("probe cancelled by the client")
            event.set()

    # ------------------------------------------------------------------ the command

    async def run_command(self, *args) -> dict:
        options = args[0] if args and isinstance(args[0], dict) else {}
        uri = options.get("uri")
        if not isinstance(uri, str) or not uri:
            return reply("refused", "shapelens.runProbe needs {uri: ...} as its argument")
        settings = self.server.settings
        # the file's [tool.shapelens] with the editor's settings on top; each value knows
        # where it came from (config.origin(...)), e.g. an interpreter named by the repository
        config = self.server.config_for(uri_path(uri))
        refusal = trust_refusal(self.server.trusted, config)
        if refusal:
            return reply("refused", refusal)
        device = options.get("device") or config.probe_device
        timeout_s = options.get("timeoutSeconds") or config.probe_timeout_s
        if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) \
                or timeout_s <= 0:
            return reply("refused", "timeoutSeconds must be a positive number, not %r"
                         % (timeout_s,))
        class_name = options.get("className")

        documents = self.server.documents
        target = documents.target_for(uri)
        if target is None:
            return reply("refused", "%s is not open in the editor" % uri)
        if target.probing is not None:
            return reply("refused", "a probe of this file is already running")
        cancel = threading.Event()
        target.probing = cancel
        msg_id = self.server.protocol.msg_id
        if msg_id is not None:
            self.server.on_cancel(msg_id, cancel.set)
        token = None
        try:
            result = await self.analysis_for(target)
            if result is None:
                return reply("refused", "%s has no text to probe" % uri)
            snapshot = result.snapshot
            samples = [s.to_json() for s in result.report.samples
                       if not class_name or s.class_name == class_name]
            path = snapshot.path
            if not os.path.isabs(path):
                path = os.path.join(self.server.workspace.root_path or os.getcwd(),
                                    "untitled_probe.py")
            request = {"path": path, "source": snapshot.text, "device": device,
                       "dims": dict(config.probe_dims), "samples": samples}
            title = "ShapeLens probe" + (" of %s" % class_name if class_name else "")
            token = await self.begin_progress(title, "%s on %s" % (os.path.basename(path),
                                                                    device), cancel)
            on_progress = None
            if token is not None:
                def on_progress(text: str) -> None:
                    self.server.call_soon(self.report_progress, token, text)
            from shapelens.probe.runner import run_probe  # not needed before the first probe
            python = config.python or sys.executable
            logger.info("probing %s on %s (timeout %g s) with %s (from %s)", uri, device,
                        timeout_s, python, config.origin("python"))
            loop = asyncio.get_running_loop()
            outcome = await loop.run_in_executor(self.executor, functools.partial(
                run_probe, request, python=python, timeout_s=float(timeout_s),
                cancel=cancel, on_progress=on_progress,
                memory_limit_mb=settings.probe_memory_limit_mb))
            logger.info("probe of %s: %s: %s", uri, outcome.status, outcome.message)
            self.end_progress(token, outcome.message)
            token = None
            self.store(target, snapshot, outcome)
            return reply(outcome.status, outcome.message, outcome.device, outcome.skipped)
        except asyncio.CancelledError:
            cancel.set()
            raise
        except Exception as exc:  # a bug here must not leave the probe state stuck
            logger.exception("the probe of %s failed", uri)
            return reply("crashed", "the probe failed inside the server: %s" % exc)
        finally:
            if token is not None:
                self.end_progress(token, "probe stopped")
            if msg_id is not None:
                self.server.on_cancel(msg_id, None)
            if target.probing is cancel:
                target.probing = None

    async def analysis_for(self, target):
        """The analysis of the target's current text (the last one, if it is current)."""
        documents = self.server.documents
        result = await documents.settled(target)
        snapshot = documents.snapshot(target)
        if snapshot is None:
            return None
        if result is not None and result.snapshot.text == snapshot.text:
            return result
        return await documents.analysis(snapshot, target)

    def store(self, target, snapshot, outcome) -> None:
        if outcome.status in ("cancelled", "refused"):
            return
        if self.server.documents.targets.get(target.key) is not target:
            return  # closed meanwhile
        facts = {}
        for fact in outcome.facts:
            facts[(fact.line, fact.name)] = tuple(tuple(s) for s in fact.shapes)
        target.probe = ProbeOutcome(snapshot.text, outcome.status, outcome.message,
                                    outcome.device, facts, outcome.error, outcome.skipped)
        self.server.emit("probe_done", target)

    # ------------------------------------------------------------------ progress

    async def begin_progress(self, title: str, message: str, cancel: threading.Event):
        if not self.server.client_supports("window.work_done_progress"):
            return None
        token = "shapelens-probe-" + uuid.uuid4().hex
        progress = self.server.work_done_progress
        try:
            await asyncio.wait_for(progress.create_async(token), PROGRESS_CREATE_TIMEOUT_S)
        except Exception as exc:
            logger.debug("no progress for the probe: %s", exc)
            return None
        self.by_token[token] = cancel
        progress.begin(token, types.WorkDoneProgressBegin(title=title, message=message,
                                                          cancellable=True))
        return token

    def report_progress(self, token, text: str) -> None:
        if token in self.by_token:
            self.server.work_done_progress.report(
                token, types.WorkDoneProgressReport(message=text, cancellable=True))

    def end_progress(self, token, message: str) -> None:
        if token is None or self.by_token.pop(token, None) is None:
            return
        progress = self.server.work_done_progress
        progress.end(token, types.WorkDoneProgressEnd(message=message))
        progress.tokens.pop(token, None)
