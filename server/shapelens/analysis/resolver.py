"""Finding the files that ``import`` statements name: workspace modules and installed packages.

A resolver is called as ``resolver(module, importer, level)`` and returns a :class:`Found`
(the file's path, its text, its absolute module name, whether it is library code) or None.
``importer`` is the importing module's :class:`Importer` (its path and absolute module name;
the file being analysed has no name).  The analysis sees only this interface: tests resolve from
a dict (:class:`DictResolver`), the CLI and the server from the disk and the selected Python
environment (:class:`WorkspaceResolver`; ``shapelens.environment`` asks jedi where the
environment's top-level packages are).

Where a resolver may look, and nowhere else (an import is not a way to read arbitrary files):

* absolute imports: the importing file's own folder (Python puts a script's folder first on
  ``sys.path``), the workspace roots (and their ``src/`` folders), then the environment's
  import paths (site-packages, editable installs);
* relative imports: inside the importing module's package.  As in Python, a relative import
  beyond the top-level package resolves to nothing;
* a file or folder reached through a symbolic link counts where the link leads: outside those
  places it is not followed.
"""
from __future__ import annotations

import os
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

Reader = Callable[[str], Optional[str]]


class Found(NamedTuple):
    path: str
    text: str
    name: str              # absolute module name: "torchvision.models.resnet"
    library: bool = False  # installed code (not the user's workspace)


class Importer(NamedTuple):
    path: str                       # "" or "<string>" for text with no file
    name: Optional[str] = None      # absolute module name; None: the file being analysed
    script: Optional[str] = None    # the file being analysed (its folder is on the path)

    @property
    def script_folder(self) -> Optional[str]:
        script = self.script if self.script is not None else \
            (self.path if self.name is None else None)
        if not script or script.startswith("<"):
            return None
        return os.path.dirname(os.path.abspath(script))


