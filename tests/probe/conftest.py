"""Fixtures for the probe tests."""
from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import time

import pytest

from shapelens.probe import processes


@pytest.fixture(scope="session")
def python_without_torch(tmp_path_factory) -> str:
    """An interpreter that cannot import torch: a fresh venv without pip or site-packages."""
    venv = tmp_path_factory.mktemp("venv-no-torch")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   capture_output=True, timeout=60)
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    check = subprocess.run([str(python), "-c", "import torch"], capture_output=True, timeout=30)
    assert check.returncode != 0, "the fresh venv at %s can import torch" % venv
    return str(python)


def _subreaper(on: bool) -> bool:
    """Make this test process adopt the orphans of its descendants (Linux), or stop."""
    if not processes.HAS_PROC:
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(processes.PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


# the analysis asks the user's interpreter about its environment through jedi's helper process,
# which the test process keeps (shapelens.environment caches it) for the rest of the session
KEPT_HELPERS = ("jedi/inference/compiled/subprocess",)


def _alive_below_us() -> set:
    return {p for p, state in processes.descendants(os.getpid()).items()
            if state not in ("Z", "X")
            and not any(helper in _command(p[0]) for helper in KEPT_HELPERS)}


@pytest.fixture(autouse=True)
def no_process_outlives_the_test():
    """Every probe test ends with every process it started ended, daemons included: while the
    test runs, this process is a child subreaper, so a process that escapes its parent (a new
    session, a double fork) is re-parented here instead of to init and is seen below us."""
    before = _alive_below_us()
    watching = _subreaper(True)
    left, named = set(), []
    try:
        yield
        deadline = time.monotonic() + 5.0  # a killed process may take a moment to go
        left = _alive_below_us() - before
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = _alive_below_us() - before
        named = [(pid, _command(pid)) for pid, _start in sorted(left)]
        processes.kill(left)  # so that one failure does not leave them running
    finally:
        if watching:
            _subreaper(False)
            for pid, _start in set(processes.descendants(os.getpid())) - before:
                try:  # reap the zombies of orphans that were re-parented here
                    os.waitpid(pid, os.WNOHANG)
                except (ChildProcessError, OSError):
                    pass
    assert not left, "processes left running after the test: %s" % named


def _command(pid: int) -> str:
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"
