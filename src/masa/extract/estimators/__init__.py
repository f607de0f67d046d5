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

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from masa.extras import require


class Estimator(Protocol):
    def header(self, width: int, height: int): ...
    def __call__(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...
    def close(self) -> None: ...


def _mediapipe_holistic() -> Estimator:
    from masa.extract.estimators.mediapipe_holistic import MediaPipeHolistic

    return MediaPipeHolistic()


@dataclass(frozen=True)
class Backend:
    create: Callable[[], Estimator]
    needs: tuple[str, ...]  # modules it imports (masa.extras names the extra that installs them)


ESTIMATORS: dict[str, Backend] = {
    "mediapipe-holistic": Backend(_mediapipe_holistic, ("mediapipe", "cv2")),
}
DEFAULT_ESTIMATOR = "mediapipe-holistic"


def check_estimator(name: str = DEFAULT_ESTIMATOR) -> Backend:
    """The backend `name`, once its modules are known to be installed (else one MissingExtra)."""
    if name not in ESTIMATORS:
        raise ValueError(f"unknown pose estimator {name!r}; known: {', '.join(ESTIMATORS)}")
    require(*ESTIMATORS[name].needs, purpose=f"pose estimation with {name}")
    return ESTIMATORS[name]


def create_estimator(name: str = DEFAULT_ESTIMATOR) -> Estimator:
    return check_estimator(name).create()
