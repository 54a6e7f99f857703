"""The shape summary over LSP (SPEC §9): ``shapelens/summary`` answers torchinfo's table and the
data flow of a model's forward with LSP locations, for the class asked for or the one around
the cursor, on a given input too; ``shapelens/summaryChanged`` follows each analysis and probe;
a "▦ summary" code lens per model; a class hover shows the totals; probed shapes join the
static ones after a probe."""
from __future__ import annotations

import textwrap

import pytest
from lsprotocol import types

from lsp_helpers import (change_document, corpus_file, diagnostics_for, edit, hover_text,
                         open_document, position_of, wait_for)

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("lsp-summary")]


async def summary(client, uri, **params):
    return await client.protocol.send_request_async(
        "shapelens/summary", dict(textDocument={"uri": uri}, **params))


def as_dict(value):
    """pygls hands a custom request's result back as nested namedtuples."""
    if hasattr(value, "_asdict"):
        return {k: as_dict(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [as_dict(v) for v in value]
    return value


TWO_MODELS = textwrap.dedent("""\
    import torch
    import torch.nn as nn


    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.pool = nn.AdaptiveAvgPool2d(1)

        def forward(self, x):
            return self.pool(torch.relu(self.conv(x))).flatten(1)


    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = Encoder()
            self.fc = nn.Linear(8, 4)

        def forward(self, x):
            h = self.encoder(x)
            return self.fc(h) + self.fc(h)


    model = Head()
    out = model(torch.randn(2, 3, 16, 16))
    """)


async def test_summary_of_a_model_with_locations_and_markdown(client):
    path = corpus_file("lenet.py")
    text = path.read_text()
    uri = open_document(client, path)
    await diagnostics_for(client, uri)
    answer = as_dict(await summary(client, uri))
    assert answer["models"] == ["LeNet5"] and answer["model"] == "LeNet5"
    s = answer["summary"]
    assert s["input_text"] == "[1, 1, 32, 32] (sample input, line 31)"
    rows = s["rows"]
    assert [r["label"] for r in rows[:3]] == ["LeNet5 (LeNet5)", "├─Conv2d (conv1): 1-1",
                                               "├─ReLU (act): 1-2"]
    conv1 = rows[1]
    assert conv1["output"] == [1, 6, 28, 28] and conv1["params_text"] == "156"
    line, col = position_of(text, "nn.Conv2d(1, 6")
    assert conv1["target"]["uri"] == uri
    assert conv1["target"]["range"]["start"] == {"line": line, "character": col}
    assert s["totals"]["params"] == 61706
    kinds = [f["kind"] for f in s["flow"]]
    assert kinds[0] == "input" and kinds[-1] == "output" and "op" in kinds  # torch.flatten
    assert "| ├─Conv2d (conv1): 1-1 |" in answer["markdown"].replace("\u00a0", " ")


async def test_the_class_around_the_cursor_and_a_class_inside_another(client, tmp_path):
    uri = open_document(client, tmp_path / "two.py", TWO_MODELS)
    await diagnostics_for(client, uri)
    line, _ = position_of(TWO_MODELS, "return self.pool")
    answer = as_dict(await summary(client, uri, position={"line": line, "character": 8}))
    assert answer["models"] == ["Head", "Encoder"]
    assert answer["model"] == "Encoder"
    assert answer["summary"]["source"] == "within Head"
    answer = as_dict(await summary(client, uri, model="Head"))
    rows = answer["summary"]["rows"]
    # the shared fc is called twice: torchinfo's "(recursive)" on the second row
    assert [r["params_text"] for r in rows if r["path"] == "fc"] == ["36", "(recursive)"]
    flow = answer["summary"]["flow"]
    add = next(f for f in flow if f["label"] == "+")
    assert len(add["inputs"]) == 2 and all(flow[i]["kind"] == "layer" for i in add["inputs"])


async def test_failing_model_and_a_given_input(client, tmp_path):
    broken = TWO_MODELS.replace("nn.Linear(8, 4)", "nn.Linear(16, 4)")
    uri = open_document(client, tmp_path / "broken.py", broken)
    await diagnostics_for(client, uri)
    answer = as_dict(await summary(client, uri, model="Head"))
    s = answer["summary"]
    assert [r["status"] for r in s["rows"]][-1] == "failed"
    assert s["failure"]["code"] == "linear-in-features"
    line, _ = position_of(broken, "return self.fc(h)")
    assert s["failure"]["target"]["range"]["start"]["line"] == line
    assert s["flow"][-1]["diagnostic"]["code"] == "linear-in-features"
    answer = as_dict(await summary(client, uri, model="Encoder", input="[B, 3, H, W]"))
    s = answer["summary"]
    assert s["source"] == "input"
    assert s["rows"][1]["output"] == ["B", 8, "H", "W"]
    answer = as_dict(await summary(client, uri, model="Encoder", input="[B, 3"))
    assert answer["summary"] is None and "input" in answer["message"]


async def test_summary_from_the_worker_is_the_engines(client, tmp_path):
    """The model runs come from the analysis worker after its answer (their parts in a
    message of their own): the summary is the engine's, dtype widths it is unsure of too."""
    from shapelens.analysis import analyze
    from shapelens.analysis.summary import summarize
    from shapelens.summary import to_markdown
    text = TWO_MODELS.replace("model = Head()", "model = Head().double()").replace(
        "torch.randn(2, 3, 16, 16)", "torch.randn(2, 3, 16, 16, dtype=torch.float64)")
    path = tmp_path / "wide.py"
    path.write_text(text)
    uri = open_document(client, path, text)
    await diagnostics_for(client, uri)
    report = analyze(text, str(path))
    for model in ("Head", "Encoder"):
        engine = summarize(report, model)
        assert engine.notes, "the engine is unsure of the float64 widths"
        answer = as_dict(await summary(client, uri, model=model))
        assert answer["markdown"] == to_markdown(engine)


async def test_summary_changed_after_each_analysis(client, tmp_path):
    seen = []
    client.feature("shapelens/summaryChanged")(lambda ls, params: seen.append(as_dict(params)))
    uri = open_document(client, tmp_path / "live.py", TWO_MODELS)
    await diagnostics_for(client, uri)
    await wait_for(lambda: any(p["uri"] == uri for p in seen), message="summaryChanged")
    line, col = position_of(TWO_MODELS, "nn.Conv2d(3, 8")
    change_document(client, uri, 2, [edit(line, col + len("nn.Conv2d("), col + len("nn.Conv2d(3"),
                                          "4")])
    await wait_for(lambda: any(p["uri"] == uri and p["version"] == 2 for p in seen),
                   message="summaryChanged for version 2")
    answer = as_dict(await summary(client, uri, model="Head"))
    assert answer["version"] == 2
    assert answer["summary"]["failure"]["code"] == "conv-in-channels"


async def test_code_lens_and_class_hover(client):
    path = corpus_file("lenet.py")
    text = path.read_text()
    uri = open_document(client, path)
    await diagnostics_for(client, uri)
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    lens = next(lens for lens in lenses if lens.command.title == "▦ summary")
    assert lens.command.command == "shapelens.showSummary"
    assert list(lens.command.arguments) == [uri, "LeNet5"]
    line, col = position_of(text, "class LeNet5", offset=len("class "))
    hover = await hover_text(client, uri, line, col)
    assert "parameters: 61,706 · mult-adds: 0.42 M for input [1, 1, 32, 32]" in hover


async def test_probed_shapes_beside_the_static_ones(client):
    from test_lsp_probe import run_probe
    uri = open_document(client, corpus_file("lenet.py"))
    await diagnostics_for(client, uri)
    result = await run_probe(client, uri, device="cpu")
    assert result["status"] == "ok", result
    answer = as_dict(await summary(client, uri))
    s = answer["summary"]
    assert s["probe_device"] == "cpu"
    conv_nodes = [f for f in s["flow"] if f["label"] == "conv1"]
    assert conv_nodes and conv_nodes[0]["output"] == [1, 6, 28, 28]
    # c1 = self.act(self.conv1(x)): the probe saw c1, the value of the act call
    act = next(f for f in s["flow"] if f["probed"])
    assert [1, 6, 28, 28] in act["probed"]
