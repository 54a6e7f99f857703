"""The Python environment imports resolve into: the server's interpreter, the
``shapelens.python`` setting, or ``shapelens check --python``.

jedi asks that interpreter (in a subprocess of it, through jedi's own helper: nothing of the
user's is run, nothing is downloaded) for its import paths and for where each top-level package
is, which covers site-packages, ``.pth`` paths (``src/`` layouts, legacy editable installs),
editable installs made with import hooks (setuptools' PEP 660 finders) and namespace packages.
Submodules are then found in the package's folders, as Python's import does.

The standard library and compiled modules are not analysed: they stay unknown, quietly.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Dict, List, Optional

logger = logging.getLogger("shapelens")
STDLIB = frozenset(getattr(sys, "stdlib_module_names", ()))


class Environment:
    """``paths``: the import paths of the environment that hold installed packages (not the
    standard library); ``locate(name)``: where the top-level module ``name`` is (its package
    folders, or its file), or None."""

    def __init__(self, python: Optional[str] = None):
        self.python = python or sys.executable
        self._lock = threading.Lock()
        self._state = None
        self._sys_path: List[str] = []
        self._located: Dict[str, Optional[List[str]]] = {}
        self.paths: List[str] = []
        self.problem: Optional[str] = None
        self._start()

    def _start(self) -> None:
        try:
            import jedi
            from jedi.inference import InferenceState
            env = jedi.create_environment(self.python, safe=False)
            self._sys_path = [p for p in env.get_sys_path() if os.path.isdir(p)]
            project = jedi.Project(os.path.dirname(os.path.abspath(self.python)),
                                   environment_path=self.python)
            self._state = InferenceState(project, environment=env)
        except Exception as exc:  # no jedi, or an interpreter that does not start
            self.problem = "cannot use the Python environment %s: %s" % (self.python, exc)
            logger.warning(self.problem)
            return
        helper = os.path.join("jedi", "inference", "compiled", "subprocess")
        self.stdlib = self._stdlib()
        self.paths = [p for p in self._sys_path
                      if not p.endswith(helper) and _real(p) not in self.stdlib]

    def _stdlib(self) -> set:
        """The standard library's folders (where ``os`` is, and its lib-dynload)."""
        found = self._module_info("os")
        if not found:
            return set()
        folder = os.path.dirname(found[0])
        return {_real(folder), _real(os.path.join(folder, "lib-dynload"))}

    def _module_info(self, name: str) -> Optional[List[str]]:
        info, _ = self._state.compiled_subprocess.get_module_info(
            string=name, full_name=name, sys_path=self._sys_path, is_global_search=True)
        if info is None:
            return None
        paths = getattr(info, "paths", None)      # a namespace package: its folders
        if paths:
            return [str(p) for p in paths]
        path = getattr(info, "path", None)
        if path is None:
            return None
        path = str(path)
        if not path.endswith(".py"):
            return None                          # compiled: nothing to read
        if os.path.basename(path) == "__init__.py":
            return [os.path.dirname(path)]
        return [path]

    def locate(self, name: str) -> Optional[List[str]]:
        if self._state is None or "." in name or not name.isidentifier():
            return None
        with self._lock:
            if name not in self._located:
                try:
                    found = self._module_info(name)
                    # the standard library stays unknown (it is not analysed)
                    if found and any(_real(os.path.dirname(p)) in self.stdlib for p in found):
                        found = None
                    self._located[name] = found
                except Exception as exc:
                    logger.debug("jedi could not locate %s: %s", name, exc)
                    self._located[name] = None
            return self._located[name]


def _real(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


_environments: Dict[str, Environment] = {}
_lock = threading.Lock()


def environment_for(python: Optional[str] = None) -> Environment:
    """The environment of ``python`` (default: this interpreter), made once per process."""
    key = os.path.abspath(python) if python else sys.executable
    with _lock:
        env = _environments.get(key)
        if env is None:
            env = _environments[key] = Environment(key)
        return env


class SelectedEnvironment:
    """The environment of ``python``, started when an import first needs it (so a file that
    imports only torch never waits for it)."""

    def __init__(self, python: Optional[str] = None):
        self.python = python

    @property
    def paths(self) -> List[str]:
        return environment_for(self.python).paths

    def locate(self, name: str) -> Optional[List[str]]:
        # The standard library stays unknown; its names are known without asking the
        # interpreter (the standard library comes before site-packages on the path, so such
        # a name never resolves into an installed package).
        if name in STDLIB:
            return None
        return environment_for(self.python).locate(name)


def workspace_resolver(roots, python: Optional[str] = None, read=None, cache=None):
    """A resolver for the workspace ``roots`` and the environment of ``python`` (default: this
    interpreter), sharing module results through ``cache`` (a ModuleCache; a new one when
    None: one per run, or per process with ``--jobs``).  ``read`` defaults to a
    :class:`~.analysis.resolver.FileCache`."""
    from .analysis.interp.modules import ModuleCache
    from .analysis.resolver import FileCache, WorkspaceResolver
    return WorkspaceResolver(roots, read or FileCache(), SelectedEnvironment(python),
                             cache if cache is not None else ModuleCache())
