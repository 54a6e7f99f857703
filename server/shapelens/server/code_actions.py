"""``textDocument/codeAction``: the engine's quick fixes (``Diagnostic.fixes``), and for every
shown diagnostic "Ignore CODE on this line" (a ``# shapelens: ignore[CODE]`` comment).

Set ``in_channels`` / ``in_features`` / ``num_features`` to the size that arrives, or
``padding`` to the value that keeps the spatial size.  Each action is a ``quickfix`` attached
to its diagnostic; the engine's fixes come first.  The edit is versioned (``documentChanges`` with the analysed version) when
the client supports it, so a client whose buffer moved on refuses a stale edit.
"""
from __future__ import annotations

from typing import Dict, List, Optional

from lsprotocol import types

from shapelens.analysis.report import Fix, Loc, Range, TextEdit
from shapelens.suppressions import UNUSED_CODE, suppression_edit

from .convert import file_range, snapshot_range
from .documents import uri_key
from .feature import LanguageFeature


def overlaps(a: types.Range, b: types.Range) -> bool:
    return not ((a.end.line, a.end.character) < (b.start.line, b.start.character) or
                (b.end.line, b.end.character) < (a.start.line, a.start.character))


class CodeActions(LanguageFeature):
    def register(self) -> None:
        self.handle(types.TEXT_DOCUMENT_CODE_ACTION, self.code_actions,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix],
                                            resolve_provider=False))

    async def code_actions(self, params: types.CodeActionParams
                           ) -> Optional[List[types.CodeAction]]:
        only = params.context.only
        if only and not any(types.CodeActionKind.QuickFix.value.startswith(str(kind))
                            for kind in only):
            return []
        uri = params.text_document.uri
        result = await self.settled_result(uri)
        if result is None:
            return []
        target = self.server.documents.target_for(uri)
        diagnostics = self.server.feature_of("Diagnostics")
        wanted = {(d.code, d.message) for d in params.context.diagnostics
                  if d.source == "shapelens"}
        actions, ignores = [], []
        for engine_diagnostic in diagnostics.shown(target, result):
            converted = diagnostics.convert(result, engine_diagnostic)
            if converted is None:
                continue
            diagnostic_uri, lsp_diagnostic = converted
            if diagnostic_uri != uri:
                continue
            asked = (lsp_diagnostic.code, lsp_diagnostic.message) in wanted
            if not asked and not overlaps(lsp_diagnostic.range, params.range):
                continue
            for fix in engine_diagnostic.fixes:
                edit = self.workspace_edit(result, fix)
                if edit is None:
                    continue
                actions.append(types.CodeAction(
                    title=fix.title, kind=types.CodeActionKind.QuickFix,
                    diagnostics=[lsp_diagnostic], edit=edit,
                    is_preferred=len(engine_diagnostic.fixes) == 1))
            ignore = self.ignore_action(result, engine_diagnostic, lsp_diagnostic)
            if ignore is not None:
                ignores.append(ignore)
        return actions + ignores   # the real fixes first

    def ignore_action(self, result, diagnostic, lsp_diagnostic) -> Optional[types.CodeAction]:
        """"Ignore CODE on this line": a ``# shapelens: ignore[CODE]`` comment on the line
        where the diagnostic starts (added to one already there)."""
        if diagnostic.code == UNUSED_CODE:
            return None
        line = diagnostic.range.start_line
        lines = result.snapshot.lines
        if not 0 < line <= len(lines):
            return None
        edit = suppression_edit(lines[line - 1], diagnostic.code)
        if edit is None:
            return None
        start, end, new_text = edit
        fix = Fix("Ignore %s on this line (# shapelens: ignore)" % diagnostic.code,
                  (TextEdit(Loc(Range(line, start, line, end)), new_text),))
        workspace_edit = self.workspace_edit(result, fix)
        if workspace_edit is None:
            return None
        return types.CodeAction(title=fix.title, kind=types.CodeActionKind.QuickFix,
                                diagnostics=[lsp_diagnostic], edit=workspace_edit)

    def workspace_edit(self, result, fix) -> Optional[types.WorkspaceEdit]:
        snapshot = result.snapshot
        codec = self.server.codec
        read = self.server.documents.reader()
        by_uri: Dict[str, List[types.TextEdit]] = {}
        for edit in fix.edits:
            if edit.loc.path is None:
                uri, lsp_range = snapshot_range(snapshot, codec, edit.loc.range)
                if uri is None:
                    return None
            else:
                uri, lsp_range = file_range(edit.loc.path, edit.loc.range, codec, read)
            by_uri.setdefault(uri, []).append(types.TextEdit(range=lsp_range,
                                                             new_text=edit.new_text))
        if not self.server.client_supports("workspace.workspace_edit.document_changes"):
            return types.WorkspaceEdit(changes=by_uri)
        versions = {cell.uri: cell.version for cell in snapshot.cells}
        if not snapshot.cells:
            versions[snapshot.uri] = snapshot.version
        workspace = self.server.workspace
        changes = []
        for uri, edits in by_uri.items():
            version = versions.get(uri)
            if version is None:
                doc = workspace.text_documents.get(uri_key(uri))
                version = doc.version if doc is not None else None
            changes.append(types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=uri, version=version if isinstance(version, int) else None),
                edits=edits))
        return types.WorkspaceEdit(document_changes=changes)

