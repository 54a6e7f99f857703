"""The ``shapelens`` settings section, as the client sends it.

Sources, later ones winning: the defaults below, ``initializationOptions.settings``, then the
``shapelens`` section of ``workspace/configuration`` (re-read on
``workspace/didChangeConfiguration``).  What the editor sets explicitly also wins over a
project's ``[tool.shapelens]`` (:meth:`Settings.project_overrides`, applied by
``ShapeLensServer.config_for``); defaults do not.  Keys may be nested (``{"inlayHints": {"enabled":
false}}``, as VS Code's configuration API returns them) or dotted (``{"inlayHints.enabled":
false}``, as they appear in settings.json).  A bad value never stops the server: it is
reported through :attr:`Settings.problems` and the default is kept.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Dict, FrozenSet, Mapping, Optional, Tuple

from shapelens.config import check_boolean as _boolean
from shapelens.config import check_device as _device
from shapelens.config import check_dims as _dims
from shapelens.config import check_seconds as _positive_number
from shapelens.config import check_severity as _severity
from shapelens.config import check_string as _string

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
    explicit: FrozenSet[str] = frozenset()   # the fields the editor set (not defaults)

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
        return _replace(self, problems=tuple(problems), explicit=self.explicit | set(values),
                        **values)

    def project_overrides(self) -> Dict[str, Any]:
        """What the editor set of the settings a project's configuration file also has
        (``[tool.shapelens]``), by :class:`shapelens.config.Config` field: these win over the
        file.  A ``python`` path is expanded as the probe uses it."""
        out: Dict[str, Any] = {name: getattr(self, name) for name in PROJECT_FIELDS
                               if name in self.explicit}
        if out.get("python"):
            out["python"] = self.probe_python
        return out


# Settings that a project file can hold too (same field names in shapelens.config.Config).
PROJECT_FIELDS = ("python", "probe_device", "probe_timeout_s", "probe_dims", "severity")


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


def _memory_limit(value) -> Optional[int]:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("expected a number of megabytes, got %r" % (value,))
    return value or None


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
