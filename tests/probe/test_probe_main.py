"""The probe measures the samples wherever they are written (SPEC §4): module-level code, the
``if __name__ == "__main__":`` block and the ``main()`` it calls, comments and annotations —
and what such a program does beyond its samples (argument parsing, downloads, training and
evaluation loops, saving) does not turn the probe into a training run: the report says what
was held back (guards.py)."""
from __future__ import annotations

import os
import stat
import textwrap
import time

import pytest

from shapelens.probe.runner import run_probe

from probe_helpers import facts_of, probe_source

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file and process semantics")

MODEL = """\
    import argparse
    import os
    import urllib.request

    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(12, 4)

        def forward(self, x):
            h = self.fc(x)
            return h
    """


def tree_of(folder):
    """Every path under ``folder`` with its size and modification time."""
    found = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(root, name)
            info = os.stat(path)
            found[os.path.relpath(path, folder)] = (info.st_size, info.st_mtime_ns)
    return found


def notes_of(result):
    return {note.line: note.message for note in result.skipped}


def line_of(text, needle):
    return next(n for n, line in enumerate(textwrap.dedent(text).splitlines(), 1)
                if needle in line)


TRAINING_SCRIPT = MODEL + """\


    def train(model, loader, optimizer):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            optimizer.step()


    def main():
        parser = argparse.ArgumentParser()
        parser.add_argument("--epochs", type=int, default=1000)
        parser.add_argument("--batch-size", type=int, default=8)
        args = parser.parse_args()
        model = Net()
        sample = torch.randn(args.batch_size, 12)
        out = model(sample)
        data = TensorDataset(torch.randn(20, 12), torch.randint(0, 4, (20,)))
        loader = DataLoader(data, batch_size=args.batch_size, shuffle=True, num_workers=2)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for epoch in range(args.epochs):
            train(model, loader, optimizer)
        os.makedirs("checkpoints", exist_ok=True)
        torch.save(model.state_dict(), "checkpoints/model.pt")
        with open("log.txt", "w") as log:
            log.write("done")
        urllib.request.urlretrieve("https://example.com/weights.pt", "weights.pt")
        final = torch.zeros(1)


    if __name__ == "__main__":
        main()
    """


def test_a_training_script_is_measured_not_trained_and_writes_nothing(tmp_path):
    started = time.monotonic()
    result = probe_source(tmp_path, TRAINING_SCRIPT, name="train.py", timeout_s=60)
    assert time.monotonic() - started < 60  # far from the limit: one step, not 1000 epochs
    assert result.status == "ok", result.message
    line = lambda needle: line_of(TRAINING_SCRIPT, needle)  # noqa: E731
    facts = facts_of(result)
    # the sample in main(), with argparse's defaults (no command-line arguments)
    assert facts[(line("sample = torch.randn"), "sample")] == [[8, 12]]
    assert facts[(line("out = model(sample)"), "out")] == [[8, 4]]
    # the training loop ran one step on the first batch and one of the last batch's size
    assert facts[(line("for x, y in loader"), "x")] == [[4, 12], [8, 12]]
    assert facts[(line("logits = model(x)"), "logits")] == [[4, 4], [8, 4]]
    assert facts[(line("loss = F.cross_entropy"), "loss")] == [[]]
    assert (line("final = torch.zeros"), "final") not in facts  # stopped at the download

    notes = notes_of(result)
    assert "ran 1 of 1000 iterations" in notes[line("for epoch in range")]
    assert "2 of 3 batches" in notes[line("for x, y in loader")]
    assert "backward() not run" in notes[line("loss.backward()")]
    assert "not made" in notes[line("os.makedirs")]
    assert "torch.save" in notes[line("torch.save")]
    assert "'log.txt'" in notes[line('open("log.txt", "w")')]
    download = notes[line("urllib.request.urlretrieve")]
    assert download.startswith("stopped here: this needs a download")
    assert "held back (the probe measures" in result.message  # in the reply too
    assert set(tree_of(tmp_path)) == {"train.py"}  # no checkpoint, log, download, __pycache__


def test_argument_parsing_that_needs_arguments_stops_the_run_with_a_note(tmp_path):
    script = MODEL + """\

    if __name__ == "__main__":
        net = Net()
        x = torch.randn(2, 12)
        y = net(x)
        parser = argparse.ArgumentParser()
        parser.add_argument("--data", required=True)
        args = parser.parse_args()
        z = torch.zeros(3)
    """
    result = probe_source(tmp_path, script)
    assert result.status == "ok", result.message
    assert result.error is None
    facts = facts_of(result)
    assert facts[(line_of(script, "y = net(x)"), "y")] == [[2, 4]]
    assert (line_of(script, "z = torch.zeros"), "z") not in facts
    note = notes_of(result)[line_of(script, "args = parser.parse_args()")]
    assert note.startswith("stopped here: argument parsing needs command-line arguments")
    assert "--data" in note


