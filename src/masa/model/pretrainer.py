"""MASA pre-training model (spec §4-§5): motion-aware masked autoencoder (MA) + momentum
semantic alignment (SA).

    view 1 (MA mask) -> encoder_q -> decoder -> motion heads -> predicted targets (B, T, J, C)
                                 \\-> pooled -> projector_q -> q (B, P)
    view 2 (SA mask) -> encoder_k (EMA of encoder_q) -> projector_k -> k (B, P)
    InfoNCE: logits = [q.k, q.queue] / tau

The model knows nothing of masking strategies or losses: masks come in, predictions and
embeddings go out (see masa.pretext and masa.losses).
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from masa.config import ModelConfig
from masa.model.encoder import Encoder, xavier_init
from masa.model.sizes import ModelSize
from masa.model.transformer import Transformer


def projector(size: ModelSize, in_dim: int, out_dim: int) -> nn.Module:
    return nn.Sequential(nn.Linear(in_dim, size.proj_hidden), nn.ReLU(), nn.Linear(size.proj_hidden, out_dim))


class MotionHead(nn.Module):
    """Linear -> ReLU -> Linear to (joints x channels); the authors end with a ReLU as well."""

    def __init__(self, dim: int, hidden: int, joints: int, channels: int, final_relu: bool):
        super().__init__()
        self.joints, self.channels, self.final_relu = joints, channels, final_relu
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, joints * channels))

    def forward(self, x):
        y = self.net(x)
        y = torch.relu(y) if self.final_relu else y
        return y.view(*x.shape[:-1], self.joints, self.channels)


class MASAPretrainer(nn.Module):
    def __init__(self, size: ModelSize, cfg: ModelConfig, *, proj_dim: int, queue_size: int, temperature: float,
                 motion_channels: int = 2):
        """`motion_channels`: values predicted per joint, (x, y) per residual interval."""
        super().__init__()
        self.size, self.cfg = size, cfg
        self.temperature = temperature
        self.encoder_q = Encoder(size, cfg, with_mask_token=True)
        self.projector_q = projector(size, self.encoder_q.out_dim, proj_dim)
        xavier_init(self.encoder_q)
        xavier_init(self.projector_q)
        self.encoder_k = copy.deepcopy(self.encoder_q)
        self.projector_k = copy.deepcopy(self.projector_q)
        for p in list(self.encoder_k.parameters()) + list(self.projector_k.parameters()):
            p.requires_grad_(False)
        self.decoder = Transformer(size.dim, size.decoder_depth, size.heads, size.ffn, cfg.dropout)
        self.decoder_mask_token = nn.Parameter(torch.zeros(size.dim))
        nn.init.normal_(self.decoder_mask_token, std=0.02)
        self.hand_head = MotionHead(size.part_dim, size.head_hidden, 21, motion_channels, cfg.relu_heads)
        self.body_head = MotionHead(size.part_dim, size.head_hidden, 7, motion_channels, cfg.relu_heads)
        queue = F.normalize(torch.randn(proj_dim, queue_size), dim=0)
        self.register_buffer("queue", queue)
        self.register_buffer("queue_ptr", torch.zeros((), dtype=torch.long))

    # --- semantic alignment -------------------------------------------------------------
    @torch.no_grad()
    def momentum_update(self, momentum: float):
        """theta_k <- m theta_k + (1 - m) theta_q, before the keys are computed."""
        k = list(self.encoder_k.parameters()) + list(self.projector_k.parameters())
        q = list(self.encoder_q.parameters()) + list(self.projector_q.parameters())
        torch._foreach_lerp_(k, q, 1 - momentum)  # one fused update instead of a loop over parameters

    @torch.no_grad()
    def enqueue(self, keys: torch.Tensor):
        """Write keys (N, P) of the whole global batch into the FIFO queue."""
        K = self.queue.shape[1]
        n = keys.shape[0]
        if K % n:
            raise ValueError(f"queue size {K} is not a multiple of the global batch {n}")
        ptr = int(self.queue_ptr)
        self.queue[:, ptr : ptr + n] = keys.T.to(self.queue.dtype)
        self.queue_ptr.fill_((ptr + n) % K)

    def contrastive_logits(self, q, k):
        """q, k (B, P) normalised -> logits (B, 1 + K); the positive is column 0."""
        positive = (q * k).sum(dim=1, keepdim=True)
        negative = q @ self.queue.to(q.dtype)  # a buffer: no gradient; enqueued only after backward
        return torch.cat([positive, negative], dim=1) / self.temperature

    # --- forward ---------------------------------------------------------------------------
    def forward(self, xy, present, valid, ma_mask, sa_mask=None, with_decoder: bool = True, sa_inputs=None):
        """xy (B, T, 49, 2) in [0, 1]; present, ma_mask, sa_mask (B, T, 3) bool; valid (B, T);
        sa_inputs: the SA view's own (xy, present) (default: xy and present).

        Returns a dict: `right`, `left` (B, T, 21, C), `body` (B, T, 7, C) predictions (with the
        decoder), `q` (B, P), and with an SA mask `k` (B, P) and `logits` (B, 1 + K)."""
        enc = self.encoder_q(xy, present, valid, ma_mask)
        out = {"q": F.normalize(self.projector_q(enc.pooled).float(), dim=1)}
        if with_decoder:
            B, T = valid.shape
            x = enc.tokens.flatten(2)
            x = torch.where(enc.kept[..., None], x, self.decoder_mask_token.to(x.dtype))
            pe = self.encoder_q.positions(T, x.device)
            if pe is not None:
                x = x + pe.to(x.dtype)
            y = self.decoder(x, valid).view(B, T, 3, -1)
            out["right"], out["left"] = self.hand_head(y[:, :, 0]), self.hand_head(y[:, :, 1])
            out["body"] = self.body_head(y[:, :, 2])
        if sa_mask is not None:
            with torch.no_grad():
                key_xy, key_present = (xy, present) if sa_inputs is None else sa_inputs
                key_enc = self.encoder_k(key_xy, key_present, valid, sa_mask)
                out["k"] = F.normalize(self.projector_k(key_enc.pooled).float(), dim=1)
            out["logits"] = self.contrastive_logits(out["q"], out["k"])
        return out
