"""``textDocument/codeLens``: "▶ probe" above each ``nn.Module`` class with a sample input.

A class has a sample input when its forward inputs come from code in the file, a ``# shape:``
comment or shape annotations (``ModuleSignature.source`` sample/comment/annotation).  An input
that is only *inferred* from the first layers is not one: the probe has nothing to call the
class with, so no lens there.  The lens runs the client-side command ``shapelens.probe`` with
``[uri, className]``; the client then calls ``shapelens.runProbe``.
"""
from __future__ import annotations

from typing import List, Optional

from lsprotocol import types

from .convert import snapshot_range
from .feature import LanguageFeature

PROBE_SOURCES = ("sample", "comment", "annotation")
CLIENT_COMMAND = "shapelens.probe"


class CodeLens(LanguageFeature):
    def register(self) -> None:
        self.handle(types.TEXT_DOCUMENT_CODE_LENS, self.code_lens,
                    types.CodeLensOptions(resolve_provider=False))

    async def code_lens(self, params: types.CodeLensParams) -> Optional[List[types.CodeLens]]:
        if not self.server.trusted:
            return []   # the probe is refused in an untrusted workspace: offer no lens for it
        uri = params.text_document.uri
        result = await self.settled_result(uri)
        if result is None:
            return []
        lenses = []
        codec = self.server.codec
        for module in result.report.modules:
            if module.source not in PROBE_SOURCES:
                continue
            lens_uri, lsp_range = snapshot_range(result.snapshot, codec, module.range)
            if lens_uri != uri:
                continue
            lenses.append(types.CodeLens(range=lsp_range, command=types.Command(
                title="▶ probe", command=CLIENT_COMMAND, arguments=[uri, module.name])))
        return lenses
