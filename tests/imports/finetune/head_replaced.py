# A pretrained-style classifier with its head replaced and the backbone frozen.
import torch
import torch.nn as nn
from torchvision.models import resnet18

model = resnet18(weights=None)
for p in model.parameters():
    p.requires_grad = False
model.fc = nn.Linear(model.fc.in_features, 5)
x = torch.randn(4, 3, 224, 224)
logits = model(x)  # expect-shape: [4, 5]
