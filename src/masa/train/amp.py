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


def optimiser_step(loss, optimizer, scaler=None):
    """zero_grad, backward, step (scaled when a GradScaler is given)."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
        optimizer.step()
        return
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
