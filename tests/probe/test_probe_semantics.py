"""What the probe runs and what it records (SPEC §4, corpus README "Ground truth")."""
from __future__ import annotations

import ast
import sys

from shapelens.probe.runner import AGENT_PATH

from probe_helpers import facts_of, probe_source


def test_the_file_runs_as_the_program_main_guard_and_main_included(tmp_path):
    result = probe_source(tmp_path, """\
        import sys
        import torch

        def main():
            a = torch.ones(5)
            return a

        name = torch.zeros(len(__name__))
        if __name__ == "__main__":
            b = torch.ones(6)
            main()
            assert sys.modules["__main__"].main is main  # pickle finds the file's classes
        """)
    assert result.status == "ok", result.message
    assert facts_of(result) == {(5, "a"): [[5]], (8, "name"): [[len("__main__")]],
                                (10, "b"): [[6]]}
    assert result.skipped == ()


def test_the_given_source_runs_not_the_file_on_disk(tmp_path):
    path = tmp_path / "model.py"
    path.write_text("import torch\nx = torch.ones(1)\n")
    result = probe_source(tmp_path, "import torch\nx = torch.ones(1)\n", name="model.py",
                          source="import torch\n\nx = torch.ones(7, 2)\n")
    assert facts_of(result) == {(3, "x"): [[7, 2]]}


def test_binding_forms_match_the_ground_truth_rules(tmp_path):
    result = probe_source(tmp_path, """\
        import functools
        import torch

        def decorate(fn):
            return fn

        @decorate
        def split(t, *rest, scale=None, **extra):
            a, (b, c) = t[0], t.chunk(2)
            pair = (a, b)
            for row in t:
                pass
            t += 1
            return pair

        def assign_global():
            global g
            g = torch.ones(4, 4)

        x = torch.ones(2, 6)
        out = split(x)
        assign_global()
        """)
    assert result.status == "ok", result.message
    assert facts_of(result) == {
        (8, "t"): [[2, 6]],  # parameters at the def line, not the decorator line
        (9, "a"): [[6]], (9, "b"): [[1, 6]], (9, "c"): [[1, 6]],  # each unpacked name
        (11, "row"): [[6]],  # for targets
        (13, "t"): [[2, 6]],  # an in-place update re-binds the same tensor
        (18, "g"): [[4, 4]],  # a global assigned in a function
        (20, "x"): [[2, 6]],
    }  # `pair` and `out` are tuples: not facts


def test_a_line_reached_with_several_shapes_lists_each_once(tmp_path):
    result = probe_source(tmp_path, """\
        import torch
        for n in (1, 2, 1, 3):
            y = torch.zeros(n)
        """)
    assert facts_of(result) == {(3, "y"): [[1], [2], [3]]}


def test_a_name_with_endless_shapes_is_capped_with_a_warning(tmp_path):
    result = probe_source(tmp_path, """\
        import torch
        for n in range(1, 101):
            y = torch.zeros(n)
        """)
    (fact,) = result.facts
    assert len(fact.shapes) == 64 and fact.shapes[0] == (1,)
    assert any("more than 64 shapes" in w for w in result.warnings)


def test_runs_under_no_grad_on_the_requested_default_device(tmp_path):
    source = """\
        import torch
        assert not torch.is_grad_enabled()
        x = torch.ones(2)
        assert x.device.type == DEVICE, x.device
        """
    for device in ("cpu", "meta"):
        result = probe_source(tmp_path, source.replace("DEVICE", repr(device)), device=device)
        assert result.status == "ok", result.message
        assert result.device == device


def test_exit_status_zero_is_fine_and_nonzero_is_an_error(tmp_path):
    ok = probe_source(tmp_path, "import sys, torch\nx = torch.ones(1)\nsys.exit(0)\n")
    assert ok.status == "ok" and facts_of(ok) == {(2, "x"): [[1]]}
    bad = probe_source(tmp_path, "import sys\nsys.exit(3)\n")
    assert bad.status == "error" and bad.error.type == "SystemExit" and bad.error.lines == (2,)


