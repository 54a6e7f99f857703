"""``torch.Tensor(3, 4)`` / ``torch.FloatTensor([1, 2])``: the legacy constructors take sizes,
data or a tensor; checked against torch over random arguments."""
from __future__ import annotations

import random

import pytest
import torch

from tests.rules.helpers import T, check, fn, outcome

NAMES = ["torch.Tensor", "torch.FloatTensor", "torch.DoubleTensor", "torch.LongTensor",
         "torch.IntTensor", "torch.BoolTensor"]


def torch_of(name):
    return getattr(torch, name.split(".")[1])


@pytest.mark.parametrize("seed", range(60))
def test_legacy_constructors_agree_with_torch(seed):
    rng = random.Random(seed)
    name = rng.choice(NAMES)
    kind = rng.choice(["sizes", "data", "nested", "tensor"])
    if kind == "sizes":
        sizes = [rng.randint(0, 5) for _ in range(rng.randint(1, 4))]
        check(fn(name, *sizes), outcome(lambda: torch_of(name)(*sizes)), context=str(sizes))
    elif kind == "data":
        data = [rng.randint(0, 3) for _ in range(rng.randint(1, 5))]
        data = tuple(data) if rng.random() < 0.5 else data
        check(fn(name, data), outcome(lambda: torch_of(name)(data)), context=str(data))
    elif kind == "nested":
        rows, cols = rng.randint(1, 4), rng.randint(1, 4)
        data = [[1] * cols for _ in range(rows)]
        check(fn(name, data), outcome(lambda: torch_of(name)(data)), context=str(data))
    else:
        shape = [rng.randint(1, 4) for _ in range(rng.randint(1, 3))]
        source = torch.zeros(*shape, dtype=torch_of(name)().dtype)
        check(fn(name, T(*shape)), outcome(lambda: torch_of(name)(source)), context=str(shape))
