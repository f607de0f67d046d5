"""Pre-training step throughput: forward + backward + AdamW of MASA, per size and length.

Prints sequences/s, FLOP per step (counted by torch's FlopCounterMode: matmuls and
convolutions), achieved FLOP/s, the float32 2048x2048 matmul FLOP/s of the same run (the
ratio is our utilisation) and peak memory. Poses are random walks (4 px per frame, as in the
reference measurement of the authors' code), masked as in training.

    python benchmarks/pretrain_step.py --threads 1                       # CPU, like the reference
    python benchmarks/pretrain_step.py --device cuda --amp bf16 --batch 64 --sizes base
Reference, the authors' code on one thread of this CPU (issue #5): base, B=16, T=64:
16.3 s per step = 0.98 sequences/s, 1,183 GFLOP per step; B=8, T=32: 4.1 s.
"""
from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).parent))
from common import base_parser, matmul_flops, setup, sync  # noqa: E402

from masa.config import resolve  # noqa: E402
from masa.model.registry import build_pretrainer  # noqa: E402
from masa.train.amp import autocast_for, optimiser_step  # noqa: E402
from masa.train.pretrain import compute_losses  # noqa: E402


def random_walk_batch(B: int, T: int, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    xy = (128 + torch.cumsum(torch.randn(B, T, 49, 2, generator=g) * 4, dim=1)).clamp(0, 256)
    conf = torch.rand(B, T, 49, generator=g) * 0.5 + 0.5
    return {"xy": xy, "conf": conf, "valid": torch.ones(B, T, dtype=torch.bool)}


def peak_memory_mb(device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # process peak RSS (Linux: KiB)


def yardstick(device, amp: str) -> dict:
    """The matmul the step is compared with: float32 2048 on a CPU (the reference figures); on a
    GPU one large enough to reach its peak, in the step's precision (bf16 runs on tensor cores)."""
    if device.type != "cuda":
        return {"n": 2048, "dtype": torch.float32}
    return {"n": 8192, "dtype": {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp, torch.float32)}


def measure(size: str, B: int, T: int, device, args) -> dict:
    cfg = resolve(args.preset, [f"model.size={size}", "pretrain.queue_size=6144", f"pretrain.amp={args.amp}"])
    model = build_pretrainer(cfg).to(device)
    if args.compile:
        step_model = torch.compile(model, dynamic=True)
    else:
        step_model = model
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, betas=cfg.pretrain.betas)
    batch = random_walk_batch(B, T)
    gen = torch.Generator(device=device).manual_seed(0)
    amp, scaler = autocast_for(device, args.amp)
    lam = cfg.pretrain.lambda_s

    def step():
        with amp:
            loss, _, keys = compute_losses(step_model, model, batch, cfg, gen, lam, device)
        optimiser_step(loss, opt, scaler)
        model.enqueue(keys)

    for _ in range(args.warmup):
        step()
    with FlopCounterMode(display=False) as counter:
        step()
    flops = counter.get_total_flops()
    matmul = matmul_flops(device, **yardstick(device, args.amp))  # measured right before the steps it measures
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    sync(device)
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync(device)
    seconds = (time.perf_counter() - start) / args.steps
    return {"size": size, "B": B, "T": T, "s_per_step": seconds, "seq_per_s": B / seconds,
            "gflop_per_step": flops / 1e9, "gflop_per_s": flops / seconds / 1e9, "matmul_gflop_per_s": matmul / 1e9,
            "peak_mb": peak_memory_mb(device)}


def main():
    p = base_parser(__doc__.split("\n")[0])
    p.add_argument("--sizes", nargs="+", default=["tiny", "small", "base"])
    p.add_argument("--lengths", nargs="+", type=int, default=[32, 64])
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--preset", nargs="+", default=["paper"], help="paper | authors-code")
    p.add_argument("--amp", default="none", choices=("none", "bf16", "fp16"))
    p.add_argument("--compile", action="store_true")
    p.add_argument("--only", help="SIZE:T, measured in this process (used internally)")
    args = p.parse_args()
    if args.only:  # one measurement in a fresh process, so the peak memory is its own
        torch.set_num_threads(args.threads)
        size, T = args.only.split(":")
        r = measure(size, args.batch, int(T), torch.device(args.device), args)
        mm = r["matmul_gflop_per_s"]
        print(f"{size:<6} {r['B']:>3} {T:>3} {r['s_per_step']:>8.3f} {r['seq_per_s']:>8.2f} {r['gflop_per_step']:>11.1f} "
              f"{r['gflop_per_s']:>8.1f} {mm:>7.1f} {r['gflop_per_s'] / mm:>6.0%} {r['peak_mb']:>8.0f}", flush=True)
        return
    setup(args)
    mm = yardstick(torch.device(args.device), args.amp)
    print(f"preset {'+'.join(args.preset)}, amp {args.amp}, compile {args.compile}; 'matmul': {str(mm['dtype']).removeprefix('torch.')} "
          f"{mm['n']}x{mm['n']} matmul GFLOP/s measured in the same process just before the steps, "
          "'util' = GFLOP/s / matmul")
    print(f"{'size':<6} {'B':>3} {'T':>3} {'s/step':>8} {'seq/s':>8} {'GFLOP/step':>11} {'GFLOP/s':>8} {'matmul':>7} {'util':>6} {'peak MB':>8}", flush=True)
    passthrough = [a for a in sys.argv[1:]]
    for size in args.sizes:
        for T in args.lengths:
            subprocess.run([sys.executable, __file__, *passthrough, "--only", f"{size}:{T}"], check=True)


if __name__ == "__main__":
    main()
