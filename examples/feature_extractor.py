"""Uses a block from models/blocks.py. The second block is built for 32 input channels but the
first produces 64: PyTorch's "expected input[...] to have 32 channels, but got 64 channels".
"""
import torch
from torch import nn

from models.blocks import ConvBlock


class FeatureExtractor(nn.Module):
    def __init__(self):
        super().__init__()
        self.block1 = ConvBlock(3, 64, stride=2)
        self.block2 = ConvBlock(32, 128, stride=2)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))

    def forward(self, x):
        x = self.block1(x)
        x = self.block2(x)
        return self.pool(x).flatten(1)


extractor = FeatureExtractor()
photo = torch.randn(4, 3, 96, 96)
features = extractor(photo)
