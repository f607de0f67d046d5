"""Procedurally animated signs: the embedded default data of demo, tests and benchmarks.

Each class has a prototype: a path of the dominant wrist through the signing space, a
hand shape that changes over time, a turning hand, and one or two hands (the second hand
mirrors the first or holds still). Classes come in pairs whose second member is the
first played backwards, so both see the same poses in a different order: a classifier
that ignores time cannot tell the pair apart and stays near half accuracy, one that
models motion can. Signers differ in size, position, speed and timing, and handedness
(left-handed signers mirror the sign); on top come estimator-like jitter, frames with a
dropped hand, and joints with low confidence.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from masa.config import SynthConfig
from masa.poses.labels import Annotation, LabelTable
from masa.poses.record import make_pose
from masa.poses.source import SampleSource
from masa.skeleton import BODY, LEFT_HAND, RIGHT_HAND

# Hand model, in units of the hand's length, pointing up (-y) from the wrist at the origin.
_FINGER_BASE = np.array([[-0.25, -0.15], [-0.18, -0.45], [-0.05, -0.5], [0.08, -0.47], [0.2, -0.42]])
_FINGER_DIR = np.deg2rad([-55.0, -12.0, -2.0, 8.0, 18.0])  # angle from straight up
_SEGMENTS = np.array([[0.2, 0.17, 0.15], [0.22, 0.14, 0.12], [0.24, 0.16, 0.13], [0.22, 0.15, 0.12], [0.17, 0.12, 0.1]])


def hand_shape(flex: np.ndarray, angle: np.ndarray, length: float, mirror: bool) -> np.ndarray:
    """flex (T, 5) in [0, 1] per finger, angle (T,) radians -> joints (T, 21, 2) around the wrist."""
    T = len(flex)
    out = np.zeros((T, 21, 2))
    side = -1.0 if mirror else 1.0
    curl_dir = np.where(np.arange(5) == 0, 1.0, -1.0)  # the thumb folds across the palm
    for f in range(5):
        base = np.broadcast_to(_FINGER_BASE[f], (T, 2)).copy()
        out[:, 1 + 4 * f] = base
        heading = _FINGER_DIR[f] + np.zeros(T)
        point = base
        for s in range(3):
            heading = heading + curl_dir[f] * flex[:, f] * 0.9
            seg = _SEGMENTS[f, s] * (1 - 0.45 * flex[:, f])
            point = point + seg[:, None] * np.stack([np.sin(heading), -np.cos(heading)], axis=1)
            out[:, 2 + 4 * f + s] = point
    out[..., 0] *= side
    c, s_ = np.cos(angle)[:, None], np.sin(angle)[:, None]
    rotated = np.stack([c * out[..., 0] - s_ * out[..., 1], s_ * out[..., 0] + c * out[..., 1]], axis=-1)
    return rotated * length


def _bezier(points: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Cubic Bezier through 4 control points (4, 2) at tau (T,) -> (T, 2)."""
    t = tau[:, None]
    return ((1 - t) ** 3) * points[0] + 3 * ((1 - t) ** 2) * t * points[1] + 3 * (1 - t) * t**2 * points[2] + t**3 * points[3]


