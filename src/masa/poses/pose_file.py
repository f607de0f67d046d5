"""`.pose` files of the pose-format library, mapped by component and point names.

Known components: MediaPipe Holistic (POSE_LANDMARKS, LEFT_HAND_LANDMARKS,
RIGHT_HAND_LANDMARKS) and OpenPose (pose_keypoints_2d, hand_left_keypoints_2d,
hand_right_keypoints_2d). Joints a file lacks (the reduced Holistic has no nose) get
confidence 0. The first person is used; image size and fps come from the header.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from masa.poses.record import PoseError
from masa.poses.source import ImportOptions, SampleSource, build, files_with_suffix, sample_id
from masa.skeleton import HAND_JOINTS, JOINT_INDEX

MEDIAPIPE_HAND = (
    "WRIST", "THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP",
    "INDEX_FINGER_MCP", "INDEX_FINGER_PIP", "INDEX_FINGER_DIP", "INDEX_FINGER_TIP",
    "MIDDLE_FINGER_MCP", "MIDDLE_FINGER_PIP", "MIDDLE_FINGER_DIP", "MIDDLE_FINGER_TIP",
    "RING_FINGER_MCP", "RING_FINGER_PIP", "RING_FINGER_DIP", "RING_FINGER_TIP",
    "PINKY_MCP", "PINKY_PIP", "PINKY_DIP", "PINKY_TIP",
)
OPENPOSE_HAND = (
    "BASE", "T_STT", "T_BCMC", "T_MCP", "T_IP", "I_CMC", "I_MCP", "I_PIP", "I_DIP",
    "M_CMC", "M_MCP", "M_PIP", "M_DIP", "R_CMC", "R_MCP", "R_PIP", "R_DIP",
    "P_CMC", "P_MCP", "P_PIP", "P_DIP",
)
HAND_NAMES = {n: j for names in (MEDIAPIPE_HAND, OPENPOSE_HAND) for n, j in zip(names, HAND_JOINTS)}
BODY_NAMES = {
    "NOSE": "nose", "LEFT_SHOULDER": "left_shoulder", "LEFT_ELBOW": "left_elbow", "LEFT_WRIST": "left_wrist",
    "RIGHT_SHOULDER": "right_shoulder", "RIGHT_ELBOW": "right_elbow", "RIGHT_WRIST": "right_wrist",
    "Nose": "nose", "LShoulder": "left_shoulder", "LElbow": "left_elbow", "LWrist": "left_wrist",
    "RShoulder": "right_shoulder", "RElbow": "right_elbow", "RWrist": "right_wrist",
}
COMPONENTS = {
    "POSE_LANDMARKS": ("", BODY_NAMES), "pose_keypoints_2d": ("", BODY_NAMES),
    "LEFT_HAND_LANDMARKS": ("left_hand_", HAND_NAMES), "hand_left_keypoints_2d": ("left_hand_", HAND_NAMES),
    "RIGHT_HAND_LANDMARKS": ("right_hand_", HAND_NAMES), "hand_right_keypoints_2d": ("right_hand_", HAND_NAMES),
}


def canonical_index(header) -> dict[int, int]:
    """{flat point index in the file: canonical joint index} from component and point names."""
    mapping, offset = {}, 0
    for comp in header.components:
        prefix, names = COMPONENTS.get(comp.name, (None, {}))
        for i, point in enumerate(comp.points):
            if prefix is not None and point in names:
                mapping[offset + i] = JOINT_INDEX[prefix + names[point]]
        offset += len(comp.points)
    return mapping


def load(path: Path, options: ImportOptions):
    from pose_format import Pose  # imported here: only this format needs it

    try:
        pose = Pose.read(path.read_bytes())
    except Exception as err:
        raise PoseError(f"not a readable .pose file ({type(err).__name__}: {err})") from None
    return from_pose(pose, options)


def from_pose(pose, options: ImportOptions):
    """A pose-format Pose (read from a file or just extracted from a video) -> SignPose."""
    mapping = canonical_index(pose.header)
    if not mapping:
        names = [c.name for c in pose.header.components]
        raise PoseError(f"no known component among {names}")
    data = np.ma.getdata(pose.body.data)[:, 0, :, :2].astype(np.float32)  # first person
    missing = np.ma.getmaskarray(pose.body.data)[:, 0, :, :2].any(-1)
    conf = np.where(missing, 0.0, np.asarray(pose.body.confidence)[:, 0]).astype(np.float32)
    src = np.array(list(mapping))
    dst = np.array(list(mapping.values()))
    xy = np.zeros((len(data), 49, 2), np.float32)
    c = np.zeros((len(data), 49), np.float32)
    xy[:, dst], c[:, dst] = data[:, src], conf[:, src]
    dims = pose.header.dimensions
    size = (dims.width, dims.height) if dims.width and dims.height else None
    return build(xy, c, options, size, fps=float(pose.body.fps))


SUFFIXES = (".pose",)


def find(src: Path, options: ImportOptions):
    root = src if src.is_dir() else src.parent
    for path in files_with_suffix(src, SUFFIXES):
        yield SampleSource(sample_id(path, root), path, lambda p=path: load(p, options))
