"""OpenPose JSON: one file per frame ({"people": [{"pose_keypoints_2d", "hand_left_keypoints_2d",
"hand_right_keypoints_2d"}]}), one folder per sample.

Body BODY_25 or COCO-18 (the joints used, nose 0, right arm 2-4, left arm 5-7, sit at the
same indices in both). Hands use the standard 21-point order. A frame with nobody in it
keeps all joints at confidence 0. Several people: the highest mean body score wins.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from masa.poses.record import PoseError, empty_arrays
from masa.poses.source import ImportOptions, SampleSource, build, sample_id
from masa.skeleton import BODY, LEFT_HAND, RIGHT_HAND

BODY_INDEX = [0, 5, 6, 7, 2, 3, 4]  # nose, L shoulder/elbow/wrist, R shoulder/elbow/wrist


def _triplets(values, count: int, what: str, path: Path) -> np.ndarray:
    arr = np.asarray(values if values else [0.0] * (3 * count), np.float32)
    if arr.size % 3 or arr.size // 3 < count:
        raise PoseError(f"{path.name}: {what} has {arr.size} values, expected {3 * count} (x, y, c per joint)")
    return arr.reshape(-1, 3)[:count] if what != "pose_keypoints_2d" else arr.reshape(-1, 3)


def _frame_key(path: Path):
    numbers = re.findall(r"\d+", path.stem)
    return (int(numbers[-1]) if numbers else -1, path.name)


def load_folder(folder: Path, options: ImportOptions):
    files = sorted(folder.glob("*.json"), key=_frame_key)
    if not files:
        raise PoseError("no per-frame JSON files in the folder")
    xy, conf = empty_arrays(len(files))
    for t, path in enumerate(files):
        try:
            people = json.loads(path.read_text()).get("people", [])
        except json.JSONDecodeError as err:
            raise PoseError(f"{path.name}: corrupt JSON ({err})") from None
        if not people:
            continue
        bodies = [_triplets(p.get("pose_keypoints_2d"), 8, "pose_keypoints_2d", path) for p in people]
        best = int(np.argmax([b[:, 2].mean() for b in bodies]))
        person = people[best]
        body = bodies[best][BODY_INDEX]
        right = _triplets(person.get("hand_right_keypoints_2d"), 21, "hand_right_keypoints_2d", path)
        left = _triplets(person.get("hand_left_keypoints_2d"), 21, "hand_left_keypoints_2d", path)
        for part, arr in ((RIGHT_HAND, right), (LEFT_HAND, left), (BODY, body)):
            xy[t, part], conf[t, part] = arr[:, :2], arr[:, 2]
    return build(xy, conf, options)


SUFFIXES = (".json",)  # one file per frame, a folder per sample
NAMED_BY = ("_keypoints.json",)  # OpenPose's own file names


def find(src: Path, options: ImportOptions):
    """`src` is one sample folder (JSON files inside) or a folder of such folders."""
    if not src.is_dir():
        raise FileNotFoundError(f"{src}: OpenPose input must be a folder of per-frame JSON files or of such folders")
    folders = sorted({p.parent for p in src.rglob("*") if p.suffix.lower() in SUFFIXES})
    root = src if folders != [src] else src.parent
    for folder in folders:
        yield SampleSource(sample_id(folder, root), folder, lambda f=folder: load_folder(f, options))
