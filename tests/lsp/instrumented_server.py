"""The ShapeLens server with two test-only handles, for tests/lsp/test_lsp_session.py:

* ``shapelens/test/stats`` (request): what the process holds — live futures, gc-tracked
  objects, threads, RSS — so a test can assert that nothing accumulates;
* ``shapelens/test/hold`` / ``shapelens/test/release`` (notifications): analyses of texts
  containing ``params.marker`` wait until released (in the worker process, held_worker.py),
  so a test can make an analysis run "forever" and see what the server does meanwhile.

Everything else is ``python -m shapelens.server``.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import pathlib
import sys
import tempfile
import threading

import shapelens.server.server as server_module
from shapelens.server import main

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import held_worker  # noqa: E402

HOLD = pathlib.Path(tempfile.mkdtemp(prefix="shapelens-hold-"))


def rss_kb(pid="self") -> int:
    with open("/proc/%s/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def stats(params) -> dict:
    gc.collect()
    kinds = (concurrent.futures.Future, asyncio.Future)
    workers = _server.documents.workers.processes
    return {"futures": sum(1 for o in gc.get_objects() if issubclass(type(o), kinds)),
            "objects": len(gc.get_objects()),
            "threads": threading.active_count(),
            "rss_kb": rss_kb(),
            "workers": len(workers),
            "workers_rss_kb": sum(rss_kb(p.pid) for p in workers)}


def hold(params) -> None:
    held_worker.hold(HOLD, params.marker)


def release(params) -> None:
    held_worker.release(HOLD)


def create_server():
    global _server
    server = _server = _create_server()
    server.feature("shapelens/test/stats")(stats)
    server.feature("shapelens/test/hold")(hold)
    server.feature("shapelens/test/release")(release)
    return server


held_worker.use(HOLD)
_create_server = server_module.create_server
server_module.create_server = create_server

if __name__ == "__main__":
    sys.exit(main())