def test_the_files_directory_is_importable_and_the_agents_is_not(tmp_path):
    (tmp_path / "report.py").write_text("WHO = 'user'\n")  # agent.py has a sibling report.py
    result = probe_source(tmp_path, """\
        import torch
        import report
        assert report.WHO == "user", report.__file__
        x = torch.ones(3)
        """)
    assert result.status == "ok", result.message


def test_error_lines_run_from_the_outermost_call_to_the_raise(tmp_path):
    result = probe_source(tmp_path, """\
        import torch

        def inner(t):
            return t.view(5)

        def outer(t):
            return inner(t)

        y = outer(torch.ones(2, 3))
        """)
    assert result.status == "error"
    assert result.error.type == "RuntimeError"
    assert result.error.lines == (9, 7, 4)
    assert "shape '[5]' is invalid for input of size 6" in result.error.message
    assert result.message == "RuntimeError at line 4: " + result.error.message


MODELS = """\
    import torch
    from torch import nn

    class Head(nn.Module):
        def __init__(self, features=8, classes=3):
            super().__init__()
            self.fc = nn.Linear(features, classes)

        def forward(self, x):
            return self.fc(x)

    class Needy(nn.Module):
        def __init__(self, width):
            super().__init__()
            self.fc = nn.Linear(width, 2)

        def forward(self, x):
            y = self.fc(x)
            return y

    class Called(nn.Module):
        def forward(self, x):
            z = x * 2
            return z

    called = Called()(torch.ones(1, 1))
    """


def sample(class_name, line, inputs, ctor_kwargs=None):
    return {"class_name": class_name, "line": line, "inputs": inputs,
            "ctor_kwargs": ctor_kwargs}


def test_samples_call_modules_the_file_does_not_call(tmp_path):
    progress = []
    result = probe_source(tmp_path, MODELS, on_progress=progress.append, dims={"N": 5},
                          samples=[
                              sample("Head", 9, {"x": ["N", 8]}),
                              sample("Needy", 17, {"x": ["B", "max(W, 8) // 2"]}, {"width": 16}),
                              sample("Called", 22, {"x": [9, 9]}),  # already called
                          ])
    assert result.status == "ok", result.message
    facts = facts_of(result)
    assert facts[(9, "x")] == [[5, 8]]  # N from dims
    assert facts[(17, "x")] == [[2, 16]]  # B defaults to 2, W to 32
    assert facts[(18, "y")] == [[2, 2]]
    assert facts[(22, "x")] == [[1, 1]]  # only the file's own call
    assert "calling Head.forward" in progress and "calling Needy.forward" in progress
    assert "calling Called.forward" not in progress


def test_samples_that_cannot_run_are_skipped_with_a_warning(tmp_path):
    result = probe_source(tmp_path, MODELS, samples=[
        sample("Needy", 17, {"x": ["N", 4]}),  # constructor needs arguments
        sample("Missing", 1, {"x": [1]}),
        sample("Head", 9, {"x": ["N", None]}),
        sample("Head", 9, {"x": ["N // 0", 8]}),
        sample("Head", 9, {"x": ["2 - N * 4", 8]}),
    ])
    assert result.status == "ok"
    assert (17, "x") not in facts_of(result) and (9, "x") not in facts_of(result)
    text = " | ".join(result.warnings)
    assert "Needy skipped: its constructor needs arguments" in text
    assert "Missing skipped" in text
    assert "Head skipped: dim None is not a size" in text
    assert "Head skipped: dim 'N // 0' cannot be evaluated" in text
    assert "Head skipped: dim '2 - N * 4' is -6, a negative size" in text


def test_a_failing_sample_reports_its_error_and_later_samples_still_run(tmp_path):
    result = probe_source(tmp_path, MODELS, samples=[
        sample("Head", 9, {"x": [4, 7]}),  # 7 features into Linear(8, 3)
        sample("Needy", 17, {"x": [3, 6]}, {"width": 6}),
    ])
    assert result.status == "error"
    assert result.error.lines == (10,)
    assert "mat1 and mat2 shapes cannot be multiplied (4x7 and 8x3)" in result.error.message
    assert facts_of(result)[(18, "y")] == [[3, 2]]


def test_the_agent_needs_only_the_standard_library_and_torch():
    tree = ast.parse(open(AGENT_PATH, encoding="utf-8").read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "the agent runs as a script: no relative imports"
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"torch"}
