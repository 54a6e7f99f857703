# The same truncated backbone with the flatten forgotten: the head sees [N, 512, 1, 1].
import torch
import torch.nn as nn
from torchvision.models import resnet18

model = resnet18()
body = nn.Sequential(*list(model.children())[:-1])
head = nn.Linear(512, 10)
f = body(torch.randn(2, 3, 224, 224))  # expect-shape: [2, 512, 1, 1]
y = head(f)  # expect: linear-in-features
