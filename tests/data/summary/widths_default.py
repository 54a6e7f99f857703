# Tensors of torch's default widths only (float32, int64), reached in ways that do not change a
# width: the summary's sizes are all known.  An embedding fed int64 indices, an input converted
# with .to(torch.long) and .float(), .to(device), and an int64 parameter (8 bytes each).
import torch
import torch.nn as nn

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
where = "cuda" if torch.cuda.is_available() else "cpu"


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 16)
        self.proj = nn.Linear(16, 5)

    def forward(self, tokens):
        return self.proj(self.embed(tokens))


class Counter(nn.Module):
    def __init__(self):
        super().__init__()
        self.steps = nn.Parameter(torch.zeros(3, dtype=torch.long), requires_grad=False)
        self.scale = nn.Parameter(torch.ones(6))

    def forward(self, x):
        return x * self.scale


class Scorer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 2)

    def forward(self, x):
        return self.fc(x)


tagger = Tagger().to(device)
tagger(torch.randint(0, 100, (2, 7)).to(where))
counter = Counter()
counter(torch.randn(4, 6).to(device))
scorer = Scorer().to(torch.float32)
scorer(torch.randint(0, 9, (3, 6)).to(torch.long).float())
