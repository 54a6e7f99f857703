"""``shapelens summary``: the table up to a failing call, the given input, nested classes, what
is not known, and the usage errors."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from shapelens.analysis import analyze
from shapelens.analysis.summary import summarize
from tests.conftest import CORPUS, REPO

EXAMPLES = REPO / "examples"


def shapelens(*args):
    return subprocess.run([sys.executable, "-m", "shapelens", "summary", *args],
                          capture_output=True, text=True, timeout=120)


def write(tmp_path, text, name="model.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


BROKEN = """\
    import torch
    import torch.nn as nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 16, 3)
            self.body = nn.Sequential(nn.ReLU(), nn.Conv2d(8, 32, 3), nn.ReLU())
            self.fc = nn.Linear(32, 10)

        def forward(self, x):
            x = self.body(self.conv1(x))
            return self.fc(x.mean((2, 3)))

    model = Net()
    out = model(torch.randn(1, 3, 28, 28))
    """


def test_failing_model_text_stops_at_the_failing_row(tmp_path):
    proc = shapelens(str(write(tmp_path, BROKEN)))
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    table = [l for l in lines if l.startswith(("Net (", "├─", "│")) and "✗ line" not in l]
    assert len(table) == 5
    assert table[0].startswith("Net (Net)")
    assert table[1].startswith("├─Conv2d (conv1): 1-1") and "[1, 16, 26, 26]" in table[1]
    assert table[2].startswith("├─Sequential (body): 1-2")
    assert table[3].startswith("│    └─ReLU (0): 2-1")
    failing = table[4]
    assert failing.startswith("│    └─Conv2d (1): 2-2") and "✗ conv-in-channels" in failing
    after = lines[lines.index(failing) + 1]
    assert "✗ line 12: Given groups=1, weight of size [32, 8, 3, 3]" in after
    assert not any("Linear" in l for l in lines)     # fc never runs
    assert "Total params: 3,114" in proc.stdout
    assert "(up to the failing call)" in proc.stdout


def test_failing_model_json(tmp_path):
    proc = shapelens(str(write(tmp_path, BROKEN)), "--format", "json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["version"] == 1
    (summary,) = data["summaries"]
    rows = summary["rows"]
    assert [(r["path"], r["type"], r["status"]) for r in rows] == [
        ("", "Net", "incomplete"), ("conv1", "Conv2d", "ok"), ("body", "Sequential", "incomplete"),
        ("body.0", "ReLU", "ok"), ("body.1", "Conv2d", "failed")]
    failed = rows[-1]
    assert failed["output"] is None and failed["input"] == [1, 16, 26, 26]
    assert failed["diagnostic"]["code"] == "conv-in-channels"
    assert failed["location"]["range"]["start"]["line"] == 8
    assert summary["failure"]["code"] == "conv-in-channels"
    assert rows[1]["params"] == 448 and rows[1]["mult_adds"] == 448 * 26 * 26
    assert summary["totals"]["params"] == 448 + 2336 + 330 == 3114
    # The flow stops at the failing step, which carries the diagnostic.
    flow = summary["flow"]
    assert [f["kind"] for f in flow] == ["input", "layer", "layer", "layer"]
    assert flow[-1]["diagnostic"]["code"] == "conv-in-channels"
    assert flow[-1]["inputs"] == [2]


def test_given_input_keeps_symbolic_sizes(tmp_path):
    proc = shapelens(str(write(tmp_path, BROKEN.replace("Conv2d(8", "Conv2d(16"))) + "::Net",
                     "--input", "[N, 3, H, W]", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    (summary,) = json.loads(proc.stdout)["summaries"]
    assert summary["source"] == "input"
    conv1 = summary["rows"][1]
    assert conv1["output"] == ["N", 16, "H - 2", "W - 2"]
    assert conv1["mult_adds"] == "448*N*(H - 2)*(W - 2)"
    text = shapelens(str(tmp_path / "model.py") + "::Net", "--input", "[N, 3, 32, 32]").stdout
    assert "Net: input [N, 3, 32, 32] (--input)" in text
    assert "403,200·N" in text          # conv1: 448 * 30 * 30 per sample
    assert "Total mult-adds (M): " in text and "·N" in text


def test_hover_totals_keep_symbolic_counts(tmp_path):
    from shapelens.summary import summarize_file, totals_sentence
    path = str(write(tmp_path, BROKEN.replace("Conv2d(8", "Conv2d(16"))) + "::Net"
    (per_sample,) = summarize_file(path, "[N, 3, 224, 224]")
    # conv1 448*222*222 + body conv 4,640*220*220 + fc 330, per sample
    total = 448 * 222 * 222 + 4640 * 220 * 220 + 330
    assert totals_sentence(per_sample) == (
        "parameters: 5,418 · mult-adds: %.2f M·N for input [N, 3, 224, 224]" % (total / 1e6))
    (free,) = summarize_file(path, "[N, 3, H, W]")
    # (H - 2)(W - 2) and (H - 4)(W - 4) expanded; terms under 0.01 M: plain counts
    assert "mult-adds: 76,362·N - 19,456·H·N - 19,456·N·W + 5,088·H·N·W for input" in \
        totals_sentence(free)
    (fixed,) = summarize_file(path, "[2, 3, 224, 224]")
    assert "mult-adds: %.2f M for input" % (2 * total / 1e6) in totals_sentence(fixed)


def test_markdown(tmp_path):
    proc = shapelens(str(EXAMPLES / "mnist_lenet.py"), "--format", "markdown")
    out = proc.stdout
    assert out.startswith("### LeNet\n")
    assert "| Layer (type (var_name):depth-idx) | Input Shape | Output Shape | Param # |" in out
    assert "- Total params: " in out


def test_class_called_inside_another_model(tmp_path):
    path = write(tmp_path, """\
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(8, 8, 3, padding=1)
            def forward(self, x):
                return x + self.conv(x)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.stem = nn.Conv2d(3, 8, 1)
                self.block = Block()
            def forward(self, x):
                return self.block(self.stem(x))

        out = Net()(torch.randn(2, 3, 10, 10))
        """)
    proc = shapelens(str(path) + "::Block")
    assert proc.returncode == 0
    assert "Block: input [2, 8, 10, 10] (inside Net's forward, line 19)" in proc.stdout
    assert "├─Conv2d (conv): 1-1" in proc.stdout


def test_unknown_parameters_are_not_guessed(tmp_path):
    path = write(tmp_path, """\
        import torch
        import torch.nn as nn
        from somewhere import make_backbone

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.backbone = make_backbone()
                self.fc = nn.Linear(8, 2)
            def forward(self, x):
                return self.fc(x)

        out = Net()(torch.randn(4, 8))
        """)
    report = analyze(path.read_text(), str(path))
    summary = summarize(report, "Net")
    assert summary.total_params is None
    assert summary.rows[0].params_text == "?"
    assert summary.rows[1].params_text == "18"
    assert any("self.backbone" in n for n in summary.notes)
    # the backbone may hold calls the analysis did not see: no sums over the rows
    assert summary.param_bytes is None and summary.total_mult_adds is None
    assert summary.output_bytes is None
    assert "Params size (MB): ?" in shapelens(str(path) + "::Net").stdout


def test_input_size_counts_every_tensor_argument_or_is_unknown(tmp_path):
    path = write(tmp_path, """\
        import torch
        import torch.nn as nn
        from somewhere import make_state

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(100, 8)
            def forward(self, ids, state):
                return self.emb(ids)

        net = Net()
        a = net(torch.randint(0, 100, (4, 5)), (torch.zeros(2, 3), torch.zeros(2, 3)))
        b = net.forward(torch.randint(0, 100, (4, 5)), make_state())
        """)
    report = analyze(path.read_text(), str(path))
    runs = [r for r in report.runs if r.name == "Net"]
    from shapelens.analysis.summary import summarize_run
    known, unknown = (summarize_run(r) for r in runs)
    assert known.input_bytes == 4 * 5 * 8 + 2 * 2 * 3 * 4     # int64 ids, two float states
    assert unknown.input_bytes is None


def test_frozen_parameters_make_trainable_unknown(tmp_path):
    path = write(tmp_path, """\
        import torch
        import torch.nn as nn
        model = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
        for p in model.parameters():
            p.requires_grad = False
        out = model(torch.randn(2, 4))
        """)
    summary = summarize(analyze(path.read_text(), str(path)), "model")
    assert summary.total_params == 20
    assert summary.trainable_params is None
    assert summary.rows[1].trainable_text == "?"


def test_usage_errors(tmp_path):
    assert shapelens("/no/such/file.py").returncode == 2
    path = write(tmp_path, "x = 1\n")
    proc = shapelens(str(path))
    assert proc.returncode == 2 and "no model forward to summarise" in proc.stderr
    proc = shapelens(str(CORPUS / "lenet.py") + "::Nope")
    assert proc.returncode == 2 and "no nn.Module class 'Nope'" in proc.stderr
    proc = shapelens(str(CORPUS / "lenet.py") + "::LeNet5", "--input", "[N, 3")
    assert proc.returncode == 2 and "--input" in proc.stderr


def test_depth_option(tmp_path):
    path = str(write(tmp_path, BROKEN.replace("Conv2d(8", "Conv2d(16")))
    deep = shapelens(path, "--format", "json").stdout
    shallow = shapelens(path, "--depth", "1", "--format", "json").stdout
    deep_rows = json.loads(deep)["summaries"][0]["rows"]
    rows = json.loads(shallow)["summaries"][0]["rows"]
    assert [r["label"] for r in rows] == ["Net (Net)", "├─Conv2d (conv1): 1-1",
                                          "├─Sequential (body): 1-2", "├─Linear (fc): 1-3"]
    assert any(r["depth"] == 2 for r in deep_rows)
    body = rows[2]          # at the last depth shown: what it holds, as torchinfo prints it
    assert (body["params_text"], body["mult_adds_text"]) == ("4,640", "2,672,640")   # 4,640 * 24 * 24


LOOPS = """\
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(8, 8) for _ in range(6)])
            self.cell = nn.Linear(8, 8)

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            for _ in range(5):
                x = self.cell(x)
            return x

    out = Net()(torch.randn(10, 8))
    """


def test_loops_the_analysis_may_cut_short_are_not_summed(tmp_path):
    # The analysis stops following ``range(5)`` once a run changes nothing: it sees fewer
    # calls of ``cell`` than torch makes, so no total may be summed over them.
    (summary,) = json.loads(shapelens(str(write(tmp_path, LOOPS)), "--format",
                                      "json").stdout)["summaries"]
    assert summary["totals"]["mult_adds"] is None
    assert summary["totals"]["forward_backward_bytes"] is None
    assert summary["totals"]["params"] == 7 * 72
    assert any("loop at line 13" in n for n in summary["notes"])
    # sub-modules in a loop over the ModuleList are followed one by one: summed
    only_list = LOOPS.replace("            for _ in range(5):\n                x = self.cell(x)\n", "")
    assert "range(5)" not in only_list
    (summary,) = json.loads(shapelens(str(write(tmp_path, only_list, "list.py")), "--format",
                                      "json").stdout)["summaries"]
    assert summary["totals"]["mult_adds"] == 6 * 720 and not summary["notes"]
