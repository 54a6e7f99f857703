"""Hovers on data values (SPEC §7): a loader shows its batches, a dataset its sample, a Compose
each step's shape; the name bound to one shows the same."""
from __future__ import annotations

from shapelens.analysis import analyze
from shapelens.server.hover import data_markdown

SOURCE = """\
import torch
import torchvision.transforms as transforms
from torchvision.datasets import MNIST

transform = transforms.Compose([transforms.ToTensor(), transforms.Lambda(lambda x: x.repeat(3, 1, 1))])
train_dataset = MNIST(root='./data', train=True, download=True, transform=transform)
train_loader = torch.utils.data.DataLoader(train_dataset, batch_size=64)
"""


def hover(line, word):
    report = analyze(SOURCE)
    col = SOURCE.splitlines()[line - 1].index(word) + 1
    return data_markdown(report, line, col)


def test_loader_hover_shows_its_batches():
    text = hover(7, "train_loader")
    assert text == hover(7, "DataLoader(")
    assert "(Tensor[64, 3, 28, 28], Tensor[64])" in text and "× 937" in text
    assert "then `(Tensor[32, 3, 28, 28], Tensor[32])`" in text


def test_dataset_hover_shows_its_sample():
    assert hover(6, "train_dataset") == \
        "**MNIST** (60000 samples) → sample `(Tensor[3, 28, 28], int)`"


def test_compose_hover_shows_each_step():
    assert hover(5, "transform") == ("**Compose**: PIL L 28×28 → ToTensor → Tensor[1, 28, 28] → "
                                     "Lambda → Tensor[3, 28, 28]")


def test_nothing_elsewhere():
    assert hover(1, "torch") is None
