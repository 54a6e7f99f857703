"""An LSTM text classifier and a transformer encoder, both clean. The transformer's input is
declared with jaxtyping; the LSTM's comes from module-level code.
"""
import torch
import torch.nn as nn
from jaxtyping import Float
from torch import Tensor


class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size=5000, embed_dim=128, hidden_dim=256, num_classes=4):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, num_layers=2, batch_first=True,
                            bidirectional=True)
        self.fc = nn.Linear(2 * hidden_dim, num_classes)

    def forward(self, tokens):
        emb = self.embedding(tokens)
        out, (h, c) = self.lstm(emb)
        last = out[:, -1, :]
        return self.fc(last)


class Encoder(nn.Module):
    def __init__(self, dim=64, heads=4, depth=2):
        super().__init__()
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=4 * dim,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=depth)
        self.head = nn.Linear(dim, 2)

    def forward(self, x: Float[Tensor, "batch seq 64"]) -> Float[Tensor, "batch 2"]:
        h = self.encoder(x)
        pooled = h.mean(dim=1)
        return self.head(pooled)


model = LSTMClassifier()
tokens = torch.randint(0, 5000, (16, 40))
logits = model(tokens)
