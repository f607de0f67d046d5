"""Frame-wise pose embedding (spec §4.2): a graph network per frame, then temporal convolutions.

One `PartGCN` is shared by both hands and another embeds the body. Each frame is embedded
on its own; `TemporalBlocks` then mix neighbouring frames. `PoseEmbedding` runs the GCN
only where a part is needed, puts a learnable mask token where a part is masked, and keeps
padding frames at exactly zero so they never leak into real ones.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from masa import skeleton as sk
from masa.model import graph
from masa.model.packing import run_packed


def batchnorm_last(bn: nn.BatchNorm1d, x: torch.Tensor) -> torch.Tensor:
    """BatchNorm over the last (channel) axis of any shape. A training batch with a single
    row has no batch variance (a part seen in one frame of the whole batch): it is normalised
    with the running statistics instead of stopping the run."""
    rows = x.reshape(-1, x.shape[-1])
    if bn.training and rows.shape[0] == 1:
        return F.batch_norm(rows, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps).reshape(x.shape)
    return bn(rows).reshape(x.shape)


class GraphConv(nn.Module):
    """ST-GCN unit on one frame: spatial conv over K kernels, BN-ReLU-dropout, 1x1 conv, BN,
    dropout, residual (none / identity / 1x1 conv + BN), ReLU.   x: (N, V, C_in) -> (N, V, C_out)

    The spatial conv out[w] = sum_k sum_v A[k, v, w] (W_k x[v] + b_k) is computed graph-first:
    aggregate the inputs over each kernel, then one matmul with the K weights side by side.
    Same function and parameters as linear-first, at half the cost (no permuted copies)."""

    def __init__(self, c_in: int, c_out: int, A: torch.Tensor, residual: str, dropout: float = 0.05):
        super().__init__()
        K, V, W = A.shape
        self.register_buffer("A_rows", A.permute(2, 0, 1).reshape(W * K, V).contiguous(), persistent=False)
        self.register_buffer("A_colsum", A.sum(dim=1).T.contiguous(), persistent=False)  # (W, K)
        self.kernels, self.c_out = K, c_out
        self.weight = nn.Parameter(torch.empty(c_out, K * c_in))  # [c, k * C_in + i] = W_k[c, i]
        self.bias = nn.Parameter(torch.empty(K * c_out))
        bound = c_in**-0.5  # as nn.Linear(c_in, K * c_out) would initialise
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)
        self.bn1 = nn.BatchNorm1d(c_out)
        self.point = nn.Linear(c_out, c_out)
        self.bn2 = nn.BatchNorm1d(c_out)
        self.drop = nn.Dropout(dropout)
        self.residual = residual
        if residual == "conv":
            self.res_fc, self.res_bn = nn.Linear(c_in, c_out), nn.BatchNorm1d(c_out)

    def forward(self, x):
        N, V, C = x.shape
        z = torch.matmul(self.A_rows, x).view(N, -1, self.kernels * C)  # (N, W, K * C_in)
        y = F.linear(z, self.weight) + self.A_colsum @ self.bias.view(self.kernels, self.c_out)
        y = self.drop(torch.relu(batchnorm_last(self.bn1, y)))
        y = self.drop(batchnorm_last(self.bn2, self.point(y)))
        if self.residual == "identity":
            y = y + x
        elif self.residual == "conv":
            y = y + batchnorm_last(self.res_bn, self.res_fc(x))
        return torch.relu(y)


class PartGCN(nn.Module):
    """One part's per-frame network: (N, V, 2) -> (N, D).

    data BN -> 3 graph layers (C1, C1, C2) -> max-pool to parts -> 2 pooled-graph layers (D)
    -> max over parts -> 1x1 conv + BN + ReLU + dropout (model.embed_dropout; paper 0.25)."""

    def __init__(self, A, A_pooled, pool_groups, c1: int, c2: int, dim: int, dropout: float = 0.25):
        super().__init__()
        V = A.shape[1]
        self.data_bn = nn.BatchNorm1d(V * 2)
        self.layers = nn.Sequential(
            GraphConv(2, c1, A, residual="none"),
            GraphConv(c1, c1, A, residual="identity"),
            GraphConv(c1, c2, A, residual="conv"),
        )
        width = max(len(g) for g in pool_groups)  # pad groups by repeating a member: max is unchanged
        self.register_buffer("groups", torch.tensor([list(g) + [g[0]] * (width - len(g)) for g in pool_groups]), persistent=False)
        self.pooled = nn.Sequential(
            GraphConv(c2, dim, A_pooled, residual="conv"),
            GraphConv(dim, dim, A_pooled, residual="identity"),
        )
        self.out_fc = nn.Linear(dim, dim)
        self.out_bn = nn.BatchNorm1d(dim)
        self.out_drop = nn.Dropout(dropout)

    def forward(self, x):
        N, V, _ = x.shape
        x = batchnorm_last(self.data_bn, x.reshape(N, V * 2)).view(N, V, 2)
        x = self.layers(x)  # (N, V, C2)
        x = x[:, self.groups].amax(dim=2)  # (N, P, C2)
        x = self.pooled(x).amax(dim=1)  # (N, D)
        return self.out_drop(torch.relu(batchnorm_last(self.out_bn, self.out_fc(x))))


def hand_shape(x: torch.Tensor) -> torch.Tensor:
    """Hands (..., 21, 2) -> (..., 21, 2) centred on the wrist and scaled by the palm (wrist to
    middle knuckle): the shape alone, the same wherever the hand is and however large; 0 where
    there is no hand."""
    rel = x - x[..., :1, :]
    palm = rel[..., 9:10, :].norm(dim=-1, keepdim=True)
    return torch.where(palm > 1e-4, rel / palm.clamp(min=1e-4), torch.zeros_like(rel))


class PartMLP(nn.Module):
    """A part's joints flattened, through two layers (model.part_embedding=mlp; beyond the
    paper, the ablation of the graph network): (N, V, 2) -> (N, D).

    norm="batch": data BN -> linear -> BN -> ReLU -> dropout -> linear -> BN -> ReLU -> dropout.
    norm="layer" (model.part_norm): the same with LayerNorm and no data BN, so every pose is
    normalised on its own, never by the statistics of the batch's signers.
    shape=True (model.hand_shape, hands only): each joint also gives its `hand_shape` coordinates,
    (N, 21, 4) in effect: measured on the real tasks and not in the preset (docs/results.md).
    channels=4 (model.velocity): x holds (x, y, step x, step y) per joint (masa.model.velocity)
    Every joint has its own weights, so joint identity is kept where the GCN's max-pooling drops it."""

    NORMS = ("batch", "layer")

    def __init__(self, V: int, dim: int, dropout: float = 0.25, norm: str = "batch", shape: bool = False,
                 channels: int = 2):
        super().__init__()
        self.shape = shape
        if norm not in self.NORMS:
            raise ValueError(f"unknown part norm {norm!r} ({' | '.join(self.NORMS)})")
        Norm = nn.BatchNorm1d if norm == "batch" else nn.LayerNorm
        inputs = V * (channels + 2 if shape else channels)
        self.data_bn = nn.BatchNorm1d(inputs) if norm == "batch" else None
        self.fc1, self.bn1 = nn.Linear(inputs, dim), Norm(dim)  # bn1 / bn2: the names checkpoints have
        self.fc2, self.bn2 = nn.Linear(dim, dim), Norm(dim)
        self.drop = nn.Dropout(dropout)

    @staticmethod
    def normed(norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return batchnorm_last(norm, x) if isinstance(norm, nn.BatchNorm1d) else norm(x)

    def forward(self, x):
        if self.shape:
            x = torch.cat([x, hand_shape(x[..., :2])], dim=-1)
        x = x.reshape(x.shape[0], -1)
        if self.data_bn is not None:
            x = batchnorm_last(self.data_bn, x)
        x = self.drop(torch.relu(self.normed(self.bn1, self.fc1(x))))
        return self.drop(torch.relu(self.normed(self.bn2, self.fc2(x))))


class TemporalBlock(nn.Module):
    """concat[conv k5 -> ReLU ; conv k3 -> ReLU -> conv k3 -> ReLU] -> 1x1 conv -> BN -> ReLU.
    x: (B, D, T), valid: (B, 1, T) float; padding stays 0 and BN sees real frames only."""

    def __init__(self, dim: int):
        super().__init__()
        self.wide = nn.Conv1d(dim, dim, 5, padding=2)
        self.narrow1 = nn.Conv1d(dim, dim, 3, padding=1)
        self.narrow2 = nn.Conv1d(dim, dim, 3, padding=1)
        self.mix = nn.Conv1d(2 * dim, dim, 1)
        self.bn = nn.BatchNorm1d(dim)

    def forward(self, x, valid):
        a = torch.relu(self.wide(x)) * valid
        b = torch.relu(self.narrow1(x)) * valid
        b = torch.relu(self.narrow2(b)) * valid
        y = self.mix(torch.cat([a, b], dim=1))  # (B, D, T)
        if not self.training:  # running statistics: a per-channel affine map, padding or not
            return torch.relu(self.bn(y)) * valid
        keep = valid[:, 0].bool()
        flat = y.transpose(1, 2)[keep]  # (N_valid, D): batch statistics of real frames only
        out = torch.zeros_like(y.transpose(1, 2))
        out[keep] = torch.relu(batchnorm_last(self.bn, flat)).to(out.dtype)
        return out.transpose(1, 2)


class TemporalBlocks(nn.Module):
    def __init__(self, dim: int, blocks: int = 2):
        super().__init__()
        self.blocks = nn.ModuleList(TemporalBlock(dim) for _ in range(blocks))

    def forward(self, x, valid):
        """x: (B, T, D), valid: (B, T) bool -> (B, T, D)."""
        v = valid[:, None, :].to(x.dtype)
        y = (x.transpose(1, 2) * v).contiguous()  # (B, D, T) in memory: the fast convolution path
        for block in self.blocks:
            y = block(y, v)
        return y.transpose(1, 2)


class PoseEmbedding(nn.Module):
    """Poses -> part tokens.

    forward(xy (B, T, 49, C) in [0, 1] (C = 2, or 4 with model.velocity), valid (B, T), masked (B, T, 3) or None, mask_token (D,) or None)
    -> tokens (B, T, 3, D) for right hand, left hand, body.

    `mask_stage` says where a masked part is replaced by the mask token:
      * "drop" (default, MAE): a masked part never enters the embedding; each part's temporal
        convolutions run over its visible frames only, packed, and the token fills the gaps
        afterwards. Nothing is computed for masked parts, and nothing leaks;
      * "before": the token enters the temporal convolutions in the masked part's place;
      * "after" (the authors' code): the temporal convolutions see every pose, masked ones
        included, and the token replaces the part afterwards, so masked poses leak to +-4 frames.
    """

    STAGES = ("drop", "before", "after")
    PARTS = ("gcn", "mlp")  # the per-frame part network: the paper's graph network, or a plain MLP

    def __init__(self, c1: int, c2: int, dim: int, mask_stage: str = "drop", part: str = "gcn", dropout: float = 0.25,
                 norm: str = "batch", shape: bool = False, velocity: bool = False):
        super().__init__()
        if mask_stage not in self.STAGES:
            raise ValueError(f"unknown mask stage {mask_stage!r} ({' | '.join(self.STAGES)})")
        if part not in self.PARTS:
            raise ValueError(f"unknown part embedding {part!r} ({' | '.join(self.PARTS)})")
        self.dim = dim
        self.mask_stage = mask_stage
        if part == "gcn" and norm != "batch":
            raise ValueError(f"model.part_norm={norm} needs model.part_embedding=mlp (the graph network uses batch norm)")
        if part == "gcn" and shape:
            raise ValueError("model.hand_shape needs model.part_embedding=mlp (the graph network reads (x, y) per joint)")
        if part == "gcn" and velocity:
            raise ValueError("model.velocity needs model.part_embedding=mlp (the graph network reads (x, y) per joint)")
        if part == "gcn":
            self.hand = PartGCN(graph.hand_graph(), graph.pooled_hand_graph(), sk.HAND_POOL_GROUPS, c1, c2, dim, dropout)
            self.body = PartGCN(graph.body_graph(), graph.pooled_body_graph(), sk.BODY_POOL_GROUPS, c1, c2, dim, dropout)
        else:
            channels = 4 if velocity else 2
            self.hand = PartMLP(21, dim, dropout, norm, shape, channels)
            self.body = PartMLP(7, dim, dropout, norm, channels=channels)
        self.hand_tcn = TemporalBlocks(dim)
        self.body_tcn = TemporalBlocks(dim)

    def forward(self, xy, valid, masked=None, mask_token=None):
        B, T = valid.shape
        if masked is None and not self.training:
            return self.forward_dense(xy, valid)
        real = valid[..., None].expand(B, T, 3)
        stage = self.mask_stage if masked is not None else "none"
        need = real & ~masked if stage in ("drop", "before") else real  # where the GCN runs
        feats = xy.new_zeros(B, T, 3, self.dim)
        hands = torch.cat([xy[:, :, sk.RIGHT_HAND][need[..., 0]], xy[:, :, sk.LEFT_HAND][need[..., 1]]])
        if len(hands):
            out = self.hand(hands)
            n_right = int(need[..., 0].sum())
            feats[..., 0, :][need[..., 0]] = out[:n_right].to(feats.dtype)
            feats[..., 1, :][need[..., 1]] = out[n_right:].to(feats.dtype)
        if need[..., 2].any():
            feats[..., 2, :][need[..., 2]] = self.body(xy[:, :, sk.BODY][need[..., 2]]).to(feats.dtype)
        if stage == "before":
            feats = torch.where((masked & real)[..., None], mask_token.to(feats.dtype), feats)
        tokens = self.temporal(feats, need if stage == "drop" else real, packed=stage == "drop")
        if stage in ("drop", "after"):
            tokens = torch.where((masked & real)[..., None], mask_token.to(tokens.dtype), tokens)
        return tokens

    def temporal(self, feats, seen, packed: bool):
        """The temporal convolutions of each part over the frames in `seen` (B, T, 3).
        packed: the seen frames are moved together first, so the convolutions neither see nor
        pay for the others, and are put back in place afterwards (zeros elsewhere)."""
        B = seen.shape[0]
        hands, hands_seen = torch.cat([feats[:, :, 0], feats[:, :, 1]]), torch.cat([seen[..., 0], seen[..., 1]])
        body, body_seen = feats[:, :, 2], seen[..., 2]
        run = run_packed if packed else (lambda fn, x, keep: fn(x, keep))
        hands_out, body_out = run(self.hand_tcn, hands, hands_seen), run(self.body_tcn, body, body_seen)
        return torch.stack([hands_out[:B], hands_out[B:], body_out], dim=2)

    def forward_dense(self, xy, valid):
        """Inference without data-dependent indexing (what export traces): every frame goes
        through the GCNs, padding is zeroed afterwards. Equal to `forward` in eval mode."""
        B, T = valid.shape
        v = valid[..., None].to(xy.dtype)
        C = xy.shape[-1]  # 2, or 4 with model.velocity
        hands = torch.cat([xy[:, :, sk.RIGHT_HAND], xy[:, :, sk.LEFT_HAND]]).reshape(2 * B * T, 21, C)
        hand = self.hand(hands).view(2 * B, T, self.dim) * torch.cat([v, v])
        body = self.body(xy[:, :, sk.BODY].reshape(B * T, 7, C)).view(B, T, self.dim) * v
        both_hands = self.hand_tcn(hand, torch.cat([valid, valid]))
        return torch.stack([both_hands[:B], both_hands[B:], self.body_tcn(body, valid)], dim=2)
