"""`masa predict VIDEO --stream` and `masa predict --camera 0`: glosses over time.

A window of `window` frames slides over the video by `stride` frames; each window's poses go
through the classifier exactly as a whole sign would (`predict.Predictor`). A camera is just a
video that does not end: the same loop reads it until it stops or the user presses Ctrl-C.
A video shorter than one window gets one prediction over all its frames.
"""
from __future__ import annotations

from collections import deque
from typing import Iterator

from masa.extract.estimators import DEFAULT_ESTIMATOR, create_estimator
from masa.extract.extract import frames_to_pose
from masa.extract.video import open_video
from masa.poses import ImportOptions
from masa.poses.pose_file import from_pose
from masa.predict import NOT_FINITE, Predictor


def stream(predictor: Predictor, source, window: int = 32, stride: int = 8, options: ImportOptions | None = None,
           estimator: str = DEFAULT_ESTIMATOR) -> Iterator[dict]:
    """Yield {'start', 'end' (seconds), 'frames': [first, last + 1], 'top' | 'error'} per window."""
    if window < 1 or stride < 1:
        raise ValueError(f"--window ({window}) and --stride ({stride}) must be at least 1 frame")
    options = options or ImportOptions()
    est = create_estimator(estimator)
    try:
        with open_video(source) as (info, frames):
            header = est.header(info.width, info.height)
            data, conf = deque(maxlen=window), deque(maxlen=window)
            seen = emitted = 0
            for rgb in frames:
                d, c = est(rgb)
                data.append(d)
                conf.append(c)
                seen += 1
                if seen >= window and (seen - window) % stride == 0:
                    emitted += 1
                    yield predict_window(predictor, header, data, conf, info.fps, seen - len(data), seen, options)
            if not emitted and seen:
                yield predict_window(predictor, header, data, conf, info.fps, 0, seen, options)
    finally:
        est.close()


def predict_window(predictor: Predictor, header, data, conf, fps: float, first: int, end: int,
                   options: ImportOptions) -> dict:
    entry = {"start": round(first / fps, 3), "end": round(end / fps, 3), "frames": [first, end]}
    try:
        clip, warning = predictor.clip(from_pose(frames_to_pose(header, list(data), list(conf), fps), options))
    except ValueError as err:  # e.g. no hand in this window: say so and go on
        return {**entry, "error": str(err)}
    top = predictor.rank([clip])[0]
    return {**entry, "top": top} if top is not None else {**entry, "error": NOT_FINITE}


def format_window(entry: dict) -> str:
    span = f"{entry['start']:7.2f}-{entry['end']:7.2f} s"
    if "error" in entry:
        return f"{span}  ({entry['error']})"
    return f"{span}  " + ", ".join(f"{t['gloss']} {t['probability']:.0%}" for t in entry["top"])
