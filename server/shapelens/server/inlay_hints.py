"""``textDocument/inlayHint``: the shape of each bound tensor name, after the name.

Placement: right after the target name of the binding (``h⟨: [N, 64, 8, 8]⟩ = self.conv(x)``),
not at the end of the line.  It then reads like the annotation a person would write, it sits
on the name it describes (each name of ``a, b = ...`` gets its own), and it does not move while
the right-hand side is edited; Pylance places its variable-type hints the same way.  A name
that already carries an annotation (``x: Tensor``) gets the label without the colon.  One hint
per (line, name); several shapes for one binding (two sample inputs, a loop) are joined with
``|``; a binding whose shape is unknown gets no hint.

With a probe result for the current text, the hint also says what the probe saw, with its
device: ``: [1, 64, 28, 28] (cpu ✓)`` when it agrees, ``: [1, 64, 30, 30] (cpu: [1, 64, 32,
32])`` when it does not; a name only the probe saw gets ``: [1, 10] (cpu)``.
"""
from __future__ import annotations

import re
from typing import List, Optional

from lsprotocol import types

from shapelens.analysis.values import format_shape

from .feature import LanguageFeature

MAX_SHAPES = 3


def shapes_text(shapes) -> str:
    shown = [format_shape(s) for s in shapes[:MAX_SHAPES]]
    if len(shapes) > MAX_SHAPES:
        shown.append("…")
    return " | ".join(shown)


def hint_label(static, probed, device: Optional[str], annotated: bool) -> str:
    prefix = " " if annotated else ": "
    if not static:
        return "%s%s (%s)" % (prefix, shapes_text(probed), device)
    label = prefix + shapes_text(static)
    if probed:
        if all(s in probed for s in static):
            label += " (%s ✓)" % device
        else:
            label += " (%s: %s)" % (device, shapes_text(probed))
    return label


class InlayHints(LanguageFeature):
    def register(self) -> None:
        self.handle(types.TEXT_DOCUMENT_INLAY_HINT, self.inlay_hints,
                    types.InlayHintOptions(resolve_provider=False))

    def settings_changed(self, old, new) -> None:
        if old.inlay_hints != new.inlay_hints:
            self.refresh()

    def probe_done(self, target) -> None:
        self.refresh()

    def analysis_done(self, target) -> None:
        # An edit of the document makes the editor ask for hints again by itself; a change
        # in a file it imports does not, nor does the end of an analysis whose older result
        # answered the editor meanwhile, so ask it to.
        if target.views_stale:
            target.views_stale = False
            target.hints_stale = False
            self.refresh()
            if self.server.client_supports("workspace.code_lens.refresh_support"):
                self.server.workspace_code_lens_refresh(None)
        elif target.hints_stale:
            target.hints_stale = False
            self.refresh()

    def refresh(self) -> None:
        if self.server.client_supports("workspace.inlay_hint.refresh_support"):
            self.server.workspace_inlay_hint_refresh(None)

    async def inlay_hints(self, params: types.InlayHintParams) -> Optional[List[types.InlayHint]]:
        if not self.server.settings.inlay_hints:
            return []
        documents = self.server.documents
        uri = params.text_document.uri
        target = documents.target_for(uri)
        if target is None:
            return []
        if not self.server.client_supports("workspace.inlay_hint.refresh_support"):
            # this editor cannot be told when newer hints are ready: wait for them (bounded)
            await documents.settled(target)
        view = await documents.view(target)
        if view is None or not view.result.report.uses_torch:
            return []
        if view.stale:
            target.hints_stale = True  # refreshed when the analysis of this text lands
        result, current = view.result, view.current
        codec = self.server.codec
        outcome = self.server.feature_of("Probe").current(target)
        first, last = params.range.start.line, params.range.end.line
        hints = []
        seen = set()
        for hint in result.index.hints:
            end_line = view.current_line(hint.range.end_line)
            if end_line is None:
                continue
            hint_uri, line0 = current.locate(end_line)
            if hint_uri != uri or not first <= line0 <= last:
                continue
            probed = outcome.facts.get((hint.line, hint.name)) if outcome else None
            seen.add((hint.line, hint.name))
            position = codec.position(current.lines, end_line, hint.col)
            hints.append(types.InlayHint(
                position=types.Position(line=line0, character=position.character),
                label=hint_label(hint.shapes, probed, outcome.device if outcome else None,
                                 hint.annotated),
                kind=types.InlayHintKind.Type, padding_left=False, padding_right=True,
                tooltip="shape of `%s` (ShapeLens%s)" % (
                    hint.name, ", with the probe's" if probed else "")))
        if outcome is not None:
            hints.extend(self.probe_only_hints(outcome, view, codec, uri, first, last, seen))
        return hints

    def probe_only_hints(self, outcome, view, codec, uri, first, last, seen):
        """Hints for names the probe saw bound where static analysis has no shape."""
        lines = view.result.snapshot.lines
        for (line, name), probed in sorted(outcome.facts.items()):
            if (line, name) in seen or not 0 < line <= len(lines):
                continue
            now = view.current_line(line)
            if now is None:
                continue
            hint_uri, line0 = view.current.locate(now)
            if hint_uri != uri or not first <= line0 <= last:
                continue
            match = re.search(r"\b%s\b" % re.escape(name), lines[line - 1])
            if match is None:
                continue
            position = codec.position(view.current.lines, now, match.end())
            yield types.InlayHint(
                position=types.Position(line=line0, character=position.character),
                label=hint_label((), probed, outcome.device, False),
                kind=types.InlayHintKind.Type, padding_right=True,
                tooltip="shape of `%s` seen by the probe on %s" % (name, outcome.device))
