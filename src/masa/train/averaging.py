"""A moving average of the weights over training steps (`finetune.ema`).

An average of the recent weights is flatter than any one of them: on small sets, where
validation top-1 jumps by tens of points between epochs at a constant rate, the average
scores more evenly, so the kept epoch is less of a draw. Validation, the release and the
resume checkpoint use the average; the optimiser trains the live weights as before.

torch.optim.swa_utils.AveragedModel does the bookkeeping; this file adds the decay with a
warm-up (as timm's ModelEmaV3): update n averages with min(decay, (1 + n) / (10 + n)), so the
first, random weights do not linger in the average (at 0.998 a plain average would still
weigh them 0.998^steps, 10 % after 1,150 steps).
"""
from __future__ import annotations

import torch
from torch.optim.swa_utils import AveragedModel


def warmed_decay(decay: float, n: int) -> float:
    """The decay of update number n (0-based count of earlier updates)."""
    return min(decay, (1 + n) / (10 + n))


def moving_average(model: torch.nn.Module, decay: float) -> AveragedModel | None:
    """An exponential moving average of `model`'s parameters and floating buffers (batch-norm
    statistics), or None for decay 0. Call `.update_parameters(model)` after each step."""
    if decay <= 0:
        return None

    def update(averaged: list[torch.Tensor], current: list[torch.Tensor], n: torch.Tensor):
        # called once per device and dtype group: one read of n per group, not per tensor
        if not averaged[0].is_floating_point():  # step counters (num_batches_tracked) follow the model
            for a, c in zip(averaged, current):
                a.copy_(c)
            return
        torch._foreach_lerp_(averaged, current, 1.0 - warmed_decay(decay, int(n)))

    return AveragedModel(model, multi_avg_fn=update, use_buffers=True)
