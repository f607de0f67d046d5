"""`masa extract`: videos in, one pose-format `.pose` file per video out.

    masa extract VIDEO|FOLDER... --out DIR [--workers N] [--overwrite]

A video FOLDER/a/b.mp4 becomes DIR/a/b.pose (the folder's structure is kept, so equal names in
different folders do not collide). A video whose `.pose` exists is skipped unless --overwrite,
so a killed run resumes; each file is written whole or not at all. A
video that cannot be read gets an error line and the others go on. Several videos run in
parallel in separate processes (`--workers`), each with its own estimator.
"""
from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from masa.extract.estimators import DEFAULT_ESTIMATOR, Estimator, check_estimator, create_estimator
from masa.extract.quiet import silence_worker
from masa.extract.video import VideoError, find_videos, open_video
from masa.extras import MissingExtra
from masa.files import atomic_open


def frames_to_pose(header, data: list[np.ndarray], conf: list[np.ndarray], fps: float):
    """Per-frame estimator outputs -> a pose-format Pose (one person)."""
    from pose_format import Pose
    from pose_format.numpy.pose_body import NumPyPoseBody

    body = NumPyPoseBody(fps=fps, data=np.stack(data)[:, None].astype(np.float32),
                         confidence=np.stack(conf)[:, None].astype(np.float32))
    return Pose(header, body)


def video_to_pose(source, estimator: str | Estimator = DEFAULT_ESTIMATOR,
                  on_frame: Callable[[int], None] | None = None):
    """Run the estimator (a name: a fresh one, created once the video opens) over every frame of a
    video -> pose-format Pose with the video's fps and size. `on_frame(total)` is called after
    each frame (total: the container's frame count)."""
    with open_video(source) as (info, frames):
        est = create_estimator(estimator) if isinstance(estimator, str) else estimator
        try:
            data, conf = [], []
            for rgb in frames:
                d, c = est(rgb)
                data.append(d)
                conf.append(c)
                if on_frame:
                    on_frame(info.frames)
            if not data:
                raise VideoError(f"{source}: no frame could be decoded (empty or damaged video)")
            return frames_to_pose(est.header(info.width, info.height), data, conf, info.fps)
        finally:
            if isinstance(estimator, str):
                est.close()


@dataclass
class Outcome:
    video: Path
    out: Path
    frames: int = 0
    seconds: float = 0.0
    error: str | None = None


@dataclass
class Summary:
    done: list[Outcome] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[Outcome] = field(default_factory=list)


def extract_one(video: Path, out: Path, estimator: str = DEFAULT_ESTIMATOR, on_frame=None) -> Outcome:
    """One video to one .pose file; an unreadable video gives an Outcome with `error`."""
    start = time.perf_counter()
    try:
        pose = video_to_pose(video, estimator, on_frame)
        with atomic_open(out, "wb") as f:  # a killed run never leaves half a .pose behind
            pose.write(f)
        return Outcome(video, out, len(pose.body.data), time.perf_counter() - start)
    except MissingExtra:
        raise
    except (VideoError, OSError) as err:
        return Outcome(video, out, error=str(err))
    except Exception as err:  # a decoder or estimator failure on one video must not stop the rest
        return Outcome(video, out, error=f"{video}: {type(err).__name__}: {err}")


def plan(sources: list[Path], out_dir: Path, overwrite: bool) -> tuple[list[tuple[Path, Path]], list[Path]]:
    """(video, .pose) pairs to do, and the videos skipped because their .pose exists."""
    todo, skipped = [], []
    for src in map(Path, sources):
        for video, rel in find_videos(src):
            out = Path(out_dir) / rel.with_suffix(".pose")
            if out.exists() and not overwrite:
                skipped.append(video)
            else:
                todo.append((video, out))
    return todo, skipped


def extract(sources: list[Path], out_dir: Path, workers: int = 1, overwrite: bool = False,
            estimator: str = DEFAULT_ESTIMATOR, progress: bool = True, on_outcome=None) -> Summary:
    """Extract every video in `sources` (files or folders) into `out_dir`."""
    check_estimator(estimator)  # once, before any video: a missing extra is not 27 error lines
    todo, skipped = plan(sources, out_dir, overwrite)
    summary = Summary(skipped=skipped)
    bar = tqdm(total=len(todo), desc="videos", unit="video", disable=None if progress else True)
    frames_done = 0

    def record(outcome: Outcome):
        nonlocal frames_done
        (summary.failed if outcome.error else summary.done).append(outcome)
        frames_done += outcome.frames
        bar.update(1)
        bar.set_postfix(frames=frames_done, failed=len(summary.failed))
        if on_outcome:
            on_outcome(outcome)

    if workers <= 1 or len(todo) <= 1:
        for video, out in todo:
            frames = tqdm(desc=video.name, unit="frame", leave=False, disable=None if progress else True)

            def tick(total, frames=frames):
                frames.total = total or None
                frames.update(1)

            record(extract_one(video, out, estimator, tick))
            frames.close()
    else:  # processes, not threads: MediaPipe and the decoder hold the GIL; spawn, as forking a threaded parent is unsafe
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=silence_worker) as pool:
            futures = [pool.submit(extract_one, video, out, estimator) for video, out in todo]
            for future in as_completed(futures):
                record(future.result())
    bar.close()
    return summary
