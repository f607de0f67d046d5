"""Pre-training losses (spec §5)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from masa.inputs import PART_SLICES


def motion_loss(pred: dict, target, weight, masked, kind: str = "l2", scale: float = 1.0, min_motion: float = 3.0):
    """Reconstruction loss on the masked parts' frames only, summed over the three parts.

    pred: {'right', 'left': (B, T, 21, C), 'body': (B, T, 7, C)}; target (B, T, 49, C);
    weight (B, T, 49, C // 2) per joint and interval; masked (B, T, 3) bool.
      l2 (paper): sum ((y - m) * c_t c_{t+k})^2 / (masked frames x joints + 1)
      l1 (code):  sum |y - m| * c_t c_{t+k} * [m > min_motion] / (masked frames x joints + 1)
    Each is multiplied by `scale` (the code uses 10)."""
    total = target.new_zeros(())
    w = weight.repeat_interleave(2, dim=-1)  # per coordinate
    for p, (name, s) in enumerate(zip(("right", "left", "body"), PART_SLICES)):
        m, wp = target[:, :, s].float(), w[:, :, s].float()
        sel = masked[..., p].to(m.dtype)[..., None, None]
        err = pred[name].float() - m
        if kind == "l2":
            per = (err * wp) ** 2
        elif kind == "l1":
            per = err.abs() * wp * (m > min_motion)  # signed: only positive motion (spec §0 row 6)
        else:
            raise ValueError(f"unknown motion loss {kind!r} (l2 | l1)")
        joints = s.stop - s.start
        total = total + scale * (per * sel).sum() / (masked[..., p].sum() * joints + 1)
    return total


def info_nce(logits):
    """Cross-entropy with the positive in column 0.  logits (B, 1 + K)."""
    return F.cross_entropy(logits.float(), torch.zeros(len(logits), dtype=torch.long, device=logits.device))


def lambda_s(epoch: float, peak: float, ramp_epochs: float) -> float:
    """lambda_s(e) = peak * min(e / ramp, 1): 0 at epoch 0, the full weight from `ramp` on."""
    if ramp_epochs <= 0:
        return peak
    return peak * min(int(epoch) / ramp_epochs, 1.0)
