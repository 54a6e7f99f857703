"""The write rules of guards.py, called directly (no probed process): what a probed program
may change is the run's scratch folder only; it may write into devices (a stream redirected to
/dev/null) but never make, remove or rename anything there."""
from __future__ import annotations

import pytest

from shapelens.probe.guards import Guards, Notes


@pytest.fixture
def guards(tmp_path):
    (tmp_path / "scratch").mkdir()
    case = str(tmp_path / "case.py")
    return Guards(None, case, "cpu", str(tmp_path / "scratch"), Notes(case))


def calls_of(guards, name, *args):
    calls = []
    result = guards._skipped_change(name, lambda *a, **k: calls.append(a))(*args)
    return result, calls


@pytest.mark.parametrize("name,args", [
    ("remove", ("/dev/null",)),  # torch.hub deletes its failed download by the stream's name
    ("unlink", ("/dev/null",)),
    ("truncate", ("/dev/null", 0)),
    ("rename", ("{scratch}/a", "/dev/null")),
    ("replace", ("{scratch}/a", "{outside}/model.pt")),
    ("rename", ("{outside}/model.pt", "{scratch}/b")),
    ("link", ("{scratch}/a", "{outside}/b")),
    ("symlink", ("{scratch}/a", "{outside}/b")),
    ("rmdir", ("{outside}",)),
])
def test_nothing_outside_the_scratch_folder_is_changed(guards, tmp_path, name, args):
    paths = {"scratch": str(tmp_path / "scratch"), "outside": str(tmp_path / "outside")}
    result, calls = calls_of(guards, name, *[a.format(**paths) if isinstance(a, str) else a
                                             for a in args])
    assert result is None and calls == []


def test_the_scratch_folder_is_the_programs_to_change(guards, tmp_path):
    scratch = tmp_path / "scratch"
    for name, args in (("rename", (str(scratch / "a"), str(scratch / "b"))),
                       ("remove", (str(scratch / "b"),)),
                       ("symlink", ("/etc/hostname", str(scratch / "c")))):
        assert calls_of(guards, name, *args)[1] == [args]


def test_devices_take_writes_but_are_not_the_programs_to_change(guards):
    assert guards.writable("/dev/null")
    assert not guards.in_scratch("/dev/null")
    assert not guards.in_scratch("/dev/shm/x")
    assert guards.writable(3) and guards.in_scratch(3)  # a file descriptor names no new file
