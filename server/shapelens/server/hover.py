"""``textDocument/hover``: Markdown from the last analysis, at once (never waiting for one).

* a tensor name or expression: its shape, ``x: Tensor[1, 64, 28, 28]``, plus the probe's
  shapes for that name and line, marked with the device (``probed on cpu: [...]``);
* a layer (``self.conv1`` in ``forward``, or its definition target in ``__init__``): its
  configuration, each input -> output shape seen, its parameter count and, for conv/pool
  layers, the arithmetic of each spatial size with the numbers filled in;
* a dataset, a DataLoader or a Compose (or a name bound to one): the sample and batch
  structure, or each step's shape (``PIL L 28×28 → ToTensor → Tensor[1, 28, 28]``);
* a module class name: its forward signature (``LeNet5.forward(x: [N, 1, H, W]) -> [N,
  10]``), where the input came from (or that it is inferred and required), and the
  constraints found on its input sizes.
"""
from __future__ import annotations

import re
from typing import List, Optional, Sequence

from lsprotocol import types
from pygls.uris import from_fs_path

from shapelens.analysis.dims import int_text
from shapelens.analysis.report import LayerFact, ModuleSignature
from shapelens.analysis.values import format_shape

from .convert import snapshot_range
from .feature import LanguageFeature
from .workers import parts_in

# Configuration keys a person writes positionally, in the order they come.
POSITIONAL = ("in_channels", "out_channels", "in_features", "out_features", "in1_features",
              "in2_features", "num_features", "num_embeddings", "embedding_dim",
              "input_size", "hidden_size", "normalized_shape", "num_groups", "num_channels",
              "embed_dim", "num_heads", "d_model", "nhead", "upscale_factor",
              "downscale_factor", "output_size")

SOURCES = {
    "sample": "input from the sample input in this file",
    "comment": "input from the `# shape:` comment",
    "annotation": "input from the shape annotations",
    "inferred": "no sample input: the required input is inferred from the first layer",
    "none": "no input known",
}

_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


def tensor(shape) -> str:
    return "Tensor" + format_shape(shape) if shape is not None else "Tensor[?]"


def code_block(text: str) -> str:
    return "```python\n%s\n```" % text


def layer_call_text(layer: LayerFact) -> str:
    parts = []
    positional = True
    for key, value in layer.config:
        if positional and key in POSITIONAL:
            parts.append(value)
        else:
            positional = False
            parts.append("%s=%s" % (key, value))
    return "%s(%s)" % (layer.kind, ", ".join(parts))


def layer_markdown(layer: LayerFact, diagnostics=()) -> str:
    """``diagnostics``: the report's, to say which calls of the layer fail."""
    sections = ["**%s** `%s`" % (layer.name, layer_call_text(layer))]
    calls = []
    arithmetic: List[str] = []
    for call in layer.calls:
        line = "input %s → output %s" % (format_shape(call.input), format_shape(call.output))
        if line not in calls:
            calls.append(line)
        for step in call.arithmetic:
            if step not in arithmetic:
                arithmetic.append(step)
    failures = ["called with an input it rejects: `%s` at line %d" % (d.code, d.range.start_line)
                for d in diagnostics if any(r.loc == layer.loc for r in d.related)]
    if calls or failures:
        sections.append("  \n".join(calls + failures))
    else:
        sections.append("not called with a known input")
    if layer.params is not None:
        sections.append("parameters: " + int_text(layer.params, grouped=True))
    if arithmetic:
        sections.append("\n".join("- " + step for step in arithmetic))
    if layer.owner:
        sections.append("built in `%s.__init__`" % layer.owner)
    if layer.defined_in and layer.loc.path:
        sections.append("defined in [%s](%s#L%d)" % (layer.defined_in,
                                                    from_fs_path(layer.loc.path),
                                                    layer.loc.range.start_line))
    return "\n\n".join(sections)


def module_markdown(module: ModuleSignature, report=None) -> str:
    """``report``: the analysis report, for the model's totals (parameters, mult-adds)."""
    inputs = ", ".join("%s: %s" % (name, format_shape(shape)) for name, shape in module.inputs)
    if not module.outputs:
        outputs = "?"
    elif len(module.outputs) == 1:
        outputs = format_shape(module.outputs[0])
    else:
        outputs = "(%s)" % ", ".join(format_shape(s) for s in module.outputs)
    sections = [code_block("%s.forward(%s) → %s" % (module.name, inputs, outputs))]
    source = SOURCES.get(module.source, module.source)
    if module.source == "inferred" and module.inputs:
        source += " — required input %s" % ", ".join(
            "`%s: %s`" % (name, format_shape(shape)) for name, shape in module.inputs)
    if module.source == "none" and module.unknown_reason:
        source += ": " + module.unknown_reason
    sections.append(source)
    if module.constraints:
        sections.append("constraints:\n" + "\n".join("- " + c for c in module.constraints))
    totals = totals_text(report, module.name) if report is not None else None
    if totals:
        sections.append(totals)
    return "\n\n".join(sections)


