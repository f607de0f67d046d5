"""Mixed precision: the autocast context for a device, and one optimiser step with or
without a gradient scaler."""
from __future__ import annotations

from contextlib import nullcontext

import torch


def autocast_for(device: torch.device, amp: str):
    """-> (context manager, GradScaler or None). 'auto': bf16 on a GPU that has it, else fp32."""
    if amp == "auto":
        amp = "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "none"
    if amp == "none":
        return nullcontext(), None
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp)
    if dtype is None:
        raise ValueError(f"unknown amp setting {amp!r} (auto | bf16 | fp16 | none)")
    scaler = torch.amp.GradScaler(device.type) if amp == "fp16" else None
    return torch.autocast(device.type, dtype=dtype), scaler


def optimiser_step(loss, optimizer, scaler=None, max_norm: float = 0.0):
    """zero_grad, backward, step (scaled when a GradScaler is given). max_norm > 0: the
    gradients of all parameters together are clipped to this norm before the step."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
        clip(optimizer, max_norm)
        optimizer.step()
        return
    scaler.scale(loss).backward()
    if max_norm > 0:
        scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
    clip(optimizer, max_norm)
    scaler.step(optimizer)
    scaler.update()


def clip(optimizer, max_norm: float):
    if max_norm > 0:
        params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        torch.nn.utils.clip_grad_norm_(params, max_norm)