def test_comment_samples_still_run_when_the_main_block_stopped_early(tmp_path):
    script = MODEL + """\

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, z):  # shape: z=[B, 4]
            return self.fc(z)

    if __name__ == "__main__":
        parser = argparse.ArgumentParser()
        parser.add_argument("data")
        args = parser.parse_args()
    """
    forward = line_of(script, "def forward(self, z)")
    sample = {"class_name": "Head", "line": forward, "inputs": {"z": ["B", 4]},
              "ctor_kwargs": None}
    result = probe_source(tmp_path, script, samples=[sample])
    assert result.status == "ok", result.message
    assert facts_of(result)[(forward, "z")] == [[2, 4]]
    assert "stopped here" in notes_of(result)[line_of(script, "args = parser.parse_args()")]


def test_a_dataset_that_would_download_is_not_downloaded(tmp_path):
    script = MODEL + """\

    class Remote(torch.utils.data.Dataset):
        def __init__(self, root):
            if not os.path.exists(os.path.join(root, "train.pt")):
                os.makedirs(root, exist_ok=True)
                urllib.request.urlretrieve("https://example.com/train.pt",
                                           os.path.join(root, "train.pt"))

    if __name__ == "__main__":
        x = torch.randn(2, 12)
        y = Net()(x)
        data = Remote("data")
        z = torch.zeros(3)
    """
    result = probe_source(tmp_path, script)
    assert result.status == "ok", result.message
    assert not (tmp_path / "data").exists()
    facts = facts_of(result)
    assert facts[(line_of(script, "y = Net()(x)"), "y")] == [[2, 4]]
    assert (line_of(script, "z = torch.zeros"), "z") not in facts
    stop = notes_of(result)[line_of(script, "urllib.request.urlretrieve(")]  # where it downloads
    assert stop.startswith("stopped here: this needs a download")
    assert "does not download" in stop


def test_a_library_model_that_would_download_its_weights_stops_with_the_reason_first(
        tmp_path):
    hub = tmp_path / "torch-home"
    script = MODEL + """\

    def tiny(pretrained=False):
        model = nn.Sequential(nn.Linear(12, 4))
        if pretrained:
            url = "https://download.pytorch.org/models/tiny-0000.pth"
            model.load_state_dict(torch.hub.load_state_dict_from_url(url, model_dir=%r))
        return model

    if __name__ == "__main__":
        x = torch.randn(2, 12)
        y = tiny()(x)
        z = tiny(pretrained=True)(x)
    """ % str(hub)
    result = probe_source(tmp_path, script)
    # torch.hub deletes its failed download by the name of the stream the probe sent to
    # /dev/null: the device stays (test_probe_guards.py checks the rule without running it)
    assert os.name != "posix" or stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert result.status == "ok", result.message
    assert not hub.exists()
    facts = facts_of(result)
    assert facts[(line_of(script, "y = tiny()(x)"), "y")] == [[2, 4]]
    assert (line_of(script, "z = tiny(pretrained=True)"), "z") not in facts
    stop = notes_of(result)[line_of(script, "load_state_dict_from_url(")]
    assert stop.startswith("stopped here: this needs a download")
    # the other notes of that line (no directory, no connection) come after the reason
    assert result.message.split("download): ", 1)[1].startswith(
        "line %d: stopped here" % line_of(script, "load_state_dict_from_url("))


