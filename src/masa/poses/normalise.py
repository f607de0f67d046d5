"""From a raw record (pixels) to training coordinates (spec §2.3-2.6).

Output frames are (T', 49, 3) float32: x, y in units of a 256-wide box, and the raw
confidence. Each hand is cropped per frame into its own square box (so hand coordinates
encode the hand's shape), the body is divided by the image size (so it carries the global
trajectory). Confidence truncation (eps_c) is applied later, when samples are read, so one
store serves every threshold.
"""
from __future__ import annotations

import numpy as np

from masa.config import NormaliseConfig
from masa.inputs import BOX
from masa.poses.record import SignPose
from masa.skeleton import BODY, JOINT_INDEX, LEFT_ARM, LEFT_HAND, RIGHT_ARM, RIGHT_HAND


def select_frames(num_frames: int, cfg: NormaliseConfig) -> np.ndarray:
    """Indices kept before cropping: every s-th frame once a video is longer than max_frames."""
    if num_frames <= cfg.max_frames:
        return np.arange(num_frames)
    stride = max(cfg.min_stride, -(-num_frames // cfg.max_frames))
    return np.arange(0, num_frames, stride)


def hand_boxes(hand_xy, hand_conf, arm_xy, arm_conf, image_size, cfg: NormaliseConfig):
    """Per-frame crop boxes for one hand.

    hand_xy (T, 21, 2), hand_conf (T, 21), arm_xy (T, 3, 2) shoulder/elbow/wrist, arm_conf (T, 3).
    Returns boxes (T, 4) as (u_start, v_start, u_end, v_end) and has_box (T,) bool.
    """
    W, H = image_size
    visible = hand_conf > cfg.crop_visible_conf
    lo = np.where(visible[..., None], hand_xy, np.inf).min(axis=1)  # (T, 2)
    hi = np.where(visible[..., None], hand_xy, -np.inf).max(axis=1)
    from_hand = visible.sum(axis=1) >= cfg.crop_min_visible
    lo = np.where(from_hand[:, None], lo, 0.0)
    hi = np.where(from_hand[:, None], hi, 0.0)
    side = np.minimum(cfg.crop_scale * (hi - lo).max(axis=1), min(W, H))
    centre = (lo + hi) / 2
    u0 = np.clip(centre[:, 0] - side / 2, 0, W - side)
    v0 = np.clip(centre[:, 1] - side / 2, 0, H - side)
    boxes = np.stack([u0, v0, u0 + side, v0 + side], axis=1)

    if cfg.arm_fallback:
        shoulder, elbow, wrist = arm_xy[:, 0], arm_xy[:, 1], arm_xy[:, 2]
        arm_ok = (arm_conf >= cfg.arm_conf_threshold).all(axis=1)
        if cfg.arm_bottom_margin > 0:
            arm_ok &= wrist[:, 1] < H * (1 - cfg.arm_bottom_margin)
        fore = np.linalg.norm(wrist - elbow, axis=1)
        upper = np.linalg.norm(elbow - shoulder, axis=1)
        arm_side = 1.1 * np.maximum(fore, 0.9 * upper)
        arm_centre = wrist + 0.33 * (wrist - elbow)
        a0 = np.maximum(arm_centre - arm_side[:, None] / 2, 0)
        a1 = np.minimum(a0 + arm_side[:, None], [W, H])
        arm_boxes = np.concatenate([a0, a1], axis=1)
        use_arm = ~from_hand & arm_ok & (arm_side > 0)
        boxes = np.where(use_arm[:, None], arm_boxes, boxes)
        has_box = from_hand | use_arm
    else:
        has_box = from_hand
    has_box &= (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    return boxes, has_box


def _to_box(xy, conf, boxes, has_box, mirror: bool):
    start, size = boxes[:, None, :2], boxes[:, None, 2:] - boxes[:, None, :2]
    size = np.where(size > 0, size, 1.0)
    out = np.clip((xy - start) / size * BOX, 0, BOX)
    if mirror:
        out[..., 0] = BOX - out[..., 0]
    keep = has_box[:, None] & (conf > 0)
    return np.where(keep[..., None], out, 0.0), np.where(keep, conf, 0.0)


def normalise(pose: SignPose, cfg: NormaliseConfig) -> tuple[np.ndarray, np.ndarray]:
    """Crop hands, scale the body and drop handless frames.

    Returns frames (T', 49, 3) float32 = (x, y, conf) and the kept frame indices (T',) of
    the input. T' may be 0 (no frame with a hand), which callers report as a bad sample.
    """
    keep = select_frames(pose.num_frames, cfg)
    xy, conf = pose.xy[keep].astype(np.float64), pose.conf[keep].astype(np.float64)
    if cfg.wrists_from_hands:
        xy, conf = fill_wrists_from_hands(xy, conf)
    W, H = pose.image_size
    out = np.zeros(xy.shape[:2] + (3,), np.float32)
    any_box = np.zeros(len(keep), bool)
    for hand, arm, mirror in ((RIGHT_HAND, RIGHT_ARM, False), (LEFT_HAND, LEFT_ARM, cfg.mirror_left_hand)):
        boxes, has_box = hand_boxes(xy[:, hand], conf[:, hand], xy[:, list(arm)], conf[:, list(arm)], (W, H), cfg)
        out[:, hand, :2], out[:, hand, 2] = _to_box(xy[:, hand], conf[:, hand], boxes, has_box, mirror)
        any_box |= has_box
    body_conf = conf[:, BODY]
    out[:, BODY, :2] = np.where(body_conf[..., None] > 0, xy[:, BODY] / [W, H] * BOX, 0.0)
    out[:, BODY, 2] = body_conf
    if cfg.drop_handless_frames:
        out, keep = out[any_box], keep[any_box]
    return out, keep


def fill_wrists_from_hands(xy, conf):
    """Body wrists the estimator missed take the wrist of their hand, where the hand was seen.
    Hands-only estimators (MediaPipe Hands) then still say where the hands are: hand crops
    keep only their shape.   xy (T, 49, 2), conf (T, 49) -> new arrays."""
    xy, conf = xy.copy(), conf.copy()
    for hand, wrist in ((RIGHT_HAND, JOINT_INDEX["right_wrist"]), (LEFT_HAND, JOINT_INDEX["left_wrist"])):
        fill = (conf[:, wrist] <= 0) & (conf[:, hand.start] > 0)
        xy[fill, wrist], conf[fill, wrist] = xy[fill, hand.start], conf[fill, hand.start]
    return xy, conf


SHOULDERS = (JOINT_INDEX["left_shoulder"], JOINT_INDEX["right_shoulder"])


def shoulder_frame(frames: np.ndarray) -> np.ndarray:
    """Body joints centred on the shoulders' midpoint and scaled so that shoulder width is a
    quarter box (64 units), centre at (128, 128). One centre and scale per sample (medians over
    the frames with both shoulders), so motion is kept; a sample without shoulders is returned
    as it is.   frames (T, 49, 3) -> a new array."""
    out = np.array(frames, dtype=np.float32, copy=True)
    left, right = out[:, SHOULDERS[0]], out[:, SHOULDERS[1]]
    both = (left[:, 2] > 0) & (right[:, 2] > 0)
    if not both.any():
        return out
    centre = np.median((left[both, :2] + right[both, :2]) / 2, axis=0)
    width = float(np.median(np.linalg.norm(left[both, :2] - right[both, :2], axis=1)))
    if width <= 1e-6:
        return out
    body = out[:, BODY]
    seen = body[..., 2] > 0
    body[..., :2] = np.where(seen[..., None], (body[..., :2] - centre) * (BOX / 4 / width) + BOX / 2, 0.0)
    out[:, BODY] = body
    return out


def prepare_frames(frames: np.ndarray, cfg: NormaliseConfig) -> np.ndarray:
    """What every reader of a store applies: eps_c, short gaps filled, then the body frame of reference."""
    out = fill_gaps(truncate_confidence(frames, cfg), cfg.fill_gaps)
    if cfg.body_frame == "shoulders":
        return shoulder_frame(out)
    if cfg.body_frame != "image":
        raise ValueError(f"unknown normalise.body_frame {cfg.body_frame!r} (image | shoulders)")
    return out


def truncate_confidence(frames: np.ndarray, cfg: NormaliseConfig) -> np.ndarray:
    """Apply eps_c: confidences <= threshold become 0 and so do their coordinates.

    frames (..., 49, 3) -> a new array of the same shape.
    """
    out = np.array(frames, dtype=np.float32, copy=True)
    thr = np.full(out.shape[-2], cfg.hand_conf_threshold, np.float32)
    thr[BODY] = cfg.body_conf_threshold
    low = out[..., 2] <= thr
    out[low] = 0.0
    return out


def fill_gaps(frames: np.ndarray, longest: int) -> np.ndarray:
    """A joint lost for at most `longest` frames between two frames that see it gets the straight
    line between them, with the lower of their two confidences; gaps at the ends of the sample
    and longer ones stay missing (estimators such as MediaPipe lose a hand for a frame or two).
    frames (T, 49, 3) after eps_c -> a new array where a gap is filled, else `frames` itself
    (every store read passes through here, so nothing is copied when there is nothing to fill)."""
    T = len(frames)
    if longest <= 0 or T < 3:
        return frames
    seen = frames[..., 2] > 0  # (T, J)
    t = np.arange(T)[:, None]
    before = np.maximum.accumulate(np.where(seen, t, -1), axis=0)  # the last frame that saw it, up to t
    after = np.minimum.accumulate(np.where(seen, t, T)[::-1], axis=0)[::-1]  # the next one, from t
    fill = ~seen & (before >= 0) & (after < T) & (after - before - 1 <= longest)
    if not fill.any():
        return frames
    out = np.array(frames, dtype=np.float32, copy=True)
    frame, joint = np.nonzero(fill)
    a, b = before[frame, joint], after[frame, joint]
    w = ((frame - a) / (b - a)).astype(np.float32)[:, None]
    out[frame, joint, :2] = (1 - w) * out[a, joint, :2] + w * out[b, joint, :2]
    out[frame, joint, 2] = np.minimum(out[a, joint, 2], out[b, joint, 2])
    return out
