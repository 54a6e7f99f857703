"""The ShapeLens language server: one setup that fans out to small feature modules.

Data flows one way: document text -> :mod:`.documents` (snapshot, debounce, worker thread)
-> the engine's :class:`~shapelens.analysis.report.Report` -> the views (diagnostics, hover,
inlay hints, code actions, code lens, probe).  Hovers and inlay hints are served from the last
analysis; nothing is analysed on a request.

Startup stays light: pygls + lsprotocol, and the probe runner (which never imports torch).
The engine's rules are loaded in a worker thread while the handshake completes.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import os
import threading
from typing import Callable, Dict, List, Optional

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from shapelens import __version__

from shapelens.config import EDITOR, Config, ConfigError, ConfigFinder, DEFAULT_CONFIG

from .feature import LanguageFeature, plain_function
from .log import set_level, setup_logging
from .positions import Codec
from .protocol import ShapeLensProtocol
from .settings import Settings

logger = logging.getLogger("shapelens")

NOTEBOOK_SYNC = types.NotebookDocumentSyncOptions(
    notebook_selector=[types.NotebookDocumentFilterWithCells(
        notebook="*", cells=[types.NotebookCellLanguage(language="python")])],
    save=False)


class ShapeLensServer(LanguageServer):
    def __init__(self):
        super().__init__("shapelens", __version__,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         notebook_document_sync=NOTEBOOK_SYNC,
                         protocol_cls=ShapeLensProtocol, max_workers=4)
        self.settings = Settings()
        # [tool.shapelens] / shapelens.toml of each file; a file that turns bad keeps its last
        # good configuration, and the user is told once per distinct error
        self.configs = ConfigFinder(keep_last_good=True, on_error=self._config_error)
        # initializationOptions.workspaceTrusted: True/False as the client says; None when it
        # says nothing (any client but VS Code): see server/probe.py for what that allows.
        self.trusted: Optional[bool] = None
        self.connected = False              # initialize received: the client can be logged to
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self._loop_thread: Optional[int] = None
        self._cancel_hooks: Dict[object, Callable[[], None]] = {}
        setup_logging(self)

        from .features import FEATURES
        self.features: List[LanguageFeature] = []
        for feature_class in FEATURES:
            feature = feature_class(self)
            feature.register()
            self.features.append(feature)
        self.documents = self.feature_of("Documents")

        self.feature(types.INITIALIZE)(plain_function(self._initialize))
        self.feature(types.INITIALIZED)(plain_function(self._initialized))
        self.feature(types.SHUTDOWN)(plain_function(self._shutdown))

    def feature_of(self, name: str):
        return next(f for f in self.features if type(f).__name__ == name)

    # ------------------------------------------------------------------ lifecycle

    def _initialize(self, params: types.InitializeParams) -> None:
        self.loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self.connected = True
        options = params.initialization_options
        if isinstance(options, dict):
            if isinstance(options.get("workspaceTrusted"), bool):
                self.trusted = options["workspaceTrusted"]
            raw = options.get("settings")
            if raw is None and "settings" not in options and "workspaceTrusted" not in options:
                raw = options  # settings given directly as the initialization options
            self.apply_settings(raw, announce=False)
        self.emit("initialize", params)

    def _initialized(self, params: types.InitializedParams) -> None:
        logger.info("ShapeLens %s ready (position encoding %s, workspace %s)", __version__,
                    getattr(self.workspace.position_encoding, "value",
                            self.workspace.position_encoding),
                    {True: "trusted", False: "untrusted: the probe is disabled",
                     None: "trust not stated by the client: the probe runs only on request, "
                           "with an interpreter from your own settings"}[self.trusted])
        self.emit("initialized")

    def _shutdown(self, params) -> None:
        self.emit("shutdown")

    # ------------------------------------------------------------------ fan-out

    def emit(self, event: str, *args) -> None:
        """Call ``event`` on every feature that defines it; coroutines become tasks.  A
        failing feature is logged and never stops the others."""
        for feature in self.features:
            handler = getattr(feature, event, None)
            if handler is None:
                continue
            try:
                outcome = handler(*args)
                if inspect.isawaitable(outcome):
                    task = asyncio.ensure_future(outcome)
                    task.add_done_callback(_log_task_failure)
            except Exception:
                logger.exception("%s.%s failed", type(feature).__name__, event)

    def call_soon(self, fn: Callable, *args) -> None:
        """Run ``fn(*args)`` on the event loop's thread (now, if already on it)."""
        if self.loop is None or threading.get_ident() == self._loop_thread:
            fn(*args)
        elif not self.loop.is_closed():
            self.loop.call_soon_threadsafe(fn, *args)

    # ------------------------------------------------------------------ settings

    def apply_settings(self, raw, announce: bool = True) -> None:
        """Merge a ``shapelens`` settings section over the defaults and what initialization
        gave; tell the features when something changed."""
        base = getattr(self, "_initial_settings", None) or Settings()
        new = base.merged(raw) if raw is not None else base
        if not announce:
            self._initial_settings = new
        for problem in new.problems:
            logger.warning("%s", problem)
        old, self.settings = self.settings, new
        set_level(new.log_level)
        if announce and old != new:
            logger.info("settings changed")
            self.emit("settings_changed", old, new)

    def config_for(self, path: str) -> Config:
        """The configuration of the file ``path``: its project file (found upwards), with
        what the editor set explicitly on top.  Each value knows its origin
        (``config.origin("python")``: default, file, or editor)."""
        try:
            config = self.configs.config_for(path) if os.path.isabs(path) else DEFAULT_CONFIG
        except ConfigError:   # not raised with keep_last_good; kept as a guard
            config = DEFAULT_CONFIG
        overrides = self.settings.project_overrides()
        return config.overridden(overrides, EDITOR) if overrides else config

    def config_files_changed(self) -> None:
        """A pyproject.toml or shapelens.toml was created, changed or deleted."""
        self.configs.clear()
        self.documents.schedule_all()   # extra-paths may resolve imports differently

    def _config_error(self, error: ConfigError) -> None:
        message = "ShapeLens: %s (%s)" % (error, "using its last good version"
                                          if self.configs.had_good(error.path) else
                                          "using the defaults")
        logger.warning("%s", message)
        self.call_soon(self._show_warning, message)

    def _show_warning(self, message: str) -> None:
        if self.connected:
            self.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Warning, message=message))

    # ------------------------------------------------------------------ helpers

    @property
    def codec(self) -> Codec:
        return Codec(self.workspace.position_encoding)

    def client_supports(self, path: str) -> bool:
        """Whether the client capability at the dotted ``path`` is set
        (``"workspace.configuration"``)."""
        node = self.client_capabilities
        for part in path.split("."):
            node = getattr(node, part, None)
            if node is None:
                return False
        return bool(node)

    def on_cancel(self, msg_id, hook: Optional[Callable[[], None]]) -> None:
        """Call ``hook`` when the client cancels request ``msg_id`` (None: forget it)."""
        if hook is None:
            self._cancel_hooks.pop(msg_id, None)
        else:
            self._cancel_hooks[msg_id] = hook

    def request_cancelled(self, msg_id) -> None:
        hook = self._cancel_hooks.pop(msg_id, None)
        if hook is not None:
            hook()


def _log_task_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("background task failed", exc_info=task.exception())


def create_server() -> ShapeLensServer:
    return ShapeLensServer()
