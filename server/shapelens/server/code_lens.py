"""``textDocument/codeLens``: "▦ summary" above each ``nn.Module`` class the analysis has a
forward of (the client command ``shapelens.showSummary`` with ``[uri, className]`` opens the
shape summary panel), and "▶ probe" above each one with a sample input.

A class has a sample input when its forward inputs come from code in the file, a ``# shape:``
comment or shape annotations (``ModuleSignature.source`` sample/comment/annotation).  An input
that is only *inferred* from the first layers is not one: the probe has nothing to call the
class with, so no lens there; nor where the client has not said the workspace is trusted.
The lens runs the client-side command ``shapelens.probe`` with
``[uri, className]``; the client then calls ``shapelens.runProbe``.
"""
from __future__ import annotations

from typing import List, Optional

from lsprotocol import types

from .convert import snapshot_range
from .feature import LanguageFeature
from .summary import model_choices
from .workers import parts_in

PROBE_SOURCES = ("sample", "comment", "annotation")
CLIENT_COMMAND = "shapelens.probe"
SUMMARY_COMMAND = "shapelens.showSummary"


class CodeLens(LanguageFeature):
    def register(self) -> None:
        self.handle(types.TEXT_DOCUMENT_CODE_LENS, self.code_lens,
                    types.CodeLensOptions(resolve_provider=False))

    async def code_lens(self, params: types.CodeLensParams) -> Optional[List[types.CodeLens]]:
        uri = params.text_document.uri
        result = await self.settled_result(uri)
        if result is None:
            return []
        lenses = []
        codec = self.server.codec
        await parts_in(result.report)      # model_choices may read the runs' calls
        summarised = set(model_choices(result.report))
        for module in result.report.modules:
            lens_uri, lsp_range = snapshot_range(result.snapshot, codec, module.range)
            if lens_uri != uri:
                continue
            if module.name in summarised:
                lenses.append(types.CodeLens(range=lsp_range, command=types.Command(
                    title="▦ summary", command=SUMMARY_COMMAND, arguments=[uri, module.name])))
            # No lens for the probe unless the client says the workspace is trusted: refused
            # where it is not, and only on an explicit request where the client does not say.
            if module.source in PROBE_SOURCES and self.server.trusted is True:
                lenses.append(types.CodeLens(range=lsp_range, command=types.Command(
                    title="▶ probe", command=CLIENT_COMMAND, arguments=[uri, module.name])))
        return lenses
