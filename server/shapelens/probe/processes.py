"""The processes of one probe run: find them all, measure their memory, end them all.

Standard library only: the runner imports it, and the agent (which runs in the user's
interpreter, where shapelens is usually not installed) loads it from this file.

Every process the probed code starts must end with the run, including the ones that try hard
not to: children in a new session (``start_new_session=True``) leave the process group, and
double-forked daemons are re-parented to init as soon as their parent exits.  Three things
keep them in reach (Linux; elsewhere only the process group is killed):

* the agent makes itself a *child subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``): an orphaned
  descendant is re-parented to the agent instead of init, so while the agent lives, every
  process the run started is in its tree of ``/proc/*/stat`` parent links;
* the agent ends its whole tree before it reports (:func:`end_tree` on itself), and the runner
  ends the tree of an agent it stops (timeout, cancel, memory limit) before the agent itself;
* the runner notes every process it has seen in the tree (:class:`TreeWatch`, every
  ``WATCH_S`` of the runner), so that those that outlive an agent which died without cleaning
  up (a crash) are ended too.

A process is named by ``(pid, start time)``, so a recycled pid is never killed by mistake.
"""
from __future__ import annotations

import os
import signal
import time

PR_SET_CHILD_SUBREAPER = 36
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
HAS_PROC = os.path.isdir("/proc/self")
HAS_CHILDREN_FILES = HAS_PROC and os.path.exists("/proc/self/task/%d/children" % os.getpid())


def become_subreaper() -> bool:
    """Adopt the orphans of our descendants (Linux); False where that is not possible."""
    if not HAS_PROC:
        return False
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _stat(pid):
    """(parent pid, state, start time) of a process from /proc/PID/stat, or None."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    # the command name is in parentheses and may itself contain spaces and parentheses
    fields = data[data.rfind(b")") + 2:].split()
    try:
        return int(fields[1]), fields[0].decode("ascii", "replace"), int(fields[19])
    except (IndexError, ValueError):
        return None


def _all_processes():
    """{pid: (parent pid, state, start time)} of every process we can see."""
    table = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return table
    for entry in entries:
        if entry.isdigit():
            info = _stat(int(entry))
            if info is not None:
                table[int(entry)] = info
    return table


def descendants(root: int) -> dict:
    """{(pid, start time): state} of every live process below ``root`` (not ``root`` itself)."""
    if not HAS_PROC:
        return {}
    if HAS_CHILDREN_FILES:
        return _descendants_by_children_files(root)
    table = _all_processes()
    children = {}
    for pid, (parent, state, start) in table.items():
        children.setdefault(parent, []).append(pid)
    found, frontier = {}, [root]
    while frontier:
        pid = frontier.pop()
        for child in children.get(pid, ()):
            if child != root and (child, table[child][2]) not in found:
                found[(child, table[child][2])] = table[child][1]
                frontier.append(child)
    return found


def _descendants_by_children_files(root: int) -> dict:
    """The same from /proc/PID/task/TID/children (kernels built with CONFIG_PROC_CHILDREN):
    no need to read every process of the machine."""
    found, frontier = {}, [root]
    while frontier:
        pid = frontier.pop()
        try:
            tasks = os.listdir("/proc/%d/task" % pid)
        except OSError:
            continue
        for task in tasks:
            try:
                with open("/proc/%d/task/%s/children" % (pid, task), "rb") as handle:
                    children = [int(c) for c in handle.read().split()]
            except (OSError, ValueError):
                continue
            for child in children:
                info = _stat(child)
                if info is not None and child != root and (child, info[2]) not in found:
                    found[(child, info[2])] = info[1]
                    frontier.append(child)
    return found


def is_alive(process) -> bool:
    """True while ``(pid, start time)`` names a live process (not a zombie)."""
    pid, start = process
    info = _stat(pid)
    return info is not None and info[2] == start and info[1] not in ("Z", "X")


def kill(processes) -> None:
    """SIGKILL each ``(pid, start time)`` that is still that process."""
    for process in processes:
        if is_alive(process):
            try:
                os.kill(process[0], signal.SIGKILL)
            except OSError:
                pass


def end_tree(root: int, *, rounds: int = 50) -> int:
    """Kill every process below ``root`` until none is left (a process forking as it dies is
    caught in the next round); reap those that are our own children.  Returns how many were
    killed.  ``root`` itself is left alone."""
    killed = set()
    for _ in range(rounds):
        alive = [p for p, state in descendants(root).items() if state not in ("Z", "X")]
        if not alive:
            break
        for pid, _start in alive:
            try:
                os.kill(pid, signal.SIGSTOP)  # stopped first: no more forks while we kill
            except OSError:
                pass
        kill(alive)
        killed.update(alive)
        time.sleep(0.005)
    if root == os.getpid():
        _reap_children()
    return len(killed)


def _reap_children() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except (ChildProcessError, OSError):
            return
        if pid == 0:
            return


def resident_bytes(pid: int) -> int:
    """Resident memory of one process (cheap: /proc/PID/statm)."""
    try:
        with open("/proc/%d/statm" % pid, "rb") as handle:
            return int(handle.read().split()[1]) * PAGE_BYTES
    except (OSError, ValueError, IndexError):
        return 0


def proportional_bytes(pid: int) -> int:
    """Proportional set size of one process: its resident memory with each shared page split
    between the processes that map it, so that forked workers sharing their parent's pages are
    not counted twice.  Dearer to read than the resident size (the kernel walks the page
    tables); the resident size where it is not available."""
    try:
        with open("/proc/%d/smaps_rollup" % pid, "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return resident_bytes(pid)


def machine_memory_bytes() -> int | None:
    """Physical memory of this machine, or None when it cannot be read."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


class TreeWatch:
    """What the runner knows about one agent's process tree: every process seen in it (so that
    none escapes even if the agent dies first) and their memory at the last look."""

    def __init__(self, root: int):
        self.root = root
        info = _stat(root) if HAS_PROC else None
        self.root_start = info[2] if info else None
        self.seen = set()

    def look(self) -> int:
        """Note the tree's processes; return the memory of the agent and its tree, in bytes:
        the agent's resident size (one process: nothing to share) plus the proportional size of
        each descendant (forked workers share the agent's pages)."""
        tree = [p for p, state in descendants(self.root).items() if state not in ("Z", "X")]
        self.seen.update(tree)
        return resident_bytes(self.root) + sum(proportional_bytes(pid) for pid, _ in tree)

    def end(self) -> None:
        """Kill the agent's tree (while the agent, a subreaper, still holds it), then every
        process ever seen in it that is still alive."""
        if not HAS_PROC:
            return
        info = _stat(self.root)
        if info is not None and info[2] == self.root_start:  # still our agent, maybe a zombie
            end_tree(self.root)
        kill(self.seen)
