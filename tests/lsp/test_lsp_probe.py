"""The probe over LSP (SPEC §4): ``shapelens.runProbe`` with progress, cancellation and a
timeout; probed shapes in hovers and inlay hints marked with their device; a runtime error
and static-vs-probe disagreements as diagnostics; the server keeps answering whatever the
probed code does; refused in an untrusted workspace; a "▶ probe" code lens per module with
a sample input."""
from __future__ import annotations

import asyncio
import json
import textwrap
import time

import pytest
from lsprotocol import types

from lsp_helpers import (by_code, change_document, corpus_file, diagnostics_for, edit, errors,
                         hover_text, initialize, inlay_hints, label_text, open_document,
                         position_of, wait_for)

# probes are CPU-heavy: one worker runs them all
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("probe")]


async def run_probe(client, uri, **options):
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="shapelens.runProbe", arguments=[dict(uri=uri, **options)]))


def probe_lenses(lenses):
    return [lens for lens in lenses or () if lens.command.title == "▶ probe"]


def progress_kinds(client):
    return {token: [type(v).__name__ for v in values]
            for token, values in client.progress_reports.items()}


async def test_probe_on_cpu_shows_probed_shapes_until_the_next_edit(client):
    path = corpus_file("lenet.py")
    text = path.read_text()
    uri = open_document(client, path)
    await diagnostics_for(client, uri)
    result = await run_probe(client, uri, device="cpu")
    assert result["status"] == "ok", result
    assert result["device"] == "cpu"
    assert result["message"]

    # progress: created by the server, begin (cancellable) ... end
    [kinds] = progress_kinds(client).values()
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"
    assert "WorkDoneProgressReport" in kinds  # the agent's steps ("importing torch", ...)
    [values] = client.progress_reports.values()
    assert values[0].cancellable is True

    line, col = position_of(text, " c1 = ", offset=1)
    hover = await hover_text(client, uri, line, col)
    assert "c1: Tensor[1, 6, 28, 28]" in hover
    assert "probed on cpu: [1, 6, 28, 28]" in hover
    hints = {(h.position.line, label_text(h)) for h in await inlay_hints(client, uri)}
    assert (line, ": [1, 6, 28, 28] (cpu ✓)") in hints
    assert client.inlay_refreshes >= 1
    diagnostics = await diagnostics_for(client, uri)
    assert not by_code(diagnostics, "probe-disagrees") and not errors(diagnostics)

    # any edit: the probe's results no longer apply
    change_document(client, uri, 2, [edit(0, 0, 0, "# edited\n")])
    await diagnostics_for(client, uri, version=2)
    hover = await hover_text(client, uri, line + 1, col)
    assert "c1: Tensor[1, 6, 28, 28]" in hover and "probed" not in hover


async def test_probe_on_meta_with_sample_dims_from_settings(raw_client):
    client = raw_client
    await initialize(client, settings={"probe": {"dims": {"N": 4}}})
    path = corpus_file("comment_driven.py")
    text = path.read_text()
    uri = open_document(client, path)
    await diagnostics_for(client, uri)
    result = await run_probe(client, uri, device="meta", className="ConvClassifier")
    assert result["status"] == "ok", result
    assert result["device"] == "meta"
    line, col = position_of(text, "h = self.features(x)")
    hover = await hover_text(client, uri, line, col)
    assert "h: Tensor[N, 64, 8, 8]" in hover and "probed on meta: [4, 64, 8, 8]" in hover
    assert not by_code(await diagnostics_for(client, uri), "probe-disagrees")


async def test_runtime_error_becomes_an_error_diagnostic_at_its_line(client):
    path = corpus_file("seed000_ex2_bad.py")
    uri = open_document(client, path)
    await diagnostics_for(client, uri, version=1)
    count = len(client.publications)
    result = await run_probe(client, uri, device="cpu")
    assert result["status"] == "error", result
    await wait_for(lambda: len(client.publications) > count, message="re-published diagnostics")
    [d] = by_code(client.diagnostics[uri], "runtime-error")
    truth = json.loads(path.with_suffix(".gt.json").read_text())["error"]
    assert d.severity == types.DiagnosticSeverity.Error
    assert d.range.start.line == truth["lines"][-1] - 1  # line 16, where it raised
    assert d.message.startswith(truth["message"])
    assert "on cpu" in d.message
    assert [r.location.range.start.line for r in d.related_information] == [20]  # the call


PLANTED = textwrap.dedent("""\
    # torch.randn is replaced at run time: static analysis cannot know, the probe sees it.
    import torch


    def _fake_randn(*size):
        return torch.zeros(7)


    setattr(torch, "randn", _fake_randn)
    x = torch.randn(1, 3)
    y = x * 2
    """)


