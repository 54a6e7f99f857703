"""Logging: ``window/logMessage`` for the client's output channel, stderr as a fallback.

Nothing is ever written to stdout, which carries the LSP stream.  Records may come from any
thread; they are sent from the event loop's thread (the writer is not thread-safe).
"""
from __future__ import annotations

import logging
import typing

from lsprotocol import types

if typing.TYPE_CHECKING:
    from .server import ShapeLensServer

LOGGER_NAME = "shapelens"
logger = logging.getLogger(LOGGER_NAME)

LEVELS = {"error": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO,
          "debug": logging.DEBUG}


def message_type(level: int) -> types.MessageType:
    if level >= logging.ERROR:
        return types.MessageType.Error
    if level >= logging.WARNING:
        return types.MessageType.Warning
    if level >= logging.INFO:
        return types.MessageType.Info
    return types.MessageType.Log


class ClientLogHandler(logging.Handler):
    """Forwards records to the client once it is connected (after ``initialize``)."""

    def __init__(self, server: "ShapeLensServer"):
        super().__init__()
        self.server = server
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if not self.server.connected:
            return
        try:
            params = types.LogMessageParams(type=message_type(record.levelno),
                                            message=self.format(record))
            self.server.call_soon(self.server.window_log_message, params)
        except Exception:  # logging must never raise into the caller
            pass


def setup_logging(server: "ShapeLensServer") -> None:
    """Send the shapelens logger to the client; pygls's own warnings go to stderr."""
    logger.handlers[:] = [ClientLogHandler(server)]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    stderr = logging.StreamHandler()  # defaults to sys.stderr
    stderr.setFormatter(logging.Formatter("shapelens-server %(levelname)s %(name)s: %(message)s"))
    pygls_logger = logging.getLogger("pygls")
    pygls_logger.handlers[:] = [stderr]
    pygls_logger.propagate = False
    pygls_logger.setLevel(logging.ERROR)


def set_level(name: str) -> None:
    logger.setLevel(LEVELS.get(name, logging.INFO))
