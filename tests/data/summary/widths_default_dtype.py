# torch.set_default_dtype(torch.float64): every float tensor made after it, parameters included,
# is float64.  The sizes are "?" (widths are not followed), the counts and shapes as torch's.
import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 6 * 6, 10)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        return self.fc(x.flatten(1))


Classifier()(torch.randn(2, 1, 8, 8))
