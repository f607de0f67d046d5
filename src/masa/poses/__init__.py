"""Importers: estimator output -> `SignPose` records in the canonical skeleton.

Each format is one module with a `find(src, options)` generator of `SampleSource`s;
`FORMATS` names them for the command line.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Callable, Iterator

from masa.poses import coco_wholebody, mediapipe, npz_layout, openpose, pose_file
from masa.poses.record import PoseError, SignPose, make_pose
from masa.poses.source import ImportOptions, SampleSource

FORMATS: dict[str, Callable[[Path, ImportOptions], Iterator[SampleSource]]] = {
    "coco-wholebody": coco_wholebody.find,  # MMPose JSON / pickle, RTMPose, RTMW, DWPose arrays
    "mediapipe-holistic": mediapipe.find_holistic,  # 543 / 75 landmarks, flat vectors, Kaggle parquet
    "mediapipe-hands": mediapipe.find_hands,  # two unlabelled hand slots
    "openpose": openpose.find,  # per-frame JSON folders
    "pose": pose_file.find,  # pose-format .pose files
    "npz": npz_layout.find,  # generic arrays + layout JSON
}
ALIASES = {"mmpose": "coco-wholebody", "rtmpose": "coco-wholebody", "rtmw": "coco-wholebody", "dwpose": "coco-wholebody"}


def find_samples(src: Path | str, fmt: str, options: ImportOptions | None = None) -> Iterator[SampleSource]:
    """Every sample the importer for `fmt` finds under `src`."""
    name = ALIASES.get(fmt, fmt)
    if name not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(sorted(FORMATS) + sorted(ALIASES))}")
    return FORMATS[name](Path(src), options or ImportOptions())


def found_nothing(src: Path | str, fmt: str) -> str:
    """Why `fmt` found no sample under `src`, saying what is there instead."""
    src = Path(src)
    if not src.exists():
        return f"{src}: no such file or folder"
    files = [src] if src.is_file() else [p for p in src.rglob("*") if p.is_file()]
    kinds = Counter(p.suffix.lower() or "(no extension)" for p in files)
    there = ", ".join(f"{n} {k}" for k, n in kinds.most_common(5)) or "nothing"
    return f"{src}: found no {fmt} files (it holds {there}); is --format right?"


def guess_format(path: Path | str) -> str:
    """The format of a single file or sample folder, from its suffix (for `masa predict`)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".pose":
        return "pose"
    if suffix == ".parquet":
        return "mediapipe-holistic"
    if suffix in (".json", ".pkl", ".pickle"):
        return "coco-wholebody"
    if path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file()]
        suffixes = {p.suffix.lower() for p in files}
        for ext, fmt in ((".pose", "pose"), (".parquet", "mediapipe-holistic"), (".pkl", "coco-wholebody")):
            if ext in suffixes:
                return fmt
        if any(p.name.endswith("_keypoints.json") for p in files):
            return "openpose"
        if ".json" in suffixes:
            return "coco-wholebody"
    raise ValueError(f"{path}: cannot tell the format from the name; give --format")


def read_pose(path: Path | str, fmt: str | None = None, options: ImportOptions | None = None) -> SignPose:
    """Read the one sample in `path` (a file, or a per-frame folder)."""
    sources = list(find_samples(path, fmt or guess_format(path), options))
    if len(sources) != 1:
        raise PoseError(f"{path}: expected one sample, found {len(sources)}")
    return sources[0].load()


__all__ = ["FORMATS", "ImportOptions", "PoseError", "SampleSource", "SignPose", "find_samples", "make_pose", "read_pose"]
