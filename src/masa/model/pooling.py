"""Learned attention pooling over frames (spec §4.7), and a whole-frame variant.

`AttentionPool` (model.pool=parts, the paper): the right- and left-hand tokens of all frames
form one sequence of 2T, scored by a linear layer; softmax over the frames where that hand is
present and visible. Body: the same over its T tokens. The two vectors are summed, so the
sign embedding is one part wide. Padding never enters: a hand or body with no usable frame
contributes zero.

`FramePool`: one score per frame, softmax over the allowed frames (the baselines' pooling).
`WholeFramePool` (model.pool=frames, beyond the paper) is it over MASA's frames: the three
part tokens of a frame stay together, so the embedding is three parts wide and keeps which
hand did what.
"""
from __future__ import annotations

import torch
from torch import nn


def attend(tokens, scores, ok):
    """tokens (B, L, D), scores (B, L), ok (B, L) bool -> (B, D). Excluded positions get
    exactly zero weight; with none allowed the weights are all zero."""
    w = torch.softmax(scores.float().masked_fill(~ok, -1e9), dim=1) * ok
    return torch.einsum("bl,bld->bd", w.to(tokens.dtype), tokens)


class AttentionPool(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.hand_score = nn.Linear(dim, 1)
        self.body_score = nn.Linear(dim, 1)

    def forward(self, tokens, hand_ok, body_ok):
        """tokens (B, T, 3, D); hand_ok (B, T, 2) bool; body_ok (B, T) bool -> (B, D)."""
        hands = torch.cat([tokens[:, :, 0], tokens[:, :, 1]], dim=1)  # (B, 2T, D)
        ok = torch.cat([hand_ok[..., 0], hand_ok[..., 1]], dim=1)
        hand = attend(hands, self.hand_score(hands)[..., 0], ok)
        body = attend(tokens[:, :, 2], self.body_score(tokens[:, :, 2])[..., 0], body_ok)
        return hand + body


class FramePool(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.score = nn.Linear(dim, 1)

    def forward(self, x, ok):
        """x (B, T, D), ok (B, T) bool -> (B, D)."""
        return attend(x, self.score(x)[..., 0], ok)


class WholeFramePool(FramePool):
    def forward(self, tokens, hand_ok, body_ok):
        """tokens (B, T, 3, D); hand_ok (B, T, 2), body_ok (B, T) bool -> (B, 3D).
        A frame is pooled where any of its parts is usable."""
        return super().forward(tokens.flatten(2), hand_ok.any(dim=-1) | body_ok)


POOLS = {"parts": (AttentionPool, 1), "frames": (WholeFramePool, 3)}  # name -> (module, width in parts)