def test_a_dataset_on_disk_gives_one_batch(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    for i in range(5):
        (folder / ("%d.txt" % i)).write_text(" ".join(["1.0"] * 12))
    script = MODEL + """\

    class Folder(torch.utils.data.Dataset):
        def __init__(self, root):
            self.files = sorted(os.path.join(root, f) for f in os.listdir(root))

        def __len__(self):
            return len(self.files)

        def __getitem__(self, i):
            with open(self.files[i]) as f:
                return torch.tensor([float(v) for v in f.read().split()])

    if __name__ == "__main__":
        loader = DataLoader(Folder("data"), batch_size=4)
        net = Net().eval()
        for batch in loader:
            out = net(batch)
    """
    result = probe_source(tmp_path, script)
    assert result.status == "ok", result.message
    facts = facts_of(result)
    assert facts[(line_of(script, "for batch in loader"), "batch")] == [[1, 12], [4, 12]]
    assert facts[(line_of(script, "out = net(batch)"), "out")] == [[1, 4], [4, 4]]
    assert "2 of 2 batches" in notes_of(result)[line_of(script, "for batch in loader")]


def test_enumerate_and_next_iter_over_a_loader(tmp_path):
    script = MODEL + """\

    if __name__ == "__main__":
        loader = DataLoader(TensorDataset(torch.randn(64, 12)), batch_size=16, shuffle=True)
        first, = next(iter(loader))
        net = Net()
        opt = torch.optim.Adam(net.parameters())
        for step, (x,) in enumerate(loader):
            loss = net(x).sum()
            loss.backward()
            opt.step()
    """
    result = probe_source(tmp_path, script)
    assert result.status == "ok", result.message
    facts = facts_of(result)
    assert facts[(line_of(script, "first, = next"), "first")] == [[16, 12]]
    assert facts[(line_of(script, "for step, (x,)"), "x")] == [[16, 12]]
    assert "1 of 4 batches" in notes_of(result)[line_of(script, "for step, (x,)")]


def test_code_that_needs_the_gradients_of_the_skipped_backward_stops_with_a_note(tmp_path):
    # pytorch/examples regression/main.py updates its weights by hand after backward()
    script = MODEL + """\

    if __name__ == "__main__":
        net = Net()
        for step in range(100):
            out = net(torch.randn(3, 12))
            out.sum().backward()
            for param in net.parameters():
                param.data.add_(-0.1 * param.grad)
        done = torch.ones(2)
    """
    result = probe_source(tmp_path, script)
    assert result.status == "ok", result.message
    assert result.error is None
    assert facts_of(result)[(line_of(script, "out = net("), "out")] == [[3, 4]]
    stop = notes_of(result)[line_of(script, "param.data.add_")]
    assert stop.startswith("stopped here: this needs the gradients of a backward()")


def test_a_shape_error_after_the_skipped_backward_is_still_an_error(tmp_path):
    script = MODEL + """\

    if __name__ == "__main__":
        net = Net()
        for step in range(100):
            out = net(torch.randn(3, 12))
            out.sum().backward()
            hits = out.argmax(1) == torch.zeros(4)
    """
    result = probe_source(tmp_path, script)
    assert result.status == "error", result.message
    assert result.error.lines[-1] == line_of(script, "hits = ")
    assert "must match the size of tensor b (4)" in result.error.message


def test_a_while_training_loop_runs_one_step(tmp_path):
    script = MODEL + """\

    if __name__ == "__main__":
        net = Net()
        step = 0
        while True:
            y = net(torch.randn(3, 12))
            y.sum().backward()
            step += 1
        done = torch.ones(2)
    """
    result = probe_source(tmp_path, script, timeout_s=30)
    assert result.status == "ok", result.message
    facts = facts_of(result)
    assert facts[(line_of(script, "y = net("), "y")] == [[3, 4]]
    assert facts[(line_of(script, "done = torch.ones"), "done")] == [[2]]
    assert "ran 1 iteration" in notes_of(result)[line_of(script, "while True")]


def test_a_loop_that_does_not_train_runs_in_full(tmp_path):
    script = """\
        import torch
        for n in range(1, 4):
            y = torch.zeros(n)
        """
    result = probe_source(tmp_path, script)
    assert facts_of(result) == {(3, "y"): [[1], [2], [3]]}
    assert result.skipped == ()


def test_an_endless_main_block_times_out_with_what_it_measured(tmp_path):
    script = MODEL + """\

    if __name__ == "__main__":
        y = Net()(torch.randn(5, 12))
        while True:
            pass
    """
    result = probe_source(tmp_path, script, timeout_s=3)
    assert result.status == "timeout"
    assert facts_of(result)[(line_of(script, "y = Net()"), "y")] == [[5, 4]]


def test_writes_inside_the_scratch_folder_work_and_vanish(tmp_path):
    script = """\
        import os
        import tempfile
        import torch
        with tempfile.TemporaryDirectory() as folder:
            torch.save(torch.ones(3), os.path.join(folder, "t.pt"))
            back = torch.load(os.path.join(folder, "t.pt"))
        print("SCRATCH", tempfile.gettempdir())
        """
    result = probe_source(tmp_path, script)
    assert result.status == "ok", result.message
    assert facts_of(result)[(6, "back")] == [[3]]
    scratch = result.stdout_tail.split("SCRATCH ")[1].strip()
    assert not os.path.exists(scratch)
    assert result.skipped == ()


def test_meta_keeps_device_moves_on_meta_and_stops_where_values_are_needed(tmp_path):
    script = MODEL + """\

    if __name__ == "__main__":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        net = Net().to(device)
        x = torch.randn(2, 12, device=device)
        y = net(x.cpu())
        total = y.sum().item()
        z = torch.zeros(3)
    """
    result = probe_source(tmp_path, script, device="meta")
    assert result.status == "ok", result.message
    facts = facts_of(result)
    assert facts[(line_of(script, "y = net(x.cpu())"), "y")] == [[2, 4]]
    assert (line_of(script, "z = torch.zeros"), "z") not in facts
    stop = notes_of(result)[line_of(script, "total = y.sum().item()")]
    assert stop.startswith("stopped here: this needs tensor values")
    # on cpu the same file runs to the end
    cpu = probe_source(tmp_path, script, device="cpu")
    assert cpu.status == "ok" and (line_of(script, "z = torch.zeros"), "z") in facts_of(cpu)


def test_meta_moves_tensors_of_legacy_constructors_and_samples_distributions(tmp_path):
    # PyTorch-GAN's Tensor(np.random.normal(...)) and a REINFORCE policy's Categorical(probs)
    script = MODEL + """\

    if __name__ == "__main__":
        net = Net()
        x = torch.randn(2, 12)
        noise = torch.FloatTensor([[0.5] * 12, [0.25] * 12])
        y = net(x + noise)
        probs = F.softmax(y, dim=1)
        m = torch.distributions.Categorical(probs)
        action = m.sample()
        log_prob = m.log_prob(action)
    """
    result = probe_source(tmp_path, script, device="meta")
    assert result.status == "ok", result.message
    assert result.skipped == ()
    facts = facts_of(result)
    assert facts[(line_of(script, "y = net(x + noise)"), "y")] == [[2, 4]]
    assert facts[(line_of(script, "log_prob = "), "log_prob")] == [[2]]


def test_a_real_error_after_a_guard_is_still_an_error(tmp_path):
    script = MODEL + """\

    if __name__ == "__main__":
        torch.save(torch.ones(1), "x.pt")
        y = Net()(torch.randn(2, 13))
    """
    result = probe_source(tmp_path, script)
    assert result.status == "error"
    assert result.error.lines[-1] == line_of(script, "h = self.fc(x)")
    assert "mat1 and mat2 shapes cannot be multiplied" in result.error.message


def test_comment_samples_use_the_given_dims_and_the_report_names_them(tmp_path):
    script = """\
        import torch
        from torch import nn

        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(16, 2)

            def forward(self, x):  # shape: x=[N, T, 16]
                return self.fc(x)

        if __name__ == "__main__":
            print("nothing here calls Head")
        """
    sample = {"class_name": "Head", "line": 9, "inputs": {"x": ["N", "T", 16]},
              "ctor_kwargs": None}
    result = probe_source(tmp_path, script, samples=[sample], dims={"T": 10})
    assert result.status == "ok", result.message
    assert facts_of(result)[(9, "x")] == [[2, 10, 16]]
    assert result.dims == {"N": 2, "T": 10}
    assert result.default_dims == ("N",)
    assert "with N=2 (default), T=10" in result.message


def test_the_cli_takes_dim_options_and_reports_the_dims(tmp_path, capsys):
    import json

    from shapelens.probe.cli import main

    path = tmp_path / "head.py"
    path.write_text(textwrap.dedent("""\
        import torch
        from torch import nn

        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(16, 2)

            def forward(self, x):  # shape: x=[N, T, 16]
                return self.fc(x)
        """))
    status = main([str(path), "--device", "meta", "--format", "json", "--dim", "N=3",
                   "--dim", "T=7"])
    document = json.loads(capsys.readouterr().out)
    assert status == 0
    assert document["probe"]["dims"] == {"N": 3, "T": 7}
    assert document["probe"]["default_dims"] == []
    shapes = {(s["range"]["start"]["line"], s["name"]): s["shape"]
              for s in document["files"][0]["shapes"]}
    assert shapes[(9, "x")] == [3, 7, 16]


def test_samples_in_main_and_module_level_run_like_the_analysis_says(tmp_path):
    from shapelens.probe.cli import samples_for

    script = textwrap.dedent(MODEL + """\

    def main():
        net = Net()
        batch = torch.randn(6, 12)
        logits = net(batch)

    if __name__ == "__main__":
        main()
    """)
    path = tmp_path / "m.py"
    path.write_text(script)
    request = {"path": str(path), "device": "cpu", "samples": samples_for(str(path), script)}
    result = run_probe(request, timeout_s=30)
    assert result.status == "ok", result.message
    facts = facts_of(result)
    assert facts[(line_of(script, "logits = net(batch)"), "logits")] == [[6, 4]]
    assert facts[(line_of(script, "def forward"), "x")] == [[6, 12]]
