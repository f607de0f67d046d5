"""Pose estimators behind one small interface, by name.

An estimator is created once per video (trackers keep state between frames) and is
    header(width, height) -> pose_format.PoseHeader   the components and points it writes
    __call__(rgb (H, W, 3) uint8) -> (data (P, D), confidence (P,))   one frame, in pixels
    close()
A new backend (e.g. RTMPose through rtmlib, for users who have its ONNX files) is one module
and one line in ESTIMATORS; its header's component names must be ones `masa.poses.pose_file`
maps to the canonical skeleton.
"""
from __future__ import annotations

from typing import Callable, Protocol

import numpy as np


class Estimator(Protocol):
    def header(self, width: int, height: int): ...
    def __call__(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...
    def close(self) -> None: ...


def _mediapipe_holistic() -> Estimator:
    from masa.extract.estimators.mediapipe_holistic import MediaPipeHolistic

    return MediaPipeHolistic()


ESTIMATORS: dict[str, Callable[[], Estimator]] = {
    "mediapipe-holistic": _mediapipe_holistic,
}
DEFAULT_ESTIMATOR = "mediapipe-holistic"


def create_estimator(name: str = DEFAULT_ESTIMATOR) -> Estimator:
    if name not in ESTIMATORS:
        raise ValueError(f"unknown pose estimator {name!r}; known: {', '.join(ESTIMATORS)}")
    return ESTIMATORS[name]()