def make_prototypes(num_classes: int, rng: np.random.Generator) -> list[dict]:
    """Class prototypes in signer units (shoulder half-width = 1, origin between the shoulders)."""
    protos = []
    for _ in range(num_classes // 2):
        p = {
            "path": np.column_stack([rng.uniform(-1.6, 0.4, 4), rng.uniform(-1.8, 1.2, 4)]),
            "flex": rng.uniform(0, 1, (2, 5)),  # start and end hand shape
            "flex_time": rng.uniform(0.3, 0.7),
            "angle": rng.uniform(-0.8, 0.8, 2),
            "two_hands": rng.random() < 0.5,
            "mirror_second": rng.random() < 0.5,
            "second_flex": rng.uniform(0, 1, 5),
            "second_at": np.array([rng.uniform(0.3, 1.0), rng.uniform(-0.5, 1.0)]),
        }
        protos += [dict(p, reverse=False), dict(p, reverse=True)]
    return protos


def _arm(shoulder, wrist, upper: float, outward: float):
    """Elbow for a shoulder (2,) and wrist path (T, 2): bent outward and down."""
    d = wrist - shoulder
    dist = np.linalg.norm(d, axis=1, keepdims=True).clip(1e-6)
    half = np.minimum(dist / 2, upper * 0.999)
    normal = np.column_stack([-d[:, 1], d[:, 0]]) / dist
    normal *= np.sign(normal[:, :1] * outward + 1e-9)
    return shoulder + d / 2 + normal * np.sqrt(upper**2 - half**2)


def render(proto: dict, signer: dict, num_frames: int, cfg: SynthConfig, rng: np.random.Generator):
    """One sample: (xy (T, 49, 2) pixels, conf (T, 49))."""
    u = np.linspace(0, 1, num_frames)
    warp = u + signer["warp"] * np.sin(np.pi * u) * rng.uniform(0.5, 1.0)  # speed changes within the sign
    rest = 0.15  # move in from rest, sign, move back
    tau = np.clip((warp - rest) / (1 - 2 * rest), 0, 1)
    if proto["reverse"]:
        tau = 1 - tau
    path = proto["path"] + rng.normal(0, 0.18, (4, 2))
    wrist = _bezier(path, tau)
    flex_w = 1 / (1 + np.exp(-(tau - proto["flex_time"]) * 14))
    flex = (1 - flex_w)[:, None] * proto["flex"][0] + flex_w[:, None] * proto["flex"][1]
    angle = proto["angle"][0] + (proto["angle"][1] - proto["angle"][0]) * tau
    rest_pos = np.array([-0.9, 2.6])
    in_out = np.clip(np.minimum(warp / rest, (1 - warp) / rest), 0, 1)[:, None]
    wrist = rest_pos + (wrist - rest_pos) * in_out

    s, cx, cy = signer["scale"], signer["cx"], signer["cy"]
    left_handed = signer["left_handed"]
    flip = -1.0 if left_handed else 1.0  # a left-handed signer mirrors the sign

    def px(p):
        return np.column_stack([cx + flip * p[:, 0] * s, cy + p[:, 1] * s])

    T = num_frames
    xy = np.zeros((T, 49, 2))
    conf = rng.uniform(0.75, 1.0, (T, 49))
    dom_hand, other_hand = (LEFT_HAND, RIGHT_HAND) if left_handed else (RIGHT_HAND, LEFT_HAND)
    hand_len = signer["hand"] * s
    dom_wrist = px(wrist)
    xy[:, dom_hand] = dom_wrist[:, None] + hand_shape(flex, flip * angle, hand_len, mirror=left_handed)
    if proto["two_hands"]:
        if proto["mirror_second"]:
            other = wrist * [-1, 1]
            other_flex, other_angle = flex, -angle
        else:
            other = np.broadcast_to(proto["second_at"], (T, 2))
            other_flex, other_angle = np.broadcast_to(proto["second_flex"], (T, 5)), np.zeros(T)
        other = rest_pos * [-1, 1] + (other - rest_pos * [-1, 1]) * in_out
    else:
        other = np.broadcast_to(rest_pos * [-1, 1], (T, 2)).copy()
        other_flex, other_angle = np.full((T, 5), 0.3), np.zeros(T)
    other_wrist = px(other)
    xy[:, other_hand] = other_wrist[:, None] + hand_shape(other_flex, -flip * other_angle, hand_len, mirror=not left_handed)

    body = np.zeros((T, 7, 2))
    body[:, 0] = [cx, cy - 1.3 * s]
    body[:, 1] = [cx + s, cy]  # the signer's left shoulder is on the image's right
    body[:, 4] = [cx - s, cy]
    right_wrist, left_wrist = (other_wrist, dom_wrist) if left_handed else (dom_wrist, other_wrist)
    body[:, 3], body[:, 6] = left_wrist, right_wrist
    body[:, 2] = _arm(body[0, 1], left_wrist, 1.35 * s, outward=1.0)
    body[:, 5] = _arm(body[0, 4], right_wrist, 1.35 * s, outward=-1.0)
    xy[:, BODY] = body

    # The estimator: jitter, dropped hands, low confidences (with worse positions).
    xy[:, BODY] += rng.normal(0, cfg.jitter_px, (T, 7, 2))
    xy[:, :42] += rng.normal(0, 0.015 * hand_len, (T, 42, 2))
    low = rng.random((T, 49)) < cfg.low_conf_prob
    conf[low] = rng.uniform(0.05, 0.4, low.sum())
    xy[low] += rng.normal(0, 0.05 * hand_len, (low.sum(), 2))
    for hand in (RIGHT_HAND, LEFT_HAND):
        dropped = rng.random(T) < cfg.drop_hand_prob
        conf[dropped, hand] = 0.0
    return xy.astype(np.float32), conf.astype(np.float32)


def make_signers(cfg: SynthConfig, rng: np.random.Generator) -> list[dict]:
    W, H = cfg.image_size
    return [
        {
            "scale": rng.uniform(0.1, 0.14) * W,
            "cx": W / 2 + rng.uniform(-0.08, 0.08) * W,
            "cy": H * rng.uniform(0.55, 0.65),
            "hand": rng.uniform(0.75, 0.95),
            "speed": rng.uniform(0.8, 1.25),
            "warp": rng.uniform(-0.25, 0.25),
            "left_handed": bool(rng.random() < 0.2),
        }
        for _ in range(cfg.num_signers)
    ]


def split_of(signer: int, cfg: SynthConfig) -> str:
    if signer >= cfg.num_signers - cfg.test_signers:
        return "test"
    if signer >= cfg.num_signers - cfg.test_signers - cfg.val_signers:
        return "val"
    return "train"


def synthesise(cfg: SynthConfig) -> tuple[list[SampleSource], LabelTable]:
    """All samples (generated on load, deterministic given cfg.seed) and their labels."""
    if cfg.num_classes < 2 or cfg.num_classes % 2:
        raise ValueError(f"synth.num_classes must be an even number >= 2, got {cfg.num_classes}")
    rng = np.random.default_rng(cfg.seed)
    protos = make_prototypes(cfg.num_classes, rng)
    signers = make_signers(cfg, rng)
    classes = [f"sign{c // 2:02d}{'ab'[c % 2]}" for c in range(cfg.num_classes)]
    table = LabelTable(classes=classes)
    sources = []
    for sg, signer in enumerate(signers):
        for c, proto in enumerate(protos):
            for r in range(cfg.repeats):
                sid = f"signer{sg:02d}/{classes[c]}_{r}"
                seed = [cfg.seed, sg, c, r]
                base = rng.integers(cfg.min_frames, cfg.max_frames + 1)
                frames = int(np.clip(base / signer["speed"], cfg.min_frames, cfg.max_frames))

                def load(proto=proto, signer=signer, frames=frames, seed=seed):
                    xy, conf = render(proto, signer, frames, cfg, np.random.default_rng(seed))
                    return make_pose(xy, conf, cfg.image_size, fps=25.0, synthetic=True)

                sources.append(SampleSource(sid, Path("synth") / sid, load))
                table.entries[sid] = Annotation(c, split_of(sg, cfg), f"signer{sg:02d}")
    return sources, table
