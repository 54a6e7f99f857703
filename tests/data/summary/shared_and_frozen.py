# A shared block called twice (torchinfo: "(recursive)"), a frozen parameter ("Partial"), a
# ModuleDict, an nn.Sequential subclass and a sub-module reached through .forward (no hooks).
import torch
import torch.nn as nn


class Stage(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = Stage(3, 8)
        self.shared = nn.Conv2d(8, 8, 3, padding=1)
        self.heads = nn.ModuleDict({"cls": nn.Linear(8, 5), "box": nn.Linear(8, 4)})
        self.temperature = nn.Parameter(torch.ones(1), requires_grad=False)
        self.gain = nn.Parameter(torch.ones(5))
        self.extra = nn.Sequential(nn.Linear(8, 8), nn.GELU())

    def forward(self, x):
        x = self.stem(x)
        x = self.shared(x)
        x = self.shared(x)
        x = x.mean(dim=(2, 3))
        x = self.extra.forward(x)
        return self.heads["cls"](x) * self.gain / self.temperature, self.heads["box"](x)


model = Net()
out = model(torch.randn(2, 3, 16, 16))
