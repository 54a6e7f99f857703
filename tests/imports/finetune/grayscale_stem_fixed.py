# The same X-rays with the stem replaced by a one-channel convolution.
import torch
import torch.nn as nn
import torchvision

model = torchvision.models.resnet34(num_classes=3)
model.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
xray = torch.randn(2, 1, 128, 128)
out = model(xray)  # expect-shape: [2, 3]
