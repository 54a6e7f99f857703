"""pygls's LSP protocol, with what a week-long session needs that pygls 2.1 does not do.

* **Every request gets a response.**  pygls turns params it cannot read (``line: -1``, a
  missing ``textDocument``, ``params: 5``) into an exception in its read loop, which logs it
  and drops the message: the client waits forever.  Here such a request is answered with
  JSON-RPC's "Invalid params" error; so is a request after ``shutdown`` (LSP: "Invalid
  request"), which pygls drops as well.
* **Nothing is kept per notification.**  pygls 2.1.1 files the future of every handler it
  runs through its generator machinery (all of the built-in ``didOpen``/``didChange``/
  ``didClose`` handlers) in ``_request_futures`` under a fresh uuid, and only a *request's*
  completion removes its entry: each notification leaves a future behind for good (about
  1.8 KB per ``didChange``).  Here every entry is removed when its handler finishes
  (tests/lsp/test_server_reliability.py holds the reproducer).
* **Cancellation reaches the server** (``$/cancelRequest``): pygls can cancel a request only
  before it starts; the server stops a running probe through its cancel hook.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcInvalidRequest
from pygls.protocol import LanguageServerProtocol

logger = logging.getLogger("shapelens")

EXIT = "exit"


@dataclass
class UnreadableRequest:
    """A request whose params could not be read: it is answered with ``error``."""

    id: Any
    method: Any
    error: JsonRpcException


class ShapeLensProtocol(LanguageServerProtocol):

    # ------------------------------------------------------------------ every request answered

    def structure_message(self, data):
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if isinstance(data, dict) and "method" in data and "id" in data:
                msg_id = data["id"]
                if isinstance(msg_id, bool) or not isinstance(msg_id, (int, str)):
                    msg_id = None   # JSON-RPC: null when the id itself is unusable
                return UnreadableRequest(msg_id, data["method"], JsonRpcInvalidParams(
                    "invalid params for %s: %s" % (data["method"], _cause(error))))
            raise  # a notification: nobody waits for it (pygls logs it)

    def handle_message(self, message):
        if isinstance(message, UnreadableRequest):
            logger.warning("%s", message.error.message)
            self._send_response(message.id, None, message.error.to_response_error())
            return
        if self._shutdown and _is_request(message) and message.method != EXIT:
            self._send_response(message.id, None, JsonRpcInvalidRequest(
                "the server is shutting down").to_response_error())
            return
        super().handle_message(message)

    # ------------------------------------------------------------------ no leak per message

    def _execute_handler(self, msg_id, handler, callback, args=None, kwargs=None):
        def done(future):
            if self._request_futures.get(msg_id) is future:
                del self._request_futures[msg_id]
            callback(future)
        super()._execute_handler(msg_id, handler, done, args, kwargs)

    # ------------------------------------------------------------------ cancellation

    def _handle_cancel_notification(self, msg_id):
        try:
            self._server.request_cancelled(msg_id)
        finally:
            super()._handle_cancel_notification(msg_id)


def _is_request(message) -> bool:
    return (getattr(message, "method", None) is not None
            and getattr(message, "id", None) is not None)


def _cause(error: Exception) -> str:
    cause = error.__cause__ or error
    return str(cause).splitlines()[0] if str(cause) else type(cause).__name__
