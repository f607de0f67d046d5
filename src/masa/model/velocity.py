"""Joint velocity as an input channel (model.velocity; beyond the paper, off by default).

Each joint's displacement to the next sampled frame that differs, beside its coordinates:
the "motion" input skeleton recognisers commonly add to position (pyskl's joint-motion). The
part MLP reads a frame alone, so without it motion is seen only after the per-frame network,
by the temporal convolutions.

Clips shorter than finetune.num_frames are sampled up by repeating frames (every clip of the
real tasks is: 10-30 frames against 32), so the step to the next sampled frame would be 0
between copies and then jump, in a rhythm set by the clip's length. The displacement is
therefore taken to the next frame whose part differs: both copies of a frame read the motion
to the clip's next frame, as at the recording's own rate.

A displacement is only taken where the joint's part is seen in both frames: detected, real
(not padding) and, while pre-training, not masked, so a visible frame never carries what a
masked one looked like. Elsewhere, and where nothing follows, it is 0.
"""
from __future__ import annotations

import torch

from masa.inputs import joint_parts, part_sums

# Measured on WLASL100, new signers and divyashC (32 sampled frames): a step's absolute size
# is 0.007-0.022 on average, a part's coordinates spread 0.1-0.2 (box units / 256), so steps
# are scaled up for the first layer to read both from the start.
SCALE = 5.0


def next_change(xy: torch.Tensor) -> torch.Tensor:
    """xy (B, T, 49, 2) -> (B, T, 3) long: for each frame and part, the first later frame where
    the part differs from it (T where none does). Copies of a frame are consecutive."""
    B, T = xy.shape[:2]
    differs = part_sums((xy[:, 1:] != xy[:, :-1]).any(-1)) > 0  # (B, T-1, 3)
    later = torch.arange(1, T, device=xy.device).view(1, T - 1, 1).expand(B, T - 1, 3)
    first = torch.where(differs, later, torch.full_like(later, T))  # change between s and s + 1: frame s + 1
    # the first change at or after each frame: a minimum running back from the end
    after = first.flip(1).cummin(1).values.flip(1)
    return torch.cat([after, torch.full_like(after[:, :1], T)], dim=1)


def joint_velocity(xy: torch.Tensor, seen: torch.Tensor) -> torch.Tensor:
    """xy (B, T, 49, 2) in [0, 1]; seen (B, T, 3) bool per part -> (B, T, 49, 2):
    SCALE * (xy[s] - xy[t]), s the next frame where the joint's part differs from frame t,
    where the part is seen at t and at s; else 0."""
    B, T = xy.shape[:2]
    parts = joint_parts(xy.device)
    target = next_change(xy)  # (B, T, 3)
    has = target < T
    target = target.clamp(max=T - 1)
    ok = has & seen & seen.gather(1, target)  # (B, T, 3)
    frame = target[..., parts]  # (B, T, 49): the frame each joint's step goes to
    there = xy.gather(1, frame[..., None].expand(B, T, 49, 2))
    step = (there - xy) * SCALE
    return torch.where(ok[..., parts, None], step, torch.zeros((), dtype=xy.dtype, device=xy.device))
