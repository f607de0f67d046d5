"""Classifier backbones by name: `model.backbone=masa|gru|tcn`.

A backbone is a function (ModelConfig, num_classes, dropout) -> nn.Module whose forward takes
(xy (B, T, 49, 2) in [0, 1], present (B, T, 3) bool, valid (B, T) bool) and returns logits
(B, C), and whose `features(...)` returns the pooled embedding. Fine-tuning, release
checkpoints, evaluation, prediction and export build classifiers only through
`build_classifier`, so a new backbone is one file and one `register_backbone` line.
Only `masa` can be pre-trained (`masa pretrain`); the others train from scratch.
"""
from __future__ import annotations

from typing import Callable

from torch import nn

from masa.config import ModelConfig
from masa.model import baselines
from masa.model.classifier import MASAClassifier
from masa.model.encoder import xavier_init
from masa.model.registry import get_size

BACKBONES: dict[str, Callable[..., nn.Module]] = {}


def register_backbone(name: str, builder: Callable[..., nn.Module] | None = None):
    """Register `builder` under `name` (usable as a decorator)."""
    def add(fn):
        BACKBONES[name] = fn
        return fn
    return add(builder) if builder is not None else add


def build_classifier(cfg: ModelConfig, num_classes: int, dropout: float = 0.0) -> nn.Module:
    """A freshly initialised classifier of `cfg.backbone` at `cfg.size`."""
    if cfg.backbone not in BACKBONES:
        raise ValueError(f"unknown model.backbone {cfg.backbone!r}; known: {', '.join(BACKBONES)}")
    get_size(cfg.size)  # the size must exist for every backbone
    return BACKBONES[cfg.backbone](cfg, num_classes, dropout)


@register_backbone("masa")
def masa_classifier(cfg: ModelConfig, num_classes: int, dropout: float = 0.0) -> MASAClassifier:
    model = MASAClassifier(get_size(cfg.size), cfg, num_classes, dropout)
    xavier_init(model.encoder)  # spec §4.9; a pre-trained encoder is loaded over it
    return model


register_backbone("gru", baselines.gru_classifier)
register_backbone("tcn", baselines.tcn_classifier)
