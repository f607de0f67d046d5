"""The transformer of the encoder and the decoder (spec §4.4-4.5).

BERT-style: a LayerNorm on the input, then post-norm blocks
    h = LN(x + Drop(Proj(Attn(x))));  out = LN(h + Drop(FFN(h)))
with erf-GELU feed-forward layers and LayerNorm eps 1e-12. Attention masks are key masks:
a position whose key_mask is False is never attended to.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, ffn: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm1 = nn.LayerNorm(dim, eps=1e-12)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn), nn.GELU(), nn.Linear(ffn, dim))
        self.norm2 = nn.LayerNorm(dim, eps=1e-12)
        self.dropout = dropout
        self.drop = nn.Dropout(dropout)

    def forward(self, x, key_mask):
        """x: (B, L, D); key_mask: (B, L) bool, True = may be attended to."""
        B, L, D = x.shape
        q, k, v = self.qkv(x).view(B, L, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)
        attn = F.scaled_dot_product_attention(
            q, k, v, attn_mask=key_mask[:, None, None, :], dropout_p=self.dropout if self.training else 0.0
        )
        h = self.norm1(x + self.drop(self.proj(attn.transpose(1, 2).reshape(B, L, D))))
        return self.norm2(h + self.drop(self.ffn(h)))


class Transformer(nn.Module):
    def __init__(self, dim: int, depth: int, heads: int, ffn: int, dropout: float = 0.1):
        super().__init__()
        if dim % heads:
            raise ValueError(f"transformer width {dim} is not divisible by {heads} heads")
        self.input_norm = nn.LayerNorm(dim, eps=1e-12)
        self.input_drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(dim, heads, ffn, dropout) for _ in range(depth))

    def forward(self, x, key_mask):
        """x: (B, L, D), key_mask: (B, L) bool -> (B, L, D). A sample with no key at all
        (every frame masked) falls back to attending everywhere instead of producing NaN."""
        key_mask = key_mask | ~key_mask.any(dim=1, keepdim=True)
        x = self.input_drop(self.input_norm(x))
        for block in self.blocks:
            x = block(x, key_mask)
        return x


def sinusoidal(length: int, dim: int, device=None) -> torch.Tensor:
    """Fixed positional encoding (length, dim), as in "Attention is all you need"."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim, device=device)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq[: dim // 2])
    return pe
