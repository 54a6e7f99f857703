"""A generated ~2,000-line model file with many modules, for benchmarks (analysis and server)."""
from __future__ import annotations

BLOCK = '''

class ConvNet{i}(nn.Module):
    """Conv stack {i}: conv/bn/relu stages, pooling and a classifier head."""

    def __init__(self, in_ch={c}, num_classes={k}, width={w}):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_ch, width, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        )
        self.stage1 = self._make_stage(width, width * 2)
        self.stage2 = self._make_stage(width * 2, width * 4)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.1)
        self.fc = nn.Linear(width * 4, num_classes)

    def _make_stage(self, cin, cout):
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        x = self.stem(x)
        x = self.stage1(x)
        x = self.stage2(x)
        x = self.pool(x)
        x = torch.flatten(x, 1)
        x = self.dropout(x)
        return self.fc(x)


class MLP{i}(nn.Module):
    def __init__(self, dims=({d0}, 128, 64, {k})):
        super().__init__()
        layers = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers.append(nn.Linear(a, b))
            layers.append(nn.GELU())
        self.net = nn.Sequential(*layers[:-1])
        self.norm = nn.LayerNorm(dims[-1])

    def forward(self, x):
        h = self.net(x)
        return self.norm(h)


class Attn{i}(nn.Module):
    def __init__(self, dim=64, heads=4):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 4), nn.GELU(), nn.Linear(dim * 4, dim))

    def forward(self, x):
        h = self.norm(x)
        a, _ = self.attn(h, h, h)
        x = x + a
        x = x + self.mlp(self.norm(x))
        return x


net{i} = ConvNet{i}()
images{i} = torch.randn({n}, {c}, 32, 32)
logits{i} = net{i}(images{i})
mlp{i} = MLP{i}()
feats{i} = torch.randn({n}, {d0})
out{i} = mlp{i}(feats{i})
attn{i} = Attn{i}()
seq{i} = torch.randn({n}, 16, 64)
enc{i} = attn{i}(seq{i})
'''


def large_source(lines: int = 2000) -> str:
    parts = ["import torch\nimport torch.nn as nn\n"]
    i = 0
    while sum(p.count("\n") for p in parts) < lines:
        parts.append(BLOCK.format(i=i, c=1 + i % 3, k=2 + i % 9, w=8 * (1 + i % 4),
                                  d0=16 * (1 + i % 5), n=1 + i % 4))
        i += 1
    return "".join(parts)


if __name__ == "__main__":
    print(large_source())
