"""Reading videos and cameras with OpenCV: frames as RGB arrays, with fps and size."""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from masa.extras import require

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
DEFAULT_FPS = 30.0  # when a camera or file does not say
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # FFmpeg quiet: a bad video gets our own one-line error


class VideoError(ValueError):
    """A video that cannot be read; the message starts with the file (or camera)."""


@dataclass(frozen=True)
class VideoInfo:
    fps: float
    width: int
    height: int
    frames: int  # as the container says (0 = unknown, e.g. a camera)


def camera_or_path(source: str | Path | int) -> str | int:
    """'0' -> camera 0; anything else is a file path."""
    return int(source) if isinstance(source, int) or str(source).isdigit() else str(source)


@contextmanager
def open_video(source: str | Path | int) -> Iterator[tuple[VideoInfo, Iterator[np.ndarray]]]:
    """Open a video file or a camera index -> (info, iterator of RGB frames (H, W, 3) uint8)."""
    require("cv2", purpose="reading video")
    import cv2

    source = camera_or_path(source)
    if isinstance(source, str):
        path = Path(source)
        if not path.is_file():
            raise VideoError(f"{path}: no such file")
        if path.stat().st_size == 0:
            raise VideoError(f"{path}: the file is empty (0 bytes)")
    cap = cv2.VideoCapture(source)
    try:
        if not cap.isOpened():
            what = f"camera {source}" if isinstance(source, int) else source
            raise VideoError(f"{what}: OpenCV cannot open it as a video (damaged, or not a video)")
        info = VideoInfo(fps=cap.get(cv2.CAP_PROP_FPS) or DEFAULT_FPS, width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                         height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                         frames=max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0))

        def frames():
            while True:
                ok, bgr = cap.read()
                if not ok:
                    return
                yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

        yield info, frames()
    finally:
        cap.release()


def find_videos(src: Path) -> list[tuple[Path, Path]]:
    """(video, its path relative to `src`) for `src` itself or every video below it, sorted."""
    src = Path(src)
    if src.is_file():
        return [(src, Path(src.name))]
    if not src.is_dir():
        raise FileNotFoundError(f"{src}: no such file or folder")
    return [(p, p.relative_to(src)) for p in sorted(src.rglob("*")) if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES]
