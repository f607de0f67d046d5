"""COCO-WholeBody (133 keypoints): MMPose, RTMPose / RTMW / DWPose outputs.

Accepted per sample:
  * MMPose 1.x prediction JSON: {"instance_info": [{"frame_id", "instances": [{"keypoints",
    "keypoint_scores", "bbox"}]}]} (demo --save-predictions), or a list of such frames
    (MMPoseInferencer), or a folder of per-frame JSON lists of instances;
  * MMPose 0.x / COCO result JSON: a list of {"image_id", "keypoints": [x, y, s] * 133};
  * pickles of spec §2.7: {"keypoints": (T, 133, 3), "img_list": [...]}, optionally inside
    {"video_data": ..., "img_size": [[W, H]]}, or a cache dict {video_name: that}. Read with
    a restricted unpickler (numpy arrays and containers only);
  * .npz / .npy arrays as RTMPose/RTMW/DWPose (rtmlib) give them: keypoints (T, [P,] 133, 2|3)
    with optional scores (T, [P,] 133).
Joint map (spec §2.2): right hand 112-132, left hand 91-111, body 0, 5, 7, 9, 6, 8, 10.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from masa.poses.record import PoseError
from masa.poses.safe_pickle import safe_load
from masa.poses.source import ImportOptions, SampleSource, build, files_with_suffix, gather, index_map, sample_id
from masa.skeleton import BODY_JOINTS, HAND_JOINTS

NUM_KEYPOINTS = 133
MAPPING = index_map(
    {f"right_hand_{j}": 112 + i for i, j in enumerate(HAND_JOINTS)}
    | {f"left_hand_{j}": 91 + i for i, j in enumerate(HAND_JOINTS)}
    | dict(zip(BODY_JOINTS, (0, 5, 7, 9, 6, 8, 10)))
)
SUFFIXES = (".json", ".pkl", ".pickle", ".npz", ".npy")
NAMED_BY = (".json", ".pkl", ".pickle")  # suffixes that say "this format" when --format is not given


def _pick_person(people_xy, people_score, how: str) -> int:
    """Index of the signer among P candidates: (P, J, 2), (P, J)."""
    if how == "largest":
        extent = np.nanmax(people_xy, axis=1) - np.nanmin(people_xy, axis=1)
        return int(np.argmax(extent[:, 0] * extent[:, 1]))
    return int(np.argmax(np.nanmean(people_score, axis=1)))


def _frames_from_instances(frames: list[list[dict]], how: str):
    """Per frame a list of {'keypoints', 'keypoint_scores'} -> (T, 133, 2), (T, 133)."""
    T = len(frames)
    xy = np.zeros((T, NUM_KEYPOINTS, 2), np.float32)
    score = np.zeros((T, NUM_KEYPOINTS), np.float32)
    for t, people in enumerate(frames):
        if not people:
            continue
        kp = np.array([np.asarray(p["keypoints"], np.float32).reshape(-1, 2 if "keypoint_scores" in p else 3) for p in people])
        if "keypoint_scores" in people[0]:
            sc = np.array([np.asarray(p["keypoint_scores"], np.float32) for p in people])
        else:  # flat [x, y, s] triplets (MMPose 0.x / COCO results)
            kp, sc = kp[..., :2], kp[..., 2]
        if kp.shape[1] != NUM_KEYPOINTS:
            raise PoseError(f"frame {t}: {kp.shape[1]} keypoints, expected {NUM_KEYPOINTS} (COCO-WholeBody)")
        best = _pick_person(kp, sc, how)
        xy[t], score[t] = kp[best], sc[best]
    return xy, score


def _parse_json(data, how: str):
    if isinstance(data, dict) and "instance_info" in data:
        frames = sorted(data["instance_info"], key=lambda f: f.get("frame_id", 0))
        return _frames_from_instances([f["instances"] for f in frames], how)
    if isinstance(data, list) and data and isinstance(data[0], dict) and "instances" in data[0]:
        return _frames_from_instances([f["instances"] for f in data], how)
    if isinstance(data, list) and data and isinstance(data[0], dict) and "image_id" in data[0]:
        by_image: dict = {}
        for inst in data:
            by_image.setdefault(inst["image_id"], []).append(inst)
        return _frames_from_instances([by_image[k] for k in sorted(by_image)], how)
    raise PoseError("unrecognised JSON layout (expected MMPose 'instance_info', frames with 'instances', or COCO results)")


def _frame_number(name: str) -> int:
    """Frame order key: the integer after the last '_' of a frame file name (spec §2.6)."""
    m = re.search(r"(\d+)(?!.*\d)", Path(str(name)).stem.split("_")[-1])
    return int(m.group(1)) if m else 0


def _from_video_data(video: dict):
    """Spec §2.7 'video_data': keypoints (T, 133, 3) and img_list -> xy, score in frame order."""
    kp = np.asarray(video["keypoints"], np.float32)
    if kp.ndim != 3 or kp.shape[1:] != (NUM_KEYPOINTS, 3):
        raise PoseError(f"keypoints have shape {kp.shape}, expected (T, 133, 3)")
    names = video.get("img_list")
    if names is not None and len(names) == len(kp):
        kp = kp[np.argsort([_frame_number(n) for n in names], kind="stable")]
    return kp[..., :2], kp[..., 2]


def _pickle_samples(path: Path, root: Path, options: ImportOptions):
    """A per-video pickle is one sample; a cache dict {video_name: {...}} holds many."""
    data = safe_load(path.read_bytes())

    def one(entry):
        video = entry.get("video_data", entry)
        size = entry.get("img_size")
        size = np.asarray(size, np.float64).reshape(-1)[:2] if size is not None else None
        xy, score = _from_video_data(video)
        xy, conf = gather(xy, score, MAPPING)
        return build(xy, conf, options, size, label=entry.get("label"))

    if isinstance(data, dict) and ("keypoints" in data or "video_data" in data):
        return [SampleSource(sample_id(path, root), path, lambda: one(data))]
    if isinstance(data, dict):
        return [SampleSource(str(name), path, (lambda e=entry: one(e))) for name, entry in data.items()]
    raise PoseError(f"unrecognised pickle content of type {type(data).__name__}")


def _load_array(path: Path, options: ImportOptions):
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            kp = z["keypoints"]
            scores = z["scores"] if "scores" in z else None
    else:
        kp, scores = np.load(path, allow_pickle=False), None
    kp = np.asarray(kp, np.float32)
    if scores is None:
        if kp.shape[-1] != 3:
            raise PoseError(f"keypoints have shape {kp.shape}: without 'scores' the last axis must be (x, y, score)")
        kp, scores = kp[..., :2], kp[..., 2]
    if kp.ndim == 4:  # (T, P, 133, 2): several people per frame
        picks = [_pick_person(kp[t], scores[t], options.person) for t in range(len(kp))]
        kp, scores = kp[np.arange(len(kp)), picks], scores[np.arange(len(kp)), picks]
    if kp.ndim != 3 or kp.shape[1] != NUM_KEYPOINTS:
        raise PoseError(f"keypoints have shape {kp.shape}, expected (T, 133, 2)")
    return kp[..., :2], scores


def find(src: Path, options: ImportOptions):
    """Every sample under `src`: a file each, or a folder of per-frame JSONs each."""
    root = src if src.is_dir() else src.parent
    per_frame_dirs = set()
    for path in files_with_suffix(src, SUFFIXES):
        if path.suffix == ".json" and _is_frame_list(path):
            per_frame_dirs.add(path.parent)
            continue
        if path.suffix in (".pkl", ".pickle"):
            yield from _lazy_pickle(path, root, options)
            continue
        yield SampleSource(sample_id(path, root), path, lambda p=path: _load_file(p, options))
    for folder in sorted(per_frame_dirs):
        yield SampleSource(sample_id(folder, root), folder, lambda f=folder: _load_frame_folder(f, options))


def _lazy_pickle(path, root, options):
    try:
        yield from _pickle_samples(path, root, options)
    except Exception as err:  # the file itself is unreadable: report it as one bad sample
        def fail(err=err):
            raise PoseError(f"cannot read pickle: {err}")
        yield SampleSource(sample_id(path, root), path, fail)


def _is_frame_list(path: Path) -> bool:
    """A per-frame JSON: a list of instances of one image. Per-video files name their frames
    ('instances', 'frame_id', 'image_id') before the long keypoint lists; a frame list does not."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096).lstrip()
        video_keys = (b'"instances"', b'"frame_id"', b'"image_id"')
        return head.startswith(b"[") and b'"keypoints"' in head and not any(k in head for k in video_keys)
    except OSError:
        return False


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise PoseError(f"{path.name}: corrupt or truncated JSON ({err})") from None


def _load_file(path: Path, options: ImportOptions):
    if path.suffix == ".json":
        xy, score = _parse_json(_read_json(path), options.person)
    else:
        xy, score = _load_array(path, options)
    xy, conf = gather(xy, score, MAPPING)
    return build(xy, conf, options)


def _load_frame_folder(folder: Path, options: ImportOptions):
    files = sorted(folder.glob("*.json"), key=lambda p: (_frame_number(p.name), p.name))
    frames = [_read_json(p) for p in files]
    xy, score = _frames_from_instances(frames, options.person)
    xy, conf = gather(xy, score, MAPPING)
    return build(xy, conf, options)
