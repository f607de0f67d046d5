"""Pose extraction speed: `masa extract` (MediaPipe Holistic) on the real sign videos.

    python benchmarks/extract_speed.py --copies 4 --workers 1 2
Each of the three videos in ../shared/data/sign-videos is linked `--copies` times (12 videos,
432 frames at 4 copies), then extracted with each worker count in turn. Prints frames/s over
the whole run (decoding, estimation and writing; process start-up included).
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import cpu_flags, cpu_name  # noqa: E402

from masa.extract.extract import extract  # noqa: E402

VIDEOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "sign-videos"


def main():
    import argparse

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--videos", type=Path, default=VIDEOS, help="folder of videos (default: ../shared/data/sign-videos)")
    p.add_argument("--copies", type=int, default=4, help="links to each video, to have enough work for the workers")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = p.parse_args()
    print(f"machine: {cpu_name()} ({os.cpu_count()} logical CPUs; {cpu_flags()})")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "videos"
        src.mkdir()
        for video in sorted(args.videos.glob("*.mp4")):
            for i in range(args.copies):
                os.symlink(video.resolve(), src / f"{video.stem}_{i}.mp4")
        print(f"{'workers':>7} {'videos':>6} {'frames':>6} {'seconds':>8} {'frames/s':>9}")
        for workers in args.workers:
            start = time.perf_counter()
            summary = extract([src], Path(tmp) / f"out{workers}", workers=workers, progress=False)
            seconds = time.perf_counter() - start
            frames = sum(o.frames for o in summary.done)
            print(f"{workers:>7} {len(summary.done):>6} {frames:>6} {seconds:>8.1f} {frames / seconds:>9.1f}")


if __name__ == "__main__":
    main()
