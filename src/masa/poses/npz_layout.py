"""The generic form: a folder of .npz files plus a layout JSON, so any dataset comes in
without code.

Each .npz holds `keypoints` (T, J, 2 or 3) and optionally `confidence` (T, J). With 3
channels and no `confidence`, the third channel is the confidence. The layout JSON is
  {"joints": ["nose", null, "left_shoulder", ...],   # one entry per source joint (J)
   "image_size": [W, H]}                              # optional
listing for each source joint its canonical name (see masa.skeleton.JOINT_NAMES) or null.
A bare list is accepted as "joints". Joints no source joint maps to get confidence 0.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from masa.poses.record import PoseError
from masa.poses.source import ImportOptions, SampleSource, build, files_with_suffix, gather, missing_as_zero_confidence, sample_id
from masa.skeleton import JOINT_INDEX, NUM_JOINTS


def read_layout(path: Path) -> tuple[np.ndarray, int, tuple | None]:
    """Layout JSON -> (49,) source index per canonical joint, J, image size or None."""
    data = json.loads(Path(path).read_text())
    joints = data if isinstance(data, list) else data.get("joints")
    if not isinstance(joints, list):
        raise ValueError(f"{path}: layout needs a 'joints' list")
    mapping = np.full(NUM_JOINTS, -1, np.int64)
    for i, name in enumerate(joints):
        if name is None:
            continue
        if name not in JOINT_INDEX:
            raise ValueError(f"{path}: joint {i} is {name!r}, not a canonical joint name")
        if mapping[JOINT_INDEX[name]] >= 0:
            raise ValueError(f"{path}: canonical joint {name!r} is listed twice")
        mapping[JOINT_INDEX[name]] = i
    size = data.get("image_size") if isinstance(data, dict) else None
    return mapping, len(joints), tuple(size) if size else None


def load(path: Path, layout, options: ImportOptions):
    mapping, num_joints, size = layout
    with np.load(path, allow_pickle=False) as z:
        if "keypoints" not in z:
            raise PoseError(f"no 'keypoints' array (found {z.files})")
        kp = np.asarray(z["keypoints"], np.float32)
        conf = np.asarray(z["confidence"], np.float32) if "confidence" in z else None
    if kp.ndim != 3 or kp.shape[1] != num_joints or kp.shape[2] not in (2, 3):
        raise PoseError(f"keypoints have shape {kp.shape}, layout expects (T, {num_joints}, 2|3)")
    if conf is None:
        conf = kp[..., 2] if kp.shape[2] == 3 else np.ones(kp.shape[:2], np.float32)
    elif conf.shape != kp.shape[:2]:
        raise PoseError(f"confidence has shape {conf.shape}, expected {kp.shape[:2]}")
    xy, conf = missing_as_zero_confidence(kp[..., :2], conf)
    xy, conf = gather(xy, conf, mapping)
    return build(xy, conf, options, size)


SUFFIXES = (".npz",)


def find(src: Path, options: ImportOptions):
    if options.layout is None:
        raise ValueError("the npz format needs a layout JSON: --layout LAYOUT.json")
    layout = read_layout(options.layout)
    root = src if src.is_dir() else src.parent
    for path in files_with_suffix(src, SUFFIXES):
        yield SampleSource(sample_id(path, root), path, lambda p=path: load(p, layout, options))
