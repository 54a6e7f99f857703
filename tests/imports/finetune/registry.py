# A model built by name through torchvision's registry (filled by its @register_model()).
import torch
from torchvision.models import get_model

model = get_model("ResNet18".lower(), num_classes=4)
x = torch.randn(2, 3, 64, 64)
y = model(x)  # expect-shape: [2, 4]
