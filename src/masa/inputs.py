"""The models' input contract, in one place: every backbone, in training, evaluation,
prediction and export, receives what `model_inputs` builds.

A stored frame is (49, 3): x, y in units of a BOX-wide box (masa.poses.normalise) and the
joint's confidence after eps_c truncation (0 = not seen). A model receives
    xy (..., T, 49, 2) in [0, 1], present (..., T, 3) bool, valid (..., T) bool
where `present` says which parts (right hand, left hand, body) have a confident joint and
`valid` which frames are real rather than padding.
"""
from __future__ import annotations

import torch

from masa import skeleton as sk

BOX = 256.0  # side of the normalised box, in the units the motion thresholds use
PART_SLICES = tuple(sk.PARTS.values())  # right hand, left hand, body


def joint_parts(device=None) -> torch.Tensor:
    """(49,) long: the part (0 right hand, 1 left hand, 2 body) each joint belongs to."""
    parts = torch.empty(sum(s.stop - s.start for s in PART_SLICES), dtype=torch.long, device=device)
    for p, s in enumerate(PART_SLICES):
        parts[s] = p
    return parts


def part_sums(x):
    """Sums over each part's joints, booleans counted: (..., 49) -> (..., 3) float.
    One matmul with a joint-to-part indicator instead of a reduction per part."""
    parts = torch.zeros(x.shape[-1], len(PART_SLICES), device=x.device)
    for p, s in enumerate(PART_SLICES):
        parts[s, p] = 1.0
    return x.to(parts.dtype) @ parts


def part_presence(conf):
    """(..., 49) -> (..., 3) bool: the part has at least one confident joint."""
    return part_sums(conf > 0) > 0


def model_inputs(xy, conf, valid=None):
    """Stored coordinates and confidences -> (xy in [0, 1], present, valid).

    xy (..., T, 49, 2) in box units, conf (..., T, 49); valid (..., T) bool, or None when every
    frame is real (fixed-length clips)."""
    if valid is None:
        valid = torch.ones(conf.shape[:-1], dtype=torch.bool, device=conf.device)
    return xy / BOX, part_presence(conf), valid
