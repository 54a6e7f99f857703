"""An analysis worker (``python -m shapelens.server.worker``) whose analyses can be held back
on purpose, for tests: while the file ``$SHAPELENS_TEST_HOLD/marker`` exists, an analysis of a
text that contains the file's content waits (it creates ``$SHAPELENS_TEST_HOLD/started``
first).  The helpers below are what a test (or tests/lsp/instrumented_server.py) calls; the
server runs this file as its worker once :func:`use` was called before its first worker
started."""
from __future__ import annotations

import os
import pathlib
import sys
import time

ENV = "SHAPELENS_TEST_HOLD"


def use(folder: pathlib.Path) -> None:
    """Make the server of this process start this file as its worker, held through
    ``folder``."""
    import shapelens.server.workers as workers
    os.environ[ENV] = str(folder)
    workers.WORKER = [sys.executable, __file__]


def hold(folder: pathlib.Path, marker: str) -> None:
    (folder / "started").unlink(missing_ok=True)
    (folder / "marker").write_text(marker)


def release(folder: pathlib.Path) -> None:
    (folder / "marker").unlink(missing_ok=True)


def started(folder: pathlib.Path) -> bool:
    return (folder / "started").exists()


def main() -> int:
    from shapelens.server import worker
    folder = pathlib.Path(os.environ[ENV])
    analyse = worker.Worker.analyse

    def held(self, job):
        marker = folder / "marker"
        try:
            holding = marker.read_text()
        except OSError:
            holding = None
        if holding and holding in job.text:
            (folder / "started").touch()
            while marker.exists():
                time.sleep(0.01)
        return analyse(self, job)

    worker.Worker.analyse = held
    return worker.main()


if __name__ == "__main__":
    sys.exit(main())
