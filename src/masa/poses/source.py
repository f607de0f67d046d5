"""What importers share: their options, the sample handle they yield, and layout mapping."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from masa.poses.record import PoseError, SignPose, make_pose
from masa.skeleton import JOINT_INDEX, NUM_JOINTS


@dataclass
class ImportOptions:
    """Choices an importer cannot read from the files themselves."""

    image_size: tuple[float, float] | None = None  # (W, H); else read from the file or estimated
    mirrored: bool = False  # selfie video: the signer's right hand is on the image's right
    holistic_order: str = "pose,face,left,right"  # component order of 543-landmark arrays (Kaggle: face,left,pose,right)
    layout: Path | None = None  # layout JSON of the generic npz format
    person: str = "score"  # several people in a frame: keep the highest mean 'score' or the 'largest'


@dataclass
class SampleSource:
    """One sample an importer found: its id, where it comes from, and how to read it."""

    id: str
    path: Path
    load: Callable[[], SignPose]


def sample_id(path: Path, root: Path) -> str:
    """Sample id = path relative to the import root, without extension ('book/07069')."""
    try:
        rel = path.relative_to(root) if path != root else Path(path.name)
    except ValueError:
        rel = Path(path.name)
    return rel.with_suffix("").as_posix() if rel.suffix else rel.as_posix()


def files_with_suffix(src: Path, suffixes: Sequence[str]) -> list[Path]:
    """`src` itself if it is such a file, else every such file below it, sorted."""
    if src.is_file():
        return [src]
    if not src.is_dir():
        raise FileNotFoundError(f"{src}: no such file or folder")
    return sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)


def index_map(pairs: dict[str, int]) -> np.ndarray:
    """{canonical joint name: source index} -> (49,) source index per canonical joint, -1 = none."""
    out = np.full(NUM_JOINTS, -1, np.int64)
    for name, src in pairs.items():
        out[JOINT_INDEX[name]] = src
    return out


def gather(src_xy, src_conf, mapping: np.ndarray):
    """Pick canonical joints from source arrays (T, J, 2) and (T, J); unmapped joints get conf 0."""
    src_xy = np.asarray(src_xy, np.float32)
    src_conf = np.asarray(src_conf, np.float32)
    T = src_xy.shape[0]
    xy = np.zeros((T, NUM_JOINTS, 2), np.float32)
    conf = np.zeros((T, NUM_JOINTS), np.float32)
    have = mapping >= 0
    if mapping.max(initial=-1) >= src_xy.shape[1]:
        raise PoseError(f"expected at least {mapping.max() + 1} joints per frame, got {src_xy.shape[1]}")
    xy[:, have] = src_xy[:, mapping[have]]
    conf[:, have] = src_conf[:, mapping[have]]
    return xy, conf


def missing_as_zero_confidence(xy, conf):
    """NaN coordinates (how several estimators write 'not detected') -> conf 0, xy 0."""
    bad = ~np.isfinite(xy).all(axis=-1)
    conf = np.where(bad, 0.0, conf)
    xy = np.where(bad[..., None], 0.0, xy)
    return xy, conf


def image_size_or_estimate(xy, conf, options: ImportOptions, given=None):
    """The frame size: from the options, else from the file, else the keypoints' extent."""
    if options.image_size is not None:
        return tuple(options.image_size), False
    if given is not None:
        return tuple(float(v) for v in given), False
    seen = xy[conf > 0]
    if len(seen) == 0:
        return (1.0, 1.0), True
    # Outliers (a stray 1e30) must not set the size, or they shrink every real joint to ~0:
    # leave them outside the estimated image, where validation rejects the sample.
    typical = np.nanpercentile(np.abs(seen), 90, axis=0)
    seen = seen[(np.abs(seen) <= 20 * np.maximum(typical, 1e-6)).all(axis=1)]
    hi = np.nanmax(seen, axis=0)
    return (float(max(hi[0], 1e-6)) * 1.02, float(max(hi[1], 1e-6)) * 1.02), True


def build(xy, conf, options: ImportOptions, image_size=None, fps=None, **meta) -> SignPose:
    """Finish a record: clip estimator scores into [0, 1], estimate the image size if unknown, validate."""
    conf = np.clip(conf, 0.0, 1.0)
    size, estimated = image_size_or_estimate(xy, conf, options, image_size)
    if estimated:
        meta["image_size_estimated"] = True
    return make_pose(xy, conf, size, fps, **meta)
