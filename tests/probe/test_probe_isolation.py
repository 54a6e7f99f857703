"""The probe stays in its lane (issue 12): every process the probed code starts ends with the
run, however it tries to leave (a new session, a double-forked daemon, the agent dying first);
a memory limit applies by default and counts every process of the run; and the probed code
cannot forge the result."""
from __future__ import annotations

import json
import os
import re
import time

import pytest

from shapelens.probe import processes
from shapelens.probe.runner import default_memory_limit_mb

from probe_helpers import facts_of, probe_source

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"),
                                reason="process trees are read from /proc (Linux)")

# A child in a new session and a double-forked daemon in another one, each writing its pid to
# stderr, then ENDING.
ESCAPES = """\
    import os
    import subprocess
    import sys
    import time
    import torch
    x = torch.ones(2)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                             start_new_session=True)
    os.write(2, b"CHILD %d\\n" % child.pid)
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.write(2, b"DAEMON %d\\n" % os.getpid())
            time.sleep(600)
            os._exit(0)
        os._exit(0)
    time.sleep(1)  # the daemon is up
    ENDING
    """

ENDINGS = {
    "the file ends": ("y = torch.zeros(3)", "ok"),
    "it times out": ("while True:\n        time.sleep(0.05)", "timeout"),
    "it calls os._exit": ("os._exit(3)", "crashed"),
    "the agent is killed": ("os.kill(os.getpid(), 9)", "oom"),  # SIGKILL reads as the OOM killer
}


def pids_in(text, label):
    return [int(pid) for pid in re.findall(r"%s (\d+)" % label, text)]


def gone(pid, within_s=5.0):
    """True once ``pid`` is no process, or a zombie waiting for init."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/stat" % pid) as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("ending", sorted(ENDINGS))
def test_children_in_new_sessions_and_daemons_end_with_the_run(tmp_path, ending):
    code, status = ENDINGS[ending]
    result = probe_source(tmp_path, ESCAPES.replace("ENDING", code), timeout_s=4)
    assert result.status == status, result.message
    children, daemons = pids_in(result.stderr_tail, "CHILD"), pids_in(result.stderr_tail,
                                                                        "DAEMON")
    assert len(children) == 1 and len(daemons) == 1, result.stderr_tail
    for pid in children + daemons:
        if not gone(pid):
            os.kill(pid, 9)  # leave nothing behind, then fail
            pytest.fail("process %d outlived the probe (%s)" % (pid, ending))


def test_dataloader_workers_end_with_the_run(tmp_path):
    result = probe_source(tmp_path, """\
        import os
        import torch
        from torch.utils.data import DataLoader, IterableDataset

        class Stream(IterableDataset):
            def __iter__(self):
                os.write(2, b"WORKER %d\\n" % os.getpid())
                while True:
                    yield torch.ones(3)

        for batch in DataLoader(Stream(), batch_size=2, num_workers=2):
            break
        """, timeout_s=30)
    assert result.status == "ok", result.message
    workers = pids_in(result.stderr_tail, "WORKER")
    assert workers, result.stderr_tail
    assert all(gone(pid) for pid in workers)


def test_the_default_memory_limit_is_half_of_this_machine(tmp_path):
    total = processes.machine_memory_bytes()
    assert default_memory_limit_mb() == total // 2 // (1024 * 1024)
    result = probe_source(tmp_path, "import torch\nx = torch.ones(2)\n")
    assert result.status == "ok", result.message
    assert result.memory_limit_mb == default_memory_limit_mb()


def test_the_default_limit_counts_every_process_of_the_run(tmp_path, monkeypatch):
    # A machine of 1.5 GB: the default limit is 768 MB.  The agent with torch takes a few
    # hundred; a child holding 700 MB more takes the run over it.
    monkeypatch.setattr(processes, "machine_memory_bytes", lambda: 1536 * 1024 * 1024)
    started = time.monotonic()
    result = probe_source(tmp_path, """\
        import subprocess
        import sys
        import time
        import torch
        x = torch.ones(2)
        hog = subprocess.Popen([sys.executable, "-c",
                                "import time; b = b'x' * (700 * 1024 * 1024); time.sleep(600)"])
        time.sleep(600)
        """, timeout_s=60)
    assert result.status == "oom", result.message
    assert time.monotonic() - started < 50  # stopped for memory, not by the time limit
    assert "more than its limit of 768 MB" in result.message
    assert "at line 8" in result.message  # where the agent was when it was stopped
    assert result.memory_limit_mb == 768
    assert facts_of(result) == {(5, "x"): [[2]]}


def test_an_explicit_limit_replaces_the_default(tmp_path):
    result = probe_source(tmp_path, "x = 1\n", memory_limit_mb=4000)
    assert result.memory_limit_mb == 4000


FORGED = {"status": "ok", "device": "cpu", "error": None, "message": "",
          "facts": [{"line": 1, "name": "forged", "shapes": [[666]]}]}


def forge(lines_after=""):
    """Probed code that writes a forged result to every descriptor it can find, then
    ``lines_after``."""
    message = json.dumps({"result": FORGED}) + "\n"
    progress = json.dumps({"progress": "running module code"}) + "\n"
    return """\
        import os
        import sys
        import torch
        x = torch.ones(4)
        for fd in range(1, 64):
            for text in (%r, %r):
                try:
                    os.write(fd, text.encode())
                except OSError:
                    pass
        print(%r)
        sys.__stdout__.write(%r)
        %s
        """ % (progress, message, message, message, lines_after)


def test_a_forged_result_is_not_taken_for_the_agents(tmp_path):
    result = probe_source(tmp_path, forge())
    assert result.status == "ok", result.message
    assert facts_of(result) == {(4, "x"): [[4]]}


def test_a_forged_result_then_an_exit_is_a_crash_not_the_forgery(tmp_path):
    result = probe_source(tmp_path, forge("os._exit(0)"))
    assert result.status == "crashed", result.message
    assert result.facts == ()


def test_the_secret_is_not_in_the_probed_programs_environment_or_arguments(tmp_path):
    result = probe_source(tmp_path, """\
        import os
        import sys
        print("ENV", sorted(os.environ.items()))
        print("ARGV", sys.argv)
        """)
    assert result.status == "ok", result.message
    # the secret is per run and never handed over: no 32-hex-digit token appears but those
    # already in the test's own environment (pytest-xdist sets PYTEST_XDIST_TESTRUNUID)
    token = r"\b[0-9a-f]{32}\b"
    ours = set(re.findall(token, repr(sorted(os.environ.items()))))
    assert not set(re.findall(token, result.stdout_tail)) - ours
