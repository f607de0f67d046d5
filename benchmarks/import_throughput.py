"""Import throughput: a large synthetic COCO-WholeBody source on disk -> packed store.

    python benchmarks/import_throughput.py --samples 2000
Writes rtmlib-style .npz files (keypoints (T, 133, 2), scores (T, 133)), then times
`masa data import` on them (read, validate, crop, normalise, write).
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import base_parser, setup  # noqa: E402

from masa.config import NormaliseConfig  # noqa: E402
from masa.data.ingest import import_samples  # noqa: E402
from masa.poses import ImportOptions, find_samples  # noqa: E402


def write_source(folder: Path, samples: int, frames: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    for i in range(samples):
        kp = 300 + np.cumsum(rng.normal(0, 3, (frames, 133, 2)), axis=0)
        kp[:, 91:133] = 320 + rng.uniform(-40, 40, (1, 42, 2)) + np.cumsum(rng.normal(0, 2, (frames, 1, 2)), axis=0)
        scores = rng.uniform(0.3, 1.0, (frames, 133))
        np.savez(folder / f"s{i:06d}.npz", keypoints=kp.astype(np.float32), scores=scores.astype(np.float32))


def main():
    p = base_parser(__doc__.split("\n")[0])
    p.add_argument("--samples", type=int, default=2000)
    p.add_argument("--frames", type=int, default=100)
    args = p.parse_args()
    setup(args)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        write_source(src, args.samples, args.frames)
        start = time.perf_counter()
        report = import_samples(find_samples(src, "rtmpose", ImportOptions(image_size=(640, 480))), Path(tmp) / "store",
                                NormaliseConfig(), progress=False)
        seconds = time.perf_counter() - start
    print(f"imported {report['imported']} sequences of {args.frames} frames in {seconds:.1f} s: "
          f"{report['imported'] / seconds:.0f} sequences/s ({len(report['skipped'])} skipped)")


if __name__ == "__main__":
    main()
