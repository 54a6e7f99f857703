# Float64 models: torch.nn layers made in float64, converted with .double() or .to(dtype), fed
# float64 inputs (also from a numpy array, float64 by numpy's default).  The analysis does not
# follow widths tensor by tensor: its sizes are "?" here, never float32's.
import numpy as np
import torch
import torch.nn as nn


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x)


class Made64(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4, dtype=torch.float64)
        self.bias = nn.Parameter(torch.zeros(4, dtype=torch.float64))

    def forward(self, x):
        return self.fc(x) + self.bias


class FromNumpy(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(x)


model = Regressor().double()
model(torch.randn(5, 10, dtype=torch.float64))
made = Made64()
made(torch.randn(2, 8).to(torch.float64))
numpy_model = FromNumpy().to(torch.float64)
numpy_model(torch.from_numpy(np.random.randn(6, 3)))
