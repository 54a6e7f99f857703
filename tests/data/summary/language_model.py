# Inputs torchinfo sizes in full: token ids (int64) and a tuple of hidden states beside them; a
# boolean argument (no tensor); layers called through a method other than forward
# (``model.encode(src)``: torch runs the embedding alone, named by its attribute).
import torch
import torch.nn as nn


class RNNModel(nn.Module):
    def __init__(self, ntoken=500, ninp=32, nhid=48, nlayers=2):
        super().__init__()
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers)
        self.decoder = nn.Linear(nhid, ntoken)
        self.nlayers, self.nhid = nlayers, nhid

    def forward(self, input, hidden, keep=True):
        emb = self.encoder(input)
        output, hidden = self.rnn(emb, hidden)
        return self.decoder(output), hidden

    def init_hidden(self, bsz):
        return (torch.zeros(self.nlayers, bsz, self.nhid),
                torch.zeros(self.nlayers, bsz, self.nhid))

    def encode(self, src):
        return self.encoder(src)


model = RNNModel()
data = torch.randint(0, 500, (35, 20))
hidden = model.init_hidden(20)
output, hidden = model(data, hidden, True)
memory = model.encode(torch.randint(0, 500, (7, 3)))
