"""Videos as an input format: the pose estimator runs on each video when it is read, so
`masa predict sign.mp4` and `masa data import FOLDER --format video` take videos directly.

For many videos, run `masa extract FOLDER --out POSES --workers N` once (in parallel,
resumable) and import the `.pose` files; this format extracts one video at a time.
"""
from __future__ import annotations

from pathlib import Path

from masa.extract.video import VIDEO_SUFFIXES
from masa.poses import pose_file
from masa.poses.source import ImportOptions, SampleSource, files_with_suffix, sample_id

SUFFIXES = VIDEO_SUFFIXES


def load(path: Path, options: ImportOptions):
    from masa.extract.extract import video_to_pose  # only videos need the estimator

    return pose_file.from_pose(video_to_pose(path), options)


def find(src: Path, options: ImportOptions):
    root = src if src.is_dir() else src.parent
    for path in files_with_suffix(src, SUFFIXES):
        yield SampleSource(sample_id(path, root), path, lambda p=path: load(p, options))
