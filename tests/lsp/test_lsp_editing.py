"""Editing: a storm of rapid edits never publishes stale results and ends matching the final
text; a syntax error mid-file keeps the rest of the file's results; positions are right with
non-ASCII text (LSP counts UTF-16 units)."""
from __future__ import annotations

import pytest

import asyncio
import random
import textwrap

from lsprotocol import types

from shapelens.analysis import analyze

from lsp_helpers import (by_code, change_document, corpus_file, diagnostics_for, edit, errors,
                         hover_text, initialize, inlay_hints, label_text, open_document,
                         position_of)

# the whole module on one xdist worker, so its shared server starts once
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("lsp-editing")]


def engine_view(text: str, path: str):
    """What the diagnostics of ``text`` must be (ASCII text: columns are the same)."""
    report = analyze(text, path)
    return sorted((d.range.start_line - 1, d.range.start_col, d.code, d.message)
                  for d in report.diagnostics)


def lsp_view(diagnostics):
    return sorted((d.range.start.line, d.range.start.character, d.code, d.message)
                  for d in diagnostics)


async def test_storm_of_200_edits_ends_with_the_final_texts_diagnostics(client):
    path = corpus_file("seed000_ex2_bad.py")
    text = path.read_text()
    uri = open_document(client, path, text)
    await diagnostics_for(client, uri, version=1)
    texts = {1: text}
    rng = random.Random(7)
    version = 1
    for step in range(200):
        version += 1
        lines = text.split("\n")
        kind = rng.random()
        conv_line = next(i for i, line in enumerate(lines) if "nn.Conv2d(" in line)
        if kind < 0.5:  # retype the in_channels literal
            line = lines[conv_line]
            start = line.index("Conv2d(") + len("Conv2d(")
            end = line.index(",", start)
            value = str(rng.choice([3, 12, 5, 1, 24]))
            change = edit(conv_line, start, end, value)
            lines[conv_line] = line[:start] + value + line[end:]
        elif kind < 0.75:  # add or remove a blank line above the class: everything moves
            if lines[7] == "":
                change = edit(7, 0, 0, "", end_line=8)
                del lines[7]
            else:
                change = edit(7, 0, 0, "\n")
                lines.insert(7, "")
        else:  # type into the comment on line 1
            change = edit(0, len(lines[0]), len(lines[0]), "x")
            lines[0] += "x"
        text = "\n".join(lines)
        texts[version] = text
        change_document(client, uri, version, [change])
        pause = rng.random()
        if pause < 0.05:
            await asyncio.sleep(0.25)   # long enough for an analysis to be published
        elif pause < 0.3:
            await asyncio.sleep(0.003)  # an analysis may start and then be superseded
    final = version
    final_diagnostics = await diagnostics_for(client, uri, version=final, timeout=30)
    await asyncio.sleep(0.5)  # nothing stale may follow the final publication
    mine = [p for p in client.publications if p.uri == uri]
    assert mine[-1].version == final
    versions = [p.version for p in mine]
    assert versions == sorted(versions), "publications went back in time: %s" % versions
    # every publication (mid-storm ones too) is exactly the analysis of its version's text
    for params in mine:
        assert lsp_view(params.diagnostics) == engine_view(texts[params.version], str(path)), \
            "version %d" % params.version
    assert lsp_view(final_diagnostics) == engine_view(texts[final], str(path))
    assert len(mine) < 60, "debounce: %d publications for 200 edits" % len(mine)


TWO_CLASSES = textwrap.dedent("""\
    import torch
    import torch.nn as nn


    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, kernel_size=3, padding=1)

        def forward(self, x):
            h = self.conv1(x)
            return h


    class Fine(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, kernel_size=3, padding=1)
            self.pool = nn.MaxPool2d(2)

        def forward(self, x):
            h = self.conv(x)
            p = self.pool(h)
            return p


    bad = Broken()(torch.randn(1, 5, 16, 16))
    good = Fine()(torch.randn(1, 3, 16, 16))
    """)


async def check_untouched_results(client, uri, text, version):
    """Broken's error, and shapes/hovers/hints in both classes' untouched lines."""
    diagnostics = await diagnostics_for(client, uri, version=version)
    [d] = by_code(diagnostics, "conv-in-channels")
    line, _ = position_of(text, "h = self.conv1(x)")
    assert d.range.start.line == line
    line, col = position_of(text, "h = self.conv1(x)")
    assert "h: Tensor[1, 64, 16, 16]" not in await hover_text(client, uri, line, col)  # errored
    line, col = position_of(text, "p = self.pool(h)")
    assert "p: Tensor[1, 8, 8, 8]" in await hover_text(client, uri, line, col)
    hints = {(h.position.line, label_text(h)) for h in await inlay_hints(client, uri)}
    assert (line, ": [1, 8, 8, 8]") in hints
    line, _ = position_of(text, "good = ")
    assert (line, ": [1, 8, 8, 8]") in hints


