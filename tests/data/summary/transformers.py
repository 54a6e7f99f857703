# Transformer layers as torchinfo sees them: sequence-first and pre-norm encoder layers with a
# module activation, a decoder stack with a final norm, and MultiheadAttention with kdim/vdim.
import torch
import torch.nn as nn


class Seq2Seq(nn.Module):
    def __init__(self, d=32, heads=4):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d, heads, dim_feedforward=64, norm_first=True,
                                           activation=nn.GELU())
        self.encoder = nn.TransformerEncoder(layer, num_layers=2)
        dec = nn.TransformerDecoderLayer(d, heads, dim_feedforward=48)
        self.decoder = nn.TransformerDecoder(dec, num_layers=1, norm=nn.LayerNorm(d))
        self.cross = nn.MultiheadAttention(d, heads, kdim=16, vdim=8)
        self.out = nn.Linear(d, 10)

    def forward(self, src, tgt, side):
        memory = self.encoder(src)
        h = self.decoder(tgt, memory)
        h, _ = self.cross(h, side[..., :16], side[..., :8])
        return self.out(h)


model = Seq2Seq()
out = model(torch.randn(7, 2, 32), torch.randn(5, 2, 32), torch.randn(9, 2, 16))


class FullTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.core = nn.Transformer(d_model=16, nhead=2, num_encoder_layers=1,
                                   num_decoder_layers=2, dim_feedforward=24, batch_first=True)

    def forward(self, src, tgt):
        return self.core(src, tgt)


full = FullTransformer()
y = full(torch.randn(2, 6, 16), torch.randn(2, 4, 16))