async def test_static_and_probe_disagreement_is_an_information_diagnostic(client, tmp_path):
    path = tmp_path / "planted.py"
    path.write_text(PLANTED)
    uri = open_document(client, path)
    await diagnostics_for(client, uri)
    count = len(client.publications)
    result = await run_probe(client, uri, device="cpu")
    assert result["status"] == "ok", result
    await wait_for(lambda: len(client.publications) > count, message="re-published diagnostics")
    found = by_code(client.diagnostics[uri], "probe-disagrees")
    assert [(d.range.start.line, d.range.start.character) for d in found] == [(9, 0), (10, 0)]
    assert found[0].severity == types.DiagnosticSeverity.Information
    assert found[0].message == "static analysis says [1, 3], probe on cpu saw [7]"
    hints = {(h.position.line, label_text(h)) for h in await inlay_hints(client, uri)}
    assert (9, ": [1, 3] (cpu: [7])") in hints


HANG = "import torch\nx = torch.zeros(2, 3)\nwhile True:\n    pass\n"
CRASH = "import os\nimport torch\nx = torch.zeros(2, 3)\nos._exit(3)\n"


async def test_hanging_probe_times_out_and_hovers_are_served_meanwhile(client, tmp_path):
    path = tmp_path / "hang.py"
    path.write_text(HANG)
    uri = open_document(client, path)
    await diagnostics_for(client, uri)
    probe = asyncio.ensure_future(run_probe(client, uri, device="cpu", timeoutSeconds=4))
    await wait_for(lambda: client.progress_reports, message="the probe's progress")
    for _ in range(5):  # during the probe
        started = time.monotonic()
        assert "x: Tensor[2, 3]" in await hover_text(client, uri, 1, 0)
        assert time.monotonic() - started < 1.0
        await asyncio.sleep(0.2)
    result = await probe
    assert result["status"] == "timeout", result
    assert "timed out" in result["message"]
    started = time.monotonic()
    hover = await hover_text(client, uri, 1, 0)  # right after
    assert time.monotonic() - started < 1.0
    assert "x: Tensor[2, 3]" in hover


async def test_crashing_probe_reports_and_the_server_lives_on(client, tmp_path):
    path = tmp_path / "crash.py"
    path.write_text(CRASH)
    uri = open_document(client, path)
    await diagnostics_for(client, uri)
    result = await run_probe(client, uri, device="cpu")
    assert result["status"] == "crashed", result
    assert "status 3" in result["message"]
    assert "x: Tensor[2, 3]" in await hover_text(client, uri, 2, 0)


HUGE = "import torch\nx = torch.zeros(2, 3)\nbig = torch.empty(10 ** 13)\n"


async def test_out_of_memory_probe_reports_and_the_server_lives_on(client, tmp_path):
    path = tmp_path / "huge.py"
    path.write_text(HUGE)
    uri = open_document(client, path)
    await diagnostics_for(client, uri)
    result = await run_probe(client, uri, device="cpu")
    assert result["status"] == "oom", result
    assert "memory" in result["message"]
    hover = await hover_text(client, uri, 1, 0)
    assert "x: Tensor[2, 3]" in hover and "probed on cpu: [2, 3]" in hover


async def test_cancel_through_the_progress_token(client, tmp_path):
    path = tmp_path / "hang.py"
    path.write_text(HANG)
    uri = open_document(client, path)
    await diagnostics_for(client, uri)
    probe = asyncio.ensure_future(run_probe(client, uri, device="cpu", timeoutSeconds=60))
    await wait_for(lambda: any(client.progress_reports.values()), message="progress begin")
    [token] = client.progress_reports
    started = time.monotonic()
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    result = await asyncio.wait_for(probe, 10)
    assert result["status"] == "cancelled", result
    assert time.monotonic() - started < 5


async def test_cancel_request_stops_the_probe(client, tmp_path):
    path = tmp_path / "hang.py"
    path.write_text(HANG)
    uri = open_document(client, path)
    await diagnostics_for(client, uri)
    request = asyncio.ensure_future(client.protocol.send_request_async(
        types.WORKSPACE_EXECUTE_COMMAND,
        types.ExecuteCommandParams(command="shapelens.runProbe",
                                   arguments=[{"uri": uri, "timeoutSeconds": 60}]),
        msg_id="probe-to-cancel"))
    await wait_for(lambda: any(client.progress_reports.values()), message="progress begin")
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="probe-to-cancel"))
    with pytest.raises(Exception):
        await asyncio.wait_for(request, 10)  # answered "request cancelled"
    # the probe process was stopped: its progress ends
    await wait_for(lambda: any(type(v).__name__ == "WorkDoneProgressEnd"
                               for v in list(client.progress_reports.values())[0]),
                   timeout=10, message="the probe's progress to end")
    assert "x: Tensor[2, 3]" in await hover_text(client, uri, 1, 0)


