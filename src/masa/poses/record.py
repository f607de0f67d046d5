"""`SignPose`: what every importer returns, in the canonical 49-joint order."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from masa.skeleton import NUM_JOINTS


class PoseError(ValueError):
    """A sample that cannot become a valid record; the message says what is wrong."""


@dataclass
class SignPose:
    """One signing video as 2-D keypoints.

    xy:   (T, 49, 2) float32, image pixels (or the estimator's units, see `image_size`).
    conf: (T, 49) float32 in [0, 1]; 0 marks a missing joint, whose xy is 0.
    image_size: (W, H) of the frame in the units of `xy`.
    """

    xy: np.ndarray
    conf: np.ndarray
    image_size: tuple[float, float]
    fps: float | None = None
    meta: dict = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.xy.shape[0])

    def validate(self) -> "SignPose":
        """Check shapes and values; raise PoseError naming the problem. Returns self."""
        xy, conf = self.xy, self.conf
        if xy.ndim != 3 or xy.shape[1:] != (NUM_JOINTS, 2):
            raise PoseError(f"keypoints have shape {xy.shape}, expected (T, {NUM_JOINTS}, 2)")
        if conf.shape != xy.shape[:2]:
            raise PoseError(f"confidence has shape {conf.shape}, expected {xy.shape[:2]}")
        if xy.shape[0] == 0:
            raise PoseError("zero frames")
        if not np.isfinite(xy).all():
            bad = int((~np.isfinite(xy)).any(axis=(1, 2)).argmax())
            raise PoseError(f"non-finite coordinate (NaN or inf), first in frame {bad}")
        if not np.isfinite(conf).all():
            raise PoseError("non-finite confidence (NaN or inf)")
        if conf.min() < 0 or conf.max() > 1.0 + 1e-4:
            raise PoseError(f"confidence outside [0, 1]: min {conf.min():.3g}, max {conf.max():.3g}")
        if not (conf > 0).any():
            raise PoseError("all-zero confidence: no joint was detected in any frame")
        w, h = self.image_size
        if not (w > 0 and h > 0 and np.isfinite(w) and np.isfinite(h)):
            raise PoseError(f"invalid image size {self.image_size}")
        far = self._outside(1.0)  # more than one image beyond an edge: not pixels of this image
        if far.any():
            worst = float(np.abs(xy[conf > 0][far]).max())
            raise PoseError(f"coordinates far outside the {w:g}x{h:g} image (up to {worst:.3g}): "
                            "not keypoints in pixels of this image; check --image-size")
        return self

    def outside_image(self, margin: float = 0.1) -> bool:
        """Whether detected joints fall outside the image by more than `margin` of its size
        (the import warns: the wrong --image-size, or samples of mixed sizes)."""
        return bool(self._outside(margin).any())

    def _outside(self, margin: float) -> np.ndarray:
        """Per detected joint (conf > 0): more than `margin` image sizes beyond an edge."""
        size = np.array(self.image_size)
        seen = self.xy[self.conf > 0]
        return ((seen < -margin * size) | (seen > (1 + margin) * size)).any(axis=-1)


def make_pose(xy, conf, image_size, fps=None, **meta) -> SignPose:
    """Build a record, zero the coordinates of missing joints, and validate it."""
    xy = np.asarray(xy, dtype=np.float32)
    conf = np.asarray(conf, dtype=np.float32)
    if xy.ndim == 3 and conf.shape == xy.shape[:2]:
        xy = np.where(conf[..., None] > 0, xy, 0.0).astype(np.float32)
    pose = SignPose(xy, conf, (float(image_size[0]), float(image_size[1])), fps, dict(meta))
    return pose.validate()


def empty_arrays(num_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Zero (T, 49, 2) coordinates and (T, 49) confidences for importers to fill."""
    return (np.zeros((num_frames, NUM_JOINTS, 2), np.float32), np.zeros((num_frames, NUM_JOINTS), np.float32))
