"""The ShapeLens server with two test-only handles, for tests/lsp/test_lsp_session.py:

* ``shapelens/test/stats`` (request): what the process holds — live futures, gc-tracked
  objects, threads, RSS — so a test can assert that nothing accumulates;
* ``shapelens/test/hold`` / ``shapelens/test/release`` (notifications): analyses of texts
  containing ``params.marker`` wait until released, so a test can make an analysis run
  "forever" and see what the server does meanwhile.

Everything else is ``python -m shapelens.server``.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import sys
import threading

import shapelens.server.documents as documents
import shapelens.server.server as server_module
from shapelens.server import main

_analyse = documents.analyse
_held = {"marker": None, "released": threading.Event()}


def held_analyse(snapshot, resolver, good):
    marker, released = _held["marker"], _held["released"]
    if marker is not None and marker in snapshot.text:
        released.wait(120)
    return _analyse(snapshot, resolver, good)


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def stats(params) -> dict:
    gc.collect()
    kinds = (concurrent.futures.Future, asyncio.Future)
    return {"futures": sum(1 for o in gc.get_objects() if issubclass(type(o), kinds)),
            "objects": len(gc.get_objects()),
            "threads": threading.active_count(),
            "rss_kb": rss_kb()}


def hold(params) -> None:
    _held["released"] = threading.Event()
    _held["marker"] = params.marker


def release(params) -> None:
    _held["marker"] = None
    _held["released"].set()


def create_server():
    server = _create_server()
    server.feature("shapelens/test/stats")(stats)
    server.feature("shapelens/test/hold")(hold)
    server.feature("shapelens/test/release")(release)
    return server


documents.analyse = held_analyse
_create_server = server_module.create_server
server_module.create_server = create_server

if __name__ == "__main__":
    sys.exit(main())
