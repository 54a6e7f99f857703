"""Unit tests of the server's pure helpers: position conversion, notebook programs, settings
and the carry-over of facts past an unparsable edit."""
from __future__ import annotations

from lsprotocol import types

from shapelens.analysis import analyze
from shapelens.server.positions import Codec, split_lines
from shapelens.server.results import analyse, carry_over, line_map
from shapelens.server.settings import Settings
from shapelens.server.snapshot import document_snapshot, notebook_snapshot


def test_utf16_columns_count_surrogate_pairs():
    codec = Codec("utf-16")
    line = 'tag = "🔥é"; h = conv(x)'
    assert codec.to_client(line, line.index("h")) == line.index("h") + 1
    assert codec.from_client(line, line.index("h") + 1) == line.index("h")
    # a column inside the surrogate pair lands on the emoji itself
    assert codec.from_client(line, line.index("🔥") + 1) == line.index("🔥")
    assert codec.from_client(line, 10_000) == len(line)
    assert codec.units(line) == len(line) + 1


def test_utf8_and_utf32_encodings():
    line = "é🔥x"
    assert Codec("utf-8").to_client(line, 2) == 6
    assert Codec("utf-8").from_client(line, 6) == 2
    assert Codec("utf-32").to_client(line, 2) == 2
    assert Codec("unknown").encoding == "utf-16"


def test_lines_split_like_python_not_like_splitlines():
    text = "a = 1  # form\x0cfeed and \u2028 separator\r\nb = 2\rc = 3\n"
    assert split_lines(text) == ["a = 1  # form\x0cfeed and \u2028 separator", "b = 2",
                                 "c = 3", ""]
    position = Codec().position(split_lines(text), 3, 1)
    assert (position.line, position.character) == (2, 1)


def test_notebook_program_blanks_magics_and_maps_lines_to_cells():
    snapshot = notebook_snapshot("file:///nb.ipynb", "/nb.ipynb", [
        ("cell:a", "import torch\n%matplotlib inline", 1),
        ("cell:b", "%%bash\necho hi", 1),
        ("cell:c", "%%time\nx = torch.zeros(2)\n!ls\nfor i in range(2):\n    !echo", 3),
    ], 7)
    assert snapshot.lines == ("import torch", "", "", "", "", "x = torch.zeros(2)", "",
                              "for i in range(2):", "    pass")
    assert snapshot.locate(6) == ("cell:c", 1)
    assert snapshot.program_line("cell:c", 1) == 6
    assert snapshot.program_line("cell:zzz", 0) is None
    assert snapshot.version == (7, (1, 1, 3))
    report = analyze(snapshot.text, "/nb.ipynb")
    assert [(f.name, f.range.start_line) for f in report.shapes] == [("x", 6)]


def test_settings_nested_dotted_and_invalid():
    settings = Settings().merged({"inlayHints.enabled": False,
                                  "probe": {"dims": {"N": 4}, "timeoutSeconds": 5},
                                  "severity": {"conv-in-channels": "info"}})
    assert not settings.inlay_hints and settings.probe_dims == {"N": 4}
    assert settings.probe_timeout_s == 5.0
    assert settings.severity_of("conv-in-channels", "error") == "information"
    bad = settings.merged({"probe": {"device": "tpu"}, "logLevel": 3})
    assert bad.probe_device == "auto" and bad.log_level == "info"
    assert len(bad.problems) == 2
    assert Settings().merged({"shapelens": {"logLevel": "debug"}}).log_level == "debug"
    assert Settings().merged(["not", "an", "object"]).problems


BEFORE = """import torch
x = torch.zeros(2, 3)
y = x.sum(0)
z = y * 2
"""


def test_carry_over_keeps_unchanged_lines_and_moves_them():
    after = "# new first line\nimport torch\nx = torch.zeros(2, 3)\ny = x.sum(0 +\nz = y * 2\n"
    assert line_map(BEFORE.split("\n"), after.split("\n"))[2] == 3
    carried = carry_over(analyze(BEFORE, "/a.py"), split_lines(BEFORE), split_lines(after))
    assert [(f.name, f.range.start_line) for f in carried.shapes] == [("x", 3), ("z", 5)]


