"""Reference baselines: a bidirectional GRU and a temporal convolution network (TCN).

The yardsticks a pose-based sign classifier has to beat, and what users reach for on small
data. Both read the same inputs as MASA, flattened per frame: the 49 joints' (x, y) centred
on the box (0 where a joint is missing) and the 3 part-presence flags, 101 numbers. A linear
layer lifts them to the width, the temporal model mixes frames, attention pooling over the
real frames gives one vector, and a linear layer the class scores.
"""
from __future__ import annotations

import torch
from torch import nn

from masa.config import ModelConfig
from masa.model.pooling import FramePool
from masa.skeleton import NUM_JOINTS

WIDTHS = {"tiny": 128, "small": 192, "base": 256}  # hidden width by model.size
IN_FEATURES = NUM_JOINTS * 2 + 3


def frame_features(xy, present):
    """xy (B, T, 49, 2) in [0, 1], present (B, T, 3) -> (B, T, 101); missing joints stay 0."""
    seen = (xy != 0).any(dim=-1, keepdim=True)
    centred = torch.where(seen, xy - 0.5, torch.zeros_like(xy))
    return torch.cat([centred.flatten(2), present.to(xy.dtype)], dim=-1)


class BaselineClassifier(nn.Module):
    """lift -> temporal model -> attention pooling -> dropout -> linear.
    forward(xy (B, T, 49, 2), present (B, T, 3), valid (B, T)) -> logits (B, C)."""

    def __init__(self, temporal: nn.Module, width: int, num_classes: int, dropout: float, classifier_dropout: float):
        super().__init__()
        self.lift = nn.Sequential(nn.Linear(IN_FEATURES, width), nn.LayerNorm(width), nn.ReLU(), nn.Dropout(dropout))
        self.temporal = temporal
        self.pool = FramePool(width)
        self.dropout = nn.Dropout(classifier_dropout)
        self.fc = nn.Linear(width, num_classes)

    def features(self, xy, present, valid):
        """The pooled sign embedding (B, width)."""
        x = self.lift(frame_features(xy, present)) * valid[..., None].to(xy.dtype)
        return self.pool(self.temporal(x, valid), valid)

    def forward(self, xy, present, valid):
        return self.fc(self.dropout(self.features(xy, present, valid)))


class BiGRU(nn.Module):
    """Two bidirectional GRU layers, half the width each way: (B, T, D) -> (B, T, D)."""

    def __init__(self, width: int, dropout: float, layers: int = 2):
        super().__init__()
        self.gru = nn.GRU(width, width // 2, num_layers=layers, batch_first=True, bidirectional=True, dropout=dropout)

    def forward(self, x, valid):
        exporting = torch.compiler.is_compiling() or torch.jit.is_tracing()  # export feeds fixed-length clips
        if exporting or bool(valid.all()):  # fixed-length clips (fine-tuning, prediction, export)
            return self.gru(x)[0]
        lengths = valid.sum(dim=1).clamp(min=1).cpu()  # padding at the end: packed, so it never enters
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.gru(packed)
        return nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]


class TCN(nn.Module):
    """Residual blocks of a dilated k=5 convolution, batch norm, ReLU and dropout, with
    dilations 1, 2, 4 (a receptive field of 29 frames): (B, T, D) -> (B, T, D)."""

    def __init__(self, width: int, dropout: float, dilations: tuple[int, ...] = (1, 2, 4)):
        super().__init__()
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Conv1d(width, width, 5, padding=2 * d, dilation=d), nn.BatchNorm1d(width), nn.ReLU(),
                          nn.Dropout(dropout))
            for d in dilations)

    def forward(self, x, valid):
        v = valid[:, None, :].to(x.dtype)
        y = x.transpose(1, 2) * v
        for block in self.blocks:
            y = (y + block(y)) * v  # padding stays zero, so it never reaches a real frame
        return y.transpose(1, 2)


def gru_classifier(cfg: ModelConfig, num_classes: int, dropout: float = 0.0) -> BaselineClassifier:
    width = WIDTHS[cfg.size]
    return BaselineClassifier(BiGRU(width, cfg.dropout), width, num_classes, cfg.dropout, dropout)


def tcn_classifier(cfg: ModelConfig, num_classes: int, dropout: float = 0.0) -> BaselineClassifier:
    width = WIDTHS[cfg.size]
    return BaselineClassifier(TCN(width, cfg.dropout), width, num_classes, cfg.dropout, dropout)
