"""``textDocument/publishDiagnostics``: the report's diagnostics, plus the probe's.

Every diagnostic keeps the engine's code and PyTorch-worded message, has ``source``
"shapelens" and related information pointing at the cause.  What is shown follows the
file's project configuration with the editor's settings on top (``ShapeLensServer.config_for``):
nothing for an excluded file, severities per code ("off" hides a code), ``# shapelens: ignore``
comments (and, with ``warn-unused-ignores``, the unused ones, tagged unnecessary).  Files that do not use torch get an
empty list.  A notebook's diagnostics are split over its cells; a cell (or document) that had
diagnostics and has none now gets an empty list, so nothing stale remains.

From the probe (when its result is for the exact text analysed, see probe.py):
``runtime-error`` (error) at the deepest traceback line in the file, ``probe-disagrees``
(information) wherever a fully known static shape is not among the shapes the probe saw, and
``probe-skipped`` (information) where the run held something back (a training loop cut to one
step, a file not written, a refused download, where it stopped).
"""
from __future__ import annotations

import logging
from typing import Dict, List, Optional

from lsprotocol import types

from shapelens.analysis.report import Diagnostic, Loc, Range, Related
from shapelens.analysis.values import format_shape
from shapelens.suppressions import UNUSED_CODE, shown_diagnostics

from .convert import line_extent, loc_location, snapshot_range
from .feature import LanguageFeature

logger = logging.getLogger("shapelens")

SOURCE = "shapelens"
SEVERITY = {"error": types.DiagnosticSeverity.Error,
            "warning": types.DiagnosticSeverity.Warning,
            "information": types.DiagnosticSeverity.Information,
            "hint": types.DiagnosticSeverity.Hint}


def concrete(shape) -> bool:
    return shape is not None and all(type(d) is int for d in shape)


def probe_diagnostics(result, outcome) -> List[Diagnostic]:
    """The probe's findings as engine-style diagnostics on the analysed text."""
    found: List[Diagnostic] = []
    device = outcome.device or "?"
    error = outcome.error
    if outcome.status == "error" and error is not None and error.lines:
        lines = result.snapshot.lines
        where = line_extent(lines, error.lines[-1])
        related = tuple(
            Related(Loc(line_extent(lines, line)), "called from here")
            for line in reversed(error.lines[:-1]) if line != error.lines[-1])
        found.append(Diagnostic(
            where, "error", "runtime-error",
            "%s (%s raised when the probe ran this file on %s)"
            % (error.message.strip() or error.type, error.type, device), related))
    index = result.index
    ranges: Dict[tuple, Range] = {}
    for fact in result.report.shapes:
        ranges.setdefault((fact.range.start_line, fact.name), fact.range)
    for (line, name), probed in sorted(outcome.facts.items()):
        static = [s for s in index.static_shapes(line, name)
                  if s is not None and all(d is not None for d in s)]
        if not static or (line, name) not in ranges:
            continue
        ranks = {len(p) for p in probed}
        wrong = [s for s in static if (concrete(s) and s not in probed) or len(s) not in ranks]
        if wrong:
            found.append(Diagnostic(
                ranges[(line, name)], "information", "probe-disagrees",
                "static analysis says %s, probe on %s saw %s" % (
                    " or ".join(format_shape(s) for s in static), device,
                    " or ".join(format_shape(p) for p in probed))))
    lines = result.snapshot.lines
    for note in outcome.skipped:
        if 1 <= note.line <= len(lines):
            found.append(Diagnostic(line_extent(lines, note.line), "information",
                                    "probe-skipped", "probe on %s: %s" % (device, note.message)))
    return found


class Diagnostics(LanguageFeature):
    """Publishes diagnostics whenever an analysis or a probe result is accepted."""

    def analysis_done(self, target) -> None:
        self.publish(target)

    def probe_done(self, target) -> None:
        self.publish(target)

    def settings_changed(self, old, new) -> None:
        for target in list(self.server.documents.targets.values()):
            self.publish(target)

    def target_closed(self, target) -> None:
        for uri in target.published:
            self.server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        target.published = set()

    def publish(self, target) -> None:
        result = target.result
        if result is None:
            return
        snapshot = result.snapshot
        per_uri: Dict[str, List[types.Diagnostic]] = {}
        if snapshot.cells:
            for cell in snapshot.cells:
                per_uri[cell.uri] = []
        else:
            per_uri[snapshot.uri] = []
        for uri, diagnostic in self.lsp_diagnostics(target):
            per_uri.setdefault(uri, []).append(diagnostic)
        versions = {cell.uri: cell.version for cell in snapshot.cells}
        for uri in target.published - set(per_uri):
            self.server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        for uri, diagnostics in per_uri.items():
            version = versions.get(uri) if snapshot.cells else snapshot.version
            self.server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=uri, diagnostics=diagnostics,
                version=version if isinstance(version, int) else None))
        target.published = set(per_uri)

    def shown(self, target, result=None) -> List[Diagnostic]:
        """The engine's and the probe's diagnostics of a result as the user sees them: none
        for a file the configuration excludes; severities from the configuration and the
        editor ("off" hides a code); ``# shapelens: ignore`` comments applied."""
        result = result or target.result
        report = result.report
        if not report.uses_torch:
            return []
        config = self.server.config_for(result.snapshot.path)
        if config.excludes(result.snapshot.path):
            return []
        found = list(report.diagnostics)
        outcome = self.server.feature_of("Probe").current(target)
        if outcome is not None:
            found.extend(probe_diagnostics(result, outcome))
        return shown_diagnostics(result.snapshot.text, found, config,
                                 config.warn_unused_ignores)

    def lsp_diagnostics(self, target):
        """(URI, LSP diagnostic) for everything shown on the target's last result."""
        result = target.result
        out = []
        read = self.server.documents.reader()
        for diagnostic in self.shown(target, result):
            converted = self.convert(result, diagnostic, read)
            if converted is not None:
                out.append(converted)
        return out

    def convert(self, result, d: Diagnostic, read=None) -> Optional[tuple]:
        """A shown diagnostic -> (URI, LSP diagnostic); None when it lands nowhere."""
        level = d.severity
        codec = self.server.codec
        uri, lsp_range = snapshot_range(result.snapshot, codec, d.range)
        if uri is None:
            return None
        related = []
        read = read or self.server.documents.reader()
        for item in d.related:
            location = loc_location(result.snapshot, codec, item.loc, read)
            if location is not None:
                related.append(types.DiagnosticRelatedInformation(location=location,
                                                                  message=item.message))
        return uri, types.Diagnostic(
            range=lsp_range, message=d.message, severity=SEVERITY.get(level),
            code=d.code, source=SOURCE, related_information=related or None,
            tags=[types.DiagnosticTag.Unnecessary] if d.code == UNUSED_CODE else None)
