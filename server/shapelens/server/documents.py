"""Document sync and the analysis scheduler.

Every open Python document, and every open notebook (its code cells as one program), is a
:class:`Target`.  Each change bumps the target's ``seq`` and does two things:

* it makes sure an analysis of the *current* text is running in an analysis worker process
  (:mod:`.workers`; at most one per target; when it finishes and the text has moved on
  meanwhile, the next one starts at once on the newest text, so the workers keep up with
  typing without piling up work; one that has run ``CANCEL_AFTER`` for a text already
  superseded is cancelled instead).  The workers are processes so that no analysis holds
  the server's interpreter lock: the event loop answers at once whatever runs.  A document
  whose analysis runs long (up to the engine's budget) never delays another's for long
  (see workers.py);
* it (re)starts the target's debounce timer (``analysis.debounceMs``, 150 ms by default;
  opening a document publishes at once).

When the timer fires, the analysis of the current text is awaited (it is usually finished by
then: analysis runs *during* the debounce, not after it) and published.  Hovers and inlay
hints never wait for it: they are answered from the last result (:class:`~.results.View`).  A result is accepted
only if it was started for the current ``seq`` *and* the document version is still the one
analysed, so a result for old text is never published, and nothing is published while edits
keep coming.

Cross-file: a result lists the workspace files the engine read for imports; a change to one
of them (an edit in an open buffer, a close, or a change on disk reported through
``workspace/didChangeWatchedFiles``) re-analyses the targets that read it.  The resolver
serves open buffers before the disk, so unsaved edits of an imported file count.
"""
from __future__ import annotations

import asyncio
import gc
import logging
import os
import threading
import time
from typing import Dict, Iterable, List, Optional, Tuple
from urllib.parse import unquote

from lsprotocol import types
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from shapelens.analysis.report import Report
from shapelens.analysis.resolver import FileCache, WorkspaceResolver
from shapelens.config import CONFIG_NAMES

from .feature import LanguageFeature
from .positions import Codec, lines_with_breaks
from .results import AnalysisResult, View, analyse, make_result
from .snapshot import Snapshot, document_snapshot, notebook_snapshot
from .worker import Job, Outcome
from .workers import Workers

logger = logging.getLogger("shapelens")

PYTHON_SUFFIXES = (".py", ".pyi")
CANCEL_AFTER = 1.0      # s: an analysis of a superseded text running this long is cancelled


def uri_key(uri: str) -> str:
    """The form URIs are compared in (pygls's workspace unquotes them too)."""
    return unquote(uri)


def norm_path(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def uri_path(uri: str) -> str:
    """File system path of a URI; the URI itself when it is not a file (untitled:...)."""
    path = to_fs_path(uri)
    return path if path else uri


class Document(TextDocument):
    """pygls's text document, split into lines where Python and LSP split them.

    pygls splits with ``str.splitlines``, which also breaks at form feeds (``^L`` page breaks
    are common in older Python files), ``\\x1c``-``\\x1e``, ``\\x85`` and ``\\u2028``; an
    incremental change below such a character would then land on the wrong line and the
    server's copy of the document would silently differ from the editor's.  Changes are
    applied here with :class:`~.positions.Codec`, the one place columns are converted.
    """

    @property
    def lines(self):
        return tuple(lines_with_breaks(self.source))

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial):
        text = self.source
        lines = lines_with_breaks(text)
        codec = Codec(self._position_codec.encoding)
        start = codec.offset(lines, change.range.start)
        end = max(start, codec.offset(lines, change.range.end))
        self._source = text[:start] + change.text + text[end:]


def install_documents(workspace) -> None:
    """Make ``workspace`` create :class:`Document` objects (pygls has no hook for it)."""
    def create(doc_uri, source=None, version=None, language_id=None):
        return Document(doc_uri, source=source, version=version, language_id=language_id,
                        sync_kind=workspace._sync_kind,
                        position_codec=workspace._position_codec)
    workspace._create_text_document = create


