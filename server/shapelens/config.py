"""Project configuration: ``[tool.shapelens]`` in ``pyproject.toml``, or a ``shapelens.toml``.

The command line and the language server read the same files, found the way ruff and mypy find
theirs: walking up from each checked file, the nearest folder holding a ``shapelens.toml`` (its
top level is the section) or a ``pyproject.toml`` with a ``[tool.shapelens]`` table wins
(``shapelens.toml`` first when a folder has both); nothing is merged across folders::

    [tool.shapelens]
    include = ["*.py"]                  # what a folder walk checks (gitignore-style patterns,
    exclude = ["build/", "legacy/**"]   # relative to this folder); excluded: never reported
    python = ".venv/bin/python"         # interpreter for the probe (relative to this folder)
    extra-paths = ["src"]               # more folders that imports resolve against
    warn-unused-ignores = true          # report suppression comments that silence nothing
    severity = {shape-contract = "error", probe-disagrees = "off"}

    [tool.shapelens.probe]
    device = "cpu"                      # auto, cpu, cuda, cuda:N, mps, meta
    timeout-seconds = 30
    dims = {N = 2, H = 64}

Precedence: editor settings > the file > the defaults.  Every value remembers where it came from
(:class:`Origin`), so that, for instance, the probe can refuse to run an interpreter named by a
repository's file before the user trusts it.  A bad file raises :class:`ConfigError` naming the
file and the key; it never escapes as a traceback.

Pure apart from :func:`find_config` / :class:`ConfigFinder`, which stat and read the files.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Tuple

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

CONFIG_NAMES = ("shapelens.toml", "pyproject.toml")   # in one folder, the first one wins
SECTION = "tool.shapelens"
SEVERITY_LEVELS = ("error", "warning", "information", "hint", "off")
DEFAULT_INCLUDE = ("*.py",)


class ConfigError(Exception):
    """A configuration file that cannot be used: ``path``, the ``key`` at fault (None for the
    file as a whole) and what is wrong."""

    def __init__(self, path: str, key: Optional[str], problem: str):
        self.path, self.key, self.problem = path, key, problem
        where = "%s: [%s]" % (path, SECTION) if path.endswith("pyproject.toml") else path
        super().__init__("%s %s: %s" % (where, key, problem) if key else
                         "%s: %s" % (path, problem))


@dataclass(frozen=True)
class Origin:
    """Where a setting's value came from: ``kind`` is "default", "file" (``path`` is the
    configuration file), "editor" (the user's editor settings) or "command line"."""

    kind: str
    path: Optional[str] = None

    @property
    def from_workspace_file(self) -> bool:
        return self.kind == "file"

    def __str__(self) -> str:
        return "%s (%s)" % (self.kind, self.path) if self.path else self.kind


DEFAULT = Origin("default")
EDITOR = Origin("editor")
COMMAND_LINE = Origin("command line")


# --------------------------------------------------------------------------- value checks
# Shared with the editor settings (server/settings.py): one definition of a valid value.

def check_string(value) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string, got %r" % (value,))
    return value.strip()


def check_boolean(value) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false, got %r" % (value,))
    return value


def check_device(value) -> str:
    text = check_string(value)
    # the probe decides what this torch can use; here only the form is checked
    if not re.fullmatch(r"auto|meta|(cpu|mps|cuda|xpu)(:\d+)?", text):
        raise ValueError("unknown device %r: use auto, cpu, cuda, cuda:N, mps or meta" % text)
    return text


def check_seconds(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError("expected a positive number of seconds, got %r" % (value,))
    return float(value)


def check_dims(value) -> Mapping[str, int]:
    if not isinstance(value, Mapping):
        raise TypeError("expected a table (object) of name = integer, got %r" % (value,))
    out = {}
    for name, size in value.items():
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError("dim %r must be a non-negative integer, got %r" % (name, size))
        out[str(name)] = size
    return MappingProxyType(out)


def check_severity(value, codes: Optional[Iterable[str]] = None) -> Mapping[str, str]:
    """``{code: level}``; with ``codes``, a code not among them is an error (a typo would
    otherwise silently change nothing)."""
    if not isinstance(value, Mapping):
        raise TypeError("expected a table (object) of code = level, got %r" % (value,))
    known = set(codes) if codes is not None else None
    out = {}
    for code, level in value.items():
        if known is not None and code not in known:
            raise ValueError("unknown diagnostic code %r (known: %s)"
                             % (code, ", ".join(sorted(known))))
        level = str(level).lower()
        if level == "info":
            level = "information"
        if level not in SEVERITY_LEVELS:
            raise ValueError("severity of %r must be one of %s, got %r"
                             % (code, ", ".join(SEVERITY_LEVELS), level))
        out[str(code)] = level
    return MappingProxyType(out)


def check_patterns(value) -> Tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise TypeError("expected a list of glob patterns (strings), got %r" % (value,))
    try:
        _spec(tuple(value))
    except Exception as exc:  # pathspec's own error for a pattern it cannot compile
        raise ValueError("bad pattern: %s" % exc) from None
    return tuple(value)


def check_paths(value) -> Tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        raise TypeError("expected a list of folder paths (strings), got %r" % (value,))
    return tuple(value)


def _diagnostic_codes() -> Tuple[str, ...]:
    from .analysis.errors import CODES
    return tuple(CODES) + ("unused-ignore",)


# --------------------------------------------------------------------------- the configuration

@dataclass(frozen=True)
class Config:
    """The settings that apply to one file.  ``root`` is the folder that patterns and relative
    paths of the file are relative to; ``path`` the configuration file (None: defaults only).
    ``origins`` maps a field name to where its value came from (absent: the default)."""

    include: Tuple[str, ...] = DEFAULT_INCLUDE
    exclude: Tuple[str, ...] = ()
    severity: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    python: str = ""                    # "" = the interpreter running ShapeLens
    extra_paths: Tuple[str, ...] = ()   # absolute folders
    probe_device: str = "auto"
    probe_timeout_s: float = 60.0
    probe_dims: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    warn_unused_ignores: bool = False
    root: Optional[str] = None          # None: the current folder
    path: Optional[str] = None
    origins: Mapping[str, Origin] = field(default_factory=lambda: MappingProxyType({}),
                                          compare=False)

    def origin(self, name: str) -> Origin:
        """Where the value of field ``name`` came from."""
        return self.origins.get(name, DEFAULT)

    def severity_of(self, code: str, default: str) -> str:
        """The severity ``code`` is shown with ("off": not shown)."""
        return self.severity.get(code, default)

    def excludes(self, path: str) -> bool:
        """Whether ``exclude`` matches ``path`` (patterns are relative to ``root``): ShapeLens
        reports nothing for it, on the command line or in the editor."""
        return bool(self.exclude) and _spec(self.exclude).match_file(self.relative(path))

    def selects(self, path: str) -> bool:
        """Whether a walk over a folder checks ``path``: ``include`` matches, ``exclude``
        does not."""
        if self.include == DEFAULT_INCLUDE:   # the common case, without compiling patterns
            selected = path.endswith(".py")
        else:
            selected = _spec(self.include).match_file(self.relative(path))
        return selected and not self.excludes(path)

    def excludes_folder(self, folder: str) -> bool:
        """Whether every file under ``folder`` is excluded (a walk need not enter it)."""
        return bool(self.exclude) and _spec(self.exclude).match_file(
            self.relative(folder).rstrip("/") + "/")

    def relative(self, path: str) -> str:
        root = self.root or os.getcwd()
        rel = os.path.relpath(os.path.abspath(path), root)
        if rel == os.pardir or rel.startswith(os.pardir + os.sep):
            rel = os.path.abspath(path).lstrip(os.sep)   # outside the root: match the full path
        return rel.replace(os.sep, "/")

    def overridden(self, values: Mapping[str, Any], origin: Origin) -> "Config":
        """This configuration with ``values`` (field name -> value) from ``origin`` on top;
        ``severity`` is merged code by code."""
        changes = dict(values)
        if "severity" in changes:
            merged = dict(self.severity)
            merged.update(changes["severity"])
            changes["severity"] = MappingProxyType(merged)
        origins = dict(self.origins)
        origins.update((name, origin) for name in changes)
        return replace(self, origins=MappingProxyType(origins), **changes)


DEFAULT_CONFIG = Config()


def _resolve_path(value: str, base: str) -> str:
    expanded = os.path.expanduser(os.path.expandvars(value))
    return os.path.normpath(os.path.join(base, expanded))


def _python(value: str, base: str) -> str:
    """An interpreter: a path (relative to ``base``) or a bare command name left for PATH."""
    text = check_string(value)
    if not text or (os.sep not in text and "/" not in text and not text.startswith("~")):
        return text
    return _resolve_path(text, base)


# key in the file -> (field, check(value, base folder))
KEYS: Dict[str, Tuple[str, Callable[[Any, str], Any]]] = {
    "include": ("include", lambda v, base: check_patterns(v)),
    "exclude": ("exclude", lambda v, base: check_patterns(v)),
    "severity": ("severity", lambda v, base: check_severity(v, _diagnostic_codes())),
    "python": ("python", _python),
    "extra-paths": ("extra_paths",
                    lambda v, base: tuple(_resolve_path(p, base) for p in check_paths(v))),
    "warn-unused-ignores": ("warn_unused_ignores", lambda v, base: check_boolean(v)),
    "probe.device": ("probe_device", lambda v, base: check_device(v)),
    "probe.timeout-seconds": ("probe_timeout_s", lambda v, base: check_seconds(v)),
    "probe.dims": ("probe_dims", lambda v, base: check_dims(v)),
}
TABLES = ("probe",)


def parse_config(text: str, path: str) -> Optional[Config]:
    """The configuration in ``text``, the contents of the file ``path``; None for a
    ``pyproject.toml`` without a ``[tool.shapelens]`` table.  Raises :class:`ConfigError`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, "not valid TOML: %s" % exc) from None
    if os.path.basename(path) == "pyproject.toml":
        tool = data.get("tool")
        if not isinstance(tool, dict) or "shapelens" not in tool:
            return None
        section = tool["shapelens"]
        if not isinstance(section, dict):
            raise ConfigError(path, None, "[tool.shapelens] must be a table")
    else:
        section = data
    return config_from_table(section, path)


def config_from_table(section: Mapping[str, Any], path: str) -> Config:
    """A :class:`Config` from the ``[tool.shapelens]`` table of the file ``path``."""
    base = os.path.dirname(os.path.abspath(path))
    origin = Origin("file", os.path.abspath(path))
    flat: Dict[str, Any] = {}
    for key, value in section.items():
        if key in TABLES:
            if not isinstance(value, dict):
                raise ConfigError(path, key, "expected a table, got %r" % (value,))
            flat.update(("%s.%s" % (key, sub), v) for sub, v in value.items())
        else:
            flat[key] = value
    values = {}
    for key, value in flat.items():
        if key not in KEYS:
            raise ConfigError(path, key, "unknown key (known: %s)" % ", ".join(sorted(KEYS)))
        name, check = KEYS[key]
        try:
            values[name] = check(value, base)
        except (TypeError, ValueError) as exc:
            raise ConfigError(path, key, str(exc)) from None
    return replace(DEFAULT_CONFIG, root=base, path=os.path.abspath(path)).overridden(
        values, origin)


def load_config(path: str) -> Config:
    """The configuration in the file ``path`` (defaults when a ``pyproject.toml`` has no
    ``[tool.shapelens]``).  Raises :class:`ConfigError`, also when it cannot be read."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise ConfigError(path, None, "cannot read it: %s" % (exc.strerror or exc)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(path, None, "not UTF-8: %s" % exc) from None
    found = parse_config(text, path)
    if found is None:
        return replace(DEFAULT_CONFIG, root=os.path.dirname(os.path.abspath(path)))
    return found


def _has_section(path: str) -> bool:
    """Whether the file ``path`` configures ShapeLens (a ``pyproject.toml`` only with
    ``[tool.shapelens]``; an unreadable or malformed one counts, so its error is reported)."""
    if os.path.basename(path) != "pyproject.toml":
        return True
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError:
        return False
    if b"shapelens" not in raw:
        return False
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True
    tool = data.get("tool")
    return isinstance(tool, dict) and "shapelens" in tool


def find_config(start: str) -> Optional[str]:
    """The configuration file for the file or folder ``start``: the nearest folder upwards
    with a ``shapelens.toml`` or a ``pyproject.toml`` holding ``[tool.shapelens]``."""
    folder = os.path.abspath(start)
    if not os.path.isdir(folder):
        folder = os.path.dirname(folder)
    while True:
        for name in CONFIG_NAMES:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate) and _has_section(candidate):
                return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


class ConfigFinder:
    """The configuration of each file, discovered upwards and cached per folder.

    ``explicit``: one file for every path (``--config FILE``); ``isolated``: no file at all.
    With ``keep_last_good`` (the server), a file that turns bad keeps its last good
    configuration and the error goes to ``on_error``; otherwise (the command line) the
    :class:`ConfigError` is raised.  A file's cache entry is refreshed when its modification
    time or size changes; :meth:`clear` forgets the discovery (new or deleted files).
    """

    def __init__(self, explicit: Optional[str] = None, isolated: bool = False,
                 keep_last_good: bool = False,
                 on_error: Optional[Callable[[ConfigError], None]] = None):
        self.explicit = explicit
        self.isolated = isolated
        self.keep_last_good = keep_last_good
        self.on_error = on_error
        self._found: Dict[str, Optional[str]] = {}           # folder -> config file
        self._loaded: Dict[str, Tuple[tuple, Config]] = {}   # config file -> (stamp, config)
        self._reported: Dict[str, str] = {}                  # config file -> last error text

    def clear(self) -> None:
        self._found.clear()

    def config_path(self, path: str) -> Optional[str]:
        if self.isolated:
            return None
        if self.explicit is not None:
            return os.path.abspath(self.explicit)
        folder = os.path.dirname(os.path.abspath(path))
        if folder not in self._found:
            self._found[folder] = find_config(folder)
        return self._found[folder]

    def config_for(self, path: str) -> Config:
        """The configuration that applies to the file ``path``."""
        found = self.config_path(path)
        if found is None:
            return DEFAULT_CONFIG
        return self.load(found)

    def load(self, config_file: str) -> Config:
        try:
            st = os.stat(config_file)
            stamp: tuple = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = ()
        cached = self._loaded.get(config_file)
        if cached is not None and cached[0] == stamp and stamp:
            return cached[1]
        try:
            config = load_config(config_file)
        except ConfigError as exc:
            if not self.keep_last_good:
                raise
            if self._reported.get(config_file) != str(exc) and self.on_error is not None:
                self.on_error(exc)
            self._reported[config_file] = str(exc)
            if cached is not None:
                return cached[1]        # the last good configuration of this file
            return replace(DEFAULT_CONFIG, root=os.path.dirname(config_file))
        self._reported.pop(config_file, None)
        self._loaded[config_file] = (stamp, config)
        return config

    def had_good(self, config_file: str) -> bool:
        """Whether ``config_file`` was read without error before."""
        return config_file in self._loaded

    def errors(self) -> Dict[str, str]:
        """config file -> the error it has now (only files that are bad at present)."""
        return dict(self._reported)


_SPECS: Dict[Tuple[str, ...], Any] = {}


def _spec(patterns: Tuple[str, ...]):
    spec = _SPECS.get(patterns)
    if spec is None:
        import pathspec
        spec = _SPECS[patterns] = pathspec.GitIgnoreSpec.from_lines(patterns)
    return spec


__all__ = ["Config", "ConfigError", "ConfigFinder", "Origin", "DEFAULT_CONFIG", "find_config",
           "load_config", "parse_config", "config_from_table"]
