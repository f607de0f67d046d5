"""Temporal sampling to a fixed number of frames, and the hand-swap augmentation.

segments (paper, following SignBERT): the sample is cut into N equal segments; training
takes a random frame of each, testing its centre (deterministic). `clips` > 1 gives
several evenly shifted test samplings for multi-clip evaluation.
crop-resize (sister repo, spec §7.3): training crops L = min(max(floor(T s), min_len), T)
frames, s ~ U(0.5, 1), at a random start; testing drops 2.5 % at each end; the crop is then
resized to N frames (coordinates interpolated linearly, confidences from the nearest frame).
"""
from __future__ import annotations

import numpy as np

from masa import skeleton as sk


def segment_positions(length: int, num: int, rng: np.random.Generator | None = None, offset: float = 0.5) -> np.ndarray:
    """Frame indices (num,): one per segment, random (rng) or at `offset` within it."""
    edges = np.linspace(0.0, length, num + 1)
    where = rng.random(num) if rng is not None else np.full(num, offset)
    pos = edges[:-1] + where * (edges[1:] - edges[:-1])
    return np.clip(np.floor(pos), 0, length - 1).astype(np.int64)


def resize(frames: np.ndarray, start: float, stop: float, num: int) -> np.ndarray:
    """Frames (T, 49, 3) between fractional positions start..stop resampled to (num, 49, 3)."""
    pos = np.linspace(start, stop, num)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, len(frames) - 1)
    frac = (pos - lo)[:, None, None]
    a, b = frames[lo], frames[hi]
    both = (a[..., 2:] > 0) & (b[..., 2:] > 0)
    nearest = np.where(frac < 0.5, a, b)
    xy = np.where(both, a[..., :2] * (1 - frac) + b[..., :2] * frac, nearest[..., :2])
    return np.concatenate([xy, nearest[..., 2:]], axis=-1).astype(np.float32)


def crop_resize(frames: np.ndarray, num: int, rng: np.random.Generator | None = None, min_len: int = 64) -> np.ndarray:
    T = len(frames)
    if rng is not None:
        length = min(max(int(T * rng.uniform(0.5, 1.0)), min_len), T)
        start = int(rng.integers(0, T - length + 1))
    else:
        start = int(T * 0.025)
        length = max(T - 2 * start, 1)
    return resize(frames, start, start + length - 1, num)


def sample_clip(frames: np.ndarray, num: int, method: str, rng=None, offset: float = 0.5) -> np.ndarray:
    """(T, 49, 3) -> (num, 49, 3) by `method` (segments | crop-resize)."""
    if method == "segments":
        return frames[segment_positions(len(frames), num, rng, offset)]
    if method == "crop-resize":
        return crop_resize(frames, num, rng)
    raise ValueError(f"unknown temporal sampling {method!r} (segments | crop-resize)")


def eval_clips(frames: np.ndarray, num: int, method: str, clips: int = 1) -> np.ndarray:
    """Deterministic test samplings (clips, num, 49, 3), evenly shifted within the segments."""
    if clips == 1 or method != "segments":
        return sample_clip(frames, num, method)[None]
    return np.stack([sample_clip(frames, num, method, offset=(j + 0.5) / clips) for j in range(clips)])


def swap_hands(frames: np.ndarray) -> np.ndarray:
    """Exchange the right- and left-hand slots (the body stays), as the sister repo does."""
    return frames[:, list(sk.SWAP_HANDS)]