class Target:
    """One analysable unit: a Python document, or a notebook."""

    def __init__(self, uri: str, path: str, notebook: bool):
        self.uri = uri                      # as the client spells it (publish with this)
        self.key = uri_key(uri)
        self.path = path
        self.notebook = notebook
        self.seq = 0                        # bumped by every change or re-analysis
        self.timer: Optional[asyncio.Task] = None      # the debounce, then the publishing
        self.job: Optional[tuple] = None    # (seq, snapshot, future, started) of the latest
                                            # analysis
        self.cancelling: Optional[asyncio.TimerHandle] = None  # cancels it if it runs long
        self.result: Optional[AnalysisResult] = None   # the last accepted result
        self.clean: Optional[AnalysisResult] = None    # the last one that parsed whole
        self.recovered: Optional[AnalysisResult] = None  # the last one the engine made
        self.probe = None                   # the last probe outcome (probe.py)
        self.probing = None                 # the running probe, if any
        self.published: set = set()         # URIs we published diagnostics for
        self.views_stale = False            # re-analysed for a reason the editor cannot see
        self.hints_stale = False            # inlay hints were answered from an older text
        self.view: Optional[View] = None    # the last result seen from the current text
        self.settled = asyncio.Event()

    @property
    def good(self) -> Optional[AnalysisResult]:
        """What a text the engine cannot parse carries its facts from: the last analysis of
        a text that parsed whole, else the last the engine recovered itself."""
        return self.clean or self.recovered

    @property
    def pending(self) -> bool:
        return self.timer is not None and not self.timer.done()