async def test_syntax_error_mid_file_keeps_the_other_classes_results(client, tmp_path):
    text = TWO_CLASSES
    uri = open_document(client, tmp_path / "two.py", text)
    await check_untouched_results(client, uri, text, 1)

    # 1. a half-typed call in Fine.forward: the engine blanks that line; Broken keeps its
    #    error and its signature, Fine keeps its input
    line, col = position_of(text, "h = self.conv(x)")
    broken = text.replace("h = self.conv(x)", "h = self.conv(x")
    change_document(client, uri, 2, [edit(line, col, col + len("h = self.conv(x)"),
                                          "h = self.conv(x")])
    diagnostics = await diagnostics_for(client, uri, version=2)
    assert by_code(diagnostics, "conv-in-channels")
    line, col = position_of(broken, "class Broken", offset=len("class B"))
    assert "Broken.forward(x: [1, 5, 16, 16])" in await hover_text(client, uri, line, col)
    line, col = position_of(broken, "class Fine", offset=len("class F"))
    assert "Fine.forward(x: [1, 3, 16, 16])" in await hover_text(client, uri, line, col)

    # 2. back to the good text, then a half-typed class header and a new first line holding a
    #    NUL character (pasted binary), which Python cannot parse at all: the engine recovers
    #    nothing (the report is empty), so the results of every unchanged line are carried
    #    over from the last good analysis, moved down by the new line
    change_document(client, uri, 3, [types.TextDocumentContentChangeWholeDocument(text=text)])
    await diagnostics_for(client, uri, version=3)
    header = "class Fine(nn.Module):"
    line, col = position_of(text, header)
    broken = "# typing\x00\n" + text.replace(header, "class Fine(nn.Module:")
    change_document(client, uri, 4, [edit(line, col, col + len(header), "class Fine(nn.Module:"),
                                     edit(0, 0, 0, "# typing\x00\n")])
    assert not analyze(broken, str(tmp_path / "two.py")).shapes  # the engine's own view
    diagnostics = await diagnostics_for(client, uri, version=4)
    [d] = by_code(diagnostics, "conv-in-channels")
    assert d.range.start.line == position_of(broken, "h = self.conv1(x)")[0]
    line, col = position_of(broken, "p = self.pool(h)")
    assert "p: Tensor[1, 8, 8, 8]" in await hover_text(client, uri, line, col)
    line, col = position_of(broken, "class Broken", offset=len("class B"))
    assert "Broken.forward(x: [1, 5, 16, 16])" in await hover_text(client, uri, line, col)
    hints = {(h.position.line, label_text(h)) for h in await inlay_hints(client, uri)}
    assert (position_of(broken, "good = ")[0], ": [1, 8, 8, 8]") in hints
    # the edited header line lost its facts: no class hover there
    line, col = position_of(broken, "class Fine", offset=len("class F"))
    assert "Fine.forward" not in await hover_text(client, uri, line, col)

    # 3. fixed again: everything is analysed afresh
    change_document(client, uri, 5, [types.TextDocumentContentChangeWholeDocument(text=text)])
    await check_untouched_results(client, uri, text, 5)


UNICODE = textwrap.dedent("""\
    # Emoji and accents before the faulty expressions: 🔥 = 2 UTF-16 units, 4 UTF-8 bytes.
    import torch
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, kernel_size=3, padding=1)

        def forward(self, x):
            tag = "🔥 débogage 🚀"; h = self.conv1(x)  # 😀 après
            return h


    y = Net()(torch.randn(1, 12, 28, 28))
    """)


def utf16_column(line_text: str, index: int) -> int:
    return len(line_text[:index].encode("utf-16-le")) // 2


async def test_positions_are_utf16_with_emoji_on_the_line(client, tmp_path):
    uri = open_document(client, tmp_path / "unicode.py", UNICODE)
    [d] = errors(await diagnostics_for(client, uri))
    lines = UNICODE.split("\n")
    line = next(i for i, text in enumerate(lines) if "tag =" in text)
    text = lines[line]
    start = text.index("self.conv1(x)")
    assert d.code == "conv-in-channels"
    assert (d.range.start.line, d.range.start.character) == (line, utf16_column(text, start))
    assert d.range.end.character == utf16_column(text, start + len("self.conv1(x)"))
    assert d.range.start.character == start + 2  # two astral characters before it

    # hover on "conv1": the UTF-16 column maps back to the right code point
    hover = await hover_text(client, uri, line, utf16_column(text, text.index("conv1")))
    assert "**conv1** `Conv2d(3, 64" in hover
    # inlay hint right after "h", in UTF-16 units
    hints = {(h.position.line, h.position.character): label_text(h)
             for h in await inlay_hints(client, uri)}
    h_end = text.index("h = self") + 1
    assert hints.get((line, utf16_column(text, h_end))) is None  # errored call: no shape
    assert (line - 1, utf16_column(lines[line - 1], lines[line - 1].index("x)") + 1)) in hints


