"""``python -m tests.data.vision.run_case CASE.py``: the ground truth of a data-pipeline case
(tests/data/tools/groundtruth.py), with torchvision's downloading datasets replaced by fakes of the
same sample format (rules/datasets.py's table, itself checked against the real classes in
test_datasets_vs_torchvision.py), so nothing is downloaded.

A fake is shorter than the real dataset but keeps its length modulo 960, so a loader whose batch
size divides 960 (1-6, 8, 10, 12, 16, 20, 32, 64...) yields the same distinct batch shapes, the
smaller last batch included."""
from __future__ import annotations

import pathlib
import sys

import torchvision.datasets
from PIL import Image
from torch.utils.data import Dataset

from shapelens.analysis.rules.datasets import DATASETS

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tools"))
import groundtruth  # noqa: E402  (tests/data/tools/groundtruth.py)


PERIOD = 960


def fake(kind):
    fmt = DATASETS[kind]

    class Fake(Dataset):
        def __init__(self, root=None, train=True, transform=None, target_transform=None,
                     download=False, split=None, **kwargs):
            self.transform = transform
            self.target_transform = target_transform
            chosen = split if fmt.split == "split" else train
            if fmt.split == "split" and chosen is None:
                chosen = fmt.default
            length = (fmt.lengths or {}).get(chosen, 100)
            self.length = length % PERIOD + PERIOD if length > PERIOD else length
            self.image = Image.new(fmt.mode, (fmt.size[1], fmt.size[0]))

        def __len__(self):
            return self.length

        def __getitem__(self, index):
            if index >= self.length:
                raise IndexError(index)
            image, target = self.image.copy(), index % 10
            if self.transform is not None:
                image = self.transform(image)
            if self.target_transform is not None:
                target = self.target_transform(target)
            return image, target

    Fake.__name__ = kind
    return Fake


def install():
    for kind, fmt in DATASETS.items():
        if fmt.size is not None:
            setattr(torchvision.datasets, kind, fake(kind))


if __name__ == "__main__":
    install()
    sys.exit(groundtruth.main(sys.argv[1:]))
