# Features of a truncated backbone (everything but the classifier) into a new head.
import torch
import torch.nn as nn
from torchvision.models import resnet50

backbone = resnet50()
features = nn.Sequential(*list(backbone.children())[:-1])
head = nn.Linear(backbone.fc.in_features, 7)
x = torch.randn(2, 3, 224, 224)
f = features(x)  # expect-shape: [2, 2048, 1, 1]
y = head(torch.flatten(f, 1))  # expect-shape: [2, 7]