async def test_utf8_position_encoding_when_the_client_prefers_it(raw_client, tmp_path):
    result = await initialize(raw_client, encodings=("utf-8", "utf-16"))
    assert result.capabilities.position_encoding == "utf-8"
    uri = open_document(raw_client, tmp_path / "unicode.py", UNICODE)
    [d] = errors(await diagnostics_for(raw_client, uri))
    text = next(t for t in UNICODE.split("\n") if "tag =" in t)
    start = text.index("self.conv1(x)")
    assert d.range.start.character == len(text[:start].encode("utf-8"))


FORM_FEED = ("import torch\n"
             "# section one\x0c section two (a page break, as in older Python files)\n"
             "x = torch.zeros(2, 3)\n"
             "y = x.view(7)\n")


async def test_incremental_edits_below_a_form_feed_land_on_the_right_line(client, tmp_path):
    """Python and LSP break lines only at \\r\\n, \\r and \\n; str.splitlines also breaks at a
    form feed, which would shift every edit below it by one line."""
    uri = open_document(client, tmp_path / "formfeed.py", FORM_FEED)
    [d] = errors(await diagnostics_for(client, uri, version=1))
    assert d.code == "reshape-numel" and d.range.start.line == 3
    change_document(client, uri, 2, [edit(3, 11, 12, "6")])       # y = x.view(6)
    assert not errors(await diagnostics_for(client, uri, version=2))
    assert "y: Tensor[6]" in await hover_text(client, uri, 3, 0)
    change_document(client, uri, 3, [edit(2, 16, 10_000, "4, 3)")])  # past the line's end
    [d] = errors(await diagnostics_for(client, uri, version=3))
    assert "x: Tensor[4, 3]" in await hover_text(client, uri, 2, 0)


async def test_random_garbage_edits_never_break_the_server(client):
    """Half-typed code of every kind (brackets, quotes, emoji, tabs, form feeds, deletions
    across lines); then the original text back: its own diagnostics, hovers still served."""
    path = corpus_file("residual_padding0_bad.py")
    original = path.read_text()
    uri = open_document(client, path, original)
    await diagnostics_for(client, uri, version=1)
    rng = random.Random(11)
    pieces = ["(", ")", '"""', "'", "[", ":", "\t", "🔥", "é", "\x0c", "\n", "    ", "#",
              "x = ", "self.", "torch.randn(", "\\", "lambda", "@", "=="]
    text = original
    version = 1
    for _ in range(120):
        version += 1
        lines = text.split("\n")
        line = rng.randrange(len(lines))
        col = rng.randint(0, len(lines[line]))
        utf16 = len(lines[line][:col].encode("utf-16-le")) // 2
        if rng.random() < 0.6:
            piece = rng.choice(pieces)
            change = edit(line, utf16, utf16, piece)
            lines[line] = lines[line][:col] + piece + lines[line][col:]
            text = "\n".join(lines)
        else:  # delete up to 8 characters, possibly across the line break
            offset = sum(len(l) + 1 for l in lines[:line]) + col
            end = min(len(text), offset + rng.randint(1, 8))
            removed = text[offset:end]
            end_line = line + removed.count("\n")
            tail = removed.rsplit("\n", 1)[-1]
            end_col = (utf16 + len(tail.encode("utf-16-le")) // 2 if "\n" not in removed
                       else len(tail.encode("utf-16-le")) // 2)
            change = edit(line, utf16, end_col, "", end_line=end_line)
            text = text[:offset] + text[end:]
        change_document(client, uri, version, [change])
        if rng.random() < 0.1:
            await asyncio.sleep(0.2)
    version += 1
    change_document(client, uri, version, [types.TextDocumentContentChangeWholeDocument(
        text=original)])
    final = await diagnostics_for(client, uri, version=version, timeout=30)
    assert lsp_view(final) == engine_view(original, str(path))
    line, col = position_of(original, "identity = x")
    assert "identity: Tensor[2, 64, 32, 32]" in await hover_text(client, uri, line, col)
    failures = [m.message for m in client.log_messages if m.type == types.MessageType.Error]
    assert not failures, failures
