"""One analysis per module, shared: the top level of each imported module runs once per run
(``shapelens check``) or once per edit of it (the server), and every importer reuses it.

A :class:`ModuleCache` maps a module's path and text to what running its top level made (its
:class:`~.program.ModuleEnv` and those of the modules it imported, by path).  An entry
is used only while every file it was made from still reads the same (an edit of an imported
file, or of a file that one imports, makes a new entry).

Importers share these values, so an importer that changes one (``models.net.fc = ...`` on an
instance another module built, a list it appends to) must not leak the change into the next
analysis: every mutable object a module's top level made is registered, and a change to one
(every change goes through ``Soundness.mutating``) marks the module's entry stale.  The importer
that changed it sees its own change; the next analysis runs the module again.

Library code (installed packages) has its own part of the budget (``LIBRARY_STEPS``
statements, budget.py), and a package's top level an allowance of its own (``IMPORT_STEPS``).
Past them, the module being loaded stays as far as it got, and calls into library code give
unknown values (see ``interp/imports.py``); a package past its allowance is remembered
(``too_large``) and unknown to later analyses, which do not run it again.
"""
from __future__ import annotations

import gc
import threading
from typing import Dict, Optional, Tuple

from ..report import freeze_when_idle
from ..values import Container, DictVal, Instance, ListVal, TupleVal
from .program import ClassRef, Function
from .soundness import MUTABLE


class Token:
    """Stale once any shared value of its module changes."""

    __slots__ = ("stale",)

    def __init__(self):
        self.stale = False


class Entry:
    __slots__ = ("envs", "files", "tokens")

    def __init__(self, envs: Dict[str, object], files: Tuple[Tuple[str, str], ...], tokens):
        self.envs = envs            # path -> ModuleEnv, the module's own and what it imported
        self.files = files          # (path, text) of each of them, as read
        self.tokens = tokens


class ModuleCache:
    """Shared results of modules' top levels, keyed by path and text."""

    def __init__(self, freeze: bool = False):
        """``freeze``: move the garbage collector's view of everything alive to its permanent
        generation after each module is stored (``gc.freeze``), so the shared modules are not
        scanned again by every collection: a quarter of a run over a large package.  For runs
        that end (the CLI), not for a server (garbage alive at that moment is kept)."""
        self.freeze = freeze
        self.pending = False        # library modules stored since the last settle()
        self.entries: Dict[Tuple[str, str], Entry] = {}
        self.watched: Dict[int, tuple] = {}     # id -> (shared mutable object, its token)
        self.unwatched: list = []               # envs stored, not watched yet
        self.lock = threading.Lock()
        self.runs = 0               # top levels run and stored (for tests and benchmarks)
        self.hits = 0
        # (path, text) of library modules whose top level ran past the import allowance:
        # unknown from then on, not run again at every analysis
        self.too_large: set = set()
        self.changes = 0            # shared modules made stale by an importer's change
        self.results_shared = 0     # function results given from ``results`` (functions.py)

    def get(self, found, read) -> Optional[Entry]:
        entry = self.entries.get((found.path, found.text))
        if entry is None:
            return None
        if any(t.stale for t in entry.tokens) or not all(
                _same(read(path), text) for path, text in entry.files if path != found.path):
            with self.lock:
                self.entries.pop((found.path, found.text), None)
            return None
        self.hits += 1
        return entry

    def put(self, found, envs: Dict[str, object]) -> None:
        files = tuple((path, env.src.text) for path, env in envs.items())
        tokens = []
        with self.lock:
            for env in envs.values():
                token = getattr(env, "token", None)
                if token is None:
                    token = env.token = Token()
                    self.unwatched.append(env)
                tokens.append(token)
            self.runs += 1
            # one text per file: an edited file's older entries go (the server runs for days)
            stale = [k for k in self.entries if k[0] == found.path]
            for key in stale:
                del self.entries[key]
            self.entries[(found.path, found.text)] = Entry(dict(envs), files, tuple(tokens))
            if stale:
                self._forget_unused()
        if self.freeze:
            gc.freeze()
        elif found.library:
            self.pending = True

    def settle(self) -> None:
        """Between analyses (the server): once library modules were stored, collect, then
        freeze what is alive, so later collections skip the libraries' modules (they are
        loaded once per session; a workspace module, edited often, is never frozen)."""
        if self.pending and freeze_when_idle():
            self.pending = False

    def watch_new(self) -> None:
        """Watch what the modules stored since the last call made (called once the import
        that loaded them is over: changes made while importing belong to the modules)."""
        with self.lock:
            for env in self.unwatched:
                for obj in _mutable_objects(env.globals):
                    self.watched[id(obj)] = (obj, env.token)
            self.unwatched = []

    def changed(self, obj) -> None:
        """``obj`` is about to change (Soundness.mutating): a module that shares it is stale."""
        hit = self.watched.get(id(obj))
        if hit is not None and hit[0] is obj:
            if not hit[1].stale:
                self.changes += 1
            hit[1].stale = True

    def _forget_unused(self) -> None:
        live = {id(t) for e in self.entries.values() for t in e.tokens}
        self.watched = {k: v for k, v in self.watched.items() if id(v[1]) in live}

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.watched.clear()
            self.too_large.clear()


def _same(a: Optional[str], b: str) -> bool:
    return a is b or a == b


def entry_for(resolver, found) -> Optional[Entry]:
    cache = getattr(resolver, "cache", None)
    if cache is None:
        return None
    return cache.get(found, resolver.text_of)


def too_large(resolver, found) -> bool:
    cache = getattr(resolver, "cache", None)
    return cache is not None and (found.path, found.text) in cache.too_large


def mark_too_large(resolver, found) -> None:
    cache = getattr(resolver, "cache", None)
    if cache is not None:
        cache.too_large.add((found.path, found.text))


def store_entry(resolver, found, envs) -> None:
    cache = getattr(resolver, "cache", None)
    if cache is not None:
        cache.put(found, envs)


def _mutable_objects(globals_: dict):
    """Every mutable object a module's globals reach (lists, dicts, containers, instances,
    layers, classes, and functions' default values)."""
    seen = set()
    stack = list(globals_.values())
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        kind = type(value)
        if kind in MUTABLE:
            yield value
        if kind in (ListVal, TupleVal):
            stack.extend(value.items)
        elif kind in (DictVal, Container):
            stack.extend(value.items.values() if isinstance(value.items, dict)
                         else value.items)
        elif kind is Instance:
            stack.extend(value.attrs.values())
        elif kind is ClassRef:
            info = value.info
            if id(info) not in seen:
                seen.add(id(info))
                yield info
                stack.extend(info.attrs.values())
                stack.extend(getattr(info, "method_values", {}).values())
        elif kind is Function:
            stack.extend(value.defaults)
            stack.extend(d for d in value.kw_defaults if d is not None)
