# VGG's convolutional features on small images, and its classifier's last layer replaced.
import torch
import torch.nn as nn
from torchvision.models import vgg11

model = vgg11()
feats = model.features(torch.randn(1, 3, 64, 64))  # expect-shape: [1, 512, 2, 2]
model.classifier[6] = nn.Linear(4096, 2)
out = model(torch.randn(1, 3, 64, 64))  # expect-shape: [1, 2]
