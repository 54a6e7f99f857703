"""Language features: small classes fanned out from one server (esbonio's ``LanguageFeature``).

A feature registers its own LSP handlers in :meth:`LanguageFeature.register` and may define
any of the event hooks the server broadcasts with :meth:`ShapeLensServer.emit`:

``initialize(params)``           the ``initialize`` request (settings are known)
``initialized()``                the client is ready (may be async)
``analysis_done(target)``        a new analysis result for ``target`` was accepted
``probe_done(target)``           a probe result for ``target`` was stored
``target_closed(target)``        the document or notebook was closed
``settings_changed(old, new)``   the ``shapelens`` settings changed

Only one handler per LSP method can exist, so each method belongs to exactly one feature;
document sync belongs to :class:`~.documents.Documents`, which turns it into events.
"""
from __future__ import annotations

import asyncio
import functools
import typing

if typing.TYPE_CHECKING:
    from .server import ShapeLensServer


class LanguageFeature:
    """Base class: holds the server and registers handlers."""

    def __init__(self, server: "ShapeLensServer"):
        self.server = server

    def register(self) -> None:
        """Register this feature's LSP handlers (override)."""

    def handle(self, method: str, handler, options=None) -> None:
        """Register a bound method as the handler of an LSP method.

        pygls stores attributes on handler functions, which bound methods do not allow, so
        the method is wrapped in a plain function (async stays async)."""
        self.server.feature(method, options)(plain_function(handler))

    async def settled_result(self, uri: str):
        """The analysis result of the open document (or notebook cell) ``uri`` once pending
        edits are analysed; None when it is not open or has no result."""
        documents = self.server.documents
        target = documents.target_for(uri)
        if target is None:
            return None
        return await documents.settled(target)

    def command(self, name: str, handler) -> None:
        """Register a bound method (taking ``*args``) as a ``workspace/executeCommand``
        command."""
        self.server.command(name)(plain_function(handler))


def plain_function(handler):
    if asyncio.iscoroutinefunction(handler):
        async def wrapper(*args):
            return await handler(*args)
    else:
        def wrapper(*args):
            return handler(*args)
    functools.update_wrapper(wrapper, handler, assigned=("__name__", "__qualname__",
                                                         "__doc__"), updated=())
    return wrapper