def totals_text(report, model: str) -> Optional[str]:
    """``parameters: 61,706 · mult-adds: 0.42 M for input [1, 1, 32, 32]``, from the shape
    summary of ``model``; None when there is none."""
    from shapelens.analysis.summary import summarize
    from shapelens.summary import totals_sentence
    try:
        summary = summarize(report, model)
    except Exception:       # a summary bug must not cost the hover
        return None
    return totals_sentence(summary) if summary is not None else None


def data_markdown(report, line: int, col: int) -> Optional[str]:
    """A dataset, loader or Compose (or the name bound to one): its sample and batch structure,
    or each step's shape (SPEC §7)."""
    best = None
    for r, text in report.extra.get("data", ()):
        if r.contains(line, col) and (best is None or r.size() < best[0].size()):
            best = (r, text)
    return best[1] if best is not None else None


def probe_lines(outcome, line: int, name: str) -> List[str]:
    if outcome is None:
        return []
    shapes = outcome.facts.get((line, name))
    if not shapes:
        return []
    return ["probed on %s: %s" % (outcome.device or "?",
                                  " or ".join(format_shape(s) for s in shapes))]


def word_at(text: str, col: int) -> Optional[tuple]:
    for match in _WORD.finditer(text):
        if match.start() <= col < match.end():
            return match.group(), match.start(), match.end()
    return None


class Hover(LanguageFeature):
    def register(self) -> None:
        self.handle(types.TEXT_DOCUMENT_HOVER, self.hover)

    async def hover(self, params: types.HoverParams) -> Optional[types.Hover]:
        documents = self.server.documents
        target = documents.target_for(params.text_document.uri)
        if target is None:
            return None
        view = await documents.view(target)
        if view is None:
            return None
        result = view.result
        snapshot = result.snapshot
        line = view.result_line(params.text_document.uri, params.position.line)
        if line is None:
            return None
        codec = self.server.codec
        line, col = codec.engine_position(
            snapshot.lines, types.Position(line=line - 1, character=params.position.character))
        outcome = self.server.feature_of("Probe").current(target)
        entry = result.index.at(line, col)
        if entry is not None and entry.kind == "module":
            await parts_in(result.report)   # for the model's totals
        markdown = None
        if entry is not None:
            markdown = self.entry_markdown(result, entry, outcome, snapshot.lines)
        if markdown is None:
            markdown = data_markdown(result.report, line, col)
            entry = None
        if markdown is None:
            markdown = self.probe_only(outcome, snapshot.lines, line, col, result)
            entry = None
        if markdown is None:
            return None
        hover_range = None
        moved = view.current_range(entry.range) if entry is not None else None
        if moved is not None:
            uri, hover_range = snapshot_range(view.current, codec, moved)
            if uri != params.text_document.uri:
                hover_range = None
        return types.Hover(contents=self.content(markdown), range=hover_range)

    def content(self, markdown: str) -> types.MarkupContent:
        """Markdown, or plain text for a client that does not render Markdown."""
        hover = self.server.client_capabilities.text_document
        formats = hover.hover.content_format if hover and hover.hover else None
        if formats and types.MarkupKind.Markdown not in formats:
            text = "\n".join(line for line in markdown.split("\n")
                             if not line.startswith("```"))
            return types.MarkupContent(kind=types.MarkupKind.PlainText,
                                       value=text.replace("**", "").replace("`", ""))
        return types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown)

    def entry_markdown(self, result, entry, outcome, lines: Sequence[str]) -> Optional[str]:
        if entry.kind == "layer":
            layers = result.report.layers
            if 0 <= entry.payload < len(layers):
                return layer_markdown(layers[entry.payload], result.report.diagnostics)
            return None
        if entry.kind == "module":
            return module_markdown(entry.payload, result.report)
        r = entry.range
        if entry.kind == "name":
            name, shapes = entry.payload
            text = "\n".join("%s: %s" % (name, tensor(s)) for s in shapes)
            extra = probe_lines(outcome, r.start_line, name)
        else:
            shapes = entry.payload
            label = "expression"
            if r.start_line == r.end_line:
                segment = lines[r.start_line - 1][r.start_col:r.end_col]
                if 0 < len(segment) <= 60:
                    label = segment
            text = "\n".join("%s: %s" % (label, tensor(s)) for s in shapes)
            extra = []
        sections = [code_block(text)]
        if extra:
            sections.append("  \n".join(extra))
        return "\n\n".join(sections)

    def probe_only(self, outcome, lines, line, col, result) -> Optional[str]:
        """A name the probe saw bound on this line where static analysis has nothing."""
        if outcome is None or not 0 < line <= len(lines):
            return None
        word = word_at(lines[line - 1], col)
        if word is None or (line, word[0]) not in outcome.facts:
            return None
        extra = probe_lines(outcome, line, word[0])
        return "%s\n\n%s" % (code_block("%s: %s" % (word[0], "Tensor[?]  (static: unknown)")),
                             "  \n".join(extra))