class Documents(LanguageFeature):
    """Text document and notebook sync, turned into scheduled analyses."""

    def __init__(self, server):
        super().__init__(server)
        self.targets: Dict[str, Target] = {}
        self.files = FileCache()            # files on disk, read again when they change
        self.module_caches: Dict[Optional[str], object] = {}   # per interpreter (in-process)
        self.workers: Optional[Workers] = None  # the analysis worker processes

    def register(self) -> None:
        self.handle(types.TEXT_DOCUMENT_DID_OPEN, self.did_open)
        self.handle(types.TEXT_DOCUMENT_DID_CHANGE, self.did_change)
        self.handle(types.TEXT_DOCUMENT_DID_CLOSE, self.did_close)
        self.handle(types.NOTEBOOK_DOCUMENT_DID_OPEN, self.notebook_did_open)
        self.handle(types.NOTEBOOK_DOCUMENT_DID_CHANGE, self.notebook_did_change)
        self.handle(types.NOTEBOOK_DOCUMENT_DID_CLOSE, self.notebook_did_close)
        self.handle(types.WORKSPACE_DID_CHANGE_WATCHED_FILES, self.did_change_watched_files)

    # ------------------------------------------------------------------ events

    def initialize(self, params) -> None:
        install_documents(self.server.workspace)
        self.workers = Workers(asyncio.get_running_loop())
        # what is loaded now (pygls, lsprotocol's types and converters: most of the server's
        # objects) lives as long as the server: out of the cyclic garbage collector's sight
        gc.freeze()

    def shutdown(self) -> None:
        for target in self.targets.values():
            if target.timer is not None:
                target.timer.cancel()
        if self.workers is not None:
            self.workers.close()

    @property
    def debounce_s(self) -> float:
        return self.server.settings.debounce_ms / 1000.0

    # ------------------------------------------------------------------ text documents

    def did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        if not self.is_python(doc.uri, doc.language_id):
            return
        if self.server.workspace.get_notebook_document(cell_uri=doc.uri) is not None:
            return  # a cell: analysed with its notebook
        target = Target(doc.uri, uri_path(doc.uri), notebook=False)
        self.replace(target)
        self.schedule(target, 0.0)
        self.schedule_dependents([target.path], exclude=target)

    def did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        key = uri_key(params.text_document.uri)
        target = self.targets.get(key)
        if target is None:
            notebook = self.server.workspace.get_notebook_document(
                cell_uri=params.text_document.uri)
            target = self.targets.get(uri_key(notebook.uri)) if notebook else None
        if target is None:
            return
        self.schedule(target, self.debounce_s)
        if not target.notebook:
            self.schedule_dependents([target.path], exclude=target)

    def did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        target = self.targets.pop(uri_key(params.text_document.uri), None)
        if target is None:
            return
        self.close(target)
        # the buffer is gone: importers now read the file from disk
        self.schedule_dependents([target.path], exclude=target)

    # ------------------------------------------------------------------ notebooks

    def notebook_did_open(self, params: types.DidOpenNotebookDocumentParams) -> None:
        notebook = params.notebook_document
        target = Target(notebook.uri, uri_path(notebook.uri), notebook=True)
        self.replace(target)
        self.schedule(target, 0.0)

    def notebook_did_change(self, params: types.DidChangeNotebookDocumentParams) -> None:
        target = self.targets.get(uri_key(params.notebook_document.uri))
        if target is not None:
            self.schedule(target, self.debounce_s)

    def notebook_did_close(self, params: types.DidCloseNotebookDocumentParams) -> None:
        target = self.targets.pop(uri_key(params.notebook_document.uri), None)
        if target is not None:
            self.close(target)

    # ------------------------------------------------------------------ files on disk

    def did_change_watched_files(self, params: types.DidChangeWatchedFilesParams) -> None:
        paths = [uri_path(change.uri) for change in params.changes]
        if any(os.path.basename(p) in CONFIG_NAMES for p in paths):
            self.server.config_files_changed()
        self.schedule_dependents(paths)

    # ------------------------------------------------------------------ lookups

    def is_python(self, uri: str, language_id: Optional[str]) -> bool:
        if language_id:
            return language_id.lower() == "python"
        return uri.lower().endswith(PYTHON_SUFFIXES)

    def target_for(self, uri: str) -> Optional[Target]:
        """The target a request's URI belongs to (a document, a notebook or a cell)."""
        target = self.targets.get(uri_key(uri))
        if target is not None:
            return target
        notebook = self.server.workspace.get_notebook_document(cell_uri=uri)
        if notebook is not None:
            return self.targets.get(uri_key(notebook.uri))
        return None

    async def view(self, target: Target) -> Optional[View]:
        """The last result seen from the current text, at once (hovers, inlay hints).  Only
        a target never analysed yet waits (bounded) for its first result."""
        if target.result is None:
            await self.settled(target)
        result = target.result
        if result is None:
            return None
        version = self.version_of(target)
        view = target.view
        if view is None or view.result is not result or view.current.version != version:
            current = result.snapshot
            if version != current.version:
                current = self.snapshot(target) or current
            view = target.view = View.of(result, current)
        return view

    async def settled(self, target: Target, timeout: float = 2.0) -> Optional[AnalysisResult]:
        """The result for the current text: waits (bounded) for a scheduled analysis; never
        starts one.  Returns the last result if the wait times out."""
        if target.pending or target.result is None:
            try:
                await asyncio.wait_for(target.settled.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        return target.result

    def snapshot(self, target: Target) -> Optional[Snapshot]:
        """The current text of a target, taken on the event loop."""
        workspace = self.server.workspace
        if not target.notebook:
            doc = workspace.text_documents.get(target.key)
            if doc is None:
                return None
            return document_snapshot(target.uri, target.path, doc.source, doc.version)
        notebook = workspace.get_notebook_document(notebook_uri=target.uri)
        if notebook is None:
            return None
        return notebook_snapshot(target.uri, target.path, self._cells(notebook),
                                 notebook.version)

    def version_of(self, target: Target):
        """The version a snapshot of the target taken now would carry."""
        workspace = self.server.workspace
        if not target.notebook:
            doc = workspace.text_documents.get(target.key)
            return None if doc is None else doc.version
        notebook = workspace.get_notebook_document(notebook_uri=target.uri)
        if notebook is None:
            return None
        return (notebook.version, tuple(v for _, _, v in self._cells(notebook)))

    def _cells(self, notebook: types.NotebookDocument):
        """(URI, text, version) of the Python code cells, in notebook order."""
        cells = []
        documents = self.server.workspace.text_documents
        for cell in notebook.cells:
            if cell.kind != types.NotebookCellKind.Code:
                continue
            doc = documents.get(uri_key(cell.document))
            if doc is None or (doc.language_id and doc.language_id.lower() != "python"):
                continue
            cells.append((cell.document, doc.source, doc.version))
        return cells

    # ------------------------------------------------------------------ scheduling

    def schedule(self, target: Target, delay: float) -> None:
        """Publish an analysis of the target's current text ``delay`` seconds from now (the
        debounce), superseding any earlier schedule; the analysis itself starts now."""
        target.seq += 1
        target.settled.clear()
        if target.timer is not None and not target.timer.done():
            target.timer.cancel()
        self.start_job(target)
        target.timer = asyncio.ensure_future(self._publish_after(target, target.seq, delay))

    def schedule_all(self) -> None:
        for target in list(self.targets.values()):
            self.schedule(target, 0.0)

    def schedule_dependents(self, paths: Iterable[str], exclude: Optional[Target] = None):
        changed = {norm_path(p) for p in paths}
        for target in list(self.targets.values()):
            if target is exclude or target.result is None:
                continue
            deps = {norm_path(p) for p in target.result.report.dependencies}
            if deps & changed:
                logger.debug("re-analysing %s: an imported file changed", target.uri)
                target.views_stale = True  # its inlay hints and lenses must be re-requested
                self.schedule(target, self.debounce_s)

    def start_job(self, target: Target) -> None:
        """Start analysing the target's current text, unless an analysis is running (it
        chains to the newest text when it ends) or the latest one is already for this seq."""
        if target.job is not None:
            seq, _, future, started = target.job
            if seq == target.seq:
                return
            if not future.done():
                # superseded: it chains to the newest text when it ends, unless it runs long
                if target.cancelling is None:
                    loop = asyncio.get_running_loop()
                    target.cancelling = loop.call_at(
                        loop.time() + max(0.0, started + CANCEL_AFTER - time.monotonic()),
                        self._cancel_if_superseded, target, target.job)
                return
        snapshot = self.snapshot(target)
        if snapshot is None:
            return
        future = self.analysis(snapshot, target)
        job = (target.seq, snapshot, future, time.monotonic())
        target.job = job
        future.add_done_callback(lambda _: self._job_done(target, job))

    def analysis(self, snapshot: Snapshot, target: Target) -> asyncio.Future:
        """Analyse ``snapshot`` in a worker process (see the module docstring); its future's
        value is an :class:`AnalysisResult`, or a cancelled :class:`~.worker.Outcome`."""
        good = target.good
        if self.workers is None or self.workers.broken:
            # no worker can run: in a thread of the server (hovers wait for it then)
            loop = asyncio.get_running_loop()
            return in_thread(loop, "shapelens-analysis " + os.path.basename(target.path),
                             analyse, snapshot, self.resolver(snapshot.path), good)
        path = snapshot.path or snapshot.key

        def finish(outcome: Outcome) -> AnalysisResult:  # in the worker's reader thread
            report = outcome.report if outcome.report is not None else Report(path)
            return make_result(snapshot, report, outcome.failure, outcome.parses, good)
        return self.workers.submit(self.job(snapshot.text, path), finish)

    def job(self, text: str, path: str, inputs=None) -> Job:
        """A worker's job: analyse ``text`` as the file ``path``, resolving imports as
        :meth:`resolver` would."""
        roots, python = self.resolver_settings(path)
        return Job(text, path, tuple(roots), python, self.buffers(), inputs)

    def _cancel_if_superseded(self, target: Target, job: tuple) -> None:
        target.cancelling = None
        if target.job is job and job[0] != target.seq and not job[2].done():
            logger.debug("cancelling a long analysis of an older text of %s", target.uri)
            self.workers.cancel(job[2])

    def _job_done(self, target: Target, job: tuple) -> None:
        if target.cancelling is not None:
            target.cancelling.cancel()
            target.cancelling = None
        if target.job is job and job[0] != target.seq and \
                self.targets.get(target.key) is target:
            self.start_job(target)  # the text moved on while it ran: analyse the newest

    async def _publish_after(self, target: Target, seq: int, delay: float) -> None:
        try:
            if delay > 0:
                await asyncio.sleep(delay)
            while target.seq == seq:
                self.start_job(target)
                if target.job is None:
                    return  # the document is gone
                job_seq, snapshot, future, _ = target.job
                result = await asyncio.shield(future)
                if isinstance(result, Outcome):     # cancelled
                    if job_seq == seq:
                        return
                    continue
                if job_seq == seq:
                    break
            else:
                return  # superseded: the newer schedule publishes
            if target.seq != seq or self.targets.get(target.key) is not target:
                return
            if self.version_of(target) != snapshot.version:
                return  # the text moved on (its own schedule will publish)
            self.accept(target, result)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("the analysis of %s failed", target.uri)
            target.settled.set()  # nobody waits for a result that will not come

    def accept(self, target: Target, result: AnalysisResult) -> None:
        target.result = result
        if result.is_good:
            target.recovered = result
            if not result.report.skipped_lines:
                target.clean = result
        target.settled.set()
        if result.failure:
            logger.error("analysis of %s failed (%s); showing the last results",
                         target.uri, result.failure)
        self.server.emit("analysis_done", target)

    def buffers(self) -> Dict[str, str]:
        """The open documents' texts, by normalized path."""
        buffers = {}
        for key, doc in self.server.workspace.text_documents.items():
            if key.startswith("file:"):
                buffers[norm_path(uri_path(doc.uri))] = doc.source
        return buffers

    def reader(self):
        """``read(path) -> text | None``: an open buffer's text, else the file on disk.  The
        buffers are captured now, so the reader can be used from a worker thread."""
        buffers = self.buffers()
        files = self.files

        def read(path: str) -> Optional[str]:
            text = buffers.get(norm_path(path))
            return text if text is not None else files(path)
        return read

    def python_for_imports(self, for_path: Optional[str] = None) -> Optional[str]:
        """The interpreter whose environment imports resolve into: the ``python`` of the
        file's configuration (``shapelens.python``, else ``[tool.shapelens] python``) in a
        trusted workspace (starting an interpreter named in the workspace's own settings or
        files needs trust), else the server's own."""
        python = self.server.config_for(for_path).python if for_path else \
            self.server.settings.probe_python if self.server.settings.python else ""
        if python and self.server.trusted:
            return python
        return None

    def resolver(self, for_path: Optional[str] = None) -> WorkspaceResolver:
        """Resolves imports against the workspace roots and the ``extra-paths`` of the
        configuration of the file ``for_path`` (reading open buffers first) and the selected
        environment; module results are shared across analyses (modules.py).  For an analysis
        in this process; a worker makes its own from :meth:`job`."""
        from shapelens.analysis.interp.modules import ModuleCache
        from shapelens.environment import workspace_resolver
        roots, python = self.resolver_settings(for_path)
        cache = self.module_caches.get(python)
        if cache is None:
            cache = self.module_caches[python] = ModuleCache()
        return workspace_resolver(dict.fromkeys(roots), python, self.reader(), cache)

    def resolver_settings(self, for_path: Optional[str] = None) -> Tuple[List[str],
                                                                          Optional[str]]:
        """(roots, python) imports resolve with: the workspace roots and the ``extra-paths``
        of the configuration of the file ``for_path``; the interpreter of
        :meth:`python_for_imports`."""
        workspace = self.server.workspace
        roots: List[str] = []
        for folder in workspace.folders.values():
            path = to_fs_path(folder.uri)
            if path:
                roots.append(path)
        if workspace.root_path:
            roots.append(workspace.root_path)
        if for_path is not None:
            roots.extend(self.server.config_for(for_path).extra_paths)
        return list(dict.fromkeys(roots)), self.python_for_imports(for_path)

    def replace(self, target: Target) -> None:
        """Track ``target``; a document opened again replaces its earlier target."""
        old = self.targets.get(target.key)
        if old is not None:
            old.seq += 1
            if old.timer is not None:
                old.timer.cancel()
            if old.job is not None and self.workers is not None:
                self.workers.cancel(old.job[2], running=False)
            if old.probing is not None:
                old.probing.set()
            target.published = old.published
        self.targets[target.key] = target

    def close(self, target: Target) -> None:
        target.seq += 1
        if target.timer is not None:
            target.timer.cancel()
        if target.cancelling is not None:
            target.cancelling.cancel()
        if target.job is not None and self.workers is not None:
            self.workers.cancel(target.job[2], running=False)  # one waiting is not needed
        self.server.emit("target_closed", target)


def in_thread(loop: asyncio.AbstractEventLoop, name: str, fn, *args) -> asyncio.Future:
    """``fn(*args)`` run in a new daemon thread; its outcome as a future of ``loop``."""
    future = loop.create_future()

    def settle(value, error) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def run() -> None:
        value = error = None
        try:
            value = fn(*args)
        except BaseException as exc:  # handed to whoever awaits the future
            error = exc
        try:
            loop.call_soon_threadsafe(settle, value, error)
        except RuntimeError:
            pass  # the loop is closed: the server is gone

    threading.Thread(target=run, name=name, daemon=True).start()
    return future
