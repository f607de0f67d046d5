"""Learning-rate schedules (spec §6)."""
from __future__ import annotations

import math

from masa.config import PretrainConfig


def step_decay(lr: float, gamma: float, milestones, epoch: float) -> float:
    """lr x gamma for every milestone reached."""
    return lr * gamma ** sum(epoch >= m for m in milestones)


def learning_rate(epoch: float, cfg: PretrainConfig) -> float:
    """The rate at a (fractional) epoch.

    linear (paper): linear warm-up from 0 over `warmup_epochs`, then linear decay to 0 at `epochs`.
    steps (code): warm-up lr * e / warmup, then x lr_gamma at each milestone.
    With `lr_per_epoch` the rate changes only at whole epochs (the code's epoch 0 has rate 0)."""
    e = math.floor(epoch) if cfg.lr_per_epoch else epoch
    if cfg.warmup_epochs > 0 and e < cfg.warmup_epochs:
        return cfg.lr * e / cfg.warmup_epochs
    if cfg.schedule == "linear":
        span = max(cfg.epochs - cfg.warmup_epochs, 1e-9)
        return cfg.lr * max(0.0, 1 - (e - cfg.warmup_epochs) / span)
    if cfg.schedule == "steps":
        return step_decay(cfg.lr, cfg.lr_gamma, cfg.lr_milestones, e)
    raise ValueError(f"unknown schedule {cfg.schedule!r} (linear | steps)")


def finetune_rate(epoch: float, cfg) -> float:
    """Fine-tuning (FinetuneConfig): warm-up from lr / warm-up length, then `steps` (x lr_gamma at
    each milestone, the paper) or `cosine` (half a cosine down to 0 at `epochs`)."""
    if cfg.warmup_epochs > 0 and epoch < cfg.warmup_epochs:
        return cfg.lr * (epoch + 1) / (cfg.warmup_epochs + 1)
    if cfg.schedule == "steps":
        return step_decay(cfg.lr, cfg.lr_gamma, cfg.lr_milestones, epoch)
    if cfg.schedule == "cosine":
        span = max(cfg.epochs - cfg.warmup_epochs, 1e-9)
        return cfg.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, (epoch - cfg.warmup_epochs) / span)))
    raise ValueError(f"unknown finetune.schedule {cfg.schedule!r} (steps | cosine)")
