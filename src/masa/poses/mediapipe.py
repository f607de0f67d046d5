"""MediaPipe: Holistic (543 landmarks, or the 75-point pose+hands subset), Kaggle parquet,
and MediaPipe Hands slots without handedness.

Coordinates are MediaPipe's normalised image coordinates (x / W, y / H); they are scaled
by `--image-size W,H` when given, else kept in [0, 1] (then W = H = 1, so hand boxes are
square in normalised units, not in pixels: pass the real size where the aspect matters).
Pose landmarks carry their visibility as confidence where the file has it; hand
landmarks have none, so a detected hand gets 1 and an absent one (NaN or all zeros) 0.
Holistic's left/right hand are the signer's own.

Array forms accepted (.npy, or .npz with 'keypoints'):
  (T, 543, 3|4)  pose 33, face 468, left 21, right 21 (order: --set holistic_order);
  (T, 75, 3|4)   pose 33, left 21, right 21;
  (T, 1662)      flat: pose 33x4, face 468x3, left 21x3, right 21x3;
  (T, 258)       flat: pose 33x4, left 21x3, right 21x3;
  (T, 126) or (T, 2, 21, 3)  MediaPipe Hands: two unlabelled hand slots (format mediapipe-hands).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from masa.extras import require
from masa.poses.hands import assign_hands
from masa.poses.record import PoseError
from masa.poses.source import ImportOptions, SampleSource, build, files_with_suffix, gather, index_map, sample_id
from masa.skeleton import BODY_JOINTS, HAND_JOINTS, LEFT_HAND, RIGHT_HAND

POSE_INDEX = dict(zip(BODY_JOINTS, (0, 11, 13, 15, 12, 14, 16)))  # MediaPipe Pose landmark ids
COMPONENT_SIZE = {"pose": 33, "face": 468, "left": 21, "right": 21}


def _component_offsets(order: list[str]) -> dict[str, int]:
    offsets, at = {}, 0
    for name in order:
        offsets[name] = at
        at += COMPONENT_SIZE[name]
    return offsets


def holistic_mapping(order: list[str]) -> np.ndarray:
    off = _component_offsets(order)
    pairs = {name: off["pose"] + i for name, i in POSE_INDEX.items()}
    pairs |= {f"left_hand_{j}": off["left"] + i for i, j in enumerate(HAND_JOINTS)}
    pairs |= {f"right_hand_{j}": off["right"] + i for i, j in enumerate(HAND_JOINTS)}
    return index_map(pairs)


def _unflatten(arr: np.ndarray) -> np.ndarray:
    """Flat 1662 / 258 vectors -> (T, J, 4) with visibility 1 for face and hands."""
    T = arr.shape[0]
    pose = arr[:, :132].reshape(T, 33, 4)
    rest = arr[:, 132:].reshape(T, -1, 3)
    rest = np.concatenate([rest, np.ones(rest.shape[:2] + (1,), arr.dtype)], axis=2)
    return np.concatenate([pose, rest], axis=1)


def _holistic(arr: np.ndarray, options: ImportOptions):
    """(T, 543|75, 3|4) or flat (T, 1662|258) -> canonical xy, conf."""
    arr = np.asarray(arr, np.float32)
    if arr.ndim == 2 and arr.shape[1] in (1662, 258):
        arr = _unflatten(arr)
    if arr.ndim != 3 or arr.shape[1] not in (543, 75) or arr.shape[2] not in (3, 4):
        raise PoseError(f"array of shape {arr.shape} is not MediaPipe Holistic (T, 543|75, 3|4) or flat (T, 1662|258)")
    order = [c.strip() for c in options.holistic_order.split(",")]
    if arr.shape[1] == 75:
        order = [c for c in order if c != "face"]
    if sorted(order) != sorted(COMPONENT_SIZE if arr.shape[1] == 543 else ["pose", "left", "right"]):
        raise PoseError(f"holistic_order {options.holistic_order!r} does not name pose, face, left, right")
    xy = arr[..., :2]
    finite = np.isfinite(xy).all(-1)
    conf = arr[..., 3].copy() if arr.shape[2] == 4 else np.ones(arr.shape[:2], np.float32)
    off = _component_offsets(order)
    for hand in ("left", "right"):  # hands: present (finite and not all zero) or absent, per frame
        sl = slice(off[hand], off[hand] + 21)
        seen = finite[:, sl].all(1) & (np.abs(np.nan_to_num(xy[:, sl])).sum((1, 2)) > 0)
        conf[:, sl] = seen[:, None].astype(np.float32)
    conf = np.where(finite, np.nan_to_num(conf), 0.0)
    xy = np.where(finite[..., None], xy, 0.0)
    return gather(xy, conf, holistic_mapping(order))


def _hands_only(arr: np.ndarray, options: ImportOptions):
    """(T, 126) or (T, 2, 21, 3) unlabelled hand slots -> canonical xy, conf (no body)."""
    arr = np.asarray(arr, np.float32)
    if arr.ndim == 2 and arr.shape[1] == 126:
        arr = arr.reshape(-1, 2, 21, 3)
    if arr.ndim != 4 or arr.shape[1:] != (2, 21, 3):
        raise PoseError(f"array of shape {arr.shape} is not MediaPipe Hands slots (T, 126) or (T, 2, 21, 3)")
    joint_ok = np.isfinite(arr[..., :2]).all(-1)  # a NaN joint is a missing joint, not one at (0, 0)
    arr = np.nan_to_num(arr, nan=0.0, posinf=0.0, neginf=0.0)
    present = np.abs(arr[..., :2]).sum((2, 3)) > 0
    midline = np.full(len(arr), 0.5, np.float32)
    slots = np.concatenate([arr[..., :2], joint_ok[..., None]], axis=-1)  # the joint flags travel with their hand
    right, right_ok, left, left_ok = assign_hands(slots, present, midline, options.mirrored)
    xy = np.zeros((len(arr), 49, 2), np.float32)
    conf = np.zeros((len(arr), 49), np.float32)
    xy[:, RIGHT_HAND], conf[:, RIGHT_HAND] = right[..., :2], right[..., 2] * right_ok[:, None]
    xy[:, LEFT_HAND], conf[:, LEFT_HAND] = left[..., :2], left[..., 2] * left_ok[:, None]
    return xy, conf


def _scaled(xy, conf, options: ImportOptions, **meta):
    if options.image_size is None:  # MediaPipe's x and y are shares of the frame's width and height
        meta["normalised_without_size"] = True
    size = options.image_size or (1.0, 1.0)
    return build(xy * np.asarray(size, np.float32), conf, ImportOptions(image_size=size), **meta)


def _read_array(path: Path) -> np.ndarray:
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            return z["keypoints"] if "keypoints" in z else z[z.files[0]]
    return np.load(path, allow_pickle=False)


def read_parquet(path: Path) -> np.ndarray:
    """Kaggle long format (frame, type, landmark_index, x, y, z) -> (T, 543, 3), order face,left,pose,right."""
    require("pyarrow", purpose="reading parquet")
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["frame", "type", "landmark_index", "x", "y"]).to_pydict()
    frames = np.asarray(table["frame"])
    uniq = np.unique(frames)
    offsets = {"face": 0, "left_hand": 468, "pose": 489, "right_hand": 522}
    try:
        base = np.array([offsets[t] for t in table["type"]])
    except KeyError as err:
        raise PoseError(f"unknown landmark type {err.args[0]!r}") from None
    out = np.full((len(uniq), 543, 3), np.nan, np.float32)
    rows = np.searchsorted(uniq, frames)
    cols = base + np.asarray(table["landmark_index"])
    out[rows, cols, 0] = np.asarray(table["x"], np.float64)
    out[rows, cols, 1] = np.asarray(table["y"], np.float64)
    out[..., 2] = 0.0
    return out


HOLISTIC_SUFFIXES = (".npy", ".npz", ".parquet")
HANDS_SUFFIXES = (".npy", ".npz")


def find_holistic(src: Path, options: ImportOptions):
    root = src if src.is_dir() else src.parent
    for path in files_with_suffix(src, HOLISTIC_SUFFIXES):
        def load(path=path):
            if path.suffix == ".parquet":
                arr = read_parquet(path)
                xy, conf = _holistic(arr, ImportOptions(holistic_order="face,left,pose,right"))
            else:
                xy, conf = _holistic(_read_array(path), options)
            return _scaled(xy, conf, options)
        yield SampleSource(sample_id(path, root), path, load)


def find_hands(src: Path, options: ImportOptions):
    root = src if src.is_dir() else src.parent
    for path in files_with_suffix(src, HANDS_SUFFIXES):
        yield SampleSource(sample_id(path, root), path, lambda p=path: _scaled(*_hands_only(_read_array(p), options), options))
