"""The probe ends every kind of failure with a result and a clear message, and never raises."""
from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from shapelens.probe.runner import STDERR_TAIL_BYTES, run_probe

from probe_helpers import facts_of, probe_source

posix_only = pytest.mark.skipif(os.name != "posix", reason="signals and rlimits are POSIX")


def run_started_clock():
    """An on_progress callback and a list that receives the time the file started running."""
    times = []

    def on_progress(text):
        if text == "running module code":
            times.append(time.monotonic())

    return on_progress, times


def test_infinite_loop_times_out_and_keeps_what_it_saw(tmp_path):
    on_progress, run_started = run_started_clock()
    result = probe_source(tmp_path, """\
        import torch
        x = torch.ones(2, 3)
        while True:
            pass
        """, timeout_s=3, on_progress=on_progress)
    returned = time.monotonic()
    assert result.status == "timeout"
    assert 3 <= returned - run_started[0] < 3 + 1.5  # the time limit counts from the run
    assert "timed out after 3 s" in result.message
    assert "at line 3" in result.message or "at line 4" in result.message
    assert facts_of(result) == {(2, "x"): [[2, 3]]}


def test_code_that_swallows_the_interrupt_is_killed_anyway(tmp_path):
    on_progress, run_started = run_started_clock()
    result = probe_source(tmp_path, """\
        import time
        while True:
            try:
                time.sleep(0.05)
            except BaseException:
                pass
        """, timeout_s=2, on_progress=on_progress)
    returned = time.monotonic()
    assert result.status == "timeout"
    assert 2 <= returned - run_started[0] < 2 + 1 + 1.5  # the limit, the grace, some slack


def test_a_start_that_takes_too_long_is_a_timeout_too(tmp_path):
    result = probe_source(tmp_path, "x = 1\n", startup_timeout_s=0.2)
    assert result.status == "timeout"
    assert "did not start within 0.2 s" in result.message


def test_os_exit_is_a_crash_with_its_status(tmp_path):
    result = probe_source(tmp_path, """\
        import os
        import sys
        sys.stderr.write("about to leave\\n")
        os._exit(7)
        """)
    assert result.status == "crashed"
    assert "exited with status 7" in result.message
    assert "about to leave" in result.stderr_tail


@posix_only
def test_segfault_is_a_crash_naming_the_signal_and_line(tmp_path):
    result = probe_source(tmp_path, """\
        import ctypes
        import torch
        x = torch.ones(2)
        ctypes.string_at(0)
        """)
    assert result.status == "crashed"
    assert "SIGSEGV" in result.message
    assert "at line 4" in result.message  # from the faulthandler dump on stderr
    assert "Fatal Python error" in result.stderr_tail


@posix_only
def test_huge_torch_allocation_under_a_memory_limit_is_oom(tmp_path):
    result = probe_source(tmp_path, """\
        import torch
        x = torch.ones(2)
        y = torch.empty(10**11)
        """, memory_limit_mb=3000)
    assert result.status == "oom"
    assert result.message.startswith("out of memory at line 3 on cpu")
    assert "can't allocate memory" in result.message
    assert result.error.lines == (3,)
    assert facts_of(result) == {(2, "x"): [[2]]}


@posix_only
def test_python_memory_error_under_a_memory_limit_is_oom(tmp_path):
    result = probe_source(tmp_path, """\
        buffer = bytearray(10**11)
        """, memory_limit_mb=3000)
    assert result.status == "oom"
    assert "MemoryError" in result.message and "line 1" in result.message


@posix_only
def test_killed_by_sigkill_is_reported_as_likely_oom(tmp_path):
    # What the kernel's OOM killer does, without exhausting the machine.
    result = probe_source(tmp_path, """\
        import os
        import signal
        os.kill(os.getpid(), signal.SIGKILL)
        """)
    assert result.status == "oom"
    assert "SIGKILL" in result.message and "out-of-memory" in result.message


def test_missing_torch_is_reported_with_how_to_install(tmp_path, python_without_torch):
    result = probe_source(tmp_path, "x = 1\n", python=python_without_torch)
    assert result.status == "no-torch"
    assert "torch cannot be imported" in result.message
    assert "-m pip install torch" in result.message
    assert python_without_torch in result.message or "python" in result.message


def test_interpreter_that_does_not_exist_is_refused(tmp_path):
    result = probe_source(tmp_path, "x = 1\n", python=str(tmp_path / "no" / "python"))
    assert result.status == "refused"
    assert "cannot start the Python interpreter" in result.message


def test_syntax_error_is_an_error_at_its_line(tmp_path):
    result = probe_source(tmp_path, """\
        import torch
        x = torch.ones(2)
        y = (
        """)
    assert result.status == "error"
    assert result.error.type == "SyntaxError"
    assert result.error.lines == (3,)
    assert result.facts == ()


