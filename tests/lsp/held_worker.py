"""An analysis worker (``python -m shapelens.server.worker``) whose analyses can be held back
on purpose, for tests: while the file ``$SHAPELENS_TEST_HOLD/marker`` exists, an analysis of a
text that contains the file's content waits (it creates ``$SHAPELENS_TEST_HOLD/started``
first).  Likewise ``parts_marker`` holds back the parts of the model runs, which follow the
answer (``parts_started``).  The helpers below are what a test (or
tests/lsp/instrumented_server.py) calls; the server runs this file as its worker once
:func:`use` was called before its first worker started."""
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


def hold(folder: pathlib.Path, marker: str, what: str = "") -> None:
    """Hold back analyses of texts holding ``marker`` (``what="parts_"``: the parts of their
    model runs)."""
    (folder / (what + "started")).unlink(missing_ok=True)
    (folder / (what + "marker")).write_text(marker)


def release(folder: pathlib.Path, what: str = "") -> None:
    (folder / (what + "marker")).unlink(missing_ok=True)


def started(folder: pathlib.Path, what: str = "") -> bool:
    return (folder / (what + "started")).exists()


def _wait(folder: pathlib.Path, what: str, text: str) -> None:
    marker = folder / (what + "marker")
    try:
        holding = marker.read_text()
    except OSError:
        return
    if holding and holding in text:
        (folder / (what + "started")).touch()
        while marker.exists():
            time.sleep(0.01)


def main() -> int:
    from shapelens.server import worker
    folder = pathlib.Path(os.environ[ENV])
    analyse, parts = worker.Worker.analyse, worker.Worker.parts

    def held(self, job):
        _wait(folder, "", job.text)
        self.text = job.text
        return analyse(self, job)

    def held_parts(self, runs):
        _wait(folder, "parts_", self.text)
        return parts(self, runs)

    worker.Worker.analyse = held
    worker.Worker.parts = held_parts
    return worker.main()


if __name__ == "__main__":
    sys.exit(main())
