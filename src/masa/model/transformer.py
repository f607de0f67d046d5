"""The transformer of the encoder and the decoder (spec §4.4-4.5).

BERT-style: a LayerNorm on the input, then post-norm blocks
    h = LN(x + DropPath(Drop(Proj(Attn(x)))));  out = LN(h + DropPath(Drop(FFN(h))))
with erf-GELU feed-forward layers and LayerNorm eps 1e-12. Attention masks are key masks:
a position whose key_mask is False is never attended to. DropPath (stochastic depth, off by
default; not in the paper) skips a block's residual branches for whole samples while training.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def drop_path(x: torch.Tensor, rate: float, training: bool) -> torch.Tensor:
    """Stochastic depth (Huang et al. 2016, as DeiT and timm use it): while training, each
    sample's branch x (B, ...) is zeroed at `rate` and the others scaled by 1 / (1 - rate), so
    its expectation is unchanged; in eval mode, and at rate 0, x as it is (no random draw)."""
    if rate == 0.0 or not training:
        return x
    keep = torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), device=x.device) >= rate
    return x * keep.to(x.dtype) / (1.0 - rate)


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, ffn: int, dropout: float, drop_path: float = 0.0):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm1 = nn.LayerNorm(dim, eps=1e-12)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn), nn.GELU(), nn.Linear(ffn, dim))
        self.norm2 = nn.LayerNorm(dim, eps=1e-12)
        self.dropout = dropout
        self.drop = nn.Dropout(dropout)
        self.drop_path = drop_path

    def forward(self, x, key_mask):
        """x: (B, L, D); key_mask: (B, L) bool, True = may be attended to."""
        B, L, D = x.shape
        q, k, v = self.qkv(x).view(B, L, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)
        attn = F.scaled_dot_product_attention(
            q, k, v, attn_mask=key_mask[:, None, None, :], dropout_p=self.dropout if self.training else 0.0
        )
        h = self.norm1(x + self._branch(self.proj(attn.transpose(1, 2).reshape(B, L, D))))
        return self.norm2(h + self._branch(self.ffn(h)))

    def _branch(self, y):
        return drop_path(self.drop(y), self.drop_path, self.training)


class Transformer(nn.Module):
    def __init__(self, dim: int, depth: int, heads: int, ffn: int, dropout: float = 0.1, drop_path: float = 0.0):
        """drop_path: the last block's stochastic-depth rate, rising linearly from 0 at the first
        (DeiT); a single block gets it whole."""
        super().__init__()
        if dim % heads:
            raise ValueError(f"transformer width {dim} is not divisible by {heads} heads")
        self.input_norm = nn.LayerNorm(dim, eps=1e-12)
        self.input_drop = nn.Dropout(dropout)
        rates = [drop_path * i / (depth - 1) for i in range(depth)] if depth > 1 else [drop_path]
        self.blocks = nn.ModuleList(Block(dim, heads, ffn, dropout, rate) for rate in rates)

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
