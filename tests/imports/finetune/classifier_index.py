# The last layer of a Sequential classifier replaced by index.
import torch
import torch.nn.functional as F
from torchvision import models

model = models.mobilenet_v2()
model.classifier[-1] = torch.nn.Linear(model.last_channel, 10)
x = torch.randn(4, 3, 160, 160)
feats = model.features(x)  # expect-shape: [4, 1280, 5, 5]
logits = model(x)  # expect-shape: [4, 10]
target = torch.randn(4, 10)
loss = F.mse_loss(logits, target)  # expect-shape: []
