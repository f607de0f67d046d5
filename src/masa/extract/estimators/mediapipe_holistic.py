"""MediaPipe Holistic through its legacy `solutions` API, at model_complexity=1: the pose, hand
and face models that the wheel bundles, so it runs offline (complexity 0 and 2 download).

Each frame gives the layout pose-format's own Holistic writer uses (POSE_LANDMARKS 33,
FACE_LANDMARKS 468, LEFT_HAND_LANDMARKS 21, RIGHT_HAND_LANDMARKS 21, POSE_WORLD_LANDMARKS 33;
x, y in pixels, z, and a confidence: the pose's visibility, 1 for a found hand or face, 0 for
one not found), so the files open in pose-format's viewers and tools.
"""
from __future__ import annotations

import numpy as np

from masa.extract.quiet import native_stderr_silenced


class MediaPipeHolistic:
    def __init__(self):
        import mediapipe as mp  # installed: create_estimator checked

        with native_stderr_silenced():
            self._model = mp.solutions.holistic.Holistic(static_image_mode=False, model_complexity=1)
        self._first = True

    def header(self, width: int, height: int):
        from pose_format.pose_header import PoseHeader, PoseHeaderDimensions
        from pose_format.utils.holistic import holistic_components

        return PoseHeader(version=0.2, dimensions=PoseHeaderDimensions(width=width, height=height, depth=0),
                          components=holistic_components("XYZC"))

    def __call__(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from pose_format.utils.holistic import body_points, component_points

        if self._first:  # the graph starts on the first frame and logs its set-up
            with native_stderr_silenced():
                r = self._model.process(rgb)
            self._first = False
        else:
            r = self._model.process(rgb)
        h, w = rgb.shape[:2]
        parts = [body_points(r.pose_landmarks, w, h, 33), component_points(r.face_landmarks, w, h, 468),
                 component_points(r.left_hand_landmarks, w, h, 21), component_points(r.right_hand_landmarks, w, h, 21),
                 body_points(r.pose_world_landmarks, w, h, 33)]
        return np.concatenate([d for d, _ in parts]), np.concatenate([c for _, c in parts])

    def close(self) -> None:
        with native_stderr_silenced():
            self._model.close()
