"""The ``shapelens`` settings section, as the client sends it.

Sources, later ones winning: the defaults below, ``initializationOptions.settings``, then the
``shapelens`` section of ``workspace/configuration`` (re-read on
``workspace/didChangeConfiguration``).  Keys may be nested (``{"inlayHints": {"enabled":
false}}``, as VS Code's configuration API returns them) or dotted (``{"inlayHints.enabled":
false}``, as they appear in settings.json).  A bad value never stops the server: it is
reported through :attr:`Settings.problems` and the default is kept.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Optional, Tuple

SEVERITY_LEVELS = ("error", "warning", "information", "hint", "off")
LOG_LEVELS = ("error", "warning", "info", "debug")
SECTION = "shapelens"


@dataclass(frozen=True)
class Settings:
    python: str = ""                      # interpreter for the probe; "" = the server's own
    inlay_hints: bool = True              # inlayHints.enabled
    probe_device: str = "auto"            # probe.device
    probe_timeout_s: float = 60.0         # probe.timeoutSeconds
    probe_dims: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    probe_memory_limit_mb: Optional[int] = None   # probe.memoryLimitMb
    severity: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    log_level: str = "info"               # logLevel
    debounce_ms: int = 150                # analysis.debounceMs
    problems: Tuple[str, ...] = field(default=(), compare=False)

    @property
    def probe_python(self) -> str:
        import os
        return os.path.expandvars(os.path.expanduser(self.python)) if self.python \
            else sys.executable

    def severity_of(self, code: str, default: str) -> str:
        """The severity a diagnostic of ``code`` is shown with ("off": not shown)."""
        return self.severity.get(code, default)

    def merged(self, raw: Any) -> "Settings":
        """These settings with the values of ``raw`` (a ``shapelens`` section) applied."""
        if raw is None:
            return self
        if isinstance(raw, Mapping) and isinstance(raw.get(SECTION), Mapping):
            raw = raw[SECTION]  # {"shapelens": {...}}: the section inside a whole config
        if not isinstance(raw, Mapping):
            return _replace(self, problems=("the shapelens settings must be an object, not %s"
                                            % type(raw).__name__,))
        tree = _nest(raw)
        problems = []
        values = {}

        def take(path, name, check):
            node = tree
            for part in path.split("."):
                if not isinstance(node, Mapping) or part not in node:
                    return
                node = node[part]
            if node is None:
                return
            try:
                values[name] = check(node)
            except (TypeError, ValueError) as exc:
                problems.append("setting shapelens.%s: %s (kept %r)"
                                % (path, exc, getattr(self, name)))

        take("python", "python", _string)
        take("inlayHints.enabled", "inlay_hints", _boolean)
        take("probe.device", "probe_device", _device)
        take("probe.timeoutSeconds", "probe_timeout_s", _positive_number)
        take("probe.dims", "probe_dims", _dims)
        take("probe.memoryLimitMb", "probe_memory_limit_mb", _memory_limit)
        take("severity", "severity", _severity)
        take("logLevel", "log_level", _log_level)
        take("analysis.debounceMs", "debounce_ms", _debounce)
        return _replace(self, problems=tuple(problems), **values)


def _replace(settings: Settings, **changes) -> Settings:
    from dataclasses import replace
    return replace(settings, **changes)


def _nest(raw: Mapping) -> dict:
    """``{"a.b": 1, "a": {"c": 2}}`` -> ``{"a": {"b": 1, "c": 2}}``."""
    out: dict = {}
    for key, value in raw.items():
        if not isinstance(key, str):
            continue
        if key.startswith(SECTION + "."):
            key = key[len(SECTION) + 1:]
        node = out
        *parents, last = key.split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        if isinstance(value, Mapping) and isinstance(node.get(last), dict):
            node[last].update(_nest(value))
        elif isinstance(value, Mapping) and last not in ("dims", "severity"):
            node[last] = _nest(value)
        elif isinstance(value, Mapping):
            node[last] = dict(value)  # a copy: dotted keys may add to it
        else:
            node[last] = value
    return out


def _string(value) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string, got %r" % (value,))
    return value.strip()


def _boolean(value) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false, got %r" % (value,))
    return value


def _device(value) -> str:
    import re
    text = _string(value)
    # the runner decides what this torch can use; here only the form is checked
    if not re.fullmatch(r"auto|meta|(cpu|mps|cuda|xpu)(:\d+)?", text):
        raise ValueError("unknown device %r: use auto, cpu, cuda, cuda:N, mps or meta" % text)
    return text


def _positive_number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError("expected a positive number of seconds, got %r" % (value,))
    return float(value)


def _dims(value) -> Mapping[str, int]:
    if not isinstance(value, Mapping):
        raise TypeError("expected an object of name: integer, got %r" % (value,))
    out = {}
    for name, size in value.items():
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError("dim %r must be a non-negative integer, got %r" % (name, size))
        out[str(name)] = size
    return MappingProxyType(out)


def _memory_limit(value) -> Optional[int]:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("expected a number of megabytes, got %r" % (value,))
    return value or None


def _severity(value) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise TypeError("expected an object of code: level, got %r" % (value,))
    out = {}
    for code, level in value.items():
        level = str(level).lower()
        if level == "info":
            level = "information"
        if level not in SEVERITY_LEVELS:
            raise ValueError("severity of %r must be one of %s, got %r"
                             % (code, ", ".join(SEVERITY_LEVELS), level))
        out[str(code)] = level
    return MappingProxyType(out)


def _log_level(value) -> str:
    text = _string(value).lower()
    text = {"warn": "warning", "information": "info", "trace": "debug",
            "verbose": "debug"}.get(text, text)
    if text not in LOG_LEVELS:
        raise ValueError("logLevel must be one of %s, got %r" % (", ".join(LOG_LEVELS), text))
    return text


def _debounce(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 5000:
        raise ValueError("expected milliseconds between 0 and 5000, got %r" % (value,))
    return int(value)
