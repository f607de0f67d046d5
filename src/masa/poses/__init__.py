"""Importers: estimator output -> `SignPose` records in the canonical skeleton.

Each format is one module with a `find(src, options)` generator of `SampleSource`s and the
file suffixes it reads; `FORMATS` names them for the command line (choices, help, and the
guess from a file name), so a new format is one module and one entry below.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from masa.poses import coco_wholebody, mediapipe, npz_layout, openpose, pose_file, video
from masa.poses.record import PoseError, SignPose, make_pose
from masa.poses.source import ImportOptions, SampleSource



@dataclass(frozen=True)
class Format:
    find: Callable[[Path, ImportOptions], Iterator[SampleSource]]
    about: str  # what it reads, for --help
    suffixes: tuple[str, ...]  # the files it reads
    named_by: tuple[str, ...] = ()  # file names that say "this format" when --format is not given


FORMATS: dict[str, Format] = {
    "coco-wholebody": Format(coco_wholebody.find, "MMPose JSON / pickle, RTMPose, RTMW, DWPose arrays",
                             coco_wholebody.SUFFIXES, coco_wholebody.NAMED_BY),
    "mediapipe-holistic": Format(mediapipe.find_holistic, "543 / 75 landmarks, flat vectors, Kaggle parquet",
                                 mediapipe.HOLISTIC_SUFFIXES, (".parquet",)),
    "mediapipe-hands": Format(mediapipe.find_hands, "two unlabelled hand slots", mediapipe.HANDS_SUFFIXES),
    "openpose": Format(openpose.find, "per-frame JSON folders", openpose.SUFFIXES, openpose.NAMED_BY),
    "pose": Format(pose_file.find, "pose-format .pose files", pose_file.SUFFIXES, pose_file.SUFFIXES),
    "npz": Format(npz_layout.find, "generic arrays + a layout JSON (--layout)", npz_layout.SUFFIXES),
    "video": Format(video.find, "videos (.mp4, .mov, ...): MediaPipe Holistic runs on each; needs masa[video]",
                    video.SUFFIXES, video.SUFFIXES),
}
ALIASES = {"mmpose": "coco-wholebody", "rtmpose": "coco-wholebody", "rtmw": "coco-wholebody", "dwpose": "coco-wholebody"}


def find_samples(src: Path | str, fmt: str, options: ImportOptions | None = None) -> Iterator[SampleSource]:
    """Every sample the importer for `fmt` finds under `src`."""
    name = ALIASES.get(fmt, fmt)
    if name not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(sorted(FORMATS) + sorted(ALIASES))}")
    return FORMATS[name].find(Path(src), options or ImportOptions())


def found_nothing(src: Path | str, fmt: str) -> str:
    """Why `fmt` found no sample under `src`, saying what is there instead."""
    src = Path(src)
    if not src.exists():
        return f"{src}: no such file or folder"
    files = [src] if src.is_file() else [p for p in src.rglob("*") if p.is_file()]
    kinds = Counter(p.suffix.lower() or "(no extension)" for p in files)
    there = ", ".join(f"{n} {k}" for k, n in kinds.most_common(5)) or "nothing"
    return f"{src}: found no {fmt} files (it holds {there}); is --format right?"


def format_help() -> str:
    """The --format help line, from FORMATS and ALIASES."""
    aliases = {name: [a for a, to in ALIASES.items() if to == name] for name in FORMATS}
    return "; ".join(f"{name}{' (' + ', '.join(aliases[name]) + ')' if aliases[name] else ''}: {f.about}"
                     for name, f in FORMATS.items())


def _named(name: str) -> str | None:
    """The format a file name says, the longest matching `named_by` winning (x_keypoints.json: openpose)."""
    name = name.lower()
    hits = [(len(end), fmt) for fmt, f in FORMATS.items() for end in f.named_by if name.endswith(end)]
    return max(hits)[1] if hits else None


def guess_format(path: Path | str) -> str:
    """The format of a single file or sample folder, from its file names (for `masa predict`)."""
    path = Path(path)
    files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    named = Counter(fmt for fmt in map(_named, (p.name for p in files)) if fmt)
    if named:
        return named.most_common(1)[0][0]
    raise ValueError(f"{path}: cannot tell the format from the name; give --format")


def read_pose(path: Path | str, fmt: str | None = None, options: ImportOptions | None = None) -> SignPose:
    """Read the one sample in `path` (a file, or a per-frame folder)."""
    sources = list(find_samples(path, fmt or guess_format(path), options))
    if len(sources) != 1:
        raise PoseError(f"{path}: expected one sample, found {len(sources)}")
    return sources[0].load()


__all__ = ["FORMATS", "ImportOptions", "PoseError", "SampleSource", "SignPose", "find_samples", "make_pose", "read_pose"]
