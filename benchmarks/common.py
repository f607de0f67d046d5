"""What every benchmark prints first: the machine, and a float32 matmul as the yardstick."""
from __future__ import annotations

import argparse
import os
import time

import torch

from masa.device import cpu_name


def cpu_flags() -> str:
    """The vector extensions that decide CPU speed: AVX2-only and AVX-512 (+bf16) machines differ."""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                have = set(line.split(":", 1)[1].split())
                return " ".join(f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16") if f in have) or "no avx2"
    except OSError:
        pass
    return "flags unknown"


def machine(device: torch.device) -> str:
    gpu = f", GPU {torch.cuda.get_device_name(device)}" if device.type == "cuda" else ""
    return (f"machine: {cpu_name()} ({os.cpu_count()} logical CPUs; {cpu_flags()}), torch {torch.__version__}, "
            f"threads {torch.get_num_threads()}, device {device}{gpu}")


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_flops(device: torch.device, n: int = 2048, seconds: float = 2.0, dtype=torch.float32, rounds: int = 4) -> float:
    """Achieved FLOP/s of an n x n matmul on this device and thread count: the best of
    `rounds` timings, since a shared machine's neighbours only ever slow it down."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    best = 0.0
    for _ in range(rounds):
        sync(device)
        runs, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / rounds:
            a @ b
            runs += 1
        sync(device)
        best = max(best, 2 * n**3 * runs / (time.perf_counter() - start))
    return best


def base_parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (the reference figures use 1)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    return p


def setup(args) -> torch.device:
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(machine(device))
    return device
