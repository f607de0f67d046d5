"""Pose augmentation of training clips: geometry, mirroring, dropout and temporal cropping.

A clip is (N, 49, 3) float32 as the store keeps it: x, y in 256-unit boxes (each hand in its
own crop, the body in the frame) and a confidence; a missing joint is (0, 0, 0) and stays so.
What each transform does to a crop follows from what it does to the video:
  * rotation and shear of the video rotate and shear each hand inside its crop (about the
    crop's centre); a mirrored left hand (`normalise.mirror_left_hand`) turns the other way;
  * scale and translation of the video change the body only: a crop removes both;
  * a left/right mirror of the video swaps the hands' roles and flips x of the body.
"""
from __future__ import annotations

import numpy as np
import torch

from masa import skeleton as sk
from masa.config import AugmentConfig

CENTRE = 128.0
SWAP = np.array(sk.SWAP_LEFT_RIGHT)


def _transform(points: np.ndarray, matrix: np.ndarray, shift=(0.0, 0.0)) -> np.ndarray:
    """Seen joints (conf > 0) of points (N, J, 3) mapped by a 2x2 matrix about the box centre."""
    out = points.copy()
    seen = points[..., 2] > 0
    moved = (points[..., :2] - CENTRE) @ matrix.T + CENTRE + np.asarray(shift, np.float32)
    out[..., :2] = np.where(seen[..., None], moved, 0.0)
    return out


def geometry(clip: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig, mirrored_left: bool = True) -> np.ndarray:
    """One random rotation, shear, scale and shift for the whole clip."""
    angle = np.deg2rad(rng.uniform(-cfg.rotate, cfg.rotate)) if cfg.rotate else 0.0
    shear = rng.uniform(-cfg.shear, cfg.shear) if cfg.shear else 0.0
    scale = rng.uniform(1 - cfg.scale, 1 + cfg.scale) if cfg.scale else 1.0
    shift = rng.uniform(-cfg.shift, cfg.shift, size=2) if cfg.shift else np.zeros(2)

    def shape(a, s):  # rotation by a after a shear s along x
        c, n = np.cos(a), np.sin(a)
        return (np.array([[c, -n], [n, c]]) @ np.array([[1.0, s], [0.0, 1.0]])).astype(np.float32)

    out = clip.copy()
    out[:, sk.RIGHT_HAND] = _transform(clip[:, sk.RIGHT_HAND], shape(angle, shear))
    sign = -1.0 if mirrored_left else 1.0  # a mirrored crop sees the rotation and shear reversed
    out[:, sk.LEFT_HAND] = _transform(clip[:, sk.LEFT_HAND], shape(sign * angle, sign * shear))
    out[:, sk.BODY] = _transform(clip[:, sk.BODY], scale * shape(angle, shear), shift)
    return out


def geometry_batch(xy, seen, angle, shear, scale, shift, mirrored_left: bool = True):
    """`geometry` for a whole batch on its device, with given per-sample parameters (the SA view
    of pre-training draws them from the run's generator).
    xy (B, T, 49, 2) box units, seen (B, T, 49) bool; angle (radians), shear, scale (B,); shift (B, 2)."""
    def shape(a, s):  # (B, 2, 2): rotation by a after a shear s along x
        c, n, one, zero = torch.cos(a), torch.sin(a), torch.ones_like(a), torch.zeros_like(a)
        rotation = torch.stack([torch.stack([c, -n], -1), torch.stack([n, c], -1)], -2)
        return rotation @ torch.stack([torch.stack([one, s], -1), torch.stack([zero, one], -1)], -2)

    sign = -1.0 if mirrored_left else 1.0
    no_shift = torch.zeros_like(shift)
    out = xy.clone()
    for part, matrix, move in ((sk.RIGHT_HAND, shape(angle, shear), no_shift),
                               (sk.LEFT_HAND, shape(sign * angle, sign * shear), no_shift),
                               (sk.BODY, scale[:, None, None] * shape(angle, shear), shift)):
        moved = torch.einsum("btjc,bdc->btjd", xy[:, :, part] - CENTRE, matrix.to(xy.dtype)) + CENTRE
        moved = moved + move[:, None, None, :].to(xy.dtype)
        out[:, :, part] = torch.where(seen[:, :, part, None], moved, torch.zeros_like(moved))
    return out


def mirror(clip: np.ndarray, mirrored_left: bool = True) -> np.ndarray:
    """The clip of the mirrored video: left and right swap roles, x flips.

    With the left hand stored mirrored, the new left hand (the old right one, flipped) is
    stored exactly as the old right hand was, so the hands only swap slots."""
    out = clip[:, SWAP].copy()
    flip = [sk.BODY] if mirrored_left else [sk.BODY, sk.RIGHT_HAND, sk.LEFT_HAND]
    for part in flip:
        seen = out[:, part, 2] > 0
        out[:, part, 0] = np.where(seen, 2 * CENTRE - out[:, part, 0], 0.0)
    return out


def drop(clip: np.ndarray, rng: np.random.Generator, joint_p: float, hand_p: float) -> np.ndarray:
    """Lose each joint of each frame with joint_p, and each hand of each frame with hand_p."""
    out = clip.copy()
    lost = rng.random(clip.shape[:2]) < joint_p if joint_p else np.zeros(clip.shape[:2], bool)
    if hand_p:
        for hand in (sk.RIGHT_HAND, sk.LEFT_HAND):
            lost[:, hand] |= (rng.random(len(clip)) < hand_p)[:, None]
    out[lost] = 0.0
    return out


def temporal_crop(length: int, rng: np.random.Generator, min_fraction: float) -> tuple[int, int]:
    """A random window [start, stop) covering min_fraction..1 of the sample: sampled to a fixed
    number of frames afterwards, a shorter window also plays the sign faster."""
    if min_fraction >= 1.0 or length < 2:
        return 0, length
    size = max(1, int(round(length * rng.uniform(min_fraction, 1.0))))
    start = int(rng.integers(0, length - size + 1))
    return start, start + size


def augment(clip: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig, mirrored_left: bool = True) -> np.ndarray:
    """All the configured transforms, in a fixed order: mirror, geometry, dropout."""
    if cfg.mirror and rng.random() < cfg.mirror:
        clip = mirror(clip, mirrored_left)
    if cfg.rotate or cfg.shear or cfg.scale or cfg.shift:
        clip = geometry(clip, rng, cfg, mirrored_left)
    if cfg.joint_drop or cfg.hand_drop:
        clip = drop(clip, rng, cfg.joint_drop, cfg.hand_drop)
    return clip

