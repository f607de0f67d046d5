"""Classifier latency for one 64-frame sequence, and batch throughput (inference, eval mode).

Two runtimes: the PyTorch model as `masa predict` runs it, and the same model exported to
ONNX (as `masa export --format onnx` writes it) in ONNX Runtime, when that is installed
(`pip install -e ".[export]"`); both on the same threads.

    python benchmarks/classifier_latency.py --threads 1
Reference, the authors' classifier (base, 100 classes) on one thread: 211 ms for one 64-frame
sequence; 3.7 sequences/s at batch 64.

Small-batch timings on a shared machine swing with its neighbours; each figure is the median
of `--repeats` runs, and the best of `--rounds` such medians is printed (the machine at its
quietest, as timeit does).
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).parent))
from common import base_parser, setup, sync  # noqa: E402

from masa.config import ModelConfig  # noqa: E402
from masa.export import FramesToLogits, example_input, write_onnx  # noqa: E402
from masa.model.registry import build_classifier  # noqa: E402


def best_median(fn, device, repeats: int, rounds: int) -> float:
    """Seconds per call: the best of `rounds` medians of `repeats` calls."""
    fn()
    medians = []
    for _ in range(rounds):
        times = []
        for _ in range(repeats):
            sync(device)
            start = time.perf_counter()
            fn()
            sync(device)
            times.append(time.perf_counter() - start)
        medians.append(statistics.median(times))
    return min(medians)


def onnx_runner(model, example, threads: int, folder: str):
    """The exported model in an ONNX Runtime session on `threads` threads, or None without it."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    path = Path(folder) / "model.onnx"
    write_onnx(model, example, path)
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda frames: session.run(None, {"frames": frames.numpy()})[0]


def main():
    p = base_parser(__doc__.split("\n")[0])
    p.add_argument("--sizes", nargs="+", default=["tiny", "small", "base"])
    p.add_argument("--frames", type=int, default=64)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--classes", type=int, default=100)
    p.add_argument("--repeats", type=int, default=20, help="calls per round for one sequence (batches: 3)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--no-onnx", action="store_true", help="PyTorch only")
    args = p.parse_args()
    device = setup(args)
    print(f"{'size':<6} {'params':>10} {'GFLOP':>6} {'runtime':>12} {'1 x ' + str(args.frames) + ' frames':>16} {'batch ' + str(args.batch) + ' seq/s':>16}")
    for size in args.sizes:
        model = FramesToLogits(build_classifier(ModelConfig(size=size), args.classes)).eval().to(device)
        one = example_input(args.frames, batch=1).to(device)
        many = example_input(args.frames, batch=args.batch).to(device)
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(one)
        runners = {"pytorch": torch.inference_mode()(model)}  # as masa predict and evaluate run it
        with tempfile.TemporaryDirectory() as folder:
            if device.type == "cpu" and not args.no_onnx:
                runner = onnx_runner(model, example_input(args.frames), args.threads, folder)  # batch 2: a dynamic batch axis
                if runner is not None:
                    torch.testing.assert_close(torch.from_numpy(runner(one)), model(one).detach(), atol=1e-4, rtol=1e-4)
                    runners["onnxruntime"] = runner
            for name, run in runners.items():
                latency = best_median(lambda: run(one), device, args.repeats, args.rounds)
                batch_s = best_median(lambda: run(many), device, 3, 1)
                params = sum(p.numel() for p in model.parameters())
                print(f"{size:<6} {params:>10,} {counter.get_total_flops() / 1e9:>6.2f} {name:>12} {latency * 1000:>13.1f} ms "
                      f"{args.batch / batch_s:>16.1f}", flush=True)


if __name__ == "__main__":
    main()
