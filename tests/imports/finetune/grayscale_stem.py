# Grayscale X-rays into an RGB stem: PyTorch raises at the model call.
import torch
import torch.nn as nn
from torchvision.models import resnet18

model = resnet18(num_classes=10)
model.fc = nn.Linear(model.fc.in_features, 5)
xray = torch.randn(8, 1, 224, 224)
logits = model(xray)  # expect: conv-in-channels
