"""Classifier latency for one 64-frame sequence, and batch throughput (inference, eval mode).

    python benchmarks/classifier_latency.py --threads 1
Reference, the authors' classifier (base, 100 classes) on one thread: 211 ms for one 64-frame
sequence; 3.7 sequences/s at batch 64.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import base_parser, setup, sync  # noqa: E402

from masa.export import FramesToLogits, example_input  # noqa: E402
from masa.model.registry import create_model  # noqa: E402


@torch.no_grad()
def timed(fn, device, repeats: int) -> list[float]:
    fn()
    out = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        out.append(time.perf_counter() - start)
    return out


def main():
    p = base_parser(__doc__.split("\n")[0])
    p.add_argument("--sizes", nargs="+", default=["tiny", "small", "base"])
    p.add_argument("--frames", type=int, default=64)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--classes", type=int, default=100)
    args = p.parse_args()
    device = setup(args)
    print(f"{'size':<6} {'params':>10} {'1 x ' + str(args.frames) + ' frames (median)':>24} {'batch ' + str(args.batch) + ' seq/s':>16}")
    for size in args.sizes:
        model = FramesToLogits(create_model(size, "classifier", num_classes=args.classes)).eval().to(device)
        one = example_input(args.frames, batch=1).to(device)
        many = example_input(args.frames, batch=args.batch).to(device)
        latency = statistics.median(timed(lambda: model(one), device, 20))
        batch_s = statistics.median(timed(lambda: model(many), device, 3))
        params = sum(p.numel() for p in model.parameters())
        print(f"{size:<6} {params:>10,} {latency * 1000:>21.1f} ms {args.batch / batch_s:>16.1f}", flush=True)


if __name__ == "__main__":
    main()