async def test_untrusted_workspace_refuses_the_probe(raw_client):
    await initialize(raw_client, trusted=False)
    uri = open_document(raw_client, corpus_file("lenet.py"))
    await diagnostics_for(raw_client, uri)
    result = await run_probe(raw_client, uri, device="cpu")
    assert result["status"] == "refused"
    assert "trust" in result["message"]
    assert not raw_client.progress_reports
    lenses = await raw_client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    # no "▶ probe" lens for a probe that would be refused (the static summary's stays)
    assert [lens.command.title for lens in lenses] == ["▦ summary"]


MAIN_BLOCK = textwrap.dedent("""\
    import torch
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(12, 4)

        def forward(self, x):
            h = self.fc(x)
            return h


    if __name__ == "__main__":
        net = Net()
        x = torch.randn(3, 12)
        out = net(x)
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        for epoch in range(100):
            loss = net(x).sum()
            loss.backward()
            opt.step()
        torch.save(net.state_dict(), "net.pt")
    """)


async def test_a_sample_under_a_main_guard_is_probed_and_what_was_held_back_shown(client,
                                                                                  tmp_path):
    path = tmp_path / "main_block.py"
    path.write_text(MAIN_BLOCK)
    uri = open_document(client, path)
    await diagnostics_for(client, uri)
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert [list(lens.command.arguments) for lens in lenses
            if lens.command.title == "▶ probe"] == [[uri, "Net"]]
    count = len(client.publications)
    result = await run_probe(client, uri, device="cpu")
    assert result["status"] == "ok", result
    assert "held back" in result["message"]
    assert {note["line"] for note in result["skipped"]} == {20, 22, 24}
    line, col = position_of(MAIN_BLOCK, "out = net(x)")
    hover = await hover_text(client, uri, line, col)
    assert "out: Tensor[3, 4]" in hover and "probed on cpu: [3, 4]" in hover
    line, col = position_of(MAIN_BLOCK, "h = self.fc(x)")
    assert "probed on cpu: [3, 4]" in await hover_text(client, uri, line, col)
    await wait_for(lambda: len(client.publications) > count, message="re-published diagnostics")
    held_back = by_code(client.diagnostics[uri], "probe-skipped")
    assert sorted(d.range.start.line + 1 for d in held_back) == [20, 22, 24]
    assert all(d.severity == types.DiagnosticSeverity.Information for d in held_back)
    assert any("training loop: ran 1 of 100 iterations" in d.message for d in held_back)
    assert not errors(client.diagnostics[uri])
    assert not (tmp_path / "net.pt").exists()


async def test_a_client_silent_about_trust_gets_the_probe_on_request_only(raw_client, tmp_path):
    client = raw_client
    await initialize(client)  # no workspaceTrusted, as any client but VS Code
    path = tmp_path / "main_block.py"
    path.write_text(MAIN_BLOCK)
    uri = open_document(client, path)
    await diagnostics_for(client, uri)
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert [lens.command.title for lens in lenses] == ["▦ summary"]  # no "▶ probe"
    result = await run_probe(client, uri, device="meta")  # an explicit request: it runs
    assert result["status"] == "ok", result


async def test_probe_code_lens_on_modules_with_a_sample_input(client, tmp_path):
    lenses = {}
    for name in ("comment_driven.py", "lenet.py"):
        uri = open_document(client, corpus_file(name))
        await diagnostics_for(client, uri)
        lenses[name] = (uri, probe_lenses(await client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))))
    uri, [lens] = lenses["comment_driven.py"]
    assert lens.command.title == "▶ probe"
    assert lens.command.command == "shapelens.probe"
    assert list(lens.command.arguments) == [uri, "ConvClassifier"]
    assert lens.range.start.line == 6  # class ConvClassifier
    uri, [lens] = lenses["lenet.py"]
    assert list(lens.command.arguments) == [uri, "LeNet5"]

    from test_lsp_hover import INFERRED  # a module whose input is only inferred
    uri = open_document(client, tmp_path / "nosample.py", INFERRED)
    await diagnostics_for(client, uri)
    assert not probe_lenses(await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))))