def test_cancel_mid_run_stops_it_quickly(tmp_path):
    cancel = threading.Event()
    running = threading.Event()
    cancelled_at = []

    def on_progress(text):
        if text == "running module code":
            running.set()

    def cancel_when_running():
        running.wait(30)
        time.sleep(0.3)
        cancelled_at.append(time.monotonic())
        cancel.set()

    canceller = threading.Thread(target=cancel_when_running)
    canceller.start()
    result = probe_source(tmp_path, """\
        import time
        time.sleep(60)
        """, timeout_s=30, cancel=cancel, on_progress=on_progress)
    returned_at = time.monotonic()
    canceller.join()
    assert result.status == "cancelled"
    assert result.message == "probe cancelled"
    assert returned_at - cancelled_at[0] < 0.5


def test_output_flood_does_not_block_and_is_kept_bounded(tmp_path):
    result = probe_source(tmp_path, """\
        import os
        import sys
        import torch
        for i in range(30000):
            print("x" * 100, i)
        for i in range(500):
            os.write(1, b"y" * 10000)  # C-level stdout: 5 MB
            sys.stderr.write("z" * 10000)  # stderr: 5 MB
        x = torch.ones(3, 4)
        print("done")
        """, timeout_s=30)
    assert result.status == "ok", result.message
    assert facts_of(result) == {(9, "x"): [[3, 4]]}
    assert result.stdout_tail.endswith("x" * 100 + " 29999\ndone\n")
    assert len(result.stdout_tail) <= 8192
    assert len(result.stderr_tail.encode()) <= STDERR_TAIL_BYTES


def test_threads_left_running_and_stdin_reads_do_not_hang(tmp_path):
    result = probe_source(tmp_path, """\
        import sys
        import threading
        import time
        import torch
        threading.Thread(target=time.sleep, args=(60,)).start()
        line = sys.stdin.readline()
        x = torch.zeros(len(line) + 1)
        """, timeout_s=20)
    assert result.status == "ok", result.message
    assert facts_of(result) == {(7, "x"): [[1]]}
    assert result.elapsed_s < 15


def test_cuda_on_a_machine_without_it_is_refused_clearly(tmp_path):
    result = probe_source(tmp_path, "import torch\nx = torch.ones(2)\n", device="cuda")
    import torch  # the test's interpreter is the probe's interpreter

    if torch.cuda.is_available():
        assert result.status == "ok" and result.device == "cuda"
    else:
        assert result.status == "refused"
        assert result.message.startswith("CUDA is not available")


def test_cuda_index_beyond_the_visible_devices_is_refused(tmp_path):
    result = probe_source(tmp_path, "x = 1\n", device="cuda:63")
    assert result.status == "refused"
    assert "CUDA" in result.message


def test_mps_where_there_is_none_is_refused(tmp_path):
    import torch

    result = probe_source(tmp_path, "import torch\nx = torch.ones(2)\n", device="mps")
    if torch.backends.mps.is_available():
        assert result.status == "ok"
    else:
        assert result.status == "refused" and "MPS is not available" in result.message


def test_auto_picks_the_best_available_device(tmp_path):
    import torch

    result = probe_source(tmp_path, "import torch\nx = torch.ones(2)\n", device="auto")
    expected = ("cuda" if torch.cuda.is_available()
                else "mps" if torch.backends.mps.is_available() else "cpu")
    assert result.status == "ok" and result.device == expected


@pytest.mark.parametrize("request_, problem", [
    ("not a dict", "must be a dict"),
    ({"source": "x = 1"}, "'path'"),
    ({"path": "/no/such/file.py"}, "no such file"),
    ({"path": "/tmp/x.py", "source": "x = 1", "device": "tpu"}, "unknown device 'tpu'"),
    ({"path": "/tmp/x.py", "source": "x = 1", "dims": {"N": "two"}}, "'dims'"),
    ({"path": "/tmp/x.py", "source": "x = 1", "samples": {}}, "'samples'"),
    ({"path": "/tmp/x.py", "source": "x = 1", "samples": [{"inputs": {}}]}, "class_name"),
])
def test_bad_requests_are_refused_without_running(request_, problem):
    result = run_probe(request_, timeout_s=5)
    assert result.status == "refused"
    assert problem in result.message


def test_a_failing_progress_callback_does_not_break_the_probe(tmp_path):
    seen = []

    def on_progress(text):
        seen.append(text)
        raise RuntimeError("callback bug")

    result = probe_source(tmp_path, "import torch\nx = torch.ones(2)\n", on_progress=on_progress)
    assert result.status == "ok"
    assert seen[:2] == ["importing torch", "running module code"]


def test_runner_import_is_cheap_and_does_not_import_torch():
    import subprocess

    code = ("import sys; import shapelens.probe.runner, shapelens.probe.report, "
            "shapelens.probe.cli; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_probe_does_not_inherit_the_servers_bundled_library_path(monkeypatch):
    """The extension runs the server with its bundled libs first on PYTHONPATH; the probed
    program must see the user's environment instead."""
    import os
    from pathlib import Path

    from shapelens.probe import runner
    bundle = str(Path(runner.__file__).resolve().parent.parent.parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([bundle, "/elsewhere"]))
    env = runner._child_env("/scratch")
    assert env["PYTHONPATH"] == "/elsewhere"
    monkeypatch.setenv("PYTHONPATH", bundle)
    assert "PYTHONPATH" not in runner._child_env("/scratch")
