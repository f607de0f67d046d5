"""Data pipeline throughput: store -> samples -> padded batches (0, 1, 2 loader workers), and
the batched masking + targets of a pre-training step, against what the step consumes.

    python benchmarks/data_pipeline.py --threads 1 --step-rate 3.0
`--step-rate` is the training step's sequences/s (from pretrain_step.py) to compare with.
Reference, the authors' per-sample masking and targets: 1.5 ms per 100-frame sample
(664 samples/s per core).
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).parent))
from common import base_parser, setup, sync  # noqa: E402

from masa import pretext  # noqa: E402
from masa.config import resolve  # noqa: E402
from masa.data.dataset import PoseDataset, collate  # noqa: E402
from masa.data.ingest import import_samples  # noqa: E402
from masa.data.store import PoseStore  # noqa: E402
from masa.data.synth import synthesise  # noqa: E402


def loader_rate(store, cfg, workers: int, batch: int, seconds: float = 4.0) -> float:
    dataset = PoseDataset(store, cfg.normalise)
    loader = DataLoader(dataset, batch_size=batch, shuffle=True, collate_fn=collate, num_workers=workers,
                        persistent_workers=workers > 0, drop_last=True)
    n, start = 0, None
    while True:
        for b in loader:
            if start is None:  # the first batch pays for starting the workers
                start = time.perf_counter()
                continue
            n += len(b["label"])
            if time.perf_counter() - start > seconds:
                return n / (time.perf_counter() - start)


def masking_rate(device, B: int, T: int, repeats: int = 20, rounds: int = 5) -> float:
    """Samples/s of residuals + targets + MA and SA masks, batched on `device`: the best of
    `rounds` timings of `repeats` calls (a shared machine's neighbours only slow it down)."""
    cfg = resolve(["paper"]).pretext
    g = torch.Generator().manual_seed(0)
    xy = (128 + torch.cumsum(torch.randn(B, T, 49, 2, generator=g) * 4, dim=1)).to(device)
    conf = (torch.rand(B, T, 49, generator=g) * 0.5 + 0.5).to(device)
    valid = torch.ones(B, T, dtype=torch.bool, device=device)
    gen = torch.Generator(device=device).manual_seed(0)

    def once():  # exactly what a pre-training step computes before the model
        pretext.make_views(xy, conf, valid, cfg, gen)

    once()
    best = 0.0
    for _ in range(rounds):
        sync(device)
        start = time.perf_counter()
        for _ in range(repeats):
            once()
        sync(device)
        best = max(best, B * repeats / (time.perf_counter() - start))
    return best


def main():
    p = base_parser(__doc__.split("\n")[0])
    p.add_argument("--samples", type=int, default=2000, help="synthetic samples in the store")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--step-rate", type=float, help="sequences/s the training step consumes")
    args = p.parse_args()
    device = setup(args)
    classes = 20
    signers = max(2, args.samples // (classes * 3))
    cfg = resolve(overrides=[f"synth.num_signers={signers}", "synth.min_frames=60", "synth.max_frames=150"])
    with tempfile.TemporaryDirectory() as tmp:
        sources, labels = synthesise(cfg.synth)
        import_samples(sources, Path(tmp) / "store", cfg.normalise, labels, progress=False)
        store = PoseStore(Path(tmp) / "store")
        print(f"store: {len(store)} samples, mean length {store.lengths.mean():.0f} frames")
        for workers in (0, 1, 2):
            rate = loader_rate(store, cfg, workers, args.batch)
            ratio = f"  ({rate / args.step_rate:.0f}x the step's {args.step_rate} seq/s)" if args.step_rate else ""
            print(f"loader, {workers} workers: {rate:8.0f} samples/s{ratio}")
    for B in (16, 64):
        rate = masking_rate(device, B, 100)
        print(f"masking + targets, B={B}, T=100 on {device}: {rate:8.0f} samples/s  ({rate / 664:.0f}x the authors' 664/s per core)")


if __name__ == "__main__":
    main()
