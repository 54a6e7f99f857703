# A model left with ImageNet's 1000 classes, trained against 10-class one-hot targets.
import torch
import torch.nn.functional as F
from torchvision.models import resnet18

model = resnet18()
images = torch.randn(4, 3, 96, 96)
target = F.one_hot(torch.randint(0, 10, (4,)), num_classes=10).float()
logits = model(images)  # expect-shape: [4, 1000]
loss = F.mse_loss(logits, target)  # expect: shape-mismatch
