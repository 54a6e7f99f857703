# A vision transformer's head replaced through its attribute path; only the head trains.
import torch
import torch.nn as nn
from torchvision.models import vit_b_16

model = vit_b_16()
model.heads.head = nn.Linear(model.heads.head.in_features, 4)
model.requires_grad_(False)
model.heads.requires_grad_(True)
y = model(torch.randn(2, 3, 224, 224))  # expect-shape: [2, 4]
