"""The encoder shared by pre-training and classification: embedding -> transformer -> pooling.

Two ways to encode a masked view (spec §0 rows 3-4):
  * "visible" (paper, MAE): only frames with at least one visible part enter the
    transformer, packed without gaps; positions come from a sinusoidal encoding;
  * "full" (authors' code): every real frame enters; frames with a masked part are removed
    only as attention keys.
Padding frames are never keys, never pooled, and never decoded.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from masa.config import ModelConfig
from masa.model.embedding import PoseEmbedding
from masa.model.packing import run_packed
from masa.model.pooling import POOLS
from masa.model.sizes import ModelSize
from masa.model.transformer import Transformer, sinusoidal
from masa.model.velocity import joint_velocity


@dataclass
class Encoded:
    tokens: torch.Tensor  # (B, T, 3, d) encoder output at every position (zeros where not kept)
    kept: torch.Tensor  # (B, T) bool: positions the transformer produced
    pooled: torch.Tensor  # (B, out_dim): d (pool=parts) or 3d (pool=frames)


class Encoder(nn.Module):
    def __init__(self, size: ModelSize, cfg: ModelConfig, with_mask_token: bool = False):
        super().__init__()
        self.size, self.cfg = size, cfg
        self.embedding = PoseEmbedding(size.c1, size.c2, size.part_dim, mask_stage=cfg.mask_stage, part=cfg.part_embedding,
                                       dropout=cfg.embed_dropout, norm=cfg.part_norm, shape=cfg.hand_shape,
                                       velocity=cfg.velocity)
        self.mask_token = nn.Parameter(torch.zeros(size.part_dim)) if with_mask_token else None
        self.transformer = Transformer(size.dim, size.depth, size.heads, size.ffn, cfg.dropout, cfg.drop_path)
        if cfg.pool not in POOLS:
            raise ValueError(f"unknown model.pool {cfg.pool!r} ({' | '.join(POOLS)})")
        pool, parts = POOLS[cfg.pool]
        self.out_dim = parts * size.part_dim  # width of the pooled sign embedding
        self.pool = pool(self.out_dim)

    def positions(self, length: int, device) -> torch.Tensor | None:
        return sinusoidal(length, self.size.dim, device) if self.cfg.positional == "sinusoidal" else None

    def forward(self, xy, present, valid, masked=None) -> Encoded:
        """xy (B, T, 49, 2) in [0, 1] (model.velocity appends each joint's step here: 4 channels);
        present (B, T, 3) bool (part detected); valid (B, T) bool (real frame, not padding);
        masked (B, T, 3) bool or None."""
        B, T = valid.shape
        visible = valid[..., None] & ~masked if masked is not None else valid[..., None].expand(B, T, 3)
        if self.cfg.velocity:  # (B, T, 49, 4): steps only between frames this view sees
            xy = torch.cat([xy, joint_velocity(xy, present & visible)], dim=-1)
        x = self.embedding(xy, valid, masked, self.mask_token).flatten(2)  # (B, T, 3d)
        pe = self.positions(T, x.device)
        if pe is not None:
            x = x + pe.to(x.dtype)
        if masked is None or self.cfg.encoder == "full":
            kept = valid
            keys = valid if masked is None else valid & ~masked.any(dim=-1)
            out = self.transformer(x, keys)
        elif self.cfg.encoder == "visible":
            kept = valid & visible.any(dim=-1)
            out = run_packed(self.transformer, x, kept)
        else:
            raise ValueError(f"unknown encoder variant {self.cfg.encoder!r} (visible | full)")
        out = out * kept[..., None].to(out.dtype)
        tokens = out.view(B, T, 3, -1)
        hand_ok = present[..., :2] & visible[..., :2] & kept[..., None]
        body_ok = visible[..., 2] & kept
        return Encoded(tokens, kept, self.pool(tokens, hand_ok, body_ok))


def xavier_init(module: nn.Module):
    """Xavier-uniform for every parameter with >= 2 dims, the mask token included (spec §4.9)."""
    for p in module.parameters():
        if p.dim() >= 2:
            nn.init.xavier_uniform_(p)
    if getattr(module, "mask_token", None) is not None:
        nn.init.xavier_uniform_(module.mask_token.data.view(1, -1))
