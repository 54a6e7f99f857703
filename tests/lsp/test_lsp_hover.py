"""Hovers (SPEC §3): a tensor name or expression shows its shape, a layer its configuration,
input -> output, parameter count and spatial arithmetic, a class its forward signature."""
from __future__ import annotations

import pytest

import textwrap

from lsp_helpers import corpus_file, diagnostics_for, hover_text, open_document, position_of

# the whole module on one xdist worker, so its shared server starts once
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("lsp-hover")]


async def open_and_wait(client, path, text=None):
    uri = open_document(client, path, text)
    await diagnostics_for(client, uri)
    return uri, (text if text is not None else path.read_text())


async def test_hover_on_a_bound_name(client):
    uri, text = await open_and_wait(client, corpus_file("lenet.py"))
    line, col = position_of(text, " c1 = ", offset=1)
    assert await hover_text(client, uri, line, col) == "```python\nc1: Tensor[1, 6, 28, 28]\n```"
    line, col = position_of(text, "flat = ")
    assert "flat: Tensor[1, 400]" in await hover_text(client, uri, line, col + 2)


async def test_hover_on_an_expression(client):
    uri, text = await open_and_wait(client, corpus_file("lenet.py"))
    line, col = position_of(text, "self.conv1(x)", offset=len("self.conv1"))  # on the "("
    assert "self.conv1(x): Tensor[1, 6, 28, 28]" in await hover_text(client, uri, line, col)
    line, col = position_of(text, "torch.flatten(s4, 1)", offset=len("torch.flatten(s"))
    assert "s4: Tensor[1, 16, 5, 5]" in await hover_text(client, uri, line, col)


async def test_hover_on_a_layer_shows_config_io_params_and_arithmetic(client):
    uri, text = await open_and_wait(client, corpus_file("lenet.py"))
    line, col = position_of(text, "self.conv1(x)", offset=len("self.c"))
    hover = await hover_text(client, uri, line, col)
    assert "**conv1** `Conv2d(1, 6, kernel_size=(5, 5)" in hover
    assert "input [1, 1, 32, 32] → output [1, 6, 28, 28]" in hover
    assert "parameters: 156" in hover
    assert "⌊(32 + 2·0 − 1·(5 − 1) − 1) / 1⌋ + 1 = 28" in hover

    line, col = position_of(text, "self.pool1(c1)", offset=len("self.p"))
    hover = await hover_text(client, uri, line, col)
    assert "input [1, 6, 28, 28] → output [1, 6, 14, 14]" in hover
    assert "⌊(28 + 2·0 − 1·(2 − 1) − 1) / 2⌋ + 1 = 14" in hover

    line, col = position_of(text, "self.fc1 = ", offset=len("self.f"))  # the definition
    hover = await hover_text(client, uri, line, col)
    assert "**fc1** `Linear(400, 120" in hover
    assert "input [1, 400] → output [1, 120]" in hover
    assert "parameters: 48,120" in hover


async def test_hover_on_a_class_with_a_sample_input(client):
    uri, text = await open_and_wait(client, corpus_file("lenet.py"))
    line, col = position_of(text, "class LeNet5", offset=len("class L"))
    hover = await hover_text(client, uri, line, col)
    assert "LeNet5.forward(x: [1, 1, 32, 32]) → [1, 10]" in hover
    assert "sample input" in hover


INFERRED = textwrap.dedent("""\
    import torch.nn as nn
    import torch.nn.functional as F


    class LeNet5(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.flatten(1)
            x = F.relu(self.fc1(x))
            return self.fc2(x)
    """)


async def test_hover_on_a_class_without_sample_input_shows_the_required_input(client, tmp_path):
    uri, text = await open_and_wait(client, tmp_path / "lenet_nosample.py", INFERRED)
    line, col = position_of(text, "class LeNet5", offset=len("class L"))
    hover = await hover_text(client, uri, line, col)
    assert "LeNet5.forward(x: [N, 1, H, W]) → [N, 10]" in hover
    assert "inferred from the first layer" in hover
    assert "required input `x: [N, 1, H, W]`" in hover
    assert "H = W = 32" in hover


async def test_symbolic_dims_print_by_name(client):
    uri, text = await open_and_wait(client, corpus_file("comment_driven.py"))
    line, col = position_of(text, "h = self.features(x)")
    assert "h: Tensor[N, 64, 8, 8]" in await hover_text(client, uri, line, col)


async def test_no_hover_on_blank_space_or_plain_code(client):
    uri, text = await open_and_wait(client, corpus_file("lenet.py"))
    assert await hover_text(client, uri, 4, 0) == ""          # an empty line
    line, col = position_of(text, "import torch")
    assert await hover_text(client, uri, line, col) == ""
    assert await hover_text(client, uri, 500, 3) == ""        # past the end of the file
