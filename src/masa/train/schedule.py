"""Learning-rate schedules (spec §6)."""
from __future__ import annotations

import dataclasses
import math

from masa.config import FinetuneConfig, PretrainConfig


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


def fit_to_budget(cfg: FinetuneConfig, num_train: int) -> FinetuneConfig:
    """The schedule shortened to at most `step_budget` optimiser steps on `num_train` samples.

    A recipe tuned on a few hundred clips (80 epochs of 25 steps) spends most of its time on a
    larger set after it has converged, so a cap in steps gives a larger set fewer epochs: as
    many whole epochs as fit, the milestones and warm-up scaled by the same factor (their places
    in the schedule stay). Unchanged where the schedule already fits or `step_budget` is 0."""
    steps_per_epoch = math.ceil(num_train / cfg.batch_size)
    if cfg.step_budget <= 0 or cfg.epochs * steps_per_epoch <= cfg.step_budget:
        return cfg
    epochs = max(1, cfg.step_budget // steps_per_epoch)
    factor = epochs / cfg.epochs
    return dataclasses.replace(cfg, epochs=epochs, lr_milestones=tuple(round(m * factor) for m in cfg.lr_milestones),
                               warmup_epochs=cfg.warmup_epochs * factor)
