"""Models by name: the only two constructors, `build_classifier` and `build_pretrainer`.

A classifier backbone is a function (ModelConfig, num_classes, dropout) -> nn.Module whose
forward takes (xy (B, T, 49, 2) in [0, 1], present (B, T, 3) bool, valid (B, T) bool) and
returns logits (B, C), and whose `features(...)` returns the pooled embedding (B, D). The
inputs come from `masa.inputs.model_inputs`. Fine-tuning, release checkpoints, evaluation,
probing, prediction and export build classifiers only through `build_classifier`, so a new
backbone is one file and one line below. Only `masa` can be pre-trained (`masa pretrain`);
the others train from scratch.
"""
from __future__ import annotations

from typing import Callable

from torch import nn

from masa.config import Config, ModelConfig, pretraining_model
from masa.model import baselines, classifier
from masa.model.pretrainer import MASAPretrainer
from masa.model.sizes import get_size

BACKBONES: dict[str, Callable[..., nn.Module]] = {}


def register_backbone(name: str, builder: Callable[..., nn.Module] | None = None):
    """Register `builder` under `name` (usable as a decorator)."""
    def add(fn):
        BACKBONES[name] = fn
        return fn
    return add(builder) if builder is not None else add


register_backbone("masa", classifier.masa_classifier)
register_backbone("gru", baselines.gru_classifier)
register_backbone("tcn", baselines.tcn_classifier)


def build_classifier(cfg: ModelConfig, num_classes: int, dropout: float = 0.0) -> nn.Module:
    """A freshly initialised classifier of `cfg.backbone` at `cfg.size`."""
    if cfg.backbone not in BACKBONES:
        raise ValueError(f"unknown model.backbone {cfg.backbone!r}; known: {', '.join(BACKBONES)}")
    get_size(cfg.size)  # the size must exist for every backbone
    return BACKBONES[cfg.backbone](cfg, num_classes, dropout)


def build_pretrainer(cfg: Config) -> MASAPretrainer:
    """The MASA pre-training model (encoder, EMA copy, decoder, heads, queue) for a full config."""
    if cfg.model.backbone != "masa":
        raise ValueError(f"model.backbone={cfg.model.backbone} trains from scratch; only masa can be pre-trained")
    tc = cfg.pretrain
    channels = 2 * (1 + len(cfg.pretext.extra_intervals))  # (x, y) per residual interval
    return MASAPretrainer(get_size(cfg.model.size), pretraining_model(cfg), proj_dim=tc.proj_dim, queue_size=tc.queue_size,
                          temperature=tc.temperature, motion_channels=channels)