def test_unparsable_text_carries_the_last_good_result():
    good = analyse(document_snapshot("file:///a.py", "/a.py", BEFORE, 1), None, None)
    assert good.is_good and good.index.at(2, 0).payload[0] == "x"
    broken = "import torch\nx = torch.zeros(2, 3)\ny = x.sum(0)\nz = y * 2\n  \x00\n"
    result = analyse(document_snapshot("file:///a.py", "/a.py", broken, 2), None, good)
    assert result.carried and not result.is_good
    assert result.index.at(2, 0).payload == ("x", ((2, 3),))
    fresh = analyse(document_snapshot("file:///a.py", "/a.py", broken, 2), None, None)
    assert not fresh.carried and not fresh.report.shapes


def test_range_conversion_is_the_one_place():
    lines = ["é = 1", "x"]
    r = Codec().range(lines, 1, 1, 2, 1)
    assert r == types.Range(start=types.Position(line=0, character=1),
                            end=types.Position(line=1, character=1))


def test_the_probe_needs_trust_the_user_gave_for_settings_from_the_workspace():
    from shapelens.config import EDITOR, Config, Origin
    from shapelens.server.probe import UNTRUSTED, trust_refusal

    pyproject = Origin("file", "/ws/pyproject.toml")
    own = Config().overridden({"python": "/usr/bin/python3", "probe_device": "cpu"}, EDITOR)
    from_repo = own.overridden({"python": ".venv/bin/python"}, pyproject)
    assert trust_refusal(True, own) == "" and trust_refusal(True, from_repo) == ""
    assert trust_refusal(False, own) == UNTRUSTED == trust_refusal(False, from_repo)
    # a client that says nothing about trust: the user's own settings (and defaults) only
    assert trust_refusal(None, own) == "" and trust_refusal(None, Config()) == ""
    refusal = trust_refusal(None, from_repo)
    assert "python (from /ws/pyproject.toml)" in refusal and "trusted" in refusal
    probe_settings = Config().overridden({"probe_dims": {"N": 2}}, pyproject)
    assert "probe_dims (from /ws/pyproject.toml)" in trust_refusal(None, probe_settings)
    # a workspace value the probe does not use changes nothing
    severity = Config().overridden({"severity": {"shape-contract": "error"}}, pyproject)
    assert trust_refusal(None, severity) == ""


SENT = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.conv(x)), 1))


model = Net()
ok = model(torch.randn(2, 3, 16, 16))
bad = model(torch.randn(2, 4, 16, 16))
"""


def test_a_report_sent_by_the_worker_is_the_engines():
    """A worker sends its report as plain data, the parts of its model runs in a message
    after it: what the server reads back is what the engine made, layer configurations and
    arithmetic (computed in the worker) included."""
    import io
    from shapelens.server.worker import Outcome, Worker, laters, read_message, write_answer
    report = analyze(SENT, "/m.py")
    stream = io.BytesIO()
    runs = write_answer(stream, 7, Outcome(report))
    assert len(runs) == 2
    parts = Worker().parts(runs)
    stream.seek(0)
    job_id, outcome = read_message(stream)
    assert job_id == 7
    sent = outcome.report
    waiting = laters(sent)
    assert len(waiting) == 2 and not any(later.done.is_set() for later in waiting)
    for later, blob in zip(waiting, parts.blobs):
        later.settle(blob)
    assert sent == report
    assert [d.code for d in sent.diagnostics] == ["conv-in-channels"]
    assert sent.diagnostics == report.diagnostics    # related locations and fixes too
    for mine, theirs in zip(sent.layers, report.layers):
        assert (mine.config, mine.params) == (theirs.config, theirs.params)
        assert [c.arithmetic for c in mine.calls] == [c.arithmetic for c in theirs.calls]
    assert any(c.arithmetic for layer in sent.layers for c in layer.calls)
    assert dict(sent.layers[0].config)["stride"] == "(2, 2)"
    for mine, theirs in zip(sent.runs, report.runs):
        assert mine == theirs and mine.unsure_widths == theirs.unsure_widths
        assert (mine.modules, mine.calls, mine.flow) == (theirs.modules, theirs.calls,
                                                         theirs.flow)
