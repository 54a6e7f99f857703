"""One analysis per module, shared: the top level of each imported module runs once per run
(``shapelens check``) or once per edit of it (the server), and every importer reuses it.

A :class:`ModuleCache` maps a module's path and text to what running its top level made (its
:class:`~.program.ModuleEnv` and those of the modules it imported, by path).  An entry
is used only while every file it was made from still reads the same (an edit of an imported
file, or of a file that one imports, makes a new entry).

Importers share these values, so an importer that changes one (``models.net.fc = ...`` on an
instance another module built, a list it appends to) must not leak the change into the next
analysis: after a module's top level has run, its lists, dicts and instances are swapped for
watching copies that mark the module's entry stale when they change.  The importer that changed
it sees its own change; the next analysis runs the module again.

Library code (installed packages) has its own budget per analysis: :data:`LIBRARY_WORK`
statements.  Past it, the module being loaded stays as far as it got, and calls into library
code give unknown values (see ``interp/imports.py``).
"""
from __future__ import annotations

import threading
from typing import Dict, Optional, Tuple

from .program import ClassRef, TooMuchWork
from ..values import Container, DictVal, Instance, ListVal, TupleVal

LIBRARY_WORK = 200_000      # statements of library code one analysis may run


class LibraryBudget(TooMuchWork):
    """Library code ran past :data:`LIBRARY_WORK` in one analysis."""


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

    def __init__(self):
        self.entries: Dict[Tuple[str, str], Entry] = {}
        self.lock = threading.Lock()
        self.runs = 0               # top levels run (for tests and benchmarks)
        self.hits = 0

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
        for env in envs.values():
            token = getattr(env, "token", None)
            if token is None:
                token = env.token = Token()
                _watch(env.globals, token)
            tokens.append(token)
        with self.lock:
            self.runs += 1
            # one text per file: an edited file's older entries go (the server runs for days)
            for key in [k for k in self.entries if k[0] == found.path]:
                del self.entries[key]
            self.entries[(found.path, found.text)] = Entry(dict(envs), files, tuple(tokens))

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


def _same(a: Optional[str], b: str) -> bool:
    return a is b or a == b


def entry_for(resolver, found) -> Optional[Entry]:
    cache = getattr(resolver, "cache", None)
    if cache is None:
        return None
    return cache.get(found, resolver.text_of)


def store_entry(resolver, found, envs) -> None:
    cache = getattr(resolver, "cache", None)
    if cache is not None:
        cache.put(found, envs)


# ----------------------------------------------------------------------------- watching

class WatchedList(list):
    __slots__ = ("token",)

    def _touch(self):
        self.token.stale = True


class WatchedDict(dict):
    __slots__ = ("token",)

    def _touch(self):
        self.token.stale = True


def _mutator(base, name):
    original = getattr(base, name)

    def method(self, *args, **kwargs):
        self.token.stale = True
        return original(self, *args, **kwargs)
    method.__name__ = name
    return method


for _name in ("append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear",
              "__setitem__", "__delitem__", "__iadd__", "__imul__"):
    setattr(WatchedList, _name, _mutator(list, _name))
for _name in ("__setitem__", "__delitem__", "pop", "popitem", "clear", "update",
              "setdefault", "__ior__"):
    setattr(WatchedDict, _name, _mutator(dict, _name))


def _watched(items, token):
    if isinstance(items, (WatchedList, WatchedDict)):
        return items
    out = WatchedList(items) if isinstance(items, list) else WatchedDict(items)
    out.token = token
    return out


def _watch(globals_: dict, token: Token) -> None:
    """Swap the mutable parts of everything a module's globals reach for watching copies."""
    seen = set()
    stack = list(globals_.values())
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        kind = type(value)
        if kind in (ListVal, DictVal, Container):
            if isinstance(value.items, (list, dict)):
                value.items = _watched(value.items, token)
                stack.extend(value.items.values() if isinstance(value.items, dict)
                             else value.items)
        elif kind is Instance:
            value.attrs = _watched(value.attrs, token)
            stack.extend(value.attrs.values())
        elif kind is ClassRef:
            info = value.info
            if not isinstance(info.attrs, WatchedDict):
                info.attrs = _watched(info.attrs, token)
            stack.extend(info.attrs.values())
        elif kind is TupleVal:
            stack.extend(value.items)
