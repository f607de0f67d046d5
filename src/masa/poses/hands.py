"""Right/left assignment for hands that come without handedness (MediaPipe Hands slots).

Rule (documented in docs/data.md): the signer faces the camera, so in an unmirrored video
their right hand appears on the image's left.
  * both hands seen: the one whose wrist has the smaller x is the right hand;
  * one hand seen: it takes the side whose last seen wrist is nearer; before any hand has
    been seen, it is the right hand if its wrist lies left of the midline (the body's
    shoulder midpoint where known, else the image centre).
`mirrored=True` (selfie videos) swaps the result.
"""
from __future__ import annotations

import numpy as np


def assign_hands(slots_xy, slots_present, midline_x, mirrored: bool = False):
    """slots_xy (T, S, 21, C >= 2: x, y, then any per-joint channels carried along), slots_present
    (T, S) bool, midline_x (T,) -> (right_xy, right_present, left_xy, left_present) with shapes
    (T, 21, C) and (T,)."""
    T = slots_xy.shape[0]
    right = np.zeros((T, 21, slots_xy.shape[-1]), np.float32)
    left = np.zeros((T, 21, slots_xy.shape[-1]), np.float32)
    right_ok = np.zeros(T, bool)
    left_ok = np.zeros(T, bool)
    last = {"right": None, "left": None}
    for t in range(T):
        seen = [s for s in range(slots_xy.shape[1]) if slots_present[t, s]]
        if len(seen) >= 2:
            a, b = sorted(seen[:2], key=lambda s: slots_xy[t, s, 0, 0])
            pairs = [("right", a), ("left", b)]
        elif len(seen) == 1:
            s = seen[0]
            x = slots_xy[t, s, 0, 0]
            if last["right"] is not None or last["left"] is not None:
                dist = {k: abs(x - v) if v is not None else np.inf for k, v in last.items()}
                side = min(dist, key=dist.get)
            else:
                side = "right" if x < midline_x[t] else "left"
            pairs = [(side, s)]
        else:
            pairs = []
        for side, s in pairs:
            target, ok = (right, right_ok) if side == "right" else (left, left_ok)
            target[t], ok[t] = slots_xy[t, s], True
            last[side] = slots_xy[t, s, 0, 0]
    if mirrored:
        return left, left_ok, right, right_ok
    return right, right_ok, left, left_ok