def read_file(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except (OSError, ValueError):
        return None


class FileCache:
    """``read(path)`` that reads a file again only when its size or modification time
    changed; an unchanged file gives the very same string (cache entries compare by it)."""

    def __init__(self):
        self.files: Dict[str, Tuple[int, int, str]] = {}

    def __call__(self, path: str) -> Optional[str]:
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            return None
        known = self.files.get(path)
        if known is not None and known[0] == st.st_mtime_ns and known[1] == st.st_size:
            return known[2]
        text = read_file(path)
        if text is not None:
            self.files[path] = (st.st_mtime_ns, st.st_size, text)
        return text


def relative_base(package: Sequence[str], level: int) -> Optional[List[str]]:
    """The package a relative import of ``level`` dots starts from, or None when it would go
    beyond the top-level package (Python raises ImportError there)."""
    if level <= 0:
        return list(package)
    if level > len(package):
        return None
    return list(package[:len(package) - (level - 1)])


class Resolver:
    """The common logic: absolute and relative names, where a module's package is."""

    def __call__(self, module: str, importer, level: int = 0) -> Optional[Found]:
        if not isinstance(importer, Importer):
            importer = Importer(importer or "")
        parts = [p for p in module.split(".") if p] if module else []
        if level > 0:
            package = self.package_of(importer)
            if package is None:
                return None
            base = relative_base(package, level)
            if base is None or not (base or parts):
                return None
            return self.find(base + parts, importer)
        if not parts:
            return None
        return self.find(parts, importer)

    def package_of(self, importer: Importer) -> Optional[List[str]]:
        """The package (as name parts) the importing module lives in; None: none known."""
        if importer.name:
            parts = importer.name.split(".")
            is_package = os.path.basename(importer.path) == "__init__.py"
            return parts if is_package else parts[:-1]
        name = self.module_name(importer.path)
        if name is None:
            return None
        parts = name.split(".")
        return parts if os.path.basename(importer.path) == "__init__.py" else parts[:-1]

    cache = None        # a modules.ModuleCache shared by the analyses using this resolver

    def module_name(self, path: str) -> Optional[str]:
        return None

    def text_of(self, path: str) -> Optional[str]:
        """The text of a file as this resolver reads it now (cache entries check it)."""
        return None

    def find(self, parts: List[str], importer: Importer) -> Optional[Found]:
        raise NotImplementedError


class DictResolver(Resolver):
    """Modules from a dict ``{path: text}`` (tests): ``root/a/b.py`` is ``a.b`` for each root;
    files under ``library_roots`` are library code."""

    def __init__(self, files: Dict[str, str], roots: Iterable[str] = ("/ws",),
                 library_roots: Iterable[str] = (), cache=None):
        self.files = dict(files)
        self.roots = list(roots)
        self.library_roots = list(library_roots)
        self.cache = cache

    def text_of(self, path: str) -> Optional[str]:
        return self.files.get(path)

    def module_name(self, path: str) -> Optional[str]:
        for root in self.roots + self.library_roots:
            prefix = root.rstrip("/") + "/"
            if path.startswith(prefix):
                rel = path[len(prefix):]
                rel = rel[:-len("/__init__.py")] if rel.endswith("/__init__.py") else rel[:-3]
                return rel.replace("/", ".")
        return None

    def find(self, parts, importer) -> Optional[Found]:
        for root in self.roots + self.library_roots:
            stem = root.rstrip("/") + "/" + "/".join(parts)
            for path in (stem + ".py", stem + "/__init__.py"):
                if path in self.files:
                    return Found(path, self.files[path], ".".join(parts),
                                 root in self.library_roots)
        return None


class WorkspaceResolver(Resolver):
    """Modules on disk: the workspace (``roots``) and the selected environment.

    ``read`` may serve unsaved editor buffers before the disk.  ``environment`` (optional) has
    ``paths`` (its import paths: site-packages, editable source folders) and ``locate(name) ->
    list of folders or files | None`` for top-level names (jedi asks the environment itself,
    which also knows editable installs made with import hooks).
    """

    def __init__(self, roots: Iterable[str] = (), read: Reader = read_file, environment=None,
                 cache=None):
        self.roots: List[str] = []
        for r in roots:
            r = os.path.abspath(r)
            for candidate in (r, os.path.join(r, "src")):
                if candidate not in self.roots and (candidate == r or os.path.isdir(candidate)):
                    self.roots.append(candidate)
        self.read = read
        self.cache = cache
        self.environment = environment
        self._library_paths: Optional[List[str]] = None
        self._found: Dict[tuple, Optional[Found]] = {}
        self._relative: Dict[tuple, Optional[Found]] = {}
        self._names: Dict[str, Optional[str]] = {}
        self._reals: Dict[str, str] = {}
        self._real_roots = [_real(r) for r in self.roots]
        self._real_libraries: Optional[List[str]] = None

    @property
    def library_paths(self) -> List[str]:
        """The environment's import paths (asked for only when an import needs them: the
        environment may take a moment to start)."""
        if self._library_paths is None:
            paths = self.environment.paths if self.environment is not None else ()
            self._library_paths = [os.path.abspath(p) for p in paths]
        return self._library_paths

    # ---------------------------------------------------------------- where a file may be

    def allowed(self, path: str, importer: Importer, place: Optional[str] = None) -> bool:
        """``path`` lies inside an allowed place once symbolic links are followed: a workspace
        root, an import path of the environment, the importing file's folder, or ``place`` (a
        package folder the environment itself named)."""
        real = _cached_real(self._reals, path)
        places = list(self._real_roots)
        for folder in (importer.script_folder, place,
                       os.path.dirname(os.path.abspath(importer.path))
                       if importer.path and not importer.path.startswith("<") else None):
            if folder is not None:
                places.append(_cached_real(self._reals, folder))
        if any(_inside(real, p) for p in places):
            return True
        if self._real_libraries is None:
            self._real_libraries = [_real(p) for p in self.library_paths]
        return any(_inside(real, p) for p in self._real_libraries)

    def text_of(self, path: str) -> Optional[str]:
        return self.read(path)

    # ---------------------------------------------------------------- names

    def module_name(self, path: str) -> Optional[str]:
        """The absolute name of the module at ``path``: relative to the deepest root or import
        path holding it; else from the chain of package folders above it.  Found once per
        resolver, as imports are (see ``find``)."""
        if path in self._names:
            return self._names[path]
        name = self._names[path] = self._module_name(path)
        return name

    def _module_name(self, path: str) -> Optional[str]:
        if not path or path.startswith("<"):
            return None
        path = os.path.abspath(path)
        best = None
        for base in self.roots + self.library_paths:
            if _inside(path, base) and (best is None or len(base) > len(best)):
                best = base
        if best is not None:
            rel = os.path.relpath(path, best)
            parts = rel.split(os.sep)
        else:
            parts = [os.path.basename(path)]
            folder = os.path.dirname(path)
            while os.path.isfile(os.path.join(folder, "__init__.py")):
                parts.insert(0, os.path.basename(folder))
                parent = os.path.dirname(folder)
                if parent == folder:
                    break
                folder = parent
        if parts[-1] == "__init__.py":
            parts.pop()
        elif parts[-1].endswith(".py"):
            parts[-1] = parts[-1][:-3]
        else:
            return None
        if not parts or not all(p.isidentifier() for p in parts):
            return None
        return ".".join(parts)

    # ---------------------------------------------------------------- finding

    def find(self, parts, importer) -> Optional[Found]:
        # Where a name leads is looked up once per resolver (the file is read again each time,
        # through ``read``); only the analysed file's own folder makes it differ by importer.
        key = (tuple(parts), importer.script_folder)
        known = self._found.get(key, False)
        if known is False:
            # As Python's path search: a module or regular package anywhere on the path wins
            # over a namespace package (a folder without __init__.py) found earlier.
            found = self._search(parts, importer, False) or self._search(parts, importer, True)
            self._found[key] = _where(found)
            return found
        return self._read_again(known)

    def _read_again(self, known: Optional[Found]) -> Optional[Found]:
        """A module found before, with its text as ``read`` gives it now."""
        if known is None or not known.text and known.path.endswith(os.sep):
            return known
        text = self.read(known.path)
        return known._replace(text=text) if text is not None else None

    def _search(self, parts, importer, namespaces) -> Optional[Found]:
        name = ".".join(parts)
        for base in self.bases(importer):
            found = self._under(base, parts, importer, namespaces=namespaces)
            if found is not None:
                return found
        if self.environment is None:
            return None
        located = self.environment.locate(parts[0])
        for place in located or ():
            if os.path.isfile(place):
                if len(parts) == 1:
                    found = self._file(place, name, importer, os.path.dirname(place))
                    if found is not None:
                        return found
                continue
            found = self._under(place, parts[1:], importer, name, package_dir=True,
                                place=place, namespaces=namespaces)
            if found is not None:
                return found
        return None

    def bases(self, importer: Importer) -> List[str]:
        """Where absolute imports look first: the analysed file's own folder (as Python's
        ``sys.path[0]`` for a script, for every import of the program; an imported module's
        own folder is not searched), then the workspace roots."""
        out = []
        if importer.script_folder is not None:
            out.append(importer.script_folder)
        out.extend(r for r in self.roots if r not in out)
        return out

    def _under(self, base, parts, importer, name=None, package_dir=False,
               place=None, namespaces=True) -> Optional[Found]:
        """The module ``parts`` in folder ``base``; with ``namespaces``, only as a namespace
        package (a folder)."""
        name = name or ".".join(parts)
        if not parts and not package_dir:
            return None
        stem = os.path.join(base, *parts)
        if namespaces:
            return self._namespace(stem, name, importer, place)
        candidates = (os.path.join(stem, "__init__.py"),) if not parts else \
            (stem + ".py", os.path.join(stem, "__init__.py"))
        for path in candidates:
            found = self._file(path, name, importer, place)
            if found is not None:
                return found
        return None

    def _namespace(self, folder, name, importer, place=None) -> Optional[Found]:
        """A folder without ``__init__.py``: a namespace package, with no code of its own
        (its submodules are found in its folder)."""
        if os.path.isfile(os.path.join(folder, "__init__.py")) or not os.path.isdir(folder) \
                or not self.allowed(folder, importer, place):
            return None
        return Found(os.path.join(folder, ""), "", name, self.is_library(folder, place))

    def _file(self, path, name, importer, place=None) -> Optional[Found]:
        """The module at ``path``, if it is a file in an allowed place and can be read.  Files
        the environment holds are library code, unless they are in the workspace too."""
        if not os.path.isfile(path) or not self.allowed(path, importer, place):
            return None
        text = self.read(path)
        if text is None:
            return None
        return Found(path, text, name, self.is_library(path, place))

    def is_library(self, path: str, place: Optional[str] = None) -> bool:
        """Installed code: the deepest place holding the file is one of the environment's (a
        ``.venv`` inside the workspace is the environment's; a workspace ``src/`` folder that
        an editable install put on the path is the workspace's)."""
        real = _cached_real(self._reals, path)
        if self._real_libraries is None:
            self._real_libraries = [_real(p) for p in self.library_paths]
        libraries = self._real_libraries + ([_cached_real(self._reals, place)]
                                            if place is not None else [])
        deepest_root = max((len(r) for r in self._real_roots if _inside(real, r)), default=-1)
        deepest_library = max((len(p) for p in libraries if _inside(real, p)), default=-1)
        return deepest_library > deepest_root

    # relative imports: the package's folder on disk, found from the importing file (once per
    # resolver and importer, as ``find`` does for absolute ones)
    def __call__(self, module: str, importer, level: int = 0) -> Optional[Found]:
        if not isinstance(importer, Importer):
            importer = Importer(importer or "")
        if level <= 0:
            return super().__call__(module, importer, level)
        key = (module, level, importer)
        known = self._relative.get(key, False)
        if known is False:
            found = self._relative_module(module, importer, level)
            self._relative[key] = _where(found)
            return found
        return self._read_again(known)

    def _relative_module(self, module: str, importer: Importer, level: int) -> Optional[Found]:
        package = self.package_of(importer)
        if package is None or not importer.path or importer.path.startswith("<"):
            return None
        base_parts = relative_base(package, level)
        parts = [p for p in module.split(".") if p] if module else []
        if base_parts is None or not (base_parts or parts):
            return None
        folder = os.path.dirname(os.path.abspath(importer.path))
        for _ in range(level - 1):
            folder = os.path.dirname(folder)
        name = ".".join(base_parts + parts)
        return self._under(folder, parts, importer, name, True, namespaces=False) or \
            self._under(folder, parts, importer, name, True, namespaces=True)


def _where(found: Optional[Found]) -> Optional[Found]:
    """What a resolver keeps of a module it found: all but the text (read again each time)."""
    return None if found is None else found._replace(text="")


def _real(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _cached_real(cache: Dict[str, str], path: str) -> str:
    real = cache.get(path)
    if real is None:
        real = cache[path] = _real(path)
    return real


def _inside(path: str, folder: str) -> bool:
    if path == folder:
        return True
    folder = folder.rstrip(os.sep) + os.sep
    return path.startswith(folder)


__all__ = ["Found", "Importer", "FileCache", "Resolver", "DictResolver", "WorkspaceResolver", "read_file",
           "relative_base"]
