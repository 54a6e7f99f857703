# 16-bit models: .half() and .bfloat16() parameters, and an int32 index input (4 bytes an
# element, not int64's 8).  Sizes of those kinds are "?", the rest as torch's.
import torch
import torch.nn as nn


class HalfNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 24)
        self.fc2 = nn.Linear(24, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class Brain(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x)


class Lookup(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 8)

    def forward(self, ids):
        return self.embed(ids)


HalfNet().half()(torch.randn(2, 12).half())
Brain().bfloat16()(torch.randn(3, 4, dtype=torch.bfloat16))
Lookup()(torch.randint(0, 50, (2, 5), dtype=torch.int32))
