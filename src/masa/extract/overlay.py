"""`masa show VIDEO --out sign.gif|sign.mp4`: the extracted skeleton drawn over the video's own
frames, so a user sees at a glance whether the estimator found the hands. Drawing is
pose-format's PoseVisualizer; GIFs go through Pillow, MP4s through OpenCV's writer."""
from __future__ import annotations

from pathlib import Path

from masa.extract.extract import video_to_pose
from masa.extract.video import open_video

OVERLAY_SUFFIXES = (".gif", ".mp4")
HIDDEN = ["FACE_LANDMARKS", "POSE_WORLD_LANDMARKS"]  # the face mesh hides the hands; world points are metres


def render_overlay(video: Path | str, out: Path | str, pose=None) -> tuple[Path, int]:
    """Draw `pose` (extracted from `video` when not given) over the video -> (out, frames written)."""
    import cv2
    from pose_format.pose_visualizer import PoseVisualizer

    out = Path(out)
    if out.suffix.lower() not in OVERLAY_SUFFIXES:
        raise ValueError(f"{out}: the overlay is written as .gif or .mp4, not {out.suffix or 'no suffix'}")
    pose = pose if pose is not None else video_to_pose(video)
    shown = [c.name for c in pose.header.components if c.name not in HIDDEN]
    visualizer = PoseVisualizer(pose.get_components(shown))
    out.parent.mkdir(parents=True, exist_ok=True)
    with open_video(video) as (info, frames):
        drawn = visualizer.draw_on_video(cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in frames)
        if out.suffix.lower() == ".gif":  # Pillow writes a GIF from all its frames at once
            drawn = list(drawn)
            if not drawn:
                raise ValueError(f"{video}: no frame to draw on")
            visualizer.save_gif(str(out), drawn)
            return out, len(drawn)
        size = (pose.header.dimensions.width, pose.header.dimensions.height)  # draw_on_video's frame size
        writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), float(info.fps), size)
        n = 0
        for n, frame in enumerate(drawn, start=1):  # one frame in memory at a time
            writer.write(frame)
        writer.release()
    if n == 0:
        out.unlink(missing_ok=True)
        raise ValueError(f"{video}: no frame to draw on")
    return out, n
